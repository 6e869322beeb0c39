from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools.translate import LazyTranslate

NOTIFY_DEADLINE_HOURS = 72
DECISIONS = [
    ("undecided", "Not decided yet"),
    ("yes", "Yes"),
    ("no", "No"),
]

_lt = LazyTranslate(__name__)


class AvgBreach(models.Model):
    """A personal-data breach (art. 33/34 GDPR, seed 004 §7). Every breach is
    recorded, whether or not it is notified (art. 33(5))."""

    _name = "avg.breach"
    _description = "Data breach"
    _inherit = ["mail.thread", "mail.activity.mixin", "avg.evidence.mixin"]
    _avg_evidence_deleted_by = "superuser"
    _avg_evidence_refusal = _lt(
        "A data breach cannot be deleted: every breach must stay in the "
        "register (art. 33(5)). Close it with the reason instead."
    )
    _order = "discovered_at desc, id desc"
    _check_company_auto = True

    name = fields.Char(
        string="Reference",
        required=True,
        readonly=True,
        copy=False,
        default=lambda self: _("New"),
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        default=lambda self: self.env.user,
        tracking=True,
    )
    state = fields.Selection(
        [("open", "Open"), ("closed", "Closed")],
        default="open",
        required=True,
        tracking=True,
        index=True,
    )
    summary = fields.Char(required=True, tracking=True)
    discovered_at = fields.Datetime(
        string="Discovered on",
        required=True,
        default=fields.Datetime.now,
        tracking=True,
        help="When the practice became aware of the breach: the 72 hours run "
        "from here.",
    )
    occurred_at = fields.Datetime(string="Occurred on")
    deadline_at = fields.Datetime(
        string="Notification deadline",
        compute="_compute_deadline_at",
        store=True,
        help="72 hours after discovery (art. 33(1)).",
    )
    hours_left = fields.Float(compute="_compute_countdown")
    countdown = fields.Char(string="Time left", compute="_compute_countdown")
    nature = fields.Selection(
        [
            (
                "confidentiality",
                "Confidentiality: seen or taken by someone unauthorised",
            ),
            ("integrity", "Integrity: changed without authorisation"),
            ("availability", "Availability: lost or destroyed"),
        ],
        required=True,
        default="confidentiality",
    )
    description = fields.Text(
        string="What happened", help="E.g. a lost USB stick, a stolen laptop."
    )
    data_categories = fields.Text(string="Categories of personal data")
    special_categories = fields.Boolean(
        string="Special categories involved",
        help="Health, religion or belief, sexual life, criminal data and the like.",
    )
    encrypted = fields.Boolean(
        string="Data were encrypted",
        help="Encrypted data whose key was not compromised are unintelligible to "
        "others (art. 34(3)(a)).",
    )
    subjects_count = fields.Integer(string="People involved (approx.)")
    records_count = fields.Integer(string="Records involved (approx.)")
    consequences = fields.Text(string="Likely consequences")
    measures = fields.Text(string="Measures taken or proposed")
    processor_agreement_id = fields.Many2one(
        "avg.processor.agreement",
        string="Reported by processor (agreement)",
        ondelete="restrict",
        check_company=True,
        help="When a processor reported the breach: the agreement with it.",
    )
    processor_reported_at = fields.Datetime(string="Processor reported on")
    notify_ap = fields.Selection(
        DECISIONS,
        string="Notify the Autoriteit Persoonsgegevens",
        default="undecided",
        required=True,
        tracking=True,
    )
    notify_ap_reason = fields.Text(string="Reason for the AP decision")
    ap_notified_at = fields.Datetime(string="AP notified on", tracking=True)
    ap_reference = fields.Char(string="AP reference", tracking=True)
    delay_reason = fields.Text(
        string="Reason for the delay",
        help="Required when the AP is notified after 72 hours (art. 33(1)).",
    )
    notify_subjects = fields.Selection(
        DECISIONS,
        string="Notify the people involved",
        default="undecided",
        required=True,
        tracking=True,
    )
    notify_subjects_reason = fields.Text(string="Reason for the decision")
    subject_message = fields.Text(
        string="Message to the people",
        help="What happened, in plain words, for the people involved (art. 34(2)). "
        "It goes into the e-mail together with the consequences and the measures.",
    )
    subject_partner_ids = fields.Many2many(
        "res.partner", string="People to notify", context={"active_test": False}
    )
    subjects_notified_at = fields.Datetime(string="People notified on", tracking=True)
    notification_ids = fields.One2many(
        "avg.breach.notification", "breach_id", string="Messages to the people"
    )

    @api.depends("discovered_at")
    def _compute_deadline_at(self):
        for breach in self:
            breach.deadline_at = breach.discovered_at and breach.discovered_at + (
                timedelta(hours=NOTIFY_DEADLINE_HOURS)
            )

    @api.depends("deadline_at", "notify_ap", "ap_notified_at", "state")
    def _compute_countdown(self):
        now = fields.Datetime.now()
        for breach in self:
            breach.hours_left = (
                (breach.deadline_at - now).total_seconds() / 3600
                if breach.deadline_at
                else 0.0
            )
            if breach.ap_notified_at:
                breach.countdown = _("The AP has been notified.")
            elif breach.notify_ap == "no" or breach.state == "closed":
                breach.countdown = _("No notification to the AP.")
            elif not breach.deadline_at:
                breach.countdown = False
            elif breach.hours_left >= 0:
                hours, minutes = divmod(int(breach.hours_left * 60), 60)
                breach.countdown = _(
                    "%(hours)s h %(minutes)s min left to notify the AP",
                    hours=hours,
                    minutes=minutes,
                )
            else:
                breach.countdown = _(
                    "The 72 hours passed %(hours)s h ago: notify the AP now and "
                    "give the reason for the delay.",
                    hours=int(-breach.hours_left),
                )

    @api.constrains("discovered_at", "occurred_at", "ap_notified_at")
    def _check_dates(self):
        now = fields.Datetime.now()
        for breach in self:
            if breach.discovered_at > now:
                raise ValidationError(
                    _("A breach cannot be discovered in the future: correct the date.")
                )
            if breach.occurred_at and breach.occurred_at > breach.discovered_at:
                raise ValidationError(
                    _(
                        "A breach cannot have happened after it was discovered: "
                        "correct the date it occurred or was discovered."
                    )
                )
            for fname in ("ap_notified_at", "subjects_notified_at"):
                if breach[fname] and breach[fname] < breach.discovered_at:
                    raise ValidationError(
                        _(
                            "A notification date cannot be before the breach was "
                            "discovered: correct the date."
                        )
                    )

    @api.constrains("summary")
    def _check_summary(self):
        if any(not (breach.summary or "").strip() for breach in self):
            raise ValidationError(
                _("Describe the breach in a few words under 'Summary'.")
            )

    @api.constrains("subjects_count", "records_count")
    def _check_counts(self):
        for breach in self:
            if breach.subjects_count < 0 or breach.records_count < 0:
                raise ValidationError(
                    _("The numbers of people and records cannot be negative.")
                )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", _("New")) == _("New"):
                vals["name"] = self.env["ir.sequence"].next_by_code("avg.breach") or _(
                    "New"
                )
        breaches = super().create(vals_list)
        breaches.filtered(lambda b: b.state == "open")._avg_schedule_deadline()
        return breaches

    def _avg_schedule_deadline(self):
        activity_type = self.env.ref("avg_coaching.mail_activity_type_breach_deadline")
        fallback = self.env["res.users"]._avg_privacy_manager()
        for breach in self:
            user = breach.user_id or fallback
            if not user:
                continue
            breach.activity_schedule(
                activity_type_id=activity_type.id,
                date_deadline=fields.Date.context_today(breach, breach.deadline_at),
                summary=_("Notify the AP within 72 hours, or record why not"),
                note=_(
                    "Deadline: %(deadline)s. Decide whether breach %(name)s must be "
                    "notified to the Autoriteit Persoonsgegevens and to the people "
                    "involved, and record the decision and its reason.",
                    deadline=fields.Datetime.to_string(breach.deadline_at),
                    name=breach.name,
                ),
                user_id=user.id,
            )

    def action_close(self):
        for breach in self:
            if breach.state != "open":
                raise UserError(_("Only an open breach can be closed."))
            problems = breach._avg_close_problems()
            if problems:
                raise UserError(
                    _(
                        "Breach %(name)s cannot be closed yet:\n%(problems)s",
                        name=breach.name,
                        problems="\n".join(f"- {p}" for p in problems),
                    )
                )
            breach.state = "closed"
            breach.activity_ids.filtered(
                lambda a: (
                    a.activity_type_id
                    == self.env.ref("avg_coaching.mail_activity_type_breach_deadline")
                )
            ).action_feedback(feedback=_("Breach closed."))
        return True

    def _avg_close_problems(self):
        self.ensure_one()
        problems = []
        if not (self.measures or "").strip():
            problems.append(_("Describe the measures taken."))
        for decision, reason, label in (
            ("notify_ap", "notify_ap_reason", _("the Autoriteit Persoonsgegevens")),
            ("notify_subjects", "notify_subjects_reason", _("the people involved")),
        ):
            if self[decision] == "undecided":
                problems.append(_("Decide whether to notify %(whom)s.", whom=label))
            elif not (self[reason] or "").strip():
                problems.append(
                    _("Give the reason for notifying %(whom)s or not.", whom=label)
                )
        if self.notify_ap == "yes":
            if not self.ap_notified_at:
                problems.append(_("Enter when the AP was notified."))
            elif (
                self.ap_notified_at > self.deadline_at
                and not (self.delay_reason or "").strip()
            ):
                problems.append(
                    _(
                        "The AP was notified after 72 hours: give the reason for the "
                        "delay."
                    )
                )
        if self.notify_subjects == "yes" and not self.subjects_notified_at:
            problems.append(
                _("Send the message to the people involved (button 'Notify people').")
            )
        return problems

    def action_reopen(self):
        for breach in self:
            if breach.state != "closed":
                raise UserError(_("Only a closed breach can be reopened."))
            breach.state = "open"
        return True

    def action_notify_subjects(self):
        """Queue a plain-language message (art. 34) to every person to notify."""
        self.ensure_one()
        if self.notify_subjects != "yes":
            raise UserError(
                _(
                    "First decide to notify the people involved ('Notify the people "
                    "involved' = Yes) and give the reason."
                )
            )
        if not (self.subject_message or "").strip():
            raise UserError(
                _(
                    "Write the message to the people involved first: what happened, "
                    "in plain words."
                )
            )
        if not self.subject_partner_ids:
            raise UserError(
                _("Add the people to notify under 'People to notify' first.")
            )
        already = self.notification_ids.partner_id
        todo = self.subject_partner_ids - already
        if not todo:
            raise UserError(
                _("Everyone under 'People to notify' has already received the message.")
            )
        without_email = todo.filtered(lambda p: not p.email)
        if without_email:
            raise UserError(
                _(
                    "These people have no e-mail address: %(names)s. Add one, or "
                    "inform them another way and remove them from the list.",
                    names=", ".join(without_email.mapped("display_name")),
                )
            )
        notifications = self.env["avg.breach.notification"].create(
            [{"breach_id": self.id, "partner_id": p.id} for p in todo]
        )
        notifications._avg_send()
        if not self.subjects_notified_at:
            self.subjects_notified_at = fields.Datetime.now()
        self.message_post(
            body=_(
                "Message about the breach queued for %(count)s people.",
                count=len(notifications),
            )
        )
        return True

    def action_print_report(self):
        self.ensure_one()
        return self.env.ref("avg_coaching.avg_breach_report").report_action(self)


class AvgBreachNotification(models.Model):
    """One message to one person about a breach (art. 34): who, when, which mail."""

    _name = "avg.breach.notification"
    _description = "Breach notification to a person"
    _avg_subject_field = "partner_id"
    _avg_erasure = "delete"
    _order = "id desc"

    breach_id = fields.Many2one(
        "avg.breach", required=True, index=True, ondelete="restrict"
    )
    company_id = fields.Many2one(related="breach_id.company_id", store=True)
    partner_id = fields.Many2one(
        "res.partner", string="Person", required=True, ondelete="restrict"
    )
    mail_id = fields.Many2one("mail.mail", string="E-mail", readonly=True)
    date = fields.Datetime(default=fields.Datetime.now, readonly=True)

    _sql_constraints = [
        (
            "breach_partner_uniq",
            "unique(breach_id, partner_id)",
            "This person has already been notified of this breach.",
        )
    ]

    def _avg_send(self):
        template = self.env.ref("avg_coaching.mail_template_avg_breach_subject")
        for notification in self:
            mail_id = template.send_mail(
                notification.id,
                email_values={"recipient_ids": [(4, notification.partner_id.id)]},
            )
            notification.mail_id = mail_id
