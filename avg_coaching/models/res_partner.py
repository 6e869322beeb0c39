import logging

from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from odoo.addons.account.models.mail_message import bypass_token as audit_bypass_token

_logger = logging.getLogger(__name__)

COACH_GROUPS = "avg_coaching.group_avg_coach,avg_coaching.group_avg_privacy_manager"


class ResPartner(models.Model):
    _name = "res.partner"
    _inherit = ["res.partner", "avg.bsn.guard"]

    _avg_bsn_fields = (
        "name",
        "comment",
        "street",
        "street2",
        "city",
        "function",
        "coaching_employer",
    )

    is_coaching_client = fields.Boolean(
        string="Coaching client",
        help="A coachee: a person who follows, or followed, a coaching trajectory.",
    )
    is_coaching_commissioner = fields.Boolean(
        help="An organisation or person that commissions and pays for the coaching "
        "of a client (opdrachtgever).",
    )
    coaching_birthdate = fields.Date(
        string="Date of birth",
        groups=COACH_GROUPS,
    )
    coaching_employer = fields.Char(string="Employer")
    coaching_dossier_ids = fields.One2many(
        "coaching.dossier",
        "client_id",
        string="Coaching dossiers",
        groups="avg_coaching.group_avg_coach",
    )
    coaching_dossier_count = fields.Integer(
        compute="_compute_coaching_dossier_count",
        string="Dossiers",
        groups="avg_coaching.group_avg_coach",
    )

    avg_legal_hold = fields.Boolean(
        string="Legal hold",
        groups=COACH_GROUPS,
        help="Keep all data of this person, for a legal procedure (privacy statement "
        "§4.4): no retention purge and no erasure while set.",
    )
    avg_legal_hold_reason = fields.Text(
        string="Reason for the legal hold", groups=COACH_GROUPS
    )
    avg_restricted = fields.Boolean(
        string="Processing restricted",
        groups=COACH_GROUPS,
        help="Restriction of processing (art. 18): the data is kept but not used, and "
        "not purged, until the restriction is lifted.",
    )
    avg_last_contact = fields.Date(
        string="Last contact",
        default=fields.Date.context_today,
        index=True,
        groups=COACH_GROUPS,
        help="For contacts that did not lead to a service: the retention term counts "
        "from this date.",
    )
    avg_relation_end = fields.Date(
        string="Client relationship ended",
        compute="_compute_avg_relation_end",
        store=True,
        index=True,
        groups=COACH_GROUPS,
    )
    avg_erased_date = fields.Datetime(string="Erased on", readonly=True, copy=False)
    avg_fiscal_hold_until = fields.Date(
        string="Invoice data kept until",
        readonly=True,
        copy=False,
        index=True,
        help="Erased, except what the invoices need until the fiscal retention term "
        "ends (7 years from the invoice date, art. 52 AWR).",
    )

    @api.depends("coaching_dossier_ids")
    def _compute_coaching_dossier_count(self):
        groups = self.env["coaching.dossier"]._read_group(
            [("client_id", "in", self.ids)], ["client_id"], ["__count"]
        )
        counts = {partner.id: count for partner, count in groups}
        for partner in self:
            partner.coaching_dossier_count = counts.get(partner.id, 0)

    @api.constrains("coaching_birthdate")
    def _check_coaching_birthdate(self):
        today = fields.Date.context_today(self)
        for partner in self:
            birthdate = partner.coaching_birthdate
            if birthdate and not (
                today - relativedelta(years=120) <= birthdate <= today
            ):
                raise ValidationError(
                    _(
                        "The date of birth of %(name)s is not plausible: enter a date "
                        "in the past, less than 120 years ago.",
                        name=partner.display_name,
                    )
                )

    def _avg_age_on(self, day):
        """Age in whole years on ``day``, or None when the birth date is unknown."""
        self.ensure_one()
        birthdate = self.sudo().coaching_birthdate
        if not birthdate or not day:
            return None
        return relativedelta(day, birthdate).years

    def action_view_coaching_dossiers(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "avg_coaching.coaching_dossier_action"
        )
        action["domain"] = [("client_id", "=", self.id)]
        action["context"] = {"default_client_id": self.id}
        return action

    @api.depends("coaching_dossier_ids.state", "coaching_dossier_ids.date_end")
    def _compute_avg_relation_end(self):
        for partner in self:
            dossiers = partner.sudo().coaching_dossier_ids
            if dossiers and all(d.state == "closed" for d in dossiers):
                partner.avg_relation_end = max(
                    d.date_end or d.date_start or False for d in dossiers
                )
            else:
                partner.avg_relation_end = (
                    partner.avg_relation_end if not dossiers else False
                )

    # ------------------------------------------------------------------ blockers
    @api.model
    def _avg_block_domain(self, path=""):
        """Domain excluding subjects whose data must not be purged now."""
        prefix = f"{path}." if path else ""
        return [
            (f"{prefix}avg_legal_hold", "=", False),
            (f"{prefix}avg_restricted", "=", False),
        ]

    def _avg_retention_blockers(self):
        """Reasons (translated) why this person's data cannot be erased now."""
        self.ensure_one()
        partner = self.sudo()
        reasons = []
        if partner.avg_legal_hold:
            reasons.append(_("a legal hold stands"))
        if partner.avg_restricted:
            reasons.append(_("processing is restricted"))
        return reasons

    # ------------------------------------------------------------------ fiscal term
    def _avg_fiscal_hold_date(self):
        """Until when posted invoices of this person must be kept (or False)."""
        self.ensure_one()
        moves = (
            self.env["account.move"]
            .sudo()
            .search(
                [
                    ("commercial_partner_id", "=", self.commercial_partner_id.id),
                    ("state", "=", "posted"),
                    (
                        "move_type",
                        "in",
                        ("out_invoice", "out_refund", "in_invoice", "in_refund"),
                    ),
                ],
                order="invoice_date desc",
                limit=1,
            )
        )
        if not moves or not moves.invoice_date:
            return False
        policy = self.env.ref(
            "avg_coaching.retention_policy_invoice", raise_if_not_found=False
        )
        delta = policy._avg_delta() if policy else relativedelta(years=7)
        return moves.invoice_date + delta

    # ------------------------------------------------------------ retention handlers
    @api.model
    def _avg_due_contact(self, policy, today, limit=None):
        return self.search(
            [
                ("is_coaching_client", "=", True),
                ("avg_erased_date", "=", False),
                ("avg_last_contact", "<=", policy._avg_cutoff(today)),
                ("coaching_dossier_ids", "=", False),
                ("user_ids", "not any", [("share", "=", False)]),
                *self._avg_block_domain(),
            ],
            limit=limit,
        )

    def _avg_purge_contact(self, policy):
        self._avg_erase(policy=policy)

    @api.model
    def _avg_due_crm(self, policy, today, limit=None):
        return self.search(
            [
                ("avg_relation_end", "<=", policy._avg_cutoff(today)),
                ("avg_erased_date", "=", False),
                ("coaching_dossier_ids", "=", False),
                *self._avg_block_domain(),
            ],
            limit=limit,
        )

    def _avg_purge_crm(self, policy):
        self._avg_erase(policy=policy)

    def _avg_purge_invoice(self, policy):
        """The fiscal term has ended: remove what was kept for the invoices."""
        for partner in self:
            counts = partner._avg_remove_messages(keep_audit=False)
            counts.update(partner._avg_anonymise(keep_invoice_data=False))
            self.env["avg.deletion.log"]._avg_record(
                "anonymise", partner, counts, policy=policy
            )

    # ------------------------------------------------------------ the erasure path
    def _avg_erase(self, policy=None, reason=None):
        """Erase everything of these persons that the law does not require to keep.

        Deletes dossiers, sessions, notes, documents, consents and special-category
        data, destroys the data key (crypto-shredding), removes their chatter
        messages and tracking values, deactivates their portal user, and deletes the
        contact, or anonymises it in place (same id) when invoices still need it.
        Used by the retention crons and by erasure requests. Refused while a legal
        hold or restriction stands.
        """
        for partner in self.exists():
            blockers = partner._avg_retention_blockers()
            if blockers:
                raise UserError(
                    _(
                        "%(name)s cannot be erased now: %(reasons)s. Lift it first.",
                        name=partner.display_name,
                        reasons=", ".join(blockers),
                    )
                )
            if partner.sudo().avg_erased_date:
                continue
            partner.sudo()._avg_erase_one(policy, reason)
        return True

    def _avg_erase_one(self, policy, reason):
        self.ensure_one()
        env = self.env(
            context=dict(self.env.context, tracking_disable=True, active_test=False)
        )
        partner = self.with_env(env).sudo()
        log_model = env["avg.deletion.log"]
        counts = {}

        dossiers = (
            env["coaching.dossier"].sudo().search([("client_id", "=", partner.id)])
        )
        counts["coaching.dossier"] = len(dossiers)
        counts["coaching.session"] = len(dossiers.session_ids)
        counts["coaching.document"] = len(dossiers.document_ids)
        counts["coaching.special.data"] = len(dossiers.special_data_ids)
        dossiers.unlink()
        consents = env["avg.consent"].sudo().search([("partner_id", "=", partner.id)])
        counts["avg.consent"] = len(consents)
        consents.unlink()
        env["avg.data.key"]._avg_destroy_for(partner)

        hold_until = partner._avg_fiscal_hold_date()
        if hold_until and hold_until <= fields.Date.context_today(partner):
            hold_until = False
        has_moves = bool(
            env["account.move"]
            .sudo()
            .search_count(
                [("commercial_partner_id", "=", partner.commercial_partner_id.id)],
                limit=1,
            )
        )
        counts.update(partner._avg_remove_messages(keep_audit=bool(hold_until)))
        ref = log_model._avg_subject_ref(partner)
        if not has_moves and partner._avg_try_unlink():
            counts["res.partner"] = 1
            self.env["avg.deletion.log"]._avg_record_ref(
                "erase", ref, counts, policy=policy, reason=reason
            )
            return
        counts.update(partner._avg_anonymise(keep_invoice_data=bool(hold_until)))
        partner.write(
            {
                "avg_erased_date": fields.Datetime.now(),
                "avg_fiscal_hold_until": hold_until,
            }
        )
        log_model._avg_record_ref("erase", ref, counts, policy=policy, reason=reason)

    def _avg_try_unlink(self):
        self.ensure_one()
        users = self.user_ids
        try:
            with self.env.cr.savepoint():
                users.unlink()
                self.unlink()
        except Exception:  # noqa: BLE001 - referenced elsewhere: anonymise instead
            _logger.info(
                "Partner %s is referenced elsewhere: anonymised in place", self.id
            )
            return False
        return True

    def _avg_remove_messages(self, keep_audit):
        """Delete the chatter of this person and what they wrote, with the tracking
        values that hold their old name, e-mail, phone or address. Messages that the
        accounting audit trail protects are kept while the fiscal term runs."""
        self.ensure_one()
        messages = (
            self.env["mail.message"]
            .sudo()
            .search(
                [
                    "|",
                    "&",
                    ("model", "=", "res.partner"),
                    ("res_id", "=", self.id),
                    ("author_id", "=", self.id),
                ]
            )
        )
        audit_trail = (
            self.env["account.move"]
            .sudo()
            .search_count(
                [
                    ("commercial_partner_id", "=", self.commercial_partner_id.id),
                    ("company_id.check_account_audit_trail", "=", True),
                ],
                limit=1,
            )
        )
        protected = (
            messages.filtered("account_audit_log_activated")
            if audit_trail
            else messages.browse()
        )
        if keep_audit:
            messages -= protected
        elif protected:
            messages = messages.with_context(bypass_audit=audit_bypass_token)
        count = len(messages)
        messages.unlink()
        self.env["mail.followers"].sudo().search(
            [("partner_id", "=", self.id)]
        ).unlink()
        self.env["mail.notification"].sudo().search(
            [("res_partner_id", "=", self.id)]
        ).unlink()
        return {
            "mail.message": count,
            "mail.message (kept, audit trail)": len(protected) if keep_audit else 0,
        }

    def _avg_anonymise(self, keep_invoice_data):
        """Anonymise in place (same id: posted, hashed entries keep pointing here)."""
        self.ensure_one()
        partner = self.sudo().with_context(tracking_disable=True, active_test=False)
        label = _("Anonymised client %(id)s", id=partner.id)
        vals = {
            "email": False,
            "phone": False,
            "mobile": False,
            "website": False,
            "function": False,
            "comment": False,
            "coaching_birthdate": False,
            "coaching_employer": False,
            "image_1920": False,
            "title": False,
            "category_id": [(5, 0, 0)],
            "is_coaching_client": False,
            "avg_last_contact": False,
            "active": False,
        }
        if not keep_invoice_data:
            vals.update(
                {
                    "name": label,
                    "street": False,
                    "street2": False,
                    "zip": False,
                    "city": False,
                    "state_id": False,
                    "vat": False,
                    "ref": False,
                    "avg_fiscal_hold_until": False,
                }
            )
        for user in partner.with_context(active_test=False).user_ids:
            user.write({"active": False, "login": f"erased-{user.id}"})
        # active_test: Odoo refuses to archive a contact of a user it still sees.
        partner.with_context(active_test=True).write(vals)
        partner.child_ids.filtered(lambda c: not c.user_ids).write(
            {
                "active": False,
                "email": False,
                "phone": False,
                "mobile": False,
                "name": label,
            }
        )
        banks = partner.bank_ids
        for bank in banks:
            try:
                with self.env.cr.savepoint():
                    bank.unlink()
            except Exception:  # noqa: BLE001 - referenced by a payment: kept
                _logger.info(
                    "Bank account %s of partner %s is in use: kept", bank.id, partner.id
                )
        return {"res.partner (anonymised)": 1}
