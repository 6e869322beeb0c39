from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .avg_encrypted_mixin import EncryptedText


class CoachingInsurerDisclosure(models.Model):
    """What was shared with a client's health insurer, and when (seed 000: when
    sessions are reimbursed, information is shared with the client's insurer).

    When the client is erased the record stays as evidence of what was shared
    (art. 5(2), art. 19): date, insurer, what kind of data and how many sessions;
    the encrypted details and the link to her go."""

    _name = "coaching.insurer.disclosure"
    _description = "Disclosure to a health insurer"
    _avg_subject_field = "client_id"
    _avg_erasure = "anonymise"
    _inherit = ["avg.encrypted.mixin"]
    _avg_access_kind = "insurer"
    _order = "date desc, id desc"
    _rec_name = "insurer_id"

    client_id = fields.Many2one(
        "res.partner",
        index=True,
        ondelete="restrict",
        domain=[("is_coaching_client", "=", True)],
        help="Empty once the client has been erased: the disclosure then stays as "
        "evidence without her.",
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
    session_count = fields.Integer(
        string="Number of sessions",
        readonly=True,
        help="How many sessions the disclosure covered (kept after an erasure).",
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    anonymised = fields.Boolean(readonly=True, copy=False)

    @api.constrains("client_id", "anonymised")
    def _check_client(self):
        for disclosure in self:
            if not disclosure.client_id and not disclosure.anonymised:
                raise ValidationError(_("Choose the client whose data were shared."))

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
        disclosures._avg_count_sessions()
        return disclosures

    def write(self, vals):
        if self.filtered("anonymised") and set(vals) - {"session_ids"}:
            raise ValidationError(
                _(
                    "An anonymised disclosure is evidence of what was shared: it "
                    "cannot be changed."
                )
            )
        res = super().write(vals)
        if {"shared", "details"} & set(vals):
            self._avg_check_details()
        if "session_ids" in vals:
            self._avg_count_sessions()
        return res

    def _compute_avg_encrypted(self):
        # An anonymised disclosure has no content left and no client to ask the
        # read gate about: nothing to decrypt, nothing to log.
        empty = self.browse(
            d.id
            for d in self.sudo().with_context(prefetch_fields=False)
            if d.anonymised
        )
        for field in self._avg_encrypted_fields():
            self.env.cache.update(empty, field, [False] * len(empty))
        return super(CoachingInsurerDisclosure, self - empty)._compute_avg_encrypted()

    def _avg_count_sessions(self):
        # Stored as a number, not computed: it must outlive the sessions, which
        # go with the dossier.
        for disclosure in self.filtered(lambda d: not d.anonymised):
            count = len(disclosure.session_ids)
            if disclosure.session_count != count:
                disclosure.write({"session_count": count})

    @api.model
    def _avg_anonymise_for(self, partner_ids):
        """Called by the erasure path: keep what was shared with which insurer,
        when, and for how many sessions; drop the details and the link to her."""
        disclosures = (
            self.sudo()
            .with_context(tracking_disable=True)
            .search([("client_id", "in", partner_ids)])
        )
        counts = {}
        for disclosure in disclosures:
            counts[disclosure.client_id.id] = counts.get(disclosure.client_id.id, 0) + 1
        if disclosures:
            # The encrypted details: the column and the field's cache.
            disclosures.write(
                {
                    "details_enc": False,
                    "session_ids": [(5, 0, 0)],
                    "client_id": False,
                    "anonymised": True,
                }
            )
        return counts

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
