import base64
import secrets
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..services import identifiers, settings
from .avg_encrypted_mixin import EncryptedBinary

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud safely
CODE_LENGTH = 8
CONFIRM_DAYS_PARAM = "avg_coaching.zkm_deletion_confirm_days"
DEFAULT_CONFIRM_DAYS = 14
ACTIVITY_DELETE = "avg_coaching.mail_activity_type_zkm_deletion"
ACTIVITY_OVERDUE = "avg_coaching.mail_activity_type_zkm_deletion_overdue"


class CoachingMomentTransfer(models.Model):
    """One transfer of ZKM personal moments to the ZKM Computer Service.

    The coach selects moments of one dossier and produces a pseudonymised export:
    the moments and a client code, nothing else (seed 004 §6). The ZKM vereniging
    processes them under a processor agreement (art. 28). When the Zelfonderzoek
    has been processed, the local export copy is deleted a number of weeks later by
    the retention engine, and the coach is asked to delete the moments in the ZKM
    Computer Service and to confirm it; an unconfirmed deletion escalates.
    """

    _name = "coaching.moment.transfer"
    _description = "Transfer of ZKM personal moments"
    _inherit = [
        "avg.content.chatter",
        "coaching.dossier.part",
        "mail.thread",
        "mail.activity.mixin",
        "avg.encrypted.mixin",
    ]
    _avg_access_kind = "transfer"
    _order = "id desc"

    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("exported", "Exported"),
            ("processed", "Processed"),
            ("awaiting_deletion", "To delete in the ZKM Computer Service"),
            ("done", "Deleted in the ZKM Computer Service"),
        ],
        default="draft",
        required=True,
        readonly=True,
        tracking=True,
        index=True,
    )
    moment_ids = fields.Many2many(
        "coaching.moment",
        "coaching_moment_transfer_rel",
        "transfer_id",
        "moment_id",
        string="Moments",
        domain="[('dossier_id', '=', dossier_id)]",
        groups="avg_coaching.group_avg_coach",
    )
    moment_count = fields.Integer(string="Moments exported", readonly=True, copy=False)
    client_code = fields.Char(
        readonly=True,
        copy=False,
        help="The only identification in the export: a random code, the same for "
        "every transfer of this trajectory. Nothing links it to the client outside "
        "this practice.",
    )
    agreement_id = fields.Many2one(
        "avg.processor.agreement",
        string="Processor agreement",
        readonly=True,
        copy=False,
        ondelete="set null",
        help="The processor agreement with the ZKM vereniging that was valid when "
        "the moments were exported.",
    )
    export_date = fields.Datetime(string="Exported on", readonly=True, copy=False)
    export_content = EncryptedBinary(
        string="Export (stored)", groups="base.group_system"
    )
    export_content_enc = fields.Binary(
        string="Export (encrypted)",
        attachment=True,
        copy=False,
        groups="base.group_system",
    )
    export_file = fields.Binary(
        string="Export for the ZKM Computer Service",
        compute="_compute_export_file",
        help="Only the coach of the dossier can download it.",
    )
    export_filename = fields.Char(readonly=True, copy=False)
    date_processed = fields.Date(
        string="Processed on",
        tracking=True,
        copy=False,
        index=True,
        help="The day the ZKM Computer Service processed the moments. The local "
        "export copy is deleted a number of weeks later (retention policy).",
    )
    copy_due_date = fields.Date(
        string="Local copy deleted on",
        compute="_compute_copy_due_date",
        help="Processing date plus the term of the retention policy 'ZKM transfer "
        "copies'.",
    )
    copy_purged_date = fields.Date(
        string="Local copy deleted", readonly=True, copy=False
    )
    deletion_confirmed_date = fields.Date(
        string="Deleted in the ZKM Computer Service on",
        readonly=True,
        copy=False,
        tracking=True,
    )
    deletion_confirmed_uid = fields.Many2one(
        "res.users", string="Deletion confirmed by", readonly=True, copy=False
    )
    escalated_date = fields.Date(
        string="Escalated on",
        readonly=True,
        copy=False,
        index=True,
        help="The deletion in the ZKM Computer Service was not confirmed in time.",
    )

    @api.depends("dossier_id.name", "client_code", "export_date")
    def _compute_display_name(self):
        for transfer in self:
            transfer.display_name = _(
                "ZKM transfer %(code)s (%(dossier)s)",
                code=transfer.client_code or _("draft"),
                dossier=transfer.sudo().dossier_id.name or "",
            )

    @api.depends_context("uid")
    def _compute_export_file(self):
        # Only the coach of the dossier reads the moments: another user who may
        # read the transfer (the privacy manager's overview) never gets its content.
        for transfer in self:
            if transfer.coach_id == self.env.user or self.env.su:
                transfer.export_file = (
                    transfer.sudo()
                    .with_context(bin_size=self.env.context.get("bin_size"))
                    .export_content
                )
            else:
                transfer.export_file = False

    def _avg_context(self, field, subject_id):
        # Stored before 18.0.1.1.0 as 'export_data' (which shadowed the ORM's
        # export_data()): its ciphertexts stay bound to that name.
        if field.name == "export_content":
            return f"{self._name}.export_data.{subject_id}"
        return super()._avg_context(field, subject_id)

    @api.depends("date_processed")
    def _compute_copy_due_date(self):
        policy = self._avg_copy_policy()
        for transfer in self:
            transfer.copy_due_date = (
                transfer.date_processed + policy._avg_delta()
                if policy and transfer.date_processed
                else False
            )

    @api.constrains("date_processed", "export_date")
    def _check_date_processed(self):
        today = fields.Date.context_today(self)
        for transfer in self:
            if not transfer.date_processed:
                continue
            if transfer.date_processed > today:
                raise ValidationError(
                    _(
                        "The moments cannot have been processed in the future: enter "
                        "the day the ZKM Computer Service processed them."
                    )
                )
            if (
                transfer.export_date
                and transfer.date_processed < transfer.export_date.date()
            ):
                raise ValidationError(
                    _(
                        "The moments were exported on %(date)s: they cannot have "
                        "been processed before that day.",
                        date=transfer.export_date.date(),
                    )
                )

    @api.constrains("moment_ids", "dossier_id")
    def _check_moments_dossier(self):
        for transfer in self:
            transfer._avg_check_moments_of_dossier()

    def write(self, vals):
        if set(vals) & {"moment_ids", "dossier_id"} and any(
            t.state != "draft" for t in self
        ):
            raise UserError(
                _(
                    "This transfer has been exported: its moments can no longer "
                    "change. Start a new transfer for other moments."
                )
            )
        return super().write(vals)

    def unlink(self):
        if not self.env.su and any(t.state != "draft" for t in self):
            raise UserError(
                _(
                    "Only a draft transfer can be deleted: an exported one stays as "
                    "the record of what went to the ZKM Computer Service until its "
                    "deletion there is confirmed."
                )
            )
        return super().unlink()

    # ------------------------------------------------------------------ checks
    def _avg_check_moments_of_dossier(self):
        self.ensure_one()
        foreign = self.moment_ids.sudo().filtered(
            lambda m: m.dossier_id != self.dossier_id
        )
        if foreign:
            raise ValidationError(
                _(
                    "%(moment)s belongs to another dossier: a transfer holds the "
                    "moments of one trajectory only. Remove it from the selection.",
                    moment=foreign[0].display_name,
                )
            )

    def _avg_identifying_reason(self, moment):
        """Why ``moment`` would identify the client, or False."""
        client = self.client_id.sudo()
        text = moment.text or ""
        if identifiers.find_email(text):
            return _("an e-mail address")
        if identifiers.find_name(text, client.name):
            return _("the client's name")
        if identifiers.find_phone(text, [client.phone, client.mobile]):
            return _("the client's phone number")
        if identifiers.find_bsn_like(text):
            return _("a number that looks like a citizen service number (BSN)")
        return False

    def _avg_check_exportable(self):
        """Everything that must hold before moments leave the practice. Returns the
        valid processor agreement."""
        self.ensure_one()
        if self.state != "draft":
            raise UserError(
                _(
                    "This transfer was already exported on %(date)s. Start a new "
                    "transfer to send other moments.",
                    date=self.export_date,
                )
            )
        if not self.moment_ids:
            raise UserError(
                _(
                    "Select the moments to send to the ZKM Computer Service first: "
                    "this transfer holds none."
                )
            )
        self._avg_check_moments_of_dossier()
        client = self.client_id.sudo()
        if client.avg_restricted:
            raise UserError(
                _(
                    "Processing of %(client)s's data is restricted (art. 18): no "
                    "moments can be sent until the restriction is lifted.",
                    client=client.display_name,
                )
            )
        for moment in self.moment_ids.sorted(lambda m: (m.sequence, m.id)):
            if moment.avg_key_state != "ok":
                raise UserError(
                    _(
                        "%(moment)s cannot be read (encryption key unavailable): "
                        "nothing was exported.",
                        moment=moment.display_name,
                    )
                )
            reason = self._avg_identifying_reason(moment)
            if reason:
                raise UserError(
                    _(
                        "%(moment)s contains %(what)s. The ZKM Computer Service may "
                        "receive the moments only, nothing that identifies the "
                        "client: rephrase the moment in the dossier, then export "
                        "again.",
                        moment=moment.display_name,
                        what=reason,
                    )
                )
        return self._avg_valid_agreement()

    @api.model
    def _avg_zkm_recipient(self):
        return self.env.ref(
            "avg_coaching.avg_processing_recipient_dossier_zkm",
            raise_if_not_found=False,
        )

    def _avg_valid_agreement(self):
        recipient = self._avg_zkm_recipient()
        processor = recipient.sudo().partner_id if recipient else False
        if not processor:
            raise UserError(
                _(
                    "The processing register does not name the ZKM vereniging as the "
                    "organisation behind the ZKM Computer Service. Ask the privacy "
                    "manager to set it on the recipient of the activity 'Client "
                    "dossier' (Coaching > Privacy > Registers > Processing register)."
                )
            )
        today = fields.Date.context_today(self)
        Agreement = self.env["avg.processor.agreement"].sudo()
        agreement = Agreement._avg_find_valid(
            processor, today, activity=recipient.sudo().activity_id
        )[:1]
        if agreement:
            return agreement
        expired = Agreement.search(
            [
                ("partner_id", "child_of", processor.commercial_partner_id.id),
                ("date_end", "<", today),
            ],
            order="date_end desc",
            limit=1,
        )
        if expired:
            raise UserError(
                _(
                    "The processor agreement '%(agreement)s' with %(processor)s ended "
                    "on %(date)s: no moments may be sent to the ZKM Computer Service "
                    "(art. 28 GDPR). Ask the privacy manager to record the renewed "
                    "agreement first.",
                    agreement=expired.name,
                    processor=processor.display_name,
                    date=expired.date_end,
                )
            )
        raise UserError(
            _(
                "There is no valid processor agreement with %(processor)s for the ZKM "
                "Computer Service: no moments may be sent (art. 28 GDPR). Ask the "
                "privacy manager to record the signed agreement, with every clause "
                "confirmed and the activity 'Client dossier' covered.",
                processor=processor.display_name,
            )
        )

    # ------------------------------------------------------------------ actions
    def action_export(self):
        """Produce the pseudonymised export, or refuse it and change nothing."""
        self.ensure_one()
        self.check_access("write")
        agreement = self._avg_check_exportable()
        code = self.client_code or self._avg_client_code()
        moments = self.moment_ids.sorted(lambda m: (m.sequence, m.id))
        content = self._avg_export_content(code, moments)
        self.write(
            {
                "state": "exported",
                "client_code": code,
                "agreement_id": agreement.id,
                "export_date": fields.Datetime.now(),
                "moment_count": len(moments),
                "export_filename": f"zkm-{code}.txt",
            }
        )
        # Stored encrypted under the client's key; only the coach reads it back.
        self.sudo().export_content = base64.b64encode(content)
        self._avg_system_note(
            body=_(
                "%(count)s moments exported for the ZKM Computer Service under "
                "client code %(code)s (processor agreement: %(agreement)s).",
                count=len(moments),
                code=code,
                agreement=agreement.name,
            )
        )
        return True

    def _avg_client_code(self):
        """The trajectory's code: the one an earlier transfer used, or a new one."""
        earlier = (
            self.sudo()
            .search(
                [
                    ("dossier_id", "=", self.dossier_id.id),
                    ("client_code", "!=", False),
                ],
                limit=1,
            )
            .client_code
        )
        if earlier:
            return earlier
        while True:
            code = "ZKM-" + "".join(
                secrets.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH)
            )
            if not self.sudo().search_count([("client_code", "=", code)]):
                return code

    def _avg_export_content(self, code, moments):
        """The file for the ZKM Computer Service: the code and the moments only."""
        lines = [
            _("ZKM personal moments"),
            _("Client code: %(code)s", code=code),
            "",
        ]
        for position, moment in enumerate(moments, start=1):
            lines.append(f"{position}. {moment.text.strip()}")
            lines.append("")
        return "\n".join(lines).encode()

    def action_mark_processed(self):
        for transfer in self:
            transfer.check_access("write")
            if transfer.state != "exported":
                raise UserError(
                    _(
                        "Only an exported transfer can be marked as processed; this "
                        "one is '%(state)s'.",
                        state=dict(
                            self._fields["state"]._description_selection(self.env)
                        )[transfer.state],
                    )
                )
            transfer.write(
                {
                    "state": "processed",
                    "date_processed": transfer.date_processed
                    or fields.Date.context_today(transfer),
                }
            )
        return True

    def action_confirm_zkm_deletion(self):
        for transfer in self:
            transfer.check_access("write")
            if transfer.state != "awaiting_deletion":
                raise UserError(
                    _(
                        "Confirm the deletion in the ZKM Computer Service once the "
                        "reminder asks for it, after the local copy has been deleted."
                    )
                )
            transfer.write(
                {
                    "state": "done",
                    "deletion_confirmed_date": fields.Date.context_today(transfer),
                    "deletion_confirmed_uid": self.env.uid,
                }
            )
            transfer.sudo().activity_feedback(
                [ACTIVITY_DELETE, ACTIVITY_OVERDUE],
                feedback=_("Deleted in the ZKM Computer Service."),
            )
        return True

    # ------------------------------------------------------------------ retention
    @api.model
    def _avg_copy_policy(self):
        return self.env.ref(
            "avg_coaching.retention_policy_zkm_transfer", raise_if_not_found=False
        )

    @api.model
    def _avg_due_zkm_transfer(self, policy, today, limit=None):
        """Transfers processed more than the policy's term ago whose local export
        copy is still there."""
        return self.search(
            [
                ("state", "=", "processed"),
                ("date_processed", "<=", policy._avg_cutoff(today)),
                ("copy_purged_date", "=", False),
                *self.env["res.partner"]._avg_block_domain("client_id"),
            ],
            limit=limit,
        )

    def _avg_purge_zkm_transfer(self, policy):
        """Delete the local export copy and ask the coach to delete the moments in
        the ZKM Computer Service."""
        today = fields.Date.context_today(self)
        self.with_context(tracking_disable=True).write(
            {
                "export_content_enc": False,
                "copy_purged_date": today,
                "state": "awaiting_deletion",
            }
        )
        self.env["avg.data.key"]._avg_rekey(self.client_id)
        deadline = today + timedelta(days=self._avg_confirm_days())
        for transfer in self:
            transfer.activity_schedule(
                ACTIVITY_DELETE,
                date_deadline=deadline,
                summary=_("Delete the moments in the ZKM Computer Service"),
                note=_(
                    "The moments of client code %(code)s were processed on %(date)s. "
                    "Delete them in the ZKM Computer Service, then press 'Confirm "
                    "deletion' on the transfer.",
                    code=transfer.client_code,
                    date=transfer.date_processed,
                ),
                user_id=transfer.coach_id.id,
            )
        self.env["avg.deletion.log"]._avg_record_purge(
            self, label=f"{self._name} (export copy)", policy=policy
        )

    @api.model
    def _avg_confirm_days(self):
        return settings.get_int(
            self.env, CONFIRM_DAYS_PARAM, DEFAULT_CONFIRM_DAYS, minimum=1
        )

    @api.model
    def _cron_escalate(self):
        """Daily: a deletion in the ZKM Computer Service not confirmed in time gets
        a second activity, for the privacy manager, and shows as escalated in the
        privacy manager's overview."""
        today = fields.Date.context_today(self)
        overdue = self.sudo().search(
            [
                ("state", "=", "awaiting_deletion"),
                ("escalated_date", "=", False),
                (
                    "copy_purged_date",
                    "<",
                    today - timedelta(days=self._avg_confirm_days()),
                ),
            ]
        )
        manager = self.env["res.users"]._avg_privacy_manager()
        for transfer in overdue:
            user = manager or transfer.coach_id
            transfer.activity_schedule(
                ACTIVITY_OVERDUE,
                date_deadline=today,
                summary=_(
                    "Overdue: moments not yet deleted in the ZKM Computer Service"
                ),
                note=_(
                    "The coach was asked on %(date)s to delete the moments of client "
                    "code %(code)s in the ZKM Computer Service; the deletion has not "
                    "been confirmed. Make sure they are deleted, then confirm it on "
                    "the transfer.",
                    date=transfer.copy_purged_date,
                    code=transfer.client_code,
                ),
                user_id=user.id,
            )
        overdue.write({"escalated_date": today})
        return True

    # ------------------------------------------------------------------ erasure
    def _avg_unlink_keeping_followup(self):
        """Delete these transfers (erasure, dossier purge). Moments that may still
        be in the ZKM Computer Service leave one activity behind, on the processor
        agreement, naming only the client code, so that they are deleted there too
        (art. 17(1), 28(3)(g))."""
        transfers = self.sudo()
        for transfer in transfers.filtered(
            lambda t: t.state in ("exported", "processed", "awaiting_deletion")
        ):
            agreement = transfer.agreement_id
            if not agreement:
                continue
            agreement.activity_schedule(
                "mail.mail_activity_data_todo",
                date_deadline=fields.Date.context_today(self),
                summary=_("Delete the moments in the ZKM Computer Service"),
                note=_(
                    "The data of the client with code %(code)s have been erased here. "
                    "Delete that client code's moments in the ZKM Computer Service "
                    "too.",
                    code=transfer.client_code,
                ),
                user_id=transfer.coach_id.id if transfer.coach_id.active else False,
            )
        return transfers.unlink()
