from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .avg_encrypted_mixin import EncryptedText


class CoachingInsurerDisclosure(models.Model):
    """What was shared with a client's health insurer, and when (seed 000: when
    sessions are reimbursed, information is shared with the client's insurer)."""

    _name = "coaching.insurer.disclosure"
    _description = "Disclosure to a health insurer"
    _avg_subject_field = "client_id"
    _avg_erasure = "delete"
    _inherit = ["avg.encrypted.mixin"]
    _avg_access_kind = "insurer"
    _order = "date desc, id desc"
    _rec_name = "insurer_id"

    client_id = fields.Many2one(
        "res.partner",
        required=True,
        index=True,
        ondelete="restrict",
        domain=[("is_coaching_client", "=", True)],
    )
    insurer_id = fields.Many2one(
        "res.partner",
        string="Health insurer",
        required=True,
        index=True,
        ondelete="restrict",
    )
    date = fields.Date(
        string="Shared on", required=True, default=fields.Date.context_today
    )
    shared = fields.Selection(
        [
            ("invoice", "Invoice (session dates, durations and amounts)"),
            ("sessions", "Session dates and durations"),
            ("form", "Reimbursement form filled in with the client"),
            ("other", "Other (described below)"),
        ],
        string="What was shared",
        required=True,
        default="invoice",
    )
    details = EncryptedText(
        help="What exactly was shared, why and at whose request. Stored encrypted."
    )
    details_enc = fields.Text(copy=False, groups="base.group_system")
    session_ids = fields.Many2many(
        "coaching.session",
        string="Sessions covered",
        domain="[('client_id', '=', client_id)]",
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )

    @api.constrains("client_id", "session_ids")
    def _check_sessions_client(self):
        for disclosure in self:
            others = disclosure.session_ids.filtered(
                lambda s, client=disclosure.client_id: s.client_id != client
            )
            if others:
                raise ValidationError(
                    _(
                        "Only sessions of %(client)s can be covered by this "
                        "disclosure: remove %(session)s.",
                        client=disclosure.client_id.display_name,
                        session=others[0].display_name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        disclosures = super().create(vals_list)
        disclosures._avg_check_details()
        return disclosures

    def write(self, vals):
        res = super().write(vals)
        if {"shared", "details"} & set(vals):
            self._avg_check_details()
        return res

    def _avg_check_details(self):
        # Not an @api.constrains: the encrypted details are only written (by their
        # inverse) after the stored fields' constraints have run.
        for disclosure in self:
            if disclosure.shared == "other" and not disclosure.details:
                raise ValidationError(
                    _(
                        "Describe what was shared with the health insurer when you "
                        "choose 'Other'."
                    )
                )
