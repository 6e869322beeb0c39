import hashlib
import json

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools.translate import LazyTranslate

LEGAL_BASES = [
    ("consent", "Art. 6(1)(a): consent"),
    ("contract", "Art. 6(1)(b): performance of a contract"),
    ("legal_obligation", "Art. 6(1)(c): legal obligation"),
    ("vital_interest", "Art. 6(1)(d): vital interests"),
    ("public_task", "Art. 6(1)(e): public task"),
    ("legitimate_interest", "Art. 6(1)(f): legitimate interests"),
]

ART9_EXCEPTIONS = [
    ("explicit_consent", "Art. 9(2)(a): explicit consent"),
    ("employment", "Art. 9(2)(b): employment and social security law"),
    ("vital_interest", "Art. 9(2)(c): vital interests"),
    ("not_for_profit", "Art. 9(2)(d): not-for-profit body"),
    ("made_public", "Art. 9(2)(e): made public by the data subject"),
    ("legal_claims", "Art. 9(2)(f): legal claims"),
    ("public_interest", "Art. 9(2)(g): substantial public interest"),
    ("care", "Art. 9(2)(h): health or social care under professional secrecy"),
    ("public_health", "Art. 9(2)(i): public health"),
    ("archiving", "Art. 9(2)(j): archiving, research or statistics"),
]

# The fields that make up the register's content: the fingerprint handed to clients
# (art. 13) changes when, and only when, one of them changes.
FINGERPRINT_FIELDS = (
    "name",
    "purpose",
    "legal_basis",
    "legal_basis_note",
    "special_categories",
    "art9_exception",
    "data_categories",
    "data_subject_categories",
    "transfer_outside_eu",
    "transfer_note",
    "retention_term",
    "retention_unit",
    "retention_description",
    "security_measures",
)
REQUIRED_TEXT_FIELDS = (
    "name",
    "purpose",
    "data_categories",
    "data_subject_categories",
    "retention_description",
    "security_measures",
)

_lt = LazyTranslate(__name__)


class AvgProcessingActivity(models.Model):
    """One processing activity of the practice's register (art. 30 GDPR, seed 004)."""

    _name = "avg.processing.activity"
    _description = "Processing activity"
    _inherit = ["mail.thread", "avg.evidence.mixin"]
    _avg_evidence_deleted_by = "superuser"
    _avg_evidence_refusal = _lt(
        "A processing activity cannot be deleted: the register must show "
        "what was processed. Archive it instead."
    )
    _order = "sequence, id"

    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    name = fields.Char(string="Activity", required=True, translate=True, tracking=True)
    code = fields.Char(
        help="A fixed key other features use to find this activity, e.g. 'dossier'.",
    )
    purpose = fields.Text(
        required=True,
        translate=True,
        help="Why the practice processes these data (art. 30(1)(b)).",
    )
    legal_basis = fields.Selection(
        LEGAL_BASES, required=True, tracking=True, help="Art. 6(1) GDPR."
    )
    legal_basis_note = fields.Text(
        string="Legal basis explained",
        translate=True,
        help="E.g. which law obliges the practice, or which interest it pursues.",
    )
    special_categories = fields.Boolean(
        string="Special categories processed",
        tracking=True,
        help="Health, religion or belief, sexual life, and so on (art. 9 GDPR).",
    )
    art9_exception = fields.Selection(
        ART9_EXCEPTIONS,
        string="Art. 9 exception",
        tracking=True,
        help="The exception that allows processing special categories of data.",
    )
    data_categories = fields.Text(
        string="Categories of personal data", required=True, translate=True
    )
    data_subject_categories = fields.Text(
        string="Categories of data subjects", required=True, translate=True
    )
    recipient_ids = fields.One2many(
        "avg.processing.recipient", "activity_id", string="Recipients"
    )
    transfer_outside_eu = fields.Boolean(
        string="Transfers outside the EU", tracking=True
    )
    transfer_note = fields.Text(
        string="Transfer safeguards",
        translate=True,
        help="To which country, and on which safeguard (art. 44-49 GDPR).",
    )
    retention_term = fields.Integer(
        tracking=True,
        help="How long the data are kept, as a number of months or years. "
        "Leave 0 when the description says it all.",
    )
    retention_unit = fields.Selection(
        [("month", "Months"), ("year", "Years")], default="year", tracking=True
    )
    retention_description = fields.Text(
        string="Retention explained",
        required=True,
        translate=True,
        help="From when the term runs and what happens at its end.",
    )
    retention_policy_id = fields.Many2one(
        "avg.retention.policy",
        string="Retention policy",
        ondelete="restrict",
        help="The policy the daily purge applies: when set, the register states "
        "its term, so the register and the purge can never disagree.",
    )
    retention_display = fields.Char(
        string="Retention", compute="_compute_retention_display"
    )
    security_measures = fields.Text(required=True, translate=True)
    processor_warning = fields.Text(compute="_compute_processor_warning")

    _sql_constraints = [
        (
            "code_company_uniq",
            "unique(code, company_id)",
            "Another processing activity already has this code.",
        )
    ]

    @api.depends(
        "retention_term",
        "retention_unit",
        "retention_policy_id.period",
        "retention_policy_id.period_unit",
    )
    @api.depends_context("lang")
    def _compute_retention_display(self):
        for activity in self:
            activity.retention_display = activity._avg_retention_text()

    def _avg_retention_text(self, agreed_years=None):
        """The term in words. With a retention policy: exactly what the engine
        applies (and, with ``agreed_years``, the shorter term agreed with the
        client, where it applies); else the register's own term."""
        self.ensure_one()
        policy = self.sudo().retention_policy_id
        if policy:
            return policy._avg_term_text(agreed_years)
        if not self.retention_term:
            return _("See the explanation")
        if self.retention_unit == "month":
            return _("%(count)s months", count=self.retention_term)
        return _("%(count)s years", count=self.retention_term)

    @api.depends(
        "recipient_ids.agreement_status",
        "recipient_ids.name",
        "recipient_ids.partner_id",
    )
    def _compute_processor_warning(self):
        for activity in self:
            missing = activity.recipient_ids.filtered(
                lambda r: r.agreement_status == "missing"
            )
            activity.processor_warning = (
                _(
                    "No valid processor agreement (art. 28) for: %(names)s. Record a "
                    "signed agreement with every clause confirmed under Coaching > "
                    "Privacy > Registers > Processor agreements, or stop sharing data "
                    "with this processor.",
                    names=", ".join(missing.mapped("display_name")),
                )
                if missing
                else False
            )

    @api.constrains(*REQUIRED_TEXT_FIELDS)
    def _check_filled(self):
        for activity in self:
            blank = [
                self._fields[f]._description_string(self.env)
                for f in REQUIRED_TEXT_FIELDS
                if not (activity[f] or "").strip()
            ]
            if blank:
                raise ValidationError(
                    _(
                        "Fill in these parts of the processing activity: %(fields)s.",
                        fields=", ".join(blank),
                    )
                )

    @api.constrains("special_categories", "art9_exception")
    def _check_art9_exception(self):
        for activity in self:
            if activity.special_categories and not activity.art9_exception:
                raise ValidationError(
                    _(
                        "Activity '%(name)s' processes special categories of data: "
                        "choose the art. 9 exception that allows it.",
                        name=activity.name,
                    )
                )

    @api.constrains("retention_term", "retention_unit")
    def _check_retention_term(self):
        for activity in self:
            if activity.retention_term < 0:
                raise ValidationError(
                    _("A retention term cannot be negative: enter 0 or more.")
                )
            if activity.retention_term and not activity.retention_unit:
                raise ValidationError(
                    _("Choose whether the retention term is in months or years.")
                )

    @api.constrains("transfer_outside_eu", "transfer_note")
    def _check_transfer_note(self):
        for activity in self:
            if (
                activity.transfer_outside_eu
                and not (activity.transfer_note or "").strip()
            ):
                raise ValidationError(
                    _(
                        "Activity '%(name)s' transfers data outside the EU: describe "
                        "to which country and on which safeguard.",
                        name=activity.name,
                    )
                )

    @api.model
    def _avg_register_fingerprint(self, company=None):
        """(hash, date) of the register's current content for ``company``.

        The hash covers every active activity and its recipients, read in the
        source language so that it does not depend on who asks.
        """
        company = company or self.env.company
        activities = (
            self.sudo()
            .with_context(lang="en_US", active_test=True)
            .search([("company_id", "=", company.id)])
        )
        content = []
        last_change = False
        for activity in activities:
            row = {"code": activity.code or ""}
            row |= {fname: activity[fname] or "" for fname in FINGERPRINT_FIELDS}
            # The term the engine applies (a policy's period changes the register).
            row["retention"] = activity.retention_display
            row["recipients"] = sorted(
                (r.name, r.recipient_type, r.partner_id.id or 0)
                for r in activity.recipient_ids
            )
            content.append(row)
            for record in [activity, *activity.recipient_ids]:
                if not last_change or record.write_date > last_change:
                    last_change = record.write_date
        digest = hashlib.sha256(
            json.dumps(content, sort_keys=True, default=str).encode()
        ).hexdigest()
        return digest, last_change

    def action_print_register(self):
        return self.env.ref(
            "avg_coaching.avg_processing_activity_report_register"
        ).report_action(self.search([]))


class AvgProcessingRecipient(models.Model):
    """Who receives the data of a processing activity (art. 30(1)(d))."""

    _name = "avg.processing.recipient"
    _description = "Recipient of personal data"
    _order = "activity_id, sequence, id"

    sequence = fields.Integer(default=10)
    activity_id = fields.Many2one(
        "avg.processing.activity", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="activity_id.company_id", store=True)
    name = fields.Char(string="Recipient", required=True, translate=True)
    recipient_type = fields.Selection(
        [
            ("processor", "Processor (processes on the practice's behalf)"),
            ("controller", "Independent controller"),
            ("authority", "Public authority"),
        ],
        string="Role",
        required=True,
        default="processor",
        help="Only a processor needs a processor agreement (art. 28).",
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Organisation",
        ondelete="restrict",
        help="For a processor: the organisation with which the agreement is made.",
    )
    agreement_id = fields.Many2one(
        "avg.processor.agreement",
        string="Valid agreement",
        compute="_compute_agreement",
    )
    agreement_status = fields.Selection(
        [
            ("not_required", "Not required"),
            ("valid", "Valid agreement"),
            ("missing", "No valid agreement"),
        ],
        compute="_compute_agreement",
    )

    @api.depends("recipient_type", "partner_id", "activity_id")
    @api.depends_context("date")
    def _compute_agreement(self):
        today = fields.Date.context_today(self)
        agreements = self.env["avg.processor.agreement"].sudo()
        for recipient in self:
            agreement = agreements.browse()
            if recipient.recipient_type == "processor" and recipient.partner_id:
                agreement = agreements._avg_find_valid(
                    recipient.partner_id, today, activity=recipient.activity_id
                )[:1]
            recipient.agreement_id = agreement
            if recipient.recipient_type != "processor":
                recipient.agreement_status = "not_required"
            else:
                recipient.agreement_status = "valid" if agreement else "missing"
