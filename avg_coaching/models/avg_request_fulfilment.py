"""Carrying out each right of a data-subject request (art. 15 to 21 and 7(3)),
and passing the outcome on to the recipients of the data (art. 19). The
request's workflow (states, deadlines, mails) is in avg_request.py."""

import logging

from odoo import _, fields, models, tools
from odoo.exceptions import UserError

from .avg_request import OPEN_STATES, PASSED_ON

_logger = logging.getLogger(__name__)


class AvgRequest(models.Model):
    _inherit = "avg.request"

    # ------------------------------------------------------------ carrying out
    def _avg_carry_out_rectification(self):
        field = self.rectification_field
        if not field or field == "other":
            raise UserError(
                _(
                    "This correction cannot be applied automatically: correct the "
                    "data yourself, write what you did in 'What was done' and close "
                    "the request with 'Done'."
                )
            )
        partner = self._avg_subject()
        value = (self.rectification_correct or "").strip()
        if field == "coaching_birthdate":
            try:
                value = fields.Date.to_date(value)
            except ValueError as exc:
                raise UserError(
                    _(
                        "'%(value)s' is not a date: write the corrected date of "
                        "birth as YYYY-MM-DD.",
                        value=value,
                    )
                ) from exc
        label = dict(
            self._fields["rectification_field"]._description_selection(self.env)
        )[field]
        partner.write({field: value})
        self._avg_pass_on(_("We have corrected your %(what)s.", what=label.lower()))
        return True

    def _avg_carry_out_erasure(self):
        partner = self._avg_subject()
        blockers = partner._avg_retention_blockers(request=self)
        if blockers:
            raise UserError(
                _(
                    "The data cannot be erased now: %(reasons)s. Lift it first, or "
                    "refuse the request with the reason.",
                    reasons=", ".join(blockers),
                )
            )
        holds = partner._avg_fiscal_holds()
        if holds.get(partner.id):
            kept = _(
                "We have erased your data. We must keep what is on your invoices "
                "(your name, address and the invoice lines) until %(date)s: the tax "
                "law requires us to keep invoices for seven years (art. 52 AWR). "
                "After that date they are erased too.",
                date=tools.format_date(self.env, holds[partner.id]),
            )
        else:
            kept = _("We have erased all your data.")
        # Who received her data is known only before they are erased.
        tasks = self._avg_create_recipient_tasks()
        if not tasks:
            # Told before erasing: afterwards the address is gone.
            self._avg_close("done", kept)
            partner._avg_erase(reason=self.name, request=self)
            return True
        message = self._avg_pass_on_message(kept)
        self.write({"state": "in_progress", "resolution": message})
        self._avg_send("avg_coaching.mail_template_avg_request_answered")
        partner._avg_erase(reason=self.name, request=self)
        # The erasure anonymised the request: what was done stays, without her.
        # Nor does it stay linked to what is kept of her contact (her invoices'
        # name and address): while the recipients are informed, this request is
        # no open request of hers that would hold back their retention.
        # (No tracking of the change: its old value would name her.) Past the
        # identity check no user may re-point a request: the erasure step does.
        self._track_discard()
        self.sudo().with_context(tracking_disable=True).write(
            {"resolution": message, "partner_id": False}
        )
        self._avg_schedule_recipient_activity()
        return True

    def _avg_carry_out_restriction(self):
        partner = self._avg_subject()
        partner.avg_restricted = True
        ground = dict(
            self._fields["restriction_ground"]._description_selection(self.env)
        )[self.restriction_ground]
        self._avg_pass_on(
            _(
                "We have restricted the processing of your data (ground: %(ground)s). "
                "We keep your data but do not use them until the restriction is "
                "lifted; we will tell you before we lift it.",
                ground=ground,
            )
        )
        return True

    def _avg_carry_out_withdrawal(self):
        consent = self.consent_id.sudo()
        if consent.state != "withdrawn":
            consent.action_withdraw()
        self._avg_close(
            "done",
            _(
                "Your consent has been withdrawn. From now on we no longer process "
                "these data; what was done before stays lawful."
            ),
        )
        return True

    def action_print_access_export(self):
        """Everything held about the requester, printed by whoever carries out
        her access or portability request: the read gate lets the privacy
        manager read it for this request only, and logs it under its reference."""
        self.ensure_one()
        self._avg_check_state(("verified", "in_progress"))
        if self.request_type not in ("access", "portability") or not self.partner_id:
            raise UserError(
                _(
                    "Only an access or portability request of a known contact has "
                    "an access export. Link the request to the contact first."
                )
            )
        report = self.env.ref("avg_coaching.avg_access_export_report_action")
        return report.with_context(avg_access_request_id=self.id).report_action(
            self.partner_id, config=False
        )

    def _avg_gate_role(self, uid):
        """The copy of an identity document is read by whoever handles the
        request (its record rules decide who that is), while it is open."""
        self.ensure_one()
        if self.state in OPEN_STATES and self.with_user(uid).has_access("read"):
            return "verification", self.name
        return None

    def _avg_carry_out_access(self):
        partner = self._avg_subject()
        dossier = (
            self.env["coaching.dossier"]
            .sudo()
            .search([("client_id", "=", partner.id)], limit=1)
        )
        if partner.user_ids.filtered("share"):
            self._avg_close(
                "done",
                _(
                    "You can download everything we keep about you, as a PDF and as "
                    "machine-readable files (JSON, CSV), on the privacy page of your "
                    "portal account."
                ),
            )
            return True
        if not dossier:
            raise UserError(
                _(
                    "This person has no portal account and no dossier: give her "
                    "portal access (Contacts, Action, Grant portal access) so that "
                    "she can download her data, then carry the request out again."
                )
            )
        return self.env["coaching.protected.document.wizard"]._avg_open(
            dossier, "access"
        )

    def _avg_carry_out_portability(self):
        return self._avg_carry_out_access()

    def _avg_carry_out_objection(self):
        """Uphold the objection: stop the processing it names until it is lifted
        (art. 21). Mailings: her addresses go on Odoo's blacklist. Other
        processing: what was stopped is written in 'What was done' and stays on
        record while the objection is in force."""
        partner = self._avg_subject()
        if not self.objection_scope:
            raise UserError(
                _(
                    "Choose what the objection is about ('Objection to'). To refuse "
                    "it, use 'Refuse' with your compelling legitimate grounds."
                )
            )
        if self.objection_scope == "mailings":
            emails = self._avg_objection_emails(partner)
            if not emails:
                raise UserError(
                    _(
                        "The contact has no e-mail address to block for mailings: "
                        "add it first, or describe what you stopped and choose "
                        "'Other processing'."
                    )
                )
            Blacklist = self.env["mail.blacklist"].sudo()
            for email in emails:
                Blacklist._add(
                    email,
                    message=_("Objection upheld (request %(ref)s)", ref=self.name),
                )
            message = _(
                "We have upheld your objection: from today you receive no mailings "
                "or other direct marketing from us, until you tell us otherwise."
            )
        elif self.objection_scope == "activity":
            activity = self.objection_activity_id
            if not activity:
                raise UserError(
                    _(
                        "Choose the processing activity she objects to ('Processing "
                        "objected to'), or 'Other processing' for processing the "
                        "register does not name."
                    )
                )
            message = _(
                "We have upheld your objection: from today we no longer process your "
                "data for '%(activity)s', until you tell us otherwise.",
                activity=activity.with_context(lang=partner.lang or self.env.lang).name,
            )
        else:
            done = (self.resolution or "").strip()
            if not done:
                raise UserError(
                    _(
                        "Write in 'What was done' which processing you stopped: it "
                        "is sent to her and stays on record while the objection is "
                        "in force."
                    )
                )
            message = _(
                "We have upheld your objection and stopped this processing of your "
                "data until you tell us otherwise: %(what)s",
                what=done,
            )
        self.objection_active = True
        self._avg_close("done", message)
        return True

    def action_lift_objection(self):
        """Lift an upheld objection (she asked for it, or agreed): the processing
        may start again, and she is told first."""
        self.ensure_one()
        if self.request_type != "objection" or not self.objection_active:
            raise UserError(_("Only an objection in force can be lifted."))
        self._avg_send("avg_coaching.mail_template_avg_request_objection_lifted")
        if self.objection_scope == "mailings" and self.partner_id:
            Blacklist = self.env["mail.blacklist"].sudo()
            for email in self._avg_objection_emails(self.partner_id.sudo()):
                Blacklist._remove(
                    email,
                    message=_("Objection lifted (request %(ref)s)", ref=self.name),
                )
        self.write(
            {
                "objection_active": False,
                "objection_lifted_date": fields.Date.context_today(self),
            }
        )
        self.message_post(body=_("Objection lifted; the client has been told."))
        return True

    def _avg_objection_emails(self, partner):
        return sorted(
            {
                tools.email_normalize(email)
                for email in (partner.email, self.requester_email)
                if email
            }
            - {False}
        )

    # ------------------------------------------------------------ art. 19
    def _avg_create_recipient_tasks(self):
        """One task per recipient that received the data this request changes."""
        self.ensure_one()
        if self.request_type not in PASSED_ON or not self.partner_id:
            return self.env["avg.request.recipient"]
        Task = self.env["avg.request.recipient"].sudo()
        found = Task._avg_recipients_of(self)
        return Task.create(
            [
                dict(values, request_id=self.id, sequence=index)
                for index, values in enumerate(found)
            ]
        )

    def _avg_pass_on_message(self, message):
        names = ", ".join(self.recipient_ids.mapped("name"))
        return _(
            "%(message)s We pass this on to those who received your data: "
            "%(recipients)s.",
            message=message,
            recipients=names,
        )

    def _avg_pass_on(self, message):
        """Art. 19: close the request, or, when others received the data, create
        a task per recipient and close once each has been dealt with."""
        self.ensure_one()
        if not self._avg_create_recipient_tasks():
            self._avg_close("done", message)
            return
        self.write(
            {"state": "in_progress", "resolution": self._avg_pass_on_message(message)}
        )
        self._avg_schedule_recipient_activity()

    def _avg_schedule_recipient_activity(self):
        user = self.user_id or self._avg_default_handler()
        self.message_post(
            body=_(
                "Carried out. Inform each recipient (tab 'Recipients (art. 19)'), "
                "or record why that is impossible or disproportionate; the request "
                "closes, and the requester is told, once each has been dealt with."
            )
        )
        if user:
            self.sudo().activity_schedule(
                "mail.mail_activity_data_todo",
                date_deadline=max(
                    self.date_due or fields.Date.context_today(self),
                    fields.Date.context_today(self),
                ),
                summary=_(
                    "Inform the recipients of request %(ref)s (art. 19)", ref=self.name
                ),
                user_id=user.id,
            )

    def _avg_close_if_recipients_done(self):
        self.ensure_one()
        if (
            self.state in OPEN_STATES
            and self.recipient_ids
            and not (self.recipients_open)
        ):
            self._avg_close("done", self.resolution, send=not self.anonymised)
