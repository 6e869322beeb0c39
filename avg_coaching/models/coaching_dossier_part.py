from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..services.erasure import erasure_allowed, erasure_env


class CoachingDossierPart(models.AbstractModel):
    """What belongs to one dossier (sessions, documents, special-category data,
    moments, ZKM transfers): it goes with the dossier, and carries the dossier's
    client, coach and company for the record rules and the erasure path."""

    _name = "coaching.dossier.part"
    _description = "Part of a coaching dossier"
    # Whose it is, and what the erasure service does: it goes with the dossier.
    _avg_subject_field = "client_id"
    _avg_erasure = "with_dossier"

    dossier_id = fields.Many2one(
        "coaching.dossier",
        required=True,
        index=True,
        ondelete="cascade",
    )
    client_id = fields.Many2one(related="dossier_id.client_id", store=True, index=True)
    coach_id = fields.Many2one(related="dossier_id.coach_id", store=True, index=True)
    company_id = fields.Many2one(related="dossier_id.company_id", store=True)

    @api.model_create_multi
    def create(self, vals_list):
        parts = super().create(vals_list)
        # Nothing is recorded in a dossier before the client consented to it.
        if not self._avg_in_withdrawal():
            parts.dossier_id._avg_check_dossier_consent()
        return parts

    def _avg_in_withdrawal(self):
        """True in the step that records a withdrawn consent (as superuser): the
        context key alone could be sent by any caller over JSON-RPC."""
        return self.env.su and bool(self.env.context.get("avg_consent_withdrawal"))

    def unlink(self):
        if erasure_allowed(self.env):
            return super().unlink()
        # By hand (the form, privacy_lookup, any sudo() caller): refused while a
        # hold, restriction, open request or retention term stands; else logged.
        self.check_access("unlink")
        parts = self.with_env(erasure_env(self.env))
        for dossier in parts.dossier_id:
            reasons = dossier._avg_deletion_blockers()
            if reasons:
                raise UserError(
                    _(
                        "%(what)s of dossier %(name)s cannot be deleted: %(reasons)s. "
                        "To erase a client's data at their request, record an erasure "
                        "request under Coaching > Privacy > Requests and consents > "
                        "Data-subject requests.",
                        what=self.env["ir.model"]._get(self._name).name,
                        name=dossier.name,
                        reasons="; ".join(reasons),
                    )
                )
        parts.env["avg.deletion.log"]._avg_record_purge(parts, reason="manual")
        return super(CoachingDossierPart, parts).unlink()
