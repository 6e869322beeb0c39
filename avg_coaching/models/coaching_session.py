from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from .avg_encrypted_mixin import EncryptedText


class CoachingSession(models.Model):
    _name = "coaching.session"
    _description = "Coaching session"
    _inherit = ["avg.bsn.guard", "avg.encrypted.mixin"]
    _order = "date desc, id desc"

    _avg_bsn_fields = ("notes", "observations", "report")

    dossier_id = fields.Many2one(
        "coaching.dossier",
        required=True,
        index=True,
        ondelete="cascade",
    )
    client_id = fields.Many2one(related="dossier_id.client_id", store=True, index=True)
    coach_id = fields.Many2one(related="dossier_id.coach_id", store=True, index=True)
    company_id = fields.Many2one(related="dossier_id.company_id", store=True)
    date = fields.Date(required=True, default=fields.Date.context_today, index=True)
    duration = fields.Float(
        string="Duration (hours)", default=1.0, help="Length of the session in hours."
    )
    notes = EncryptedText(string="Session notes")
    observations = EncryptedText()
    report = EncryptedText()
    notes_enc = fields.Text(copy=False, groups="base.group_system")
    observations_enc = fields.Text(copy=False, groups="base.group_system")
    report_enc = fields.Text(copy=False, groups="base.group_system")

    def _compute_display_name(self):
        for session in self:
            session.display_name = _(
                "%(dossier)s – %(date)s",
                dossier=session.dossier_id.name or "",
                date=session.date or "",
            )

    @api.constrains("duration")
    def _check_duration(self):
        for session in self:
            if not 0 < session.duration <= 24:
                raise ValidationError(
                    _(
                        "A session lasts more than 0 and at most 24 hours: "
                        "correct the duration."
                    )
                )

    @api.constrains("dossier_id", "date")
    def _check_dossier_open(self):
        for session in self:
            if session.dossier_id.state == "closed":
                raise ValidationError(
                    _(
                        "Dossier %(name)s is closed: sessions can no longer be "
                        "added or changed. Reopen the dossier first.",
                        name=session.dossier_id.name,
                    )
                )

    def write(self, vals):
        if vals and set(vals) <= {"invoice_line_id"}:
            # Invoicing a session changes nothing it holds: allowed after closing.
            return super().write(vals)
        if any(s.dossier_id.state == "closed" for s in self):
            raise UserError(
                _(
                    "This session belongs to a closed dossier and can no longer "
                    "be changed."
                )
            )
        return super().write(vals)
