import time

from odoo import SUPERUSER_ID, api, models
from odoo.http import request

from ..services import settings

# Session key: when the user last made a request (seconds since the epoch).
LAST_SEEN = "avg_last_seen"
DOSSIER_GROUPS = (
    "avg_coaching.group_avg_coach",
    "avg_coaching.group_avg_privacy_manager",
)


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _authenticate_explicit(cls, auth):
        """Users who read dossiers are logged out after a period without any
        request (``avg_coaching.idle_logout_minutes``, 30 by default; 0 turns it
        off). Odoo's own ``sessions.max_inactivity_seconds`` applies to everyone
        and only ages the cookie; this is checked on the server, per request."""
        session = request.session
        uid = session.uid
        if uid is not None and cls._avg_reads_dossiers(uid):
            limit = cls._avg_idle_limit()
            last = session.get(LAST_SEEN)
            now = time.time()
            if limit and last and now - last > limit:
                session.logout(keep_db=True)
                request.env = api.Environment(request.env.cr, None, session.context)
            elif not last or now - last > 30:
                # Refreshed at most every half minute: the session is written
                # only then.
                session[LAST_SEEN] = now
        return super()._authenticate_explicit(auth)

    @classmethod
    def _avg_reads_dossiers(cls, uid):
        user = request.env(user=SUPERUSER_ID)["res.users"].browse(uid)
        return any(user.has_group(group) for group in DOSSIER_GROUPS)

    @classmethod
    def _avg_idle_limit(cls):
        env = request.env(user=SUPERUSER_ID)
        return settings.get_int(env, "avg_coaching.idle_logout_minutes", 30) * 60
