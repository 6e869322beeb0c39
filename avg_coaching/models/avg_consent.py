from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..services.erasure import erasure_allowed

SPECIAL_CATEGORIES = [
    ("religion", "Religion or belief"),
    ("health", "Health"),
    ("sexuality", "Sexual life or orientation"),
    ("violence", "(Sexual) violence"),
    ("criminal", "Criminal data"),
]


class AvgConsent(models.Model):
    """A consent given by a data subject: who, for which purpose, when, how, which text.

    Consents are evidence: once recorded they are never edited, only withdrawn
    (GDPR art. 7(1) and 7(3)).
    """

    _name = "avg.consent"
    _description = "Consent"
    _avg_subject_field = "partner_id"
    _avg_erasure = "delete"
    _inherit = ["mail.thread"]
    _order = "date_given desc, id desc"
    _rec_name = "purpose"

    _avg_immutable_fields = (
        "partner_id",
        "purpose",
        "date_given",
        "method",
        "text_version",
        "guardian_name",
    )

    partner_id = fields.Many2one(
        "res.partner",
        string="Data subject",
        required=True,
        index=True,
        ondelete="restrict",
    )
    purpose = fields.Selection(
        [
            ("dossier", "Building a coaching dossier"),
            ("special_religion", "Special category: religion or belief"),
            ("special_health", "Special category: health"),
            ("special_sexuality", "Special category: sexual life or orientation"),
            ("special_violence", "Special category: (sexual) violence"),
            ("special_criminal", "Special category: criminal data"),
            ("guardian", "Parent or guardian consent for a client under 16"),
        ],
        required=True,
    )
    date_given = fields.Date(
        string="Given on", required=True, default=fields.Date.context_today
    )
    method = fields.Selection(
        [
            ("signed_agreement", "Signed coaching agreement"),
            ("signed_form", "Signed consent form"),
            ("email", "E-mail from the data subject"),
            ("portal", "Through the client portal"),
        ],
        string="How it was given",
        required=True,
    )
    text_version = fields.Char(
        string="Consent text version",
        required=True,
        help="The version of the consent text or agreement the person agreed to.",
    )
    guardian_name = fields.Char(
        string="Parent or guardian",
        help="For a client under 16: who gave consent on the client's behalf.",
    )
    note = fields.Text()
    withdrawn_date = fields.Datetime(string="Withdrawn on", readonly=True, copy=False)
    state = fields.Selection(
        [("given", "Given"), ("withdrawn", "Withdrawn")],
        compute="_compute_state",
        store=True,
        index=True,
    )

    @api.depends("withdrawn_date")
    def _compute_state(self):
        for consent in self:
            consent.state = "withdrawn" if consent.withdrawn_date else "given"

    @api.constrains("purpose", "guardian_name")
    def _check_guardian_name(self):
        for consent in self:
            if (
                consent.purpose == "guardian"
                and not (consent.guardian_name or "").strip()
            ):
                raise ValidationError(
                    _(
                        "A parent or guardian consent needs the name of the parent or "
                        "guardian who gave it."
                    )
                )

    @api.constrains("date_given")
    def _check_date_given(self):
        today = fields.Date.context_today(self)
        for consent in self:
            if consent.date_given > today:
                raise ValidationError(
                    _("A consent cannot be given in the future: correct the date.")
                )

    def write(self, vals):
        for consent in self:
            for fname in set(vals) & set(self._avg_immutable_fields):
                field = self._fields[fname]
                new = field.convert_to_cache(vals[fname], consent)
                if new != field.convert_to_cache(consent[fname], consent):
                    raise UserError(
                        _(
                            "A recorded consent is evidence and cannot be changed. "
                            "Withdraw it and record a new consent instead."
                        )
                    )
            if "withdrawn_date" in vals and consent.withdrawn_date:
                raise UserError(_("This consent has already been withdrawn."))
        return super().write(vals)

    def unlink(self):
        # The erasure path only: not any sudo() caller, such as privacy_lookup.
        if not erasure_allowed(self.env):
            raise UserError(
                _(
                    "Consents cannot be deleted: they prove what was agreed. "
                    "Withdraw the consent instead."
                )
            )
        return super().unlink()

    def action_withdraw(self):
        """Withdraw consent, effective at once for the future (art. 7(3))."""
        if any(c.state == "withdrawn" for c in self):
            raise UserError(_("This consent has already been withdrawn."))
        self.write({"withdrawn_date": fields.Datetime.now()})
        self.env["coaching.special.data"].sudo()._avg_on_consent_withdrawn(self)
        for consent in self:
            consent.message_post(body=_("Consent withdrawn."))
        return True

    @api.model
    def _avg_has_consent(self, partner, purpose):
        """True when ``partner`` has a consent for ``purpose`` that is not withdrawn."""
        return bool(
            self.sudo().search_count(
                [
                    ("partner_id", "=", partner.id),
                    ("purpose", "=", purpose),
                    ("state", "=", "given"),
                ],
                limit=1,
            )
        )
