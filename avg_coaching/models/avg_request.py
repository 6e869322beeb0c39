import logging

from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models, tools
from odoo.exceptions import UserError, ValidationError
from odoo.tools.translate import LazyTranslate

from .avg_encrypted_mixin import EncryptedBinary

_logger = logging.getLogger(__name__)

OPEN_STATES = ("received", "verified", "in_progress")
CLOSED_STATES = ("done", "refused")
# What the request asked and how it was answered: evidence of how the right was
# handled, not changed once the request is closed (the erasure path and the
# retention engine empty them, as superuser).
CLOSED_LOCKED = frozenset(
    {
        "request_type",
        "restriction_ground",
        "consent_id",
        "objection_scope",
        "objection_activity_id",
        "rectification_field",
        "rectification_wrong",
        "rectification_correct",
        "description",
        "resolution",
        "refusal_reason",
    }
)
# Who the request is from and how that was verified: fixed once verified.
VERIFIED_LOCKED = frozenset({"partner_id", "identity_method", "identity_note"})
REQUEST_TYPES = [
    ("access", "Access to my data (art. 15)"),
    ("portability", "Transfer of my data (art. 20)"),
    ("rectification", "Rectification (art. 16)"),
    ("erasure", "Erasure (art. 17)"),
    ("restriction", "Restriction of processing (art. 18)"),
    ("objection", "Objection (art. 21)"),
    ("withdrawal", "Withdrawal of a consent (art. 7(3))"),
]
# Privacy statement §7: the four situations in which processing can be restricted.
RESTRICTION_GROUNDS = [
    ("accuracy", "While the correction I asked for is being assessed"),
    ("unlawful", "The data should be erased, but I do not want them erased"),
    ("legal_claim", "You no longer need the data, but I need them for a legal claim"),
    ("objection", "While my objection is being assessed"),
]
# Contact fields a rectification request can correct directly.
RECTIFIABLE = [
    ("name", "Name"),
    ("email", "E-mail address"),
    ("phone", "Phone number"),
    ("street", "Street and number"),
    ("zip", "Postal code"),
    ("city", "City"),
    ("coaching_birthdate", "Date of birth"),
    ("other", "Something else"),
]
# Art. 21: what an objection can be about.
OBJECTION_SCOPES = [
    ("mailings", "Mailings and direct marketing (art. 21(2))"),
    ("activity", "A processing activity of the register (art. 21(1))"),
    ("other", "Other processing (named in the request)"),
]
# Art. 19: requests whose outcome is passed on to the recipients of the data.
PASSED_ON = ("rectification", "erasure", "restriction")
TEXT_LIMIT = 4000
PUBLIC_TOKEN_HOURS = 24
PUBLIC_TYPES = ("access", "portability", "rectification", "erasure", "objection")

_lt = LazyTranslate(__name__)


class AvgRequest(models.Model):
    """A data-subject request (art. 12-22 GDPR), from the portal, the public form
    or received otherwise, with its deadline (art. 12(3)) and how it was handled."""

    _name = "avg.request"
    _description = "Data-subject request"
    _avg_erasure = "anonymise"
    _inherit = [
        "portal.mixin",
        "mail.thread",
        "mail.activity.mixin",
        "avg.encrypted.mixin",
        "avg.evidence.mixin",
    ]
    _avg_evidence_refusal = _lt(
        "A data-subject request cannot be deleted: it is the evidence of "
        "how the request was handled. Refuse it or close it instead."
    )
    _avg_access_kind = "id_copy"
    _order = "date_received desc, id desc"
    _avg_subject_field = "partner_id"
    # A restricted client's requests (to lift it, among others) go on.
    _avg_frozen_when_restricted = False

    name = fields.Char(
        string="Reference", required=True, readonly=True, copy=False, default="/"
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Data subject",
        index=True,
        ondelete="set null",
        tracking=True,
        help="The person the request is about, once it is known who she is.",
    )
    requester_name = fields.Char(string="Name given")
    requester_email = fields.Char(string="Reply to", help="Where answers are sent.")
    origin = fields.Selection(
        [
            ("portal", "Portal"),
            ("public", "Public form (e-mail confirmed)"),
            ("backend", "Received otherwise (mail, phone, letter)"),
        ],
        required=True,
        default="backend",
        readonly=True,
    )
    request_type = fields.Selection(
        REQUEST_TYPES, string="Request", required=True, tracking=True
    )
    restriction_ground = fields.Selection(RESTRICTION_GROUNDS, string="Ground")
    rectification_field = fields.Selection(RECTIFIABLE, string="What to correct")
    rectification_wrong = fields.Text(string="What is wrong")
    rectification_correct = fields.Text(string="What it should be")
    consent_id = fields.Many2one(
        "avg.consent", string="Consent to withdraw", ondelete="set null"
    )
    description = fields.Text(string="Explanation")
    state = fields.Selection(
        [
            ("received", "Received"),
            ("verified", "Identity verified"),
            ("in_progress", "In progress"),
            ("done", "Done"),
            ("refused", "Refused"),
        ],
        required=True,
        default="received",
        tracking=True,
        index=True,
    )
    date_received = fields.Date(
        string="Received on",
        required=True,
        default=fields.Date.context_today,
        readonly=True,
    )
    extension_months = fields.Integer(string="Extended by (months)", readonly=True)
    extension_reason = fields.Text(readonly=True)
    date_due = fields.Date(
        string="Answer due",
        compute="_compute_date_due",
        store=True,
        index=True,
        help="One month after receipt (art. 12(3) GDPR), plus the extension.",
    )
    is_overdue = fields.Boolean(compute="_compute_is_overdue")
    avg_closed = fields.Boolean(
        string="Closed",
        compute="_compute_avg_closed",
        help="Done or refused: what the request asked and how it was answered no "
        "longer change.",
    )
    identity_method = fields.Selection(
        [
            ("portal", "Logged in to the portal"),
            ("in_person", "In person"),
            ("video", "Video call"),
            ("known_contact", "Known contact details (call-back)"),
            ("id_copy", "Copy of an identity document"),
        ],
        string="Identity verified by",
        tracking=True,
    )
    identity_note = fields.Char(string="How, in a few words")
    identity_verified_by = fields.Many2one("res.users", readonly=True)
    identity_verified_on = fields.Datetime(readonly=True)
    id_copy = EncryptedBinary(
        string="Copy of identity document",
        help="Kept only until the identity is verified, then deleted automatically. "
        "Ask for a copy with the photo and the citizen service number (BSN) "
        "covered, as the Rijksoverheid advises.",
    )
    id_copy_enc = fields.Binary(attachment=True, copy=False, groups="base.group_system")
    id_copy_name = fields.Char()
    user_id = fields.Many2one(
        "res.users",
        string="Handled by",
        default=lambda self: self.env.user if not self.env.user.share else False,
        tracking=True,
        domain=[("share", "=", False)],
    )
    refusal_reason = fields.Text(readonly=True)
    resolution = fields.Text(
        string="What was done",
        help="Sent to the requester when the request is closed.",
    )
    date_closed = fields.Datetime(readonly=True)
    public_token_hash = fields.Char(readonly=True, copy=False, index=True)
    anonymised = fields.Boolean(readonly=True, copy=False)
    # Art. 19: those who received the data a rectification, erasure or
    # restriction changes are told; the request closes once each is dealt with.
    recipient_ids = fields.One2many(
        "avg.request.recipient", "request_id", string="Recipients to inform"
    )
    recipients_open = fields.Integer(
        string="Recipients still to inform", compute="_compute_recipients_open"
    )
    # Art. 21: an upheld objection stops the processing it names until lifted.
    objection_scope = fields.Selection(
        OBJECTION_SCOPES,
        string="Objection to",
        help="Mailings: her address is put on Odoo's blacklist (mail.blacklist), "
        "so no mailing reaches her. A processing activity of the register: the "
        "addon refuses that processing for her (see her contact). Other "
        "processing: say in 'What was done' what was stopped; it stays on record "
        "until lifted.",
    )
    objection_activity_id = fields.Many2one(
        "avg.processing.activity",
        string="Processing objected to",
        ondelete="restrict",
        # Art. 21(1): processing based on a public task or legitimate interests;
        # consent is withdrawn instead (art. 7(3)).
        domain=[("legal_basis", "in", ("legitimate_interest", "public_task"))],
        help="The activity of the processing register she objects to. While the "
        "objection is in force the addon stops it for her: client relations and "
        "contact: no messages or e-mails to her from her contact.",
    )
    objection_stopped = fields.Char(
        string="Stopped by the objection", compute="_compute_objection_stopped"
    )
    objection_active = fields.Boolean(
        string="Objection in force", readonly=True, copy=False, index=True
    )
    objection_lifted_date = fields.Date(
        string="Objection lifted on", readonly=True, copy=False
    )

    _sql_constraints = [
        (
            "public_token_uniq",
            "unique(public_token_hash)",
            "This confirmation link has already been used.",
        ),
    ]

    # ---------------------------------------------------------------- computes
    @api.depends("objection_scope", "objection_activity_id")
    @api.depends_context("lang")
    def _compute_objection_stopped(self):
        scopes = dict(self._fields["objection_scope"]._description_selection(self.env))
        for request in self:
            # Other processing: what was stopped is in 'What was done'.
            stopped = scopes.get(request.objection_scope, False)
            if request.objection_scope == "activity":
                stopped = request.sudo().objection_activity_id.name
            request.objection_stopped = stopped

    @api.depends("date_received", "extension_months")
    def _compute_date_due(self):
        for request in self:
            request.date_due = request.date_received and (
                request.date_received
                + relativedelta(months=1 + (request.extension_months or 0))
            )

    @api.depends("state")
    def _compute_avg_closed(self):
        for request in self:
            request.avg_closed = request.state in CLOSED_STATES

    def _compute_is_overdue(self):
        today = fields.Date.context_today(self)
        for request in self:
            request.is_overdue = (
                request.state in OPEN_STATES
                and bool(request.date_due)
                and request.date_due < today
            )

    @api.depends("recipient_ids.state")
    def _compute_recipients_open(self):
        for request in self:
            request.recipients_open = len(
                request.recipient_ids.filtered(lambda t: t.state == "todo")
            )

    def _compute_access_url(self):
        for request in self:
            request.access_url = f"/my/privacy/requests/{request.id}"

    # ---------------------------------------------------------------- constraints
    @api.constrains(
        "request_type",
        "restriction_ground",
        "rectification_wrong",
        "rectification_correct",
        "consent_id",
        "partner_id",
    )
    def _check_request_details(self):
        for request in self:
            kind = request.request_type
            if kind == "restriction" and not request.restriction_ground:
                raise ValidationError(
                    _("Choose on which of the four grounds processing is restricted.")
                )
            if kind == "rectification" and not (
                (request.rectification_wrong or "").strip()
                and (request.rectification_correct or "").strip()
            ):
                raise ValidationError(
                    _("Say what is wrong and what it should be, to correct it.")
                )
            if kind == "withdrawal" and not request.consent_id:
                raise ValidationError(_("Choose the consent to withdraw."))
            if request.consent_id and request.consent_id.partner_id != (
                request.partner_id
            ):
                raise ValidationError(
                    _("The consent to withdraw must be one of the data subject's.")
                )

    @api.constrains("extension_months")
    def _check_extension_months(self):
        for request in self:
            if not 0 <= request.extension_months <= 2:
                raise ValidationError(
                    _("A request can be extended by two more months at most.")
                )

    def _avg_check_id_copy_subject(self, vals):
        # Before the write: the copy is encrypted under the subject's key.
        if "partner_id" in vals or not self:
            has_subject = bool(vals.get("partner_id"))
        else:
            has_subject = all(request.partner_id for request in self)
        if vals.get("id_copy") and not has_subject:
            raise ValidationError(
                _(
                    "Link the request to the data subject's contact before "
                    "uploading a copy of an identity document: it is stored "
                    "encrypted under her key."
                )
            )

    @api.constrains(
        "description",
        "rectification_wrong",
        "rectification_correct",
        "requester_name",
        "requester_email",
    )
    def _check_text_length(self):
        for request in self:
            for fname in (
                "description",
                "rectification_wrong",
                "rectification_correct",
                "requester_name",
                "requester_email",
            ):
                if len(request[fname] or "") > TEXT_LIMIT:
                    raise ValidationError(
                        _(
                            "%(field)s is too long: keep it under %(limit)s "
                            "characters.",
                            field=request._fields[fname].get_description(self.env)[
                                "string"
                            ],
                            limit=TEXT_LIMIT,
                        )
                    )

    # ---------------------------------------------------------------- CRUD
    @api.model_create_multi
    def create(self, vals_list):
        sequence = self.env["ir.sequence"].sudo()
        for vals in vals_list:
            self.browse()._avg_check_id_copy_subject(vals)
            if vals.get("name", "/") == "/":
                vals["name"] = sequence.next_by_code("avg.request") or "/"
            if vals.get("partner_id") and not vals.get("requester_email"):
                partner = self.env["res.partner"].sudo().browse(vals["partner_id"])
                vals.setdefault("requester_name", partner.name)
                vals["requester_email"] = partner.email
        requests = super().create(vals_list)
        for request in requests.filtered(lambda r: not r.user_id):
            request.sudo().user_id = request._avg_default_handler()
        requests._avg_schedule_deadline_activity()
        return requests

    def write(self, vals):
        self._avg_check_id_copy_subject(vals)
        self._avg_check_locked(vals)
        return super().write(vals)

    def _avg_check_locked(self, vals):
        """Who a verified request is from, and a closed request's question and
        answer, are evidence: no user changes them (over RPC as in the form);
        the addon's own steps run as superuser."""
        if self.env.su:
            return
        verified = VERIFIED_LOCKED.intersection(vals) and self.filtered(
            lambda r: r.state != "received"
        )
        if verified:
            raise UserError(
                _(
                    "The identity for request %(ref)s has been verified: who it is "
                    "from and how that was verified stay as they were. For someone "
                    "else, record a new request.",
                    ref=verified[0].name,
                )
            )
        closed = CLOSED_LOCKED.intersection(vals) and self.filtered("avg_closed")
        if closed:
            raise UserError(
                _(
                    "Request %(ref)s is closed: what it asked and how it was "
                    "answered stay as they were, as the record of how the right was "
                    "handled. Write what changed since in a note on the request.",
                    ref=closed[0].name,
                )
            )

    # ---------------------------------------------------------------- actions
    def action_verify_identity(self):
        for request in self:
            request._avg_check_state(("received",))
            if not request.identity_method:
                raise UserError(
                    _("Record how the identity was verified before confirming it.")
                )
            if request.identity_method == "id_copy" and not request.sudo().id_copy_enc:
                raise UserError(
                    _(
                        "Upload the copy of the identity document you checked, or "
                        "choose another way of verification."
                    )
                )
            if not request.partner_id:
                raise UserError(
                    _(
                        "Link the request to the data subject's contact first: "
                        "verifying an identity means knowing whose data it is."
                    )
                )
            request.write(
                {
                    "state": "verified",
                    "identity_verified_by": self.env.user.id,
                    "identity_verified_on": fields.Datetime.now(),
                }
            )
            request._avg_delete_id_copy(_("the identity has been verified"))
        return True

    def action_start(self):
        for request in self:
            request._avg_check_state(("verified",))
            request.state = "in_progress"
        return True

    def action_carry_out(self):
        """Carry the request out through the addon's one path for each right."""
        self.ensure_one()
        self._avg_check_state(("verified", "in_progress"))
        if self.recipient_ids:
            raise UserError(
                _(
                    "Request %(ref)s has been carried out: inform the recipients of "
                    "her data (tab 'Recipients (art. 19)') to close it.",
                    ref=self.name,
                )
            )
        handler = getattr(self, f"_avg_carry_out_{self.request_type}")
        return handler()

    def action_done(self):
        """Close a request whose work was done by hand (the resolution says what)."""
        for request in self:
            request._avg_check_state(("verified", "in_progress"))
            if not (request.resolution or "").strip():
                raise UserError(
                    _(
                        "Write in 'What was done' what you did about the request: "
                        "it is sent to the requester."
                    )
                )
            if request.recipient_ids or request.request_type not in PASSED_ON:
                request._avg_close("done", request.resolution)
            else:
                request._avg_pass_on(request.resolution)
        return True

    def _avg_open_decision(self, mode):
        self.ensure_one()
        self._avg_check_state(OPEN_STATES)
        return {
            "type": "ir.actions.act_window",
            "name": _("Extend the deadline")
            if mode == "extend"
            else _("Refuse the request"),
            "res_model": "avg.request.decision",
            "view_mode": "form",
            "target": "new",
            "context": {"default_request_id": self.id, "default_mode": mode},
        }

    def action_extend(self):
        return self._avg_open_decision("extend")

    def action_refuse(self):
        return self._avg_open_decision("refuse")

    def action_lift_restriction(self):
        """Art. 18(3): the client is told before a restriction is lifted."""
        self.ensure_one()
        if self.request_type != "restriction" or self.state not in (
            "in_progress",
            "done",
        ):
            raise UserError(_("Only a carried-out restriction can be lifted."))
        partner = self.partner_id.sudo()
        if not partner.avg_restricted:
            raise UserError(_("The restriction has already been lifted."))
        self._avg_send("avg_coaching.mail_template_avg_request_restriction_lifted")
        partner.avg_restricted = False
        self.message_post(body=_("Restriction lifted; the client has been told."))
        return True

    # ------------------------------------------------------------ helpers
    def _avg_check_state(self, allowed):
        labels = dict(self._fields["state"]._description_selection(self.env))
        if self.state not in allowed:
            raise UserError(
                _(
                    "Request %(ref)s is %(state)s: this step is not possible now.",
                    ref=self.name,
                    state=labels[self.state],
                )
            )

    def _avg_subject(self):
        if not self.partner_id:
            raise UserError(_("Link the request to the data subject's contact first."))
        return self.partner_id.sudo()

    def _avg_close(self, state, message, send=True):
        open_tasks = self.recipient_ids.filtered(lambda t: t.state == "todo")
        if state == "done" and open_tasks:
            raise UserError(
                _(
                    "Request %(ref)s cannot be closed yet: inform %(recipients)s of "
                    "it, or record why that is impossible or disproportionate "
                    "(art. 19 GDPR).",
                    ref=self.name,
                    recipients=", ".join(open_tasks.mapped("name")),
                )
            )
        text_field = "resolution" if state == "done" else "refusal_reason"
        self.write(
            {"state": state, "date_closed": fields.Datetime.now(), text_field: message}
        )
        self._avg_delete_id_copy(_("the request is closed"))
        self.activity_unlink(["mail.mail_activity_data_todo"])
        if send:
            self._avg_send(
                "avg_coaching.mail_template_avg_request_answered"
                if state == "done"
                else "avg_coaching.mail_template_avg_request_refused"
            )

    def _avg_delete_id_copy(self, why):
        # Whether there is a copy, without decrypting (and so reading) it.
        for request in self.filtered(lambda r: r.sudo().id_copy_enc):
            request.write({"id_copy": False, "id_copy_name": False})
            request.message_post(
                body=_(
                    "The copy of the identity document was deleted: %(why)s.", why=why
                )
            )

    def _avg_send(self, template_xmlid):
        """Send the requester the message of one step of her request: the mail
        template ``template_xmlid`` (data/mail_template_data.xml, one per step,
        editable by the practice), rendered in her language (mail.mail)."""
        self.ensure_one()
        template = self.env.ref(template_xmlid)
        if not self.requester_email:
            body = template._render_field(
                "body_html", self.ids, engine="qweb", compute_lang=True
            )
            self.message_post(
                body=_(
                    "No e-mail address to send this to; tell the requester: %(msg)s",
                    msg=tools.html2plaintext(body[self.id]),
                )
            )
            return
        template.send_mail(self.id, force_send=False, email_layout_xmlid=False)

    def _avg_schedule_deadline_activity(self, days=7):
        for request in self.filtered(lambda r: r.state in OPEN_STATES):
            user = request.user_id or request._avg_default_handler()
            if not user:
                continue
            deadline = request.date_due - relativedelta(days=days)
            request.sudo().activity_schedule(
                "mail.mail_activity_data_todo",
                date_deadline=max(deadline, request.date_received),
                summary=_("Answer data-subject request %(ref)s", ref=request.name),
                note=_(
                    "The answer is due on %(date)s (art. 12(3) GDPR).",
                    date=tools.format_date(self.env, request.date_due),
                ),
                user_id=user.id,
            )

    def _avg_default_handler(self):
        dossier = (
            self.env["coaching.dossier"]
            .sudo()
            .search([("client_id", "=", self.partner_id.id)], limit=1, order="id desc")
            if self.partner_id
            else False
        )
        if dossier:
            return dossier.coach_id
        return self.env["res.users"]._avg_privacy_manager()

    @api.model
    def _cron_deadline_reminders(self):
        """Escalate requests whose answer is due within a week or overdue."""
        today = fields.Date.context_today(self)
        requests = self.search(
            [
                ("state", "in", OPEN_STATES),
                ("date_due", "<=", today + relativedelta(days=7)),
            ]
        )
        todo = self.env.ref("mail.mail_activity_data_todo")
        for request in requests:
            summary = (
                _("Overdue: data-subject request %(ref)s", ref=request.name)
                if request.date_due < today
                else _("Due soon: data-subject request %(ref)s", ref=request.name)
            )
            if request.activity_ids.filtered(
                lambda a, s=summary: a.summary == s and a.activity_type_id == todo
            ):
                continue
            user = request.user_id or request._avg_default_handler()
            if user:
                request.activity_schedule(
                    "mail.mail_activity_data_todo",
                    date_deadline=min(request.date_due, today),
                    summary=summary,
                    user_id=user.id,
                )

    # ------------------------------------------------------------ erasure path
    @api.model
    def _avg_anonymise_for(self, partner_ids):
        """Called by the erasure path: keep the request as evidence (reference,
        kind, dates, outcome) and remove everything that identifies the person."""
        requests = (
            self.sudo()
            .with_context(tracking_disable=True)
            .search([("partner_id", "in", partner_ids)])
        )
        if not requests:
            return {}
        counts = {}
        for request in requests:
            counts[request.partner_id.id] = counts.get(request.partner_id.id, 0) + 1
        requests._avg_anonymise()
        return counts

    def _avg_anonymise(self, unblacklist=True):
        """Keep these requests as evidence (reference, kind, dates, outcome)
        without what identifies the person: her name, address, texts, chatter.
        ``unblacklist``: her addresses leave the mailing blacklist too (she is
        erased: nothing is left to mail to)."""
        requests = self.sudo().with_context(tracking_disable=True)
        # Mails still to be sent (the answer to an erasure request) stay until
        # sent; they are deleted once sent (auto_delete).
        outgoing = (
            self.env["mail.mail"]
            .sudo()
            .search(
                [
                    ("model", "=", self._name),
                    ("res_id", "in", requests.ids),
                    ("state", "=", "outgoing"),
                ]
            )
        )
        self.env["mail.message"].sudo().search(
            [
                ("model", "=", self._name),
                ("res_id", "in", requests.ids),
                ("id", "not in", outgoing.mail_message_id.ids),
            ]
        ).unlink()
        requests.activity_ids.unlink()
        requests.message_follower_ids.unlink()
        # Her addresses on the blacklist (an upheld objection to mailings): with
        # her gone there is nothing left to send to, and the entry names her.
        objections = requests.filtered(
            lambda r: unblacklist and r.objection_scope == "mailings"
        )
        emails = set()
        for request in objections:
            emails.update(request._avg_objection_emails(request.partner_id))
        if emails:
            self.env["mail.blacklist"].sudo().with_context(active_test=False).search(
                [("email", "in", sorted(emails))]
            ).unlink()
        requests.write(
            {
                "requester_name": False,
                "requester_email": False,
                "description": False,
                "rectification_wrong": False,
                "rectification_correct": False,
                "identity_note": False,
                # The stored ciphertext itself: emptying it needs no key (a
                # request never linked to a contact has none).
                "id_copy_enc": False,
                "id_copy_name": False,
                "refusal_reason": False,
                "resolution": False,
                "extension_reason": False,
                "consent_id": False,
                "objection_active": False,
                "anonymised": True,
            }
        )

    # ------------------------------------------------------------ retention
    # Declared, with the policy it serves, in avg_retention_policy.RULES.
    @api.model
    def _avg_due_request(self, policy, today, limit=None):
        """Request policy: requests never linked to a contact (the public form,
        or received otherwise from someone who has none) and closed on or
        before the day the term counts back to. Requests of a contact follow
        her: they are anonymised when she is erased."""
        until = fields.Datetime.to_datetime(policy._avg_cutoff(today)) + relativedelta(
            days=1
        )
        return self.sudo().search(
            [
                ("partner_id", "=", False),
                ("anonymised", "=", False),
                ("state", "in", ("done", "refused")),
                ("date_closed", "<", until),
                # An objection in force stays until it is lifted (art. 21).
                ("objection_active", "=", False),
            ],
            order="id",
            limit=limit,
        )

    def _avg_purge_request(self, policy):
        """The term has ended: the requests stay as evidence without the name,
        address and texts of the person, and without their chatter and mails."""
        self.env["avg.erasure"]._avg_clear_traces(self, keep_outgoing=True)
        # (Not on the blacklist: only a contact's upheld objection puts her there.)
        self._avg_anonymise(unblacklist=False)
        self.env["avg.deletion.log"]._avg_record_ref(
            "anonymise", False, {"avg.request (anonymised)": len(self)}, policy=policy
        )

    # ------------------------------------------------------------ portal
    @api.model
    def _avg_portal_create(self, vals):
        """File the request a logged-in client made about herself: ``vals`` were
        checked by the portal controller (``controllers/request_forms.py``); her
        login verifies who she is."""
        vals = dict(vals, origin="portal", identity_method="portal")
        duplicate = self.sudo().search_count(
            [
                ("partner_id", "=", vals["partner_id"]),
                ("request_type", "=", vals["request_type"]),
                ("state", "in", OPEN_STATES),
                ("consent_id", "=", vals.get("consent_id", False)),
            ],
            limit=1,
        )
        if duplicate:
            raise UserError(
                _(
                    "You already have an open request of this kind; we are working "
                    "on it. You see its status and due date below."
                )
            )
        # sudo() after validation: the subject is the logged-in user's own partner.
        request = self.sudo().create(vals)
        request.write(
            {"state": "verified", "identity_verified_on": fields.Datetime.now()}
        )
        if request.request_type == "withdrawal":
            # Withdrawal is effective at once for the future (art. 7(3)).
            request._avg_carry_out_withdrawal()
        else:
            request._avg_send_receipt()
        return request

    def _avg_send_receipt(self):
        """Acknowledge receipt, with the date the answer is due."""
        self._avg_send("avg_coaching.mail_template_avg_request_received")

    # ------------------------------------------------------------ public form
    @api.model
    def _avg_public_create(self, payload, token_hash):
        """Create the request of a confirmed public-form link (once: the link's
        fingerprint ``token_hash`` is stored). ``payload`` is what the link
        carried (``services/tokens.py``). Returns the request."""
        existing = self.sudo().search([("public_token_hash", "=", token_hash)], limit=1)
        if existing:
            return existing
        matches = (
            self.env["res.partner"]
            .sudo()
            .search([("email_normalized", "=", payload["email"])], limit=2)
        )
        kind = payload["type"]
        vals = {
            "origin": "public",
            "request_type": kind,
            "requester_name": payload["name"],
            "requester_email": payload["email"],
            "description": payload.get("description") or False,
            "public_token_hash": token_hash,
            # Only one contact with this address: link it for the coach to verify.
            "partner_id": matches.id if len(matches) == 1 else False,
        }
        if kind == "rectification":
            vals.update(
                rectification_field="other",
                rectification_wrong=payload["description"],
                rectification_correct=payload["description"],
            )
        request = self.sudo().create(vals)
        request._avg_send_receipt()
        return request
