from odoo import _, http
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.http import request

from odoo.addons.portal.controllers.portal import CustomerPortal

from . import routes


class AvgMomentsPortal(CustomerPortal):
    """/my/moments: the client writes and edits her own ZKM personal moments while
    her trajectory is active.

    What she may read and change comes from the ACL and the portal record rule on
    ``coaching.moment`` (her own moments, trajectory active): the moments are read
    and written as the portal user, never with sudo(). Only the references of her
    own active dossiers are read with sudo(), with her own partner in the domain.
    """

    def _avg_open_dossiers(self):
        partner = request.env.user.partner_id
        if request.env.user._is_public():
            raise AccessError(_("Log in to write your personal moments."))
        return (
            request.env["coaching.dossier"]
            .sudo()
            .search([("client_id", "=", partner.id), ("state", "=", "active")])
        )

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        user = request.env.user
        if "zkm_moment_count" in counters:
            values["zkm_moment_count"] = (
                request.env["coaching.moment"].search_count([])
                if user.has_group("base.group_portal")
                else 0
            )
        if not counters and user.has_group("base.group_portal"):
            values["avg_moment_dossier_count"] = len(self._avg_open_dossiers())
        return values

    def _avg_render_moments(self, error=None, status=200, **extra):
        dossiers = self._avg_open_dossiers()
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "avg_moments",
                "dossiers": dossiers,
                # As the client: the record rule shows her own moments only.
                "moments": request.env["coaching.moment"].search(
                    [("dossier_id", "in", dossiers.ids)]
                ),
                "error": error,
                "text": "",
            }
        )
        values.update(extra)
        return request.render("avg_coaching.portal_my_moments", values, status=status)

    @http.route("/my/moments", **routes.USER_PAGE)
    def avg_moments(self, **kw):
        message = kw.get("message")
        return self._avg_render_moments(
            message=message if message in ("saved", "added") else None
        )

    @http.route("/my/moments/new", **routes.USER_POST)
    def avg_moment_new(self, dossier_id=None, text="", **kw):
        dossiers = self._avg_open_dossiers()
        try:
            dossier = dossiers.filtered(lambda d: d.id == int(dossier_id or 0))
        except ValueError:
            dossier = dossiers.browse()
        if not dossier:
            return request.redirect("/my")
        try:
            # As the client: ACL and record rule decide, not this controller.
            with request.env.cr.savepoint():
                request.env["coaching.moment"].create(
                    {"dossier_id": dossier.id, "text": text}
                )
        except (ValidationError, UserError) as exc:
            return self._avg_render_moments(
                error=exc.args[0], status=422, text=text, dossier_id=dossier.id
            )
        except AccessError:
            return request.redirect("/my")
        return request.redirect("/my/moments?message=added")

    def _avg_own_moment(self, moment_id, mode):
        moment = request.env["coaching.moment"].browse(moment_id)
        try:
            moment.check_access(mode)
            if not moment.exists():
                raise MissingError(_("This moment does not exist."))
        except (AccessError, MissingError):
            return None
        return moment

    @http.route("/my/moments/<int:moment_id>", **routes.USER_GET)
    def avg_moment_edit(self, moment_id, **kw):
        self._avg_open_dossiers()
        moment = self._avg_own_moment(moment_id, "write")
        if not moment:
            return request.redirect("/my")
        values = self._prepare_portal_layout_values()
        values.update({"page_name": "avg_moment", "moment": moment, "error": None})
        return request.render("avg_coaching.portal_my_moment", values)

    @http.route("/my/moments/<int:moment_id>", **routes.USER_POST)
    def avg_moment_save(self, moment_id, text="", sequence=None, **kw):
        self._avg_open_dossiers()
        moment = self._avg_own_moment(moment_id, "write")
        if not moment:
            return request.redirect("/my")
        vals = {"text": text}
        if sequence and sequence.strip().isdigit():
            vals["sequence"] = int(sequence)
        try:
            with request.env.cr.savepoint():
                moment.write(vals)
        except (ValidationError, UserError) as exc:
            values = self._prepare_portal_layout_values()
            values.update(
                {
                    "page_name": "avg_moment",
                    "moment": moment,
                    "error": exc.args[0],
                    "text": text,
                }
            )
            return request.render("avg_coaching.portal_my_moment", values, status=422)
        except AccessError:
            return request.redirect("/my")
        return request.redirect("/my/moments?message=saved")
