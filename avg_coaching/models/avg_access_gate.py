from odoo import SUPERUSER_ID, _, api, models
from odoo.exceptions import AccessError
from odoo.http import request

from .avg_access_log import ACTIONS

# What code running as the superuser (crons, the shell, upgrades) may name as its
# purpose to read content, outside any web request. Nothing else reads as the
# superuser: sudo() alone is never a reason.
SYSTEM_PURPOSES = ("maintenance", "retention", "benchmark")


class AvgAccessGate(models.AbstractModel):
    """The one read gate of dossier content.

    One question, asked for every decryption (the encrypted fields), every use of
    the collector and every report: may this user read this client's content now,
    and for what purpose? The answer does not depend on ``sudo()``: the gate looks
    at the real user (``env.uid``), whatever the environment's superuser flag.

    Allowed:
    * the coach of the dossier the content belongs to (for content kept per
      client: the coach of one of her dossiers);
    * the client herself;
    * the privacy manager, and the coach or user handling it, while carrying out
      that client's access or portability request (``avg_access_request_id`` in
      the context, checked against the request);
    * whoever handles a data-subject request, for the identity document uploaded
      with it, while the request is open;
    * the superuser (crons, shell) naming one of :data:`SYSTEM_PURPOSES` in
      ``avg_access_system``, never inside a web request.

    Coaches and privacy managers must have logged in with two-factor
    authentication. Every allowed read is written to the access log in the same
    transaction; a read that cannot be logged fails.
    """

    _name = "avg.access.gate"
    _description = "Read gate of dossier content"

    # ------------------------------------------------------------------ records
    @api.model
    def _avg_authorize(self, records, action=None):
        """Check and log the reading of the content of ``records`` (a model of
        ``avg.encrypted.mixin``). Raises AccessError when refused."""
        if not records:
            return
        action = self._avg_action(action)
        raw = records.sudo()
        subject_field = records._avg_subject_field
        raw.fetch([subject_field])
        grouped = {}
        for record in raw:
            subject = record[subject_field]
            purpose, ref = self._avg_purpose(record, subject)
            grouped.setdefault((subject.id or 0, purpose, ref), []).append(record.id)
        self.env["avg.access.log"]._avg_append(
            [
                {
                    "subject_id": subject_id,
                    "res_model": records._name,
                    "res_ids": tuple(sorted(ids)),
                    "kind": records._avg_access_kind,
                    "action": action,
                    "purpose": purpose,
                    "purpose_ref": ref,
                }
                for (subject_id, purpose, ref), ids in grouped.items()
            ]
        )

    @api.model
    def _avg_authorize_subject(self, partner, action, kind="export"):
        """Check and log reading everything held about ``partner`` (the
        collector, the access export). The content it then decrypts passes the
        gate record by record as well."""
        partner.ensure_one()
        action = self._avg_action(action)
        purpose, ref = self._avg_subject_purpose(partner)
        self.env["avg.access.log"]._avg_append(
            [
                {
                    "subject_id": partner.id,
                    "res_model": "res.partner",
                    "res_ids": (partner.id,),
                    "kind": kind,
                    "action": action,
                    "purpose": purpose,
                    "purpose_ref": ref,
                }
            ]
        )
        return purpose

    # ------------------------------------------------------------------ decide
    @api.model
    def _avg_action(self, action):
        action = action or self.env.context.get("avg_access_action") or "read"
        return action if action in dict(ACTIONS) else "read"

    @api.model
    def _avg_purpose(self, record, subject):
        """(purpose, reference) under which the current user reads ``record``
        of ``subject``; raises AccessError when there is none."""
        system = self._avg_system_purpose()
        if system:
            return system
        role = record._avg_gate_role(self.env.uid)
        if role:
            self._avg_check_two_factor()
            return role
        if subject and self.env.user.partner_id == subject:
            return "client", False
        request_purpose = self._avg_request_purpose(subject)
        if request_purpose:
            return request_purpose
        raise AccessError(self._avg_refusal(subject))

    @api.model
    def _avg_subject_purpose(self, partner):
        system = self._avg_system_purpose()
        if system:
            return system
        if self.env.user.partner_id == partner:
            return "client", False
        request_purpose = self._avg_request_purpose(partner)
        if request_purpose:
            return request_purpose
        # Her coach: only when every dossier of hers is one of this coach's.
        if self._avg_coaches_of(partner) == {self.env.uid}:
            self._avg_check_two_factor()
            return "coach", False
        raise AccessError(self._avg_refusal(partner))

    @api.model
    def _avg_system_purpose(self):
        if self.env.uid != SUPERUSER_ID:
            return None
        purpose = self.env.context.get("avg_access_system")
        if purpose in SYSTEM_PURPOSES and not request:
            return "system", purpose
        raise AccessError(
            _(
                "Dossier content is not read as the superuser without a named "
                "purpose. Read it as the client's coach."
            )
        )

    @api.model
    def _avg_request_purpose(self, subject):
        """('request', reference) while the current user carries out ``subject``'s
        access or portability request named in the context."""
        request_id = self.env.context.get("avg_access_request_id")
        if not isinstance(request_id, int) or not subject:
            return None
        req = self.env["avg.request"].sudo().browse(request_id).exists()
        if not (
            req
            and req.partner_id == subject
            and req.request_type in ("access", "portability")
            and req.state in ("verified", "in_progress")
            # who may handle it: the request's own record rules decide
            and req.sudo(False).has_access("read")
        ):
            return None
        self._avg_check_two_factor()
        return "request", req.name

    @api.model
    def _avg_refusal(self, subject):
        return _(
            "Only the coach of %(client)s reads her dossier content (and she "
            "herself, or the privacy manager while carrying out her access "
            "request). Nothing was shown.",
            client=subject.sudo().display_name if subject else _("this client"),
        )

    @api.model
    def _avg_coaches_of(self, partner):
        """Ids of the coaches of ``partner``'s dossiers (cached per transaction)."""
        cache = self.env.cr.precommit.data.setdefault("avg.access.coaches", {})
        if partner.id not in cache:
            dossiers = (
                self.env["coaching.dossier"]
                .sudo()
                .search_fetch([("client_id", "=", partner.id)], ["coach_id"])
            )
            cache[partner.id] = set(dossiers.coach_id.ids)
        return cache[partner.id]

    # ------------------------------------------------------------------ 2FA
    @api.model
    def _avg_two_factor_required(self):
        """Required unless the practice switched it off (a demo): an absent
        parameter, as on a fresh install, means required."""
        value = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("avg_coaching.two_factor_optional", "")
        )
        return value.strip().lower() in ("", "0", "false")

    @api.model
    def _avg_check_two_factor(self):
        """Coaches and privacy managers read content only after a two-factor
        login (Odoo's auth_totp). Known for the login session once checked (a
        session ends when the user's second factor changes: auth_totp binds the
        session token to it); otherwise checked by the access log's own insert
        (one query for both, see ``avg.access.log._avg_append``), which always
        follows in the same call of the gate."""
        if not self._avg_two_factor_required():
            return
        session = request.session if request else None
        own_session = session is not None and session.uid == self.env.uid
        if own_session and session.get("avg_two_factor"):
            return
        state = self._avg_two_factor_state()
        if state.get(self.env.uid) is False:
            raise AccessError(self._avg_two_factor_refusal())
        if state.get(self.env.uid) is None:
            if self._avg_two_factor_by_policy(self.env.user):
                self._avg_two_factor_proven()
            else:
                state[self.env.uid] = "to_verify"

    @api.model
    def _avg_two_factor_state(self):
        return self.env.cr.precommit.data.setdefault("avg.access.2fa", {})

    @api.model
    def _avg_two_factor_proven(self):
        self._avg_two_factor_state()[self.env.uid] = True
        session = request.session if request else None
        if session is not None and session.uid == self.env.uid:
            session["avg_two_factor"] = True

    @api.model
    def _avg_two_factor_refusal(self):
        return _(
            "Dossier content is shown only to users who log in with "
            "two-factor authentication. Turn it on: click your avatar (top "
            "right) > My Preferences > Account Security > Enable two-factor "
            "authentication, log out and log in again with the code from "
            "your authenticator app."
        )

    @api.model
    def _avg_two_factor_by_policy(self, user):
        """auth_totp_mail_enforce: every internal user gets a code by e-mail."""
        policy = self.env["ir.config_parameter"].sudo().get_param("auth_totp.policy")
        return policy in ("employee_required", "all_required") and not user.share

    @api.model
    def _avg_has_two_factor(self, user):
        return user.sudo().totp_enabled or self._avg_two_factor_by_policy(user)
