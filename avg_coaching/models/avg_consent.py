import hashlib

from odoo import _, api, fields, models, tools
from odoo.exceptions import UserError, ValidationError
from odoo.tools.translate import LazyTranslate

SPECIAL_CATEGORIES = [
    ("religion", "Religion or belief"),
    ("health", "Health"),
    ("sexuality", "Sexual life or orientation"),
    ("violence", "(Sexual) violence"),
    ("criminal", "Criminal data"),
]
# How a consent is recorded when it is part of signing the coaching agreement: not
# a separate act, so not enough for special categories (art. 7(2) GDPR).
AGREEMENT_METHODS = ("signed_agreement",)

_lt = LazyTranslate(__name__)


class AvgConsent(models.Model):
    """A consent given by a data subject: who, for which purpose, when, how, which text.

    Consents are evidence: once recorded they are never edited, only withdrawn
    (GDPR art. 7(1) and 7(3)).
    """

    _name = "avg.consent"
    _description = "Consent"
    _avg_subject_field = "partner_id"
    _avg_erasure = "delete"
    _inherit = ["mail.thread", "avg.evidence.mixin"]
    _avg_evidence_refusal = _lt(
        "Consents cannot be deleted: they prove what was agreed. "
        "Withdraw the consent instead."
    )
    _order = "date_given desc, id desc"
    _rec_name = "purpose"

    _avg_immutable_fields = (
        "partner_id",
        "purpose",
        "date_given",
        "method",
        "text_version",
        "consent_text",
        "text_hash",
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
    consent_text = fields.Text(
        string="Text agreed to",
        help="The exact text the person agreed to (art. 7(1) GDPR). Left empty, the "
        "practice's standard text for the purpose is stored; replace it with the "
        "wording of the form she signed when that differs.",
    )
    text_hash = fields.Char(
        string="Fingerprint of the text",
        readonly=True,
        copy=False,
        help="SHA-256 of the text agreed to, taken when the consent was recorded: it "
        "shows the text has not changed since.",
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

    @api.depends("purpose")
    def _compute_display_name(self):
        # The purpose's label in the reader's language, never its key
        # ("special_health" was printed in the access export).
        labels = dict(self._fields["purpose"]._description_selection(self.env))
        for consent in self:
            consent.display_name = labels.get(consent.purpose, consent.purpose or "")

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

    @api.constrains("purpose", "method")
    def _check_method(self):
        for consent in self:
            if (
                consent.purpose.startswith("special_")
                and consent.method in AGREEMENT_METHODS
            ):
                raise ValidationError(
                    _(
                        "Consent for special-category data must be a separate, "
                        "explicit act (art. 7(2) and 9(2)(a) GDPR): it cannot be part "
                        "of the signature of the coaching agreement. Record it as a "
                        "separate signed consent form, an e-mail from the client or "
                        "through the portal."
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

    @api.model
    def _avg_standard_text(self, purpose):
        """The practice's standard wording of the consent for ``purpose``."""
        texts = {
            "dossier": _(
                "I agree that my coach keeps a personal coaching dossier about me "
                "(my help question, goals, the sessions and what was discussed) for "
                "my coaching trajectory, as described in the privacy information I "
                "received. I may withdraw this consent at any time; my dossier is "
                "then closed and its content deleted."
            ),
            "guardian": _(
                "As parent or guardian I agree that the coach keeps a coaching "
                "dossier about the child named here for the coaching trajectory, as "
                "described in the privacy information I received. I may withdraw "
                "this consent at any time; the dossier is then closed and its "
                "content deleted."
            ),
        }
        if purpose in texts:
            return texts[purpose]
        labels = dict(
            self.env["coaching.special.data"]
            ._fields["category"]
            ._description_selection(self.env)
        )
        category = purpose.removeprefix("special_") if purpose else ""
        if category in labels:
            return _(
                "I explicitly agree, separately from the coaching agreement, that "
                "my coach records data about me in the special category "
                "'%(category)s', only where it relates to my own coaching "
                "question. I may withdraw this consent at any time; these data are "
                "then no longer used and are deleted.",
                category=labels[category],
            )
        return False

    @api.onchange("purpose")
    def _onchange_purpose(self):
        if self.purpose and not self.id:
            self.consent_text = self._avg_standard_text(self.purpose)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if not (vals.get("consent_text") or "").strip():
                vals["consent_text"] = self._avg_standard_text(vals.get("purpose"))
            vals["text_hash"] = self._avg_hash(vals.get("consent_text"))
        return super().create(vals_list)

    @api.model
    def _avg_hash(self, text):
        return hashlib.sha256((text or "").encode()).hexdigest() if text else False

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

    def action_withdraw(self):
        """Withdraw consent, effective at once for the future (art. 7(3))."""
        if any(c.state == "withdrawn" for c in self):
            raise UserError(_("This consent has already been withdrawn."))
        self.write({"withdrawn_date": fields.Datetime.now()})
        # What each consent covered is frozen and queued for the retention engine.
        self.env["coaching.special.data"].sudo()._avg_on_consent_withdrawn(self)
        self.env["coaching.dossier"].sudo()._avg_on_consent_withdrawn(self)
        for consent in self:
            consent.message_post(body=_("Consent withdrawn."))
        return True

    def _avg_withdraw_by_client(self):
        """The client withdrew this consent herself (portal): withdraw it and
        give each coach of her dossiers an activity, in the coach's language,
        saying what the withdrawal froze. The activity names no content."""
        self.action_withdraw()
        todo = self.env.ref("mail.mail_activity_data_todo", raise_if_not_found=False)
        for consent in self:
            dossiers = (
                self.env["coaching.dossier"]
                .sudo()
                .search([("client_id", "=", consent.partner_id.id)])
            )
            for dossier in dossiers.filtered("coach_id"):
                coach = dossier.coach_id
                env = dossier.with_context(lang=coach.lang).env
                purpose = dict(consent._fields["purpose"]._description_selection(env))[
                    consent.purpose
                ]
                if consent.purpose.startswith("special_"):
                    effect = env._(
                        "What you recorded under this category (special-category "
                        "lines, and for health also prior help and the current "
                        "medical treatment) is frozen: it is no longer shown or "
                        "changed and the retention engine deletes it."
                    )
                else:
                    effect = env._(
                        "The trajectory is closed and its content is frozen: the "
                        "retention engine deletes it; the signed agreement is kept "
                        "for its own term."
                    )
                dossier.activity_schedule(
                    activity_type_id=todo.id if todo else False,
                    summary=env._("Client withdrew a consent"),
                    note=env._(
                        "%(client)s withdrew the consent '%(purpose)s' through the "
                        "portal on %(date)s. %(effect)s Talk with her about what "
                        "this means for the coaching.",
                        client=consent.partner_id.name,
                        purpose=purpose,
                        date=tools.format_datetime(
                            env, consent.withdrawn_date, tz=coach.tz, dt_format="short"
                        ),
                        effect=effect,
                    ),
                    user_id=coach.id,
                )
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
