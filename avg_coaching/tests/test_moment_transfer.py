import base64
import json

from freezegun import freeze_time
from lxml import etree

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from ..models.avg_processor_agreement import ART28_CLAUSES
from .common import PRIVACY, AvgCoachingCase

# A complete agreement: every clause art. 28(3) requires ticked.
CLAUSES = dict.fromkeys(ART28_CLAUSES, True)
ACTIVITY_DELETE = "avg_coaching.mail_activity_type_zkm_deletion"
ACTIVITY_OVERDUE = "avg_coaching.mail_activity_type_zkm_deletion_overdue"


class TransferCase(AvgCoachingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Transfer = cls.env["coaching.moment.transfer"]
        cls.Moment = cls.env["coaching.moment"]
        cls.zkm = cls.env["res.partner"].create(
            {"name": "Fictieve ZKM-vereniging", "is_company": True}
        )
        cls.recipient = cls.env.ref("avg_coaching.avg_processing_recipient_dossier_zkm")
        cls.recipient.partner_id = cls.zkm
        cls.agreement = cls.env["avg.processor.agreement"].create(
            {
                "name": "Verwerkersovereenkomst ZKM Computer Service (test)",
                "partner_id": cls.zkm.id,
                "processing_activity_ids": [Command.link(cls.recipient.activity_id.id)],
                "date_signed": "2025-01-01",
                "date_end": "2027-12-31",
                "user_id": cls.privacy_manager.id,
                **CLAUSES,
            }
        )
        cls.dossier.write({"state": "active", "date_start": "2026-01-05"})
        cls.m1 = cls._moment("Ik stond voor de klas en iedereen keek naar mij.")
        cls.m2 = cls._moment("Het gesprek op het strand, toen alles stil werd.")
        cls.policy = cls.env.ref("avg_coaching.retention_policy_zkm_transfer")
        cls.purge_cron = cls.env.ref("avg_coaching.ir_cron_retention_purge")
        cls.escalation_cron = cls.env.ref(
            "avg_coaching.ir_cron_zkm_deletion_escalation"
        )

    @classmethod
    def _moment(cls, text, dossier=None):
        return cls.env["coaching.moment"].create(
            {"dossier_id": (dossier or cls.dossier).id, "text": text}
        )

    def _transfer(self, moments, dossier=None):
        return self.Transfer.with_user(self.coach).create(
            {
                "dossier_id": (dossier or self.dossier).id,
                "moment_ids": [Command.set(moments.ids)],
            }
        )

    def _export(self, moments=None, day="2026-03-02 10:00:00"):
        transfer = self._transfer(moments or (self.m1 | self.m2))
        with freeze_time(day):
            transfer.action_export()
        return transfer

    def _run(self, cron, day):
        with freeze_time(day):
            cron.method_direct_trigger()
        self.env.invalidate_all()

    def _activities(self, transfer, xmlid):
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", transfer._name),
                ("res_id", "=", transfer.id),
                ("activity_type_id", "=", self.env.ref(xmlid).id),
            ]
        )

    def _copy_attachment(self, transfer):
        """The stored (encrypted) export copy of a transfer."""
        return (
            self.env["ir.attachment"]
            .sudo()
            .search(
                [
                    ("res_model", "=", transfer._name),
                    ("res_id", "=", transfer.id),
                    ("res_field", "=", "export_content_enc"),
                ]
            )
        )

    def assertRefused(self, transfer, regex, error=UserError):
        with (
            self.assertRaisesRegex(error, regex),
            freeze_time("2026-03-02 10:00:00"),
        ):
            transfer.action_export()
        # Nothing half-written: still a draft, no code, no copy.
        transfer.invalidate_recordset()
        self.assertEqual(transfer.state, "draft")
        self.assertFalse(transfer.client_code)
        self.assertFalse(transfer.sudo().export_content_enc)


@tagged("post_install", "-at_install")
class TestMomentExport(TransferCase):
    def test_export_holds_no_identifying_data(self):
        transfer = self._export()
        self.assertEqual(transfer.state, "exported")
        self.assertEqual(transfer.agreement_id, self.agreement)
        self.assertEqual(transfer.moment_count, 2)
        self.assertRegex(transfer.client_code, r"^ZKM-[A-Z2-9]{8}$")
        content = base64.b64decode(transfer.with_user(self.coach).export_file)
        self.assertEqual(
            content,
            (
                "ZKM personal moments\n"
                f"Client code: {transfer.client_code}\n"
                "\n"
                "1. Ik stond voor de klas en iedereen keek naar mij.\n"
                "\n"
                "2. Het gesprek op het strand, toen alles stil werd.\n"
            ).encode(),
        )
        lowered = content.lower()
        for needle in (
            "testcli",
            "anna",
            "fictief",
            "anna@client.test",
            "client.test",
            "11111111",
            "1985",
            self.dossier.name.lower(),
            "werkgever",
            self.coach.name.lower(),
            self.coach.login.lower(),
        ):
            self.assertNotIn(needle.encode(), lowered, needle)
        self.assertEqual(transfer.export_filename, f"zkm-{transfer.client_code}.txt")
        self.assertNotIn(b"anna", transfer.export_filename.lower().encode())

    def test_copy_encrypted_at_rest(self):
        transfer = self._export()
        attachment = self._copy_attachment(transfer)
        self.assertEqual(len(attachment), 1)
        raw = attachment.raw
        self.assertNotIn(b"strand", raw)
        self.assertTrue(raw.startswith(b"avg1:"))

    def test_code_is_the_trajectorys(self):
        first = self._export(self.m1)
        second = self._export(self.m2)
        self.assertEqual(first.client_code, second.client_code)
        other_dossier = self.env["coaching.dossier"].create(
            {"client_id": self.client2.id, "coach_id": self.coach.id}
        )
        other = self._transfer(
            self._moment("Een ander moment", other_dossier), other_dossier
        )
        with freeze_time("2026-03-02 10:00:00"):
            other.action_export()
        self.assertNotEqual(other.client_code, first.client_code)

    def test_refused_for_the_clients_name(self):
        for text in (
            "Toen zei de juf: Anna, kom eens hier.",
            "De familie FICTIEF kwam op bezoek.",
            "Ik, Testclient Anna Fictief, was bang.",
        ):
            with self.subTest(text=text):
                bad = self._moment(text)
                transfer = self._transfer(self.m1 | bad)
                self.assertRefused(
                    transfer, f"{bad.display_name} contains the client's name"
                )

    def test_refused_for_an_email_address(self):
        for text in ("Mail mij: anna@client.test", "Schrijf naar iemand@elders.test"):
            with self.subTest(text=text):
                bad = self._moment(text)
                self.assertRefused(
                    self._transfer(bad),
                    f"{bad.display_name} contains an e-mail address",
                )

    def test_refused_for_the_clients_phone(self):
        self.client.mobile = "06 22 33 44 55"
        for text in (
            "Bel me op 06-11111111 als het misgaat.",
            "Mijn nummer: +31611111111.",
            "Of mobiel (0622) 334 455.",
        ):
            with self.subTest(text=text):
                bad = self._moment(text)
                self.assertRefused(
                    self._transfer(bad),
                    f"{bad.display_name} contains the client's phone number",
                )
        # Other numbers are no reason to refuse.
        fine = self._moment("In 2019 liep ik 42 kilometer, in 3:45:10.")
        transfer = self._transfer(fine)
        with freeze_time("2026-03-02 10:00:00"):
            transfer.action_export()
        self.assertEqual(transfer.state, "exported")

    def test_refused_for_a_bsn_like_number(self):
        # A real BSN cannot even be saved (the BSN guard) ...
        with self.assertRaisesRegex(ValidationError, "BSN"):
            self._moment("Mijn BSN is 111222333")
        # ... and a nine-digit number written like one is not exported either.
        bad = self._moment("Het nummer 1234.56.789 stond op de brief.")
        self.assertRefused(
            self._transfer(self.m2 | bad),
            f"{bad.display_name} contains a number that looks like a citizen "
            r"service number \(BSN\)",
        )

    def test_refused_without_moments(self):
        self.assertRefused(self._transfer(self.Moment), "Select the moments")

    def test_refused_for_moments_of_another_dossier(self):
        other_dossier = self.env["coaching.dossier"].create(
            {"client_id": self.client2.id, "coach_id": self.coach.id}
        )
        foreign = self._moment("Moment van een ander", other_dossier)
        with self.assertRaisesRegex(
            ValidationError, f"{foreign.display_name} belongs to another dossier"
        ):
            self._transfer(self.m1 | foreign)
        transfer = self._transfer(self.m1)
        with self.assertRaisesRegex(ValidationError, "belongs to another dossier"):
            transfer.write({"moment_ids": [Command.link(foreign.id)]})
        self.assertEqual(transfer.moment_ids, self.m1)

    def test_refused_without_a_valid_agreement(self):
        transfer = self._transfer(self.m1)
        self.agreement.clause_audits = False
        self.assertRefused(transfer, "no valid processor agreement with Fictieve ZKM")
        self.agreement.clause_audits = True
        self.agreement.processing_activity_ids = [Command.clear()]
        self.assertRefused(transfer, "no valid processor agreement")
        self.agreement.processing_activity_ids = [
            Command.link(self.recipient.activity_id.id)
        ]
        self.recipient.partner_id = False
        self.assertRefused(transfer, "does not name the ZKM vereniging")

    def test_refused_with_an_expired_agreement(self):
        self.agreement.date_end = "2026-01-31"
        self.assertRefused(
            self._transfer(self.m1),
            "'Verwerkersovereenkomst ZKM Computer Service \\(test\\)' with Fictieve "
            "ZKM-vereniging ended on 2026-01-31",
        )

    def test_refused_on_a_second_run(self):
        transfer = self._export()
        code = transfer.client_code
        with self.assertRaisesRegex(UserError, "already exported"):
            transfer.action_export()
        with self.assertRaisesRegex(UserError, "can no longer change"):
            transfer.write({"moment_ids": [Command.unlink(self.m2.id)]})
        self.assertEqual(transfer.client_code, code)
        self.assertEqual(transfer.moment_ids, self.m1 | self.m2)

    def test_refused_while_processing_is_restricted(self):
        transfer = self._transfer(self.m1)
        self.client.avg_restricted = True
        self.assertRefused(transfer, "restricted")
        # Not even a new transfer can be prepared until the restriction is lifted.
        with self.assertRaisesRegex(UserError, "restricted"):
            self._transfer(self.m2)

    def test_others_cannot_export_or_read(self):
        transfer = self._transfer(self.m1)
        portal = new_test_user(
            self.env, "t_transfer_portal", groups="base.group_portal"
        )
        for user in (self.bookkeeper, self.coach2, portal):
            with self.subTest(user=user.login):
                with self.assertRaises(AccessError):
                    transfer.with_user(user).read(["client_code"])
                with self.assertRaises(AccessError):
                    transfer.with_user(user).action_export()
                with self.assertRaises(AccessError):
                    self.Transfer.with_user(user).create(
                        {"dossier_id": self.dossier.id}
                    )
        self.assertEqual(transfer.state, "draft")
        # The privacy manager reads the transfer for her overview, never its content
        # and never the moments, and she cannot export.
        with freeze_time("2026-03-02 10:00:00"):
            transfer.with_user(self.coach).action_export()
        as_manager = transfer.with_user(self.privacy_manager)
        self.assertEqual(as_manager.client_code, transfer.client_code)
        self.assertFalse(as_manager.export_file)
        with self.assertRaises(AccessError):
            as_manager.moment_ids.read(["text"])
        with self.assertRaises(AccessError):
            as_manager.action_mark_processed()

    def _open_form(self, records, user):
        """Read what the form view shows this user, as the web client does."""
        records = records.with_user(user)
        views = records.get_views([(False, "form")])
        arch = etree.fromstring(views["views"]["form"]["arch"])
        fields = {
            node.get("name") for node in arch.xpath("//field[not(ancestor::field)]")
        }
        relational = ("many2one", "many2many", "one2many")
        spec = {
            name: {"fields": {"display_name": {}}}
            if records._fields[name].type in relational
            else {}
            for name in fields
        }
        return fields, records.web_read(spec)[0]

    def test_forms_open_for_coach_and_privacy_manager(self):
        transfer = self._export()
        fields, values = self._open_form(transfer, self.coach)
        self.assertIn("moment_ids", fields)
        self.assertTrue(values["export_file"])
        fields, values = self._open_form(transfer, self.privacy_manager)
        self.assertNotIn("moment_ids", fields)
        self.assertNotIn("export_file", fields)
        self.assertEqual(values["client_code"], transfer.client_code)
        fields, values = self._open_form(self.dossier, self.coach)
        self.assertEqual(len(values["moment_ids"]), 2)
        self.assertEqual(len(values["moment_transfer_ids"]), 1)


@tagged("post_install", "-at_install")
class TestMomentTransferDeletion(TransferCase):
    def test_copy_deleted_weeks_later_then_reminder_and_escalation(self):
        transfer = self._export()
        with self.assertRaisesRegex(UserError, "once the reminder asks"):
            transfer.with_user(self.coach).action_confirm_zkm_deletion()
        with freeze_time("2026-03-05 09:00:00"):
            transfer.with_user(self.coach).action_mark_processed()
        self.assertEqual(str(transfer.date_processed), "2026-03-05")
        self.assertEqual(str(transfer.copy_due_date), "2026-04-02")
        # Four weeks (the policy's default) after processing, not a day earlier.
        self._run(self.purge_cron, "2026-04-01")
        self.assertEqual(transfer.state, "processed")
        self.assertTrue(transfer.sudo().export_content_enc)
        self._run(self.purge_cron, "2026-04-02")
        self.assertEqual(transfer.state, "awaiting_deletion")
        self.assertEqual(str(transfer.copy_purged_date), "2026-04-02")
        self.assertFalse(transfer.sudo().export_content_enc)
        self.assertFalse(transfer.with_user(self.coach).export_file)
        self.assertFalse(self._copy_attachment(transfer))
        self.assertTrue(self.m1.exists(), "the dossier keeps its moments")
        reminder = self._activities(transfer, ACTIVITY_DELETE)
        self.assertEqual(len(reminder), 1)
        self.assertEqual(reminder.user_id, self.coach)
        self.assertEqual(str(reminder.date_deadline), "2026-04-16")
        self.assertIn(transfer.client_code, str(reminder.note))
        log = self.env["avg.deletion.log"].search([("policy_id", "=", self.policy.id)])
        self.assertEqual(len(log), 1)
        self.assertEqual(
            json.loads(log.counts), {"coaching.moment.transfer (export copy)": 1}
        )
        self.assertNotIn("Anna", str(log.read()))
        # The daily run again: nothing twice.
        self._run(self.purge_cron, "2026-04-03")
        self.assertEqual(len(self._activities(transfer, ACTIVITY_DELETE)), 1)
        # Not confirmed within 14 days: escalation, once.
        self._run(self.escalation_cron, "2026-04-16")
        self.assertFalse(transfer.escalated_date)
        self._run(self.escalation_cron, "2026-04-17")
        self.assertEqual(str(transfer.escalated_date), "2026-04-17")
        overdue = self._activities(transfer, ACTIVITY_OVERDUE)
        self.assertEqual(len(overdue), 1)
        self.assertTrue(overdue.user_id.has_group(PRIVACY))
        self._run(self.escalation_cron, "2026-04-18")
        self.assertEqual(len(self._activities(transfer, ACTIVITY_OVERDUE)), 1)
        # The privacy manager's overview shows it.
        overview = self.Transfer.with_user(self.privacy_manager).search(
            [("state", "=", "awaiting_deletion"), ("escalated_date", "!=", False)]
        )
        self.assertIn(transfer, overview)
        # The coach confirms: done, both activities closed.
        with freeze_time("2026-04-20 09:00:00"):
            transfer.with_user(self.coach).action_confirm_zkm_deletion()
        self.assertEqual(transfer.state, "done")
        self.assertEqual(str(transfer.deletion_confirmed_date), "2026-04-20")
        self.assertEqual(transfer.deletion_confirmed_uid, self.coach)
        self.assertFalse(self._activities(transfer, ACTIVITY_DELETE))
        self.assertFalse(self._activities(transfer, ACTIVITY_OVERDUE))
        self.assertNotIn(
            transfer,
            self.Transfer.with_user(self.privacy_manager).search(
                [("state", "=", "awaiting_deletion")]
            ),
        )

    def test_confirmed_in_time_does_not_escalate(self):
        transfer = self._export()
        with freeze_time("2026-03-02 12:00:00"):
            transfer.with_user(self.coach).action_mark_processed()
        self._run(self.purge_cron, "2026-03-30")
        self.assertEqual(transfer.state, "awaiting_deletion")
        with freeze_time("2026-04-01 09:00:00"):
            transfer.with_user(self.coach).action_confirm_zkm_deletion()
        self._run(self.escalation_cron, "2026-05-01")
        self.assertFalse(transfer.escalated_date)
        self.assertFalse(self._activities(transfer, ACTIVITY_OVERDUE))

    def test_processing_date_checked(self):
        transfer = self._export()
        with freeze_time("2026-03-10 09:00:00"):
            with self.assertRaisesRegex(ValidationError, "in the future"):
                transfer.with_user(self.coach).date_processed = "2026-03-11"
            with self.assertRaisesRegex(ValidationError, "before that day"):
                transfer.with_user(self.coach).date_processed = "2026-03-01"

    def test_weeks_are_a_setting(self):
        self.env["res.config.settings"].create({"avg_zkm_copy_weeks": 6}).execute()
        self.assertEqual((self.policy.period, self.policy.period_unit), (6, "weeks"))
        self.assertEqual(
            self.env["res.config.settings"].default_get(["avg_zkm_copy_weeks"])[
                "avg_zkm_copy_weeks"
            ],
            6,
        )
        with self.assertRaisesRegex(ValidationError, "at least 1 week"):
            self.env["res.config.settings"].create({"avg_zkm_copy_weeks": 0}).execute()
        transfer = self._export()
        with freeze_time("2026-03-02 12:00:00"):
            transfer.with_user(self.coach).action_mark_processed()
        self._run(self.purge_cron, "2026-04-12")
        self.assertEqual(transfer.state, "processed")
        self._run(self.purge_cron, "2026-04-13")
        self.assertEqual(transfer.state, "awaiting_deletion")


@tagged("post_install", "-at_install")
class TestMomentRetention(TransferCase):
    def _close(self, day):
        with freeze_time(day):
            self.dossier.action_close()

    def test_moments_follow_the_dossier_by_default(self):
        self.assertFalse(self.env.ref("avg_coaching.retention_policy_moment").active)
        transfer = self._export()
        self.dossier.retention_years = 1
        self._close("2026-03-31")
        self.assertEqual(str(self.dossier.retention_due_date), "2027-03-31")
        # Only the dossier policy: the whole engine years ahead would also erase
        # the demo clients (and journal it outside the database).
        dossier_policy = self.env.ref("avg_coaching.retention_policy_dossier")
        for day in ("2027-03-30", "2027-03-31"):
            with freeze_time(day):
                dossier_policy._avg_run(fields.Date.to_date(day))
            self.env.invalidate_all()
            if day == "2027-03-30":
                self.assertTrue(self.m1.exists())
        self.assertTrue(self.dossier.exists())
        self.assertEqual(str(self.dossier.content_purged_date), "2027-03-31")
        self.assertFalse(self.m1.exists() or self.m2.exists())
        self.assertFalse(transfer.exists())
        # Exported but never confirmed deleted at ZKM: the agreement keeps a task
        # that names only the client code.
        followup = self.env["mail.activity"].search(
            [
                ("res_model", "=", "avg.processor.agreement"),
                ("res_id", "=", self.agreement.id),
            ]
        )
        self.assertEqual(len(followup), 1)
        self.assertNotIn("Anna", str(followup.note))

    def test_practice_deletes_moments_months_after_the_trajectory(self):
        self.env["res.config.settings"].create(
            {
                "avg_moment_retention": "after_trajectory",
                "avg_moment_retention_months": 3,
            }
        ).execute()
        policy = self.env.ref("avg_coaching.retention_policy_moment")
        self.assertTrue(policy.active)
        self.assertEqual((policy.period, policy.period_unit), (3, "months"))
        self._close("2026-01-15")
        self._run(self.purge_cron, "2026-04-14")
        self.assertTrue(self.m1.exists())
        self._run(self.purge_cron, "2026-04-15")
        self.assertFalse(self.m1.exists() or self.m2.exists())
        self.assertTrue(self.dossier.session_ids, "the rest of the dossier stays")
        log = self.env["avg.deletion.log"].search([("policy_id", "=", policy.id)])
        self.assertEqual(json.loads(log.counts), {"coaching.moment": 2})
        # Back to the dossier's term.
        self.env["res.config.settings"].create(
            {"avg_moment_retention": "dossier"}
        ).execute()
        self.assertFalse(policy.active)

    def test_legal_hold_keeps_the_moments(self):
        self.env.ref("avg_coaching.retention_policy_moment").active = True
        self.client.avg_legal_hold = True
        self._close("2026-01-31")
        self._run(self.purge_cron, "2026-12-01")
        self.assertTrue(self.m1.exists())

    def test_erasure_takes_moments_and_transfers(self):
        transfer = self._export()
        attachment = self._copy_attachment(transfer)
        self.assertTrue(attachment)
        code = transfer.client_code
        self.client._avg_erase(reason="request")
        self.assertFalse(self.m1.exists() or self.m2.exists() or transfer.exists())
        self.assertFalse(attachment.exists())
        log = self.env["avg.deletion.log"].search([("reason", "=", "request")], limit=1)
        counts = json.loads(log.counts)
        self.assertEqual(counts["coaching.session"], 1)
        self.assertEqual(counts["coaching.moment"], 2)
        self.assertEqual(counts["coaching.moment.transfer"], 1)
        followup = self.env["mail.activity"].search(
            [
                ("res_model", "=", "avg.processor.agreement"),
                ("res_id", "=", self.agreement.id),
            ]
        )
        self.assertEqual(len(followup), 1)
        self.assertIn(code, str(followup.note))
        self.assertNotIn("Anna", str(followup.note))
        self.assertEqual(followup.user_id, self.coach)
