from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import format_date

from ..services.erasure import erasure_allowed, erasure_env
from .avg_encrypted_mixin import EncryptedBinary, EncryptedText

# The age below which the GDPR (art. 8, art. 5 UAVG) wants a parent's or
# guardian's consent, and the age of majority (seed 004: no minors at all).
MINOR_AGE = 16
MAJORITY_AGE = 18

# Dossier fields whose content is a special category of personal data (art. 9 GDPR):
# writing them needs the client's explicit consent for that category. Prior
# psychological help and a current medical treatment are health data (seed 004 §1).
SPECIAL_CATEGORY_FIELDS = {
    "prior_help": "health",
    "prior_help_aim": "health",
    "prior_help_result": "health",
    "medical_treatment": "health",
}


class CoachingDossier(models.Model):
    """One coaching trajectory of one client (seed 004 §1-2: the client dossier)."""

    _name = "coaching.dossier"
    _description = "Coaching dossier"
    _inherit = [
        "avg.content.chatter",
        "mail.thread",
        "mail.activity.mixin",
        "avg.encrypted.mixin",
    ]
    _order = "date_start desc, id desc"
    _check_company_auto = True

    # The erasure service deletes it (its parts go with it).
    _avg_erasure = "delete"

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
    client_id = fields.Many2one(
        "res.partner",
        required=True,
        index=True,
        tracking=True,
        ondelete="restrict",
        domain=[("is_coaching_client", "=", True)],
    )
    commissioner_id = fields.Many2one(
        "res.partner",
        index=True,
        tracking=True,
        ondelete="restrict",
        domain=[("is_coaching_commissioner", "=", True)],
        help="The organisation that commissions and pays for this trajectory.",
    )
    coach_id = fields.Many2one(
        "res.users",
        required=True,
        index=True,
        tracking=True,
        default=lambda self: self.env.user,
        domain=lambda self: [
            ("groups_id", "in", self.env.ref("avg_coaching.group_avg_coach").id)
        ],
    )
    state = fields.Selection(
        [("intake", "Intake"), ("active", "Active"), ("closed", "Closed")],
        default="intake",
        required=True,
        tracking=True,
        index=True,
    )
    date_start = fields.Date(string="Start date", tracking=True, index=True)
    date_end = fields.Date(string="End date", tracking=True, index=True)
    agreement_date = fields.Date(string="Agreement signed on", tracking=True)
    agreement_document = EncryptedBinary(string="Signed agreement")
    agreement_document_enc = fields.Binary(
        attachment=True, copy=False, groups="base.group_system"
    )
    agreement_filename = fields.Char()
    retention_years = fields.Integer(
        string="Agreed retention (years)",
        help="A shorter retention term agreed with the client and recorded in the "
        "agreement. Leave empty for the practice's default term.",
    )
    # Dossier content: never tracked, so never copied into chatter messages.
    help_question = EncryptedText(string="Help question")
    coaching_goals = EncryptedText(string="Coaching goals")
    prior_help = fields.Boolean(
        string="Prior coaching or psychological help",
        help="Health data: needs the client's explicit consent for health data.",
    )
    prior_help_aim = EncryptedText(
        string="Aim of the prior help",
        help="Health data: needs the client's explicit consent for health data.",
    )
    prior_help_result = EncryptedText(
        string="Result of the prior help",
        help="Health data: needs the client's explicit consent for health data.",
    )
    medical_treatment = EncryptedText(
        string="Current medical treatment",
        help="Only a medical treatment that relates to the coaching trajectory, for "
        "example the use of antidepressants. Health data: needs the client's "
        "explicit consent.",
    )
    personal_notes = EncryptedText(
        string="Coach's personal notes",
        help="Not shown on the client's privacy page, but part of her data: her "
        "downloads from the portal (PDF, JSON, CSV) and her access export (art. 15 "
        "GDPR) give them to her word for word.",
    )
    help_question_enc = fields.Text(copy=False, groups="base.group_system")
    coaching_goals_enc = fields.Text(copy=False, groups="base.group_system")
    prior_help_aim_enc = fields.Text(copy=False, groups="base.group_system")
    prior_help_result_enc = fields.Text(copy=False, groups="base.group_system")
    medical_treatment_enc = fields.Text(copy=False, groups="base.group_system")
    personal_notes_enc = fields.Text(copy=False, groups="base.group_system")
    retention_due_date = fields.Date(
        string="Content purged on",
        compute="_compute_retention_due_date",
        store=True,
        index=True,
        help=(
            "End date plus the agreed retention term, or the practice's default term "
            "(Coaching > Privacy > Set-up checklist)."
        ),
    )
    consent_withdrawn_date = fields.Date(
        string="Consent withdrawn on",
        readonly=True,
        copy=False,
        help="The client (or her parent or guardian) withdrew the consent this "
        "dossier rests on: the trajectory was closed, its content frozen and "
        "queued for deletion by the retention engine.",
    )
    content_purged_date = fields.Date(
        string="Content purged on (done)", readonly=True, copy=False
    )
    retention_reminder_date = fields.Date(readonly=True, copy=False)
    session_ids = fields.One2many("coaching.session", "dossier_id", string="Sessions")
    session_count = fields.Integer(compute="_compute_session_count")
    avg_two_factor_off = fields.Boolean(
        string="Two-factor login switched off",
        compute="_compute_avg_two_factor_off",
    )
    avg_readonly = fields.Boolean(
        string="Content read-only",
        compute="_compute_avg_readonly",
        help="The dossier is closed, or its content is locked (key unavailable, "
        "destroyed or damaged): the form shows its content read-only.",
    )
    document_ids = fields.One2many(
        "coaching.document", "dossier_id", string="Documents"
    )
    special_data_ids = fields.One2many(
        "coaching.special.data", "dossier_id", string="Special categories"
    )
    moment_ids = fields.One2many(
        "coaching.moment", "dossier_id", string="Personal moments"
    )
    moment_transfer_ids = fields.One2many(
        "coaching.moment.transfer", "dossier_id", string="ZKM transfers"
    )

    # The first-client flow, in the lawful order: client, consent, agreement,
    # privacy information, start. Each step computed from the real records.
    avg_step_consent = fields.Boolean(
        string="Consent recorded", compute="_compute_avg_steps"
    )
    avg_step_agreement = fields.Boolean(
        string="Agreement signed", compute="_compute_avg_steps"
    )
    avg_step_information = fields.Boolean(
        string="Privacy information given", compute="_compute_avg_steps"
    )
    avg_next_step = fields.Selection(
        [
            ("consent", "Record the consent"),
            ("agreement", "Record the signed agreement"),
            ("information", "Give the privacy information"),
            ("start", "Start the trajectory"),
            ("done", "Started"),
        ],
        string="Next step",
        compute="_compute_avg_steps",
    )
    retention_years_choice = fields.Selection(
        [
            ("1", "1 year"),
            ("2", "2 years"),
            ("3", "3 years"),
            ("4", "4 years"),
            ("5", "5 years"),
            ("6", "6 years"),
            ("7", "7 years"),
        ],
        string="Agreed retention",
        compute="_compute_retention_years_choice",
        inverse="_inverse_retention_years_choice",
        help="A shorter retention term agreed with the client and recorded in the "
        "agreement. Leave empty for the practice's default term.",
    )

    invoice_ids = fields.Many2many(
        "account.move",
        string="Invoices",
        compute="_compute_invoice_ids",
        help="The invoices of this dossier's sessions.",
    )
    invoice_count = fields.Integer(compute="_compute_invoice_count")
    session_to_invoice_count = fields.Integer(
        string="Sessions to invoice", compute="_compute_invoice_count"
    )

    _sql_constraints = [
        (
            "name_uniq",
            "unique(name, company_id)",
            "The dossier reference must be unique.",
        ),
        (
            "retention_years_range",
            "CHECK(retention_years IS NULL OR (retention_years BETWEEN 0 AND 7))",
            "The agreed retention term is at most 7 years (ZKM privacy rules).",
        ),
    ]

    @api.depends_context("uid")
    def _compute_avg_two_factor_off(self):
        off = not self.env["avg.access.gate"]._avg_two_factor_required()
        for dossier in self:
            dossier.avg_two_factor_off = off

    @api.depends(
        "state", "client_id", "commissioner_id", "agreement_date", "date_start"
    )
    def _compute_avg_steps(self):
        consent_model = self.env["avg.consent"]
        for dossier in self:
            consent = bool(dossier.client_id) and consent_model._avg_has_consent(
                dossier.client_id, "dossier"
            )
            informed = dossier.client_id and not dossier._avg_information_missing()
            dossier.avg_step_consent = consent
            dossier.avg_step_agreement = bool(dossier.agreement_date)
            dossier.avg_step_information = bool(informed)
            if dossier.state != "intake":
                dossier.avg_next_step = "done"
            elif not consent:
                dossier.avg_next_step = "consent"
            elif not dossier.agreement_date:
                dossier.avg_next_step = "agreement"
            elif not informed:
                dossier.avg_next_step = "information"
            else:
                dossier.avg_next_step = "start"

    @api.depends("retention_years")
    def _compute_retention_years_choice(self):
        for dossier in self:
            years = dossier.retention_years
            dossier.retention_years_choice = str(years) if years else False

    def _inverse_retention_years_choice(self):
        for dossier in self:
            choice = dossier.retention_years_choice
            dossier.retention_years = int(choice) if choice else False

    @api.depends("state", "avg_content_locked")
    def _compute_avg_readonly(self):
        for dossier in self:
            locked = dossier.avg_content_locked
            dossier.avg_readonly = dossier.state == "closed" or locked

    @api.depends("session_ids.invoice_line_id")
    def _compute_invoice_ids(self):
        for dossier in self:
            dossier.invoice_ids = dossier.session_ids.invoice_line_id.move_id

    @api.depends("session_ids")
    def _compute_session_count(self):
        groups = self.env["coaching.session"]._read_group(
            [("dossier_id", "in", self.ids)], ["dossier_id"], ["__count"]
        )
        counts = {dossier.id: count for dossier, count in groups}
        for dossier in self:
            dossier.session_count = counts.get(dossier.id, 0)

    @api.model
    def _avg_dossier_policy(self):
        policy = self.env.ref(
            "avg_coaching.retention_policy_dossier", raise_if_not_found=False
        )
        return (policy or self.env["avg.retention.policy"]).sudo()

    @api.model
    def _avg_default_retention_years(self):
        """The practice's dossier term in years (Settings > Coaching), from the
        dossier retention policy: the one source of the term."""
        policy = self._avg_dossier_policy()
        if policy and policy.period_unit == "years":
            return policy.period
        return 7

    @api.depends("state", "date_end", "retention_years", "consent_withdrawn_date")
    def _compute_retention_due_date(self):
        policy = self._avg_dossier_policy()
        default_years = self._avg_default_retention_years()
        for dossier in self:
            if dossier.state != "closed" or not dossier.date_end:
                dossier.retention_due_date = False
            elif dossier.consent_withdrawn_date:
                # No basis left (art. 7(3), 17(1)(b)): due at once.
                dossier.retention_due_date = dossier.consent_withdrawn_date
            elif policy:
                dossier.retention_due_date = policy._avg_due_on(
                    dossier.date_end, dossier.retention_years
                )
            else:
                years = dossier.retention_years or default_years
                dossier.retention_due_date = dossier.date_end + relativedelta(
                    years=years
                )

    @api.constrains("date_start", "date_end")
    def _check_dates(self):
        for dossier in self:
            if (
                dossier.date_start
                and dossier.date_end
                and dossier.date_end < dossier.date_start
            ):
                raise ValidationError(
                    _(
                        "Dossier %(name)s ends before it starts: correct the start "
                        "or end date.",
                        name=dossier.name,
                    )
                )

    @api.constrains("retention_years")
    def _check_retention_years(self):
        for dossier in self:
            if dossier.retention_years and not 1 <= dossier.retention_years <= 7:
                raise ValidationError(
                    _(
                        "The agreed retention term must be between 1 and 7 years "
                        "(ZKM privacy rules); leave it empty for the default term."
                    )
                )

    @api.model
    def _avg_minor_policy(self):
        """The practice's rule for young clients (Settings > Coaching): 'adult'
        (no minors: under 18 refused, the default, seed 004), 'refuse' (under 16
        refused) or 'guardian' (under 16 only with a parent's or guardian's
        consent)."""
        return (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("avg_coaching.minor_policy", "adult")
        )

    @api.constrains("client_id", "date_start")
    def _check_minor(self):
        self._avg_check_minor()

    def _avg_check_minor(self):
        """Refuse a dossier the practice's rule for young clients does not allow.
        Every rule needs the client's age: an unknown date of birth is refused."""
        if erasure_allowed(self.env):
            return
        policy = self._avg_minor_policy()
        limit = MAJORITY_AGE if policy == "adult" else MINOR_AGE
        consent_model = self.env["avg.consent"]
        for dossier in self:
            if dossier.consent_withdrawn_date:
                continue  # closed and queued for deletion: nothing to allow
            client = dossier.client_id
            day = dossier.date_start or fields.Date.context_today(dossier)
            age = client._avg_age_on(day)
            if age is None:
                raise ValidationError(
                    _(
                        "The date of birth of %(client)s is not known. The practice "
                        "does not take on clients under %(age)s (its rule for young "
                        "clients, set by the privacy manager in Coaching > Privacy > "
                        "Set-up checklist): record the date of birth on the contact "
                        "first.",
                        client=client.display_name,
                        age=limit,
                    )
                )
            if age >= limit:
                continue
            if policy != "guardian":
                raise ValidationError(
                    _(
                        "%(client)s is under %(age)s. The practice does not take on "
                        "clients under %(age)s (its rule for young clients, set by the "
                        "privacy manager in Coaching > Privacy > Set-up checklist).",
                        client=client.display_name,
                        age=limit,
                    )
                )
            if not consent_model._avg_has_consent(client, "guardian"):
                raise ValidationError(
                    _(
                        "%(client)s is under %(age)s. Record the consent of a parent "
                        "or guardian (Coaching > Privacy > Requests and consents > "
                        "Consents) before opening a dossier.",
                        client=client.display_name,
                        age=MINOR_AGE,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._avg_check_client(vals)
            if vals.get("name", _("New")) == _("New"):
                vals["name"] = self.env["ir.sequence"].next_by_code(
                    "coaching.dossier"
                ) or _("New")
        dossiers = super().create(vals_list)
        # An intake is contact: the client's last-contact date moves on.
        self.env["res.partner"]._avg_touch_last_contact(dossiers.client_id.ids)
        fnames = {f for vals in vals_list for f in vals}
        dossiers._avg_check_dossier_consent(fnames)
        dossiers._avg_check_special_category_fields(fnames)
        return dossiers

    def write(self, vals):
        if "client_id" in vals:
            self._avg_check_client(vals)
            moved = self.filtered(lambda d: d.client_id.id != vals["client_id"])
            if moved and moved._avg_has_content():
                raise UserError(
                    _(
                        "The client of a dossier that already holds content cannot be "
                        "changed: its content is encrypted under that client's key. "
                        "Open a new dossier for the other client instead."
                    )
                )
        content = {f.name for f in self._avg_encrypted_fields()} - {
            "agreement_document"
        }
        if self.filtered(lambda d: d.state == "closed") and set(vals) & content:
            raise UserError(
                _(
                    "This dossier is closed: its content can no longer be changed. "
                    "Reopen the dossier first if the trajectory continues."
                )
            )
        res = super().write(vals)
        self._avg_check_dossier_consent(set(vals))
        self._avg_check_special_category_fields(set(vals))
        if vals.get("commissioner_id"):
            self.filtered(lambda d: d.state == "active")._avg_ask_art14_information()
        return res

    def _avg_ask_art14_information(self):
        """A commissioner set on a running trajectory: her data now (also) comes
        from it, and she must be told within a month (art. 14(3)(a)). The coach
        gets an activity to send the information from the dossier."""
        for dossier in self.sudo():
            dossier.activity_schedule(
                "mail.mail_activity_data_todo",
                date_deadline=fields.Date.context_today(self) + relativedelta(months=1),
                summary=_("Send the privacy information (art. 14)"),
                note=_(
                    "%(commissioner)s now commissions this trajectory: tell the "
                    "client where her data come from. Send the privacy information "
                    "from this dossier; it names the commissioner as the source.",
                    commissioner=dossier.commissioner_id.display_name,
                ),
                user_id=dossier.coach_id.id,
            )

    def unlink(self):
        if not erasure_allowed(self.env):
            return self._avg_unlink_by_hand()
        # Checked first: what follows deletes children with sudo or in SQL.
        self.check_access("unlink")
        # Documents are removed through the ORM so that their files (attachments)
        # go too; the database's ON DELETE CASCADE would leave them behind.
        self.sudo().document_ids.unlink()
        # Transfers hold an encrypted export copy (an attachment) and may need a
        # deletion in the ZKM Computer Service: they go through their own path.
        self.sudo().moment_transfer_ids._avg_unlink_keeping_followup()
        # Sessions before their dossiers, set-based: left to the database's
        # cascade, the ORM would first recompute their stored related fields
        # (client, coach, company) from the dossiers being deleted.
        self.env["coaching.session"]._avg_delete_of_dossiers(self.ids)
        return super().unlink()

    def _avg_unlink_by_hand(self):
        """Deleting outside the erasure path and the retention engine (the form's
        gear menu, privacy_lookup, any sudo() caller): only what the law lets go
        now, logged in the deletion log like a purge."""
        self.check_access("unlink")
        for dossier in self:
            reasons = dossier._avg_deletion_blockers(whole=True)
            if reasons:
                raise UserError(
                    _(
                        "Dossier %(name)s cannot be deleted: %(reasons)s. To erase a "
                        "client's data at their request, record an erasure request "
                        "under Coaching > Privacy > Requests and consents > "
                        "Data-subject requests.",
                        name=dossier.sudo().name,
                        reasons="; ".join(reasons),
                    )
                )
        dossiers = self.with_env(erasure_env(self.env))
        dossiers._avg_log_purge(
            dossiers._avg_child_counts(), None, "coaching.dossier", reason="manual"
        )
        return dossiers.unlink()

    def _avg_deletion_blockers(self, whole=False):
        """Reasons (translated) why this dossier (``whole``) or a part of it may
        not be deleted by hand now: a legal hold, a restriction or an open request
        on the client, a retention term that runs, or, for the whole dossier, the
        content of a trajectory that has not been closed."""
        self.ensure_one()
        dossier = self.sudo()
        reasons = dossier.client_id._avg_retention_blockers()
        until = dossier._avg_kept_until()
        if until and until > fields.Date.context_today(self):
            reasons.append(
                _(
                    "its retention term runs until %(date)s",
                    date=format_date(self.env, until),
                )
            )
        elif whole and dossier.state != "closed" and dossier._avg_has_content():
            reasons.append(
                _(
                    "it holds the content of a trajectory that has not been closed; "
                    "it is kept while the trajectory runs and for the retention term "
                    "after it closes"
                )
            )
        return reasons

    def _avg_kept_until(self):
        """The date until which this closed dossier must be kept: its content until
        the (agreed) retention term ends, the agreement until the agreement term
        ends. False for a dossier that is not closed."""
        self.ensure_one()
        if self.state != "closed":
            return False
        dates = []
        if not self.content_purged_date:
            dates.append(self.retention_due_date)
        policy = self.env.ref(
            "avg_coaching.retention_policy_agreement", raise_if_not_found=False
        )
        if policy and policy.active and self.date_end:
            dates.append(policy.sudo()._avg_due_on(self.date_end, self.retention_years))
        dates = [day for day in dates if day]
        return max(dates) if dates else False

    def _avg_has_content(self):
        stored = self.sudo()
        return bool(
            stored.session_ids
            or stored.document_ids
            or stored.moment_ids
            or stored.special_data_ids
            or any(d[f.storage] for d in stored for f in self._avg_encrypted_fields())
        )

    @api.model
    def _avg_check_client(self, vals):
        if not vals.get("client_id"):
            raise ValidationError(_("Choose the client of this dossier."))

    @api.model
    def _avg_content_fields(self):
        """The dossier fields that hold dossier content: what may be stored only
        once the client consented to a dossier (privacy statement §3.6). The signed
        agreement is not: it rests on the agreement itself (art. 6(1)(b))."""
        names = {f.name for f in self._avg_encrypted_fields()}
        return (names - {"agreement_document"}) | {"prior_help"}

    def _avg_check_dossier_consent(self, fnames=None):
        """Refuse dossier content (these fields, or any when ``fnames`` is None:
        a part of the dossier) without a recorded, not withdrawn, dossier
        consent."""
        if fnames is not None:
            fnames = set(fnames) & self._avg_content_fields()
            if not fnames:
                return
        consent_model = self.env["avg.consent"]
        for dossier in self.sudo():
            if fnames is not None and not any(dossier._avg_filled(f) for f in fnames):
                continue  # emptying is always allowed
            if not consent_model._avg_has_consent(dossier.client_id, "dossier"):
                raise ValidationError(
                    _(
                        "%(client)s has not given (or has withdrawn) consent for a "
                        "coaching dossier: nothing can be recorded in dossier %(name)s "
                        "yet. Record the consent (how and when it was given, and its "
                        "text) under Coaching > Privacy > Requests and consents > "
                        "Consents first.",
                        client=dossier.client_id.display_name,
                        name=dossier.name,
                    )
                )

    @api.model
    def _avg_storage_name(self, fname):
        """The stored column of ``fname``: its ciphertext for an encrypted field."""
        field = self._fields[fname]
        return field.storage if field in self._avg_encrypted_fields() else fname

    def _avg_filled(self, fname):
        """Whether field ``fname`` holds something, read from storage: the
        ciphertext of an encrypted field is not decrypted for this question."""
        self.ensure_one()
        return bool(self.sudo()[self._avg_storage_name(fname)])

    def _avg_check_special_category_fields(self, fnames):
        consent_model = self.env["avg.consent"]
        for fname, category in SPECIAL_CATEGORY_FIELDS.items():
            if fname not in fnames:
                continue
            for dossier in self.filtered(lambda d, f=fname: d._avg_filled(f)):
                if not consent_model._avg_has_consent(
                    dossier.client_id, f"special_{category}"
                ):
                    raise ValidationError(
                        _(
                            "'%(field)s' holds special-category data (%(category)s). "
                            "Record the client's explicit consent for it under "
                            "Coaching > Privacy > Requests and consents > Consents "
                            "first, or leave the field empty.",
                            field=self._fields[fname]._description_string(self.env),
                            category=dict(
                                self.env["coaching.special.data"]
                                ._fields["category"]
                                ._description_selection(self.env)
                            )[category],
                        )
                    )

    def action_start(self):
        for dossier in self:
            if dossier.state != "intake":
                raise UserError(_("Only a dossier in intake can be started."))
            if not dossier.agreement_date:
                raise UserError(
                    _(
                        "Record the date the coaching agreement was signed before "
                        "starting dossier %(name)s.",
                        name=dossier.name,
                    )
                )
            if not self.env["avg.consent"]._avg_has_consent(
                dossier.client_id, "dossier"
            ):
                raise UserError(
                    _(
                        "%(client)s has not given (or has withdrawn) consent for "
                        "building a coaching dossier. Record it under Coaching > "
                        "Privacy > Requests and consents > Consents before starting "
                        "the trajectory.",
                        client=dossier.client_id.display_name,
                    )
                )
            dossier._avg_check_informed()
            dossier.write(
                {
                    "state": "active",
                    "date_start": dossier.date_start or fields.Date.context_today(self),
                }
            )
            # The rule for young clients on the start date (the constraint runs
            # only when the start date changes).
            dossier._avg_check_minor()
        return True

    def _avg_check_informed(self):
        """Art. 13 and 14: the client received the current privacy information
        before the trajectory starts, and, when a commissioner provided her data,
        the information that names that source."""
        self.ensure_one()
        missing = self._avg_information_missing()
        if missing:
            raise UserError(missing)

    def _avg_information_missing(self):
        """Why the client is not informed yet (art. 13, 14), or False."""
        self.ensure_one()
        if not self.client_id:
            return False
        notices = (
            self.env["avg.information.notice"]
            .sudo()
            .search(
                [
                    ("partner_id", "=", self.client_id.id),
                    ("date_sent", "!=", False),
                ]
            )
            .filtered("is_current")
        )
        if not notices:
            return _(
                "%(client)s has not received the current privacy information "
                "(art. 13 GDPR). Send it from this dossier (Send privacy "
                "information), or record how you gave it (Record privacy "
                "information given), before starting dossier %(name)s.",
                client=self.client_id.display_name,
                name=self.name,
            )
        commissioner = self.commissioner_id
        if commissioner and not notices.filtered(
            lambda n: n.source_partner_id == commissioner
        ):
            return _(
                "Data about %(client)s came from the commissioner "
                "%(commissioner)s: she must be told so (art. 14 GDPR). Send the "
                "privacy information from this dossier (it names the "
                "commissioner as the source) before starting dossier %(name)s.",
                client=self.client_id.display_name,
                commissioner=commissioner.display_name,
                name=self.name,
            )
        return False

    @api.model
    def _avg_on_consent_withdrawn(self, consents):
        """The dossier (or, for a client under 16, the guardian's) consent was
        withdrawn: every trajectory of the client that rests on it is closed, its
        content frozen (a closed dossier cannot be changed) and due at once for
        the retention engine's dossier purge, which keeps the signed agreement
        for its own term. Nothing is deleted here, outside the engine."""
        today = fields.Date.context_today(self)
        for consent in consents.filtered(
            lambda c: c.purpose in ("dossier", "guardian")
        ):
            if self._avg_has_other_consent(consent):
                continue  # another consent for the same purpose still stands
            dossiers = self.search(
                [
                    ("client_id", "=", consent.partner_id.id),
                    ("content_purged_date", "=", False),
                    ("consent_withdrawn_date", "=", False),
                ]
            )
            if consent.purpose == "guardian":
                dossiers = dossiers.filtered(
                    lambda d: (d.client_id._avg_age_on(today) or 0) < MINOR_AGE
                )
            for dossier in dossiers.with_context(tracking_disable=False):
                vals = {"consent_withdrawn_date": today}
                if dossier.state != "closed":
                    vals |= {"state": "closed", "date_end": today}
                    if not dossier.date_start:
                        vals["date_start"] = today
                dossier.write(vals)
                dossier._avg_system_note(
                    body=_(
                        "Consent withdrawn: the trajectory is closed and its content "
                        "will be deleted by the retention engine."
                    )
                )

    @api.model
    def _avg_has_other_consent(self, consent):
        return self.env["avg.consent"]._avg_has_consent(
            consent.partner_id, consent.purpose
        )

    def action_close(self):
        for dossier in self:
            if dossier.state != "active":
                raise UserError(_("Only an active dossier can be closed."))
            dossier.write(
                {
                    "state": "closed",
                    "date_end": dossier.date_end or fields.Date.context_today(self),
                }
            )
        return True

    def action_reopen(self):
        for dossier in self:
            if dossier.state != "closed":
                raise UserError(_("Only a closed dossier can be reopened."))
            dossier.write({"state": "active", "date_end": False})
        return True

    def action_view_sessions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "avg_coaching.coaching_session_action"
        )
        action["domain"] = [("dossier_id", "=", self.id)]
        action["context"] = {"default_dossier_id": self.id}
        return action

    # ------------------------------------------------------------------ retention
    @api.model
    def _avg_due_dossier(self, policy, today, limit=None):
        """Closed dossiers past their (agreed) term whose content is still there."""
        return self.search(
            [
                ("state", "=", "closed"),
                ("retention_due_date", "<=", today),
                ("content_purged_date", "=", False),
                *self.env["res.partner"]._avg_block_domain("client_id"),
            ],
            limit=limit,
        )

    def _avg_purge_dossier(self, policy):
        """The dossier's term has ended: delete its content, keep the agreement."""
        counts = self._avg_child_counts()
        self.env["coaching.session"]._avg_delete_of_dossiers(self.ids)
        self.document_ids.unlink()
        self.special_data_ids.unlink()
        self.moment_ids.unlink()
        self.moment_transfer_ids._avg_unlink_keeping_followup()
        content = [
            f.storage
            for f in self._avg_encrypted_fields()
            if f.name != "agreement_document"
        ]
        self.with_context(tracking_disable=True).write(
            dict.fromkeys(content, False)
            | {"content_purged_date": fields.Date.context_today(self)}
        )
        # Chatter, activities and the documents shared with the client (the
        # password-protected PDFs) go too, with their files; the signed
        # agreement stays for its own term.
        self.env["avg.erasure"]._avg_clear_traces(self)
        # What is still kept of the client is re-encrypted under a new key and
        # the old one shredded: backups made before cannot read what went.
        self.env["avg.data.key"]._avg_rekey(self.client_id)
        self._avg_log_purge(counts, policy, "coaching.dossier (content)")

    def _avg_child_counts(self):
        """{dossier id: {model: count}} of what hangs from these dossiers."""
        counts = {dossier.id: {} for dossier in self}
        for model in (
            "coaching.session",
            "coaching.document",
            "coaching.special.data",
            "coaching.moment",
            "coaching.moment.transfer",
        ):
            groups = (
                self.env[model]
                .sudo()
                ._read_group(
                    [("dossier_id", "in", self.ids)], ["dossier_id"], ["__count"]
                )
            )
            for dossier, count in groups:
                counts[dossier.id][model] = count
        return counts

    def _avg_log_purge(self, counts, policy, label, reason=None):
        log_model = self.env["avg.deletion.log"]
        refs = log_model._avg_subject_refs(self.client_id)
        entries = []
        for dossier in self:
            counts[dossier.id][label] = 1
            entries.append((refs[dossier.client_id.id], counts[dossier.id]))
        log_model._avg_record_many("purge", entries, policy=policy, reason=reason)

    @api.model
    def _avg_due_agreement(self, policy, today, limit=None):
        """Agreement policy: dossiers whose agreement ended more than the agreement
        term (or the shorter term agreed) ago, once their content's term ended."""
        return self.search(
            [
                ("state", "=", "closed"),
                *policy._avg_agreed_domain("date_end", "retention_years", today),
                ("retention_due_date", "<=", today),
                *self.env["res.partner"]._avg_block_domain("client_id"),
            ],
            limit=limit,
        )

    @api.model
    def _avg_due_intake(self, policy, today, limit=None):
        """Contact policy: intakes that never started a trajectory, when the
        client's last contact is older than the contact term."""
        return self.search(
            [
                ("state", "=", "intake"),
                ("client_id.avg_last_contact_stored", "<=", policy._avg_cutoff(today)),
                *self.env["res.partner"]._avg_block_domain("client_id"),
            ],
            limit=limit,
        )

    def _avg_purge_intake(self, policy):
        counts = self._avg_child_counts()
        self._avg_log_purge(counts, policy, "coaching.dossier (intake)")
        clients = self.client_id
        self.unlink()
        self.env["avg.data.key"]._avg_rekey(clients)

    def _avg_purge_agreement(self, policy):
        counts = self._avg_child_counts()
        self._avg_log_purge(counts, policy, "coaching.dossier")
        clients = self.client_id
        self.unlink()
        self.env["avg.data.key"]._avg_rekey(clients)

    @api.model
    def _avg_remind_dossier(self, policy, today):
        """Dossier policy: give the coach an activity before a dossier's content
        is purged (run by the retention engine after its purges)."""
        horizon = today + relativedelta(days=policy.remind_days)
        dossiers = self.sudo().search(
            [
                ("state", "=", "closed"),
                ("retention_due_date", "<=", horizon),
                ("content_purged_date", "=", False),
                ("retention_reminder_date", "=", False),
            ]
        )
        for dossier in dossiers:
            dossier.activity_schedule(
                "mail.mail_activity_data_todo",
                date_deadline=min(dossier.retention_due_date, horizon),
                summary=_("Dossier content will be purged"),
                note=_(
                    "The retention term of dossier %(name)s ends on %(date)s: its "
                    "content will then be deleted. Set a legal hold on the client if "
                    "it must be kept.",
                    name=dossier.name,
                    date=dossier.retention_due_date,
                ),
                user_id=dossier.coach_id.id,
            )
        dossiers.write({"retention_reminder_date": today})

    def action_avg_send_client_information(self):
        """Send the client the privacy information (art. 13), with the retention
        term agreed on this dossier."""
        self.ensure_one()
        self.check_access("write")
        notice = self.env["avg.information.notice"]._avg_send(self.client_id, self)
        self._avg_system_note(
            body=_(
                "Privacy information sent to %(client)s (register version "
                "%(version)s).",
                client=self.client_id.display_name,
                version=notice.register_hash[:12],
            )
        )
        return self.env["avg.information.notice"]._avg_sent_notification(
            self.client_id, reload=True
        )

    def action_avg_record_consent(self):
        """Step 2 of the first-client flow: record the client's consent for her
        dossier (a dialog with the client and the purpose filled in)."""
        self.ensure_one()
        self.check_access("write")
        return {
            "type": "ir.actions.act_window",
            "name": _("Record the consent"),
            "res_model": "avg.consent",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_partner_id": self.client_id.id,
                "default_purpose": "dossier",
                "default_method": "signed_agreement",
            },
        }

    def action_avg_record_client_information(self):
        """Record that the coach gave the client the privacy information herself
        (in person, on paper, or by post)."""
        self.ensure_one()
        self.check_access("write")
        return {
            "type": "ir.actions.act_window",
            "name": _("Record privacy information given"),
            "res_model": "avg.information.given.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_dossier_id": self.id},
        }

    # ------------------------------------------------------------ invoicing
    @api.depends("invoice_ids", "session_ids.is_invoiced")
    def _compute_invoice_count(self):
        for dossier in self:
            dossier.invoice_count = len(dossier.invoice_ids)
            dossier.session_to_invoice_count = len(dossier._avg_sessions_to_invoice())

    def _avg_sessions_to_invoice(self):
        """Sessions of these dossiers that are not (or no longer) invoiced."""
        return self.session_ids.filtered(lambda s: not s.is_invoiced).sorted(
            lambda s: (s.date, s.id)
        )

    def action_invoice_sessions(self):
        self.ensure_one()
        self.check_access("write")
        if not self._avg_sessions_to_invoice():
            raise UserError(
                _(
                    "Dossier %(name)s has no sessions left to invoice: every session "
                    "is on an invoice already. Record a new session first.",
                    name=self.name,
                )
            )
        return {
            "type": "ir.actions.act_window",
            "name": _("Invoice sessions"),
            "res_model": "coaching.invoice.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_dossier_id": self.id},
        }

    def action_view_invoices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action["domain"] = [("id", "in", self.invoice_ids.ids)]
        action["context"] = {"default_move_type": "out_invoice", "create": False}
        if len(self.invoice_ids) == 1:
            action["views"] = [(False, "form")]
            action["res_id"] = self.invoice_ids.id
        return action

    # ------------------------------------------------------------ ZKM moments
    def action_zkm_transfer(self):
        """A new transfer of this trajectory's moments to the ZKM Computer Service,
        with the moments not sent before selected."""
        self.ensure_one()
        self.check_access("write")
        if not self.moment_ids:
            raise UserError(
                _(
                    "Dossier %(name)s has no personal moments yet: the client (in "
                    "the portal) or you write them first.",
                    name=self.name,
                )
            )
        return {
            "type": "ir.actions.act_window",
            "name": _("ZKM transfer"),
            "res_model": "coaching.moment.transfer",
            "view_mode": "form",
            "target": "current",
            "context": {
                "default_dossier_id": self.id,
                "default_moment_ids": self.moment_ids.filtered(
                    lambda m: not m.transfer_ids
                ).ids,
            },
        }

    # ------------------------------------------------------------ client documents
    def action_share_protected_document(self):
        self.ensure_one()
        return self.env["coaching.protected.document.wizard"]._avg_open(self, "dossier")
