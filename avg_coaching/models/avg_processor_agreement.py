from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.osv import expression

from ..services import settings

# The clauses art. 28(3) GDPR requires in a processor agreement.
ART28_CLAUSES = (
    "clause_instructions",
    "clause_confidentiality",
    "clause_security",
    "clause_subprocessors",
    "clause_assistance",
    "clause_deletion",
    "clause_audits",
)
REMINDER_DAYS_PARAM = "avg_coaching.processor_agreement_reminder_days"
DEFAULT_REMINDER_DAYS = 30


class AvgProcessorAgreement(models.Model):
    """A processor agreement (art. 28 GDPR) with an organisation that processes
    personal data on the practice's behalf (seed 004 §6)."""

    _name = "avg.processor.agreement"
    _description = "Processor agreement"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "date_signed desc, id desc"

    name = fields.Char(string="Agreement", required=True, tracking=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Processor",
        required=True,
        index=True,
        tracking=True,
        ondelete="restrict",
    )
    service = fields.Char(
        help="What the processor does for the practice, e.g. the software it provides."
    )
    processing_activity_ids = fields.Many2many(
        "avg.processing.activity",
        string="Processing activities covered",
        help="The activities of the register for which this processor works.",
    )
    data_categories = fields.Text(string="Categories of personal data covered")
    clause_instructions = fields.Boolean(
        string="Only on documented instructions", tracking=True
    )
    clause_confidentiality = fields.Boolean(
        string="Confidentiality of the processor's staff", tracking=True
    )
    clause_security = fields.Boolean(
        string="Security measures (art. 32)", tracking=True
    )
    clause_subprocessors = fields.Boolean(
        string="Sub-processors only with prior permission", tracking=True
    )
    clause_assistance = fields.Boolean(
        string="Assistance with data-subject rights and breaches", tracking=True
    )
    clause_deletion = fields.Boolean(
        string="Deletion or return of the data at the end", tracking=True
    )
    clause_audits = fields.Boolean(
        string="Information and audits for the practice", tracking=True
    )
    clauses_complete = fields.Boolean(
        string="All art. 28(3) clauses confirmed", compute="_compute_clauses_complete"
    )
    date_signed = fields.Date(string="Signed on", tracking=True)
    date_end = fields.Date(
        string="End date",
        tracking=True,
        help="Leave empty for an agreement that runs until it is terminated.",
    )
    document = fields.Binary(string="Signed agreement", attachment=True, copy=False)
    document_filename = fields.Char()
    breach_notification_hours = fields.Integer(
        string="Breach notification term (hours)",
        default=24,
        required=True,
        tracking=True,
        help="Within how many hours the processor must tell the practice about a "
        "data breach. The practice itself has 72 hours to notify the Autoriteit "
        "Persoonsgegevens.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        default=lambda self: self.env.user,
        help="Receives the reminder before the agreement ends.",
    )
    reminder_end_date = fields.Date(
        readonly=True,
        copy=False,
        help="The end date for which an expiry reminder was scheduled.",
    )
    is_valid = fields.Boolean(
        string="Valid", compute="_compute_is_valid", search="_search_is_valid"
    )
    state = fields.Selection(
        [
            ("draft", "Not signed"),
            ("incomplete", "Clauses missing"),
            ("valid", "Valid"),
            ("expired", "Expired"),
        ],
        compute="_compute_is_valid",
    )
    breach_ids = fields.One2many(
        "avg.breach", "processor_agreement_id", string="Breaches reported"
    )

    @api.depends(*ART28_CLAUSES)
    def _compute_clauses_complete(self):
        for agreement in self:
            agreement.clauses_complete = all(agreement[f] for f in ART28_CLAUSES)

    @api.depends("date_signed", "date_end", *ART28_CLAUSES)
    @api.depends_context("date")
    def _compute_is_valid(self):
        today = fields.Date.context_today(self)
        for agreement in self:
            agreement.is_valid = agreement._avg_is_valid(today)
            if not agreement.date_signed or agreement.date_signed > today:
                agreement.state = "draft"
            elif agreement.date_end and agreement.date_end < today:
                agreement.state = "expired"
            elif not agreement.clauses_complete:
                agreement.state = "incomplete"
            else:
                agreement.state = "valid"

    def _search_is_valid(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise ValidationError(
                _("Search valid agreements with 'is set' or 'not set'.")
            )
        today = fields.Date.context_today(self)
        domain = self._avg_valid_domain(today)
        if (operator == "=") != value:
            return ["!", *expression.normalize_domain(domain)]
        return domain

    @api.constrains("name")
    def _check_name(self):
        if any(not (agreement.name or "").strip() for agreement in self):
            raise ValidationError(
                _("Give the processor agreement a name, e.g. the processor's service.")
            )

    @api.constrains("date_signed", "date_end")
    def _check_dates(self):
        today = fields.Date.context_today(self)
        for agreement in self:
            if agreement.date_signed and agreement.date_signed > today:
                raise ValidationError(
                    _(
                        "Agreement '%(name)s' cannot be signed in the future: enter "
                        "the date it was actually signed.",
                        name=agreement.name,
                    )
                )
            if agreement.date_end and not agreement.date_signed:
                raise ValidationError(
                    _(
                        "Agreement '%(name)s' has an end date but no signing date: "
                        "enter the date it was signed.",
                        name=agreement.name,
                    )
                )
            if agreement.date_end and agreement.date_end < agreement.date_signed:
                raise ValidationError(
                    _(
                        "Agreement '%(name)s' ends before it was signed: correct the "
                        "signing or end date.",
                        name=agreement.name,
                    )
                )

    @api.constrains("breach_notification_hours")
    def _check_breach_notification_hours(self):
        for agreement in self:
            if not 1 <= agreement.breach_notification_hours <= 72:
                raise ValidationError(
                    _(
                        "The processor must report a breach within 1 to 72 hours: the "
                        "practice itself has only 72 hours to notify the Autoriteit "
                        "Persoonsgegevens. Agree a shorter term."
                    )
                )

    @api.model
    def _avg_valid_domain(self, date):
        domain = [
            ("date_signed", "!=", False),
            ("date_signed", "<=", date),
            "|",
            ("date_end", "=", False),
            ("date_end", ">=", date),
        ]
        return expression.AND([domain] + [[(f, "=", True)] for f in ART28_CLAUSES])

    def _avg_is_valid(self, date=None):
        """True when the agreement is signed, has every art. 28(3) clause and has
        not expired on ``date`` (today when not given)."""
        self.ensure_one()
        date = fields.Date.to_date(date) or fields.Date.context_today(self)
        return bool(
            self.date_signed
            and self.date_signed <= date
            and (not self.date_end or self.date_end >= date)
            and all(self[f] for f in ART28_CLAUSES)
        )

    @api.model
    def _avg_find_valid(self, partner, date=None, activity=None):
        """The agreements valid on ``date`` with ``partner`` (or its company),
        restricted to those covering ``activity`` when one is given.

        Other features (e.g. sending ZKM moments to a processor) ask this before
        sharing data: an empty result means "do not share".
        """
        date = fields.Date.to_date(date) or fields.Date.context_today(self)
        partner = partner.commercial_partner_id
        domain = expression.AND(
            [
                self._avg_valid_domain(date),
                [("partner_id", "child_of", partner.id)],
            ]
        )
        if activity:
            domain = expression.AND(
                [domain, [("processing_activity_ids", "in", activity.ids)]]
            )
        return self.search(domain, order="date_end desc, id desc")

    @api.model
    def _avg_reminder_days(self):
        return settings.get_int(self.env, REMINDER_DAYS_PARAM, DEFAULT_REMINDER_DAYS)

    @api.model
    def _cron_avg_expiry_reminders(self):
        """Schedule, once per end date, an activity for the privacy manager a number
        of days (system parameter, default 30) before an agreement ends."""
        today = fields.Date.context_today(self)
        horizon = today + timedelta(days=self._avg_reminder_days())
        agreements = self.search(
            [
                ("date_signed", "!=", False),
                ("date_end", ">=", today),
                ("date_end", "<=", horizon),
            ]
        )
        fallback = self.env["res.users"]._avg_privacy_manager()
        activity_type = self.env.ref(
            "avg_coaching.mail_activity_type_processor_agreement_expiry"
        )
        for agreement in agreements:
            if agreement.reminder_end_date == agreement.date_end:
                continue
            already = agreement.activity_ids.filtered(
                lambda a, t=activity_type: a.activity_type_id == t
            )
            user = agreement.user_id if agreement.user_id.active else fallback
            if not already and user:
                agreement.activity_schedule(
                    activity_type_id=activity_type.id,
                    date_deadline=agreement.date_end,
                    summary=_(
                        "Processor agreement %(name)s ends on %(date)s",
                        name=agreement.name,
                        date=agreement.date_end,
                    ),
                    note=_(
                        "Renew the agreement with the processor, or stop sharing data "
                        "with it before the end date."
                    ),
                    user_id=user.id,
                )
            agreement.reminder_end_date = agreement.date_end
        return True
