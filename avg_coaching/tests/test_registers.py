import io
from datetime import datetime

from freezegun import freeze_time
from pypdf import PdfReader

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .common import AvgCoachingCase

CLAUSES = {
    "clause_instructions": True,
    "clause_confidentiality": True,
    "clause_security": True,
    "clause_subprocessors": True,
    "clause_assistance": True,
    "clause_deletion": True,
    "clause_audits": True,
}
SEEDED = (
    "contact",
    "bookkeeping",
    "invoicing",
    "agreement",
    "crm",
    "dossier",
    "website",
)


def pdf_text(pdf):
    """The text of a PDF, with every run of whitespace made one space."""
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


class RegistersCase(AvgCoachingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Activity = cls.env["avg.processing.activity"]
        cls.Agreement = cls.env["avg.processor.agreement"]
        cls.Breach = cls.env["avg.breach"]
        cls.dossier_activity = cls.Activity.search([("code", "=", "dossier")])
        cls.processor = cls.env["res.partner"].create(
            {"name": "Fictieve Verwerker B.V.", "is_company": True}
        )
        cls.processor_contact = cls.env["res.partner"].create(
            {"name": "Contactpersoon Verwerker", "parent_id": cls.processor.id}
        )
        cls.agreement = cls.Agreement.create(
            {
                "name": "Verwerkersovereenkomst test",
                "partner_id": cls.processor.id,
                "processing_activity_ids": [Command.link(cls.dossier_activity.id)],
                "date_signed": "2026-01-01",
                "date_end": "2026-12-31",
                "breach_notification_hours": 24,
                "user_id": cls.privacy_manager.id,
                **CLAUSES,
            }
        )
        cls.recipient = cls.dossier_activity.recipient_ids.filtered(
            lambda r: r.recipient_type == "processor"
        )[:1]
        cls.recipient.partner_id = cls.processor

    def render(self, report_ref, records):
        pdf, report_type = (
            self.env["ir.actions.report"]
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf(report_ref, records.ids)
        )
        self.assertEqual(report_type, "pdf")
        self.assertTrue(pdf.startswith(b"%PDF"))
        return pdf_text(pdf)

    def new_breach(self, **vals):
        values = {
            "summary": "Fictieve laptop gestolen",
            "discovered_at": "2026-03-02 09:00:00",
            "user_id": self.privacy_manager.id,
        }
        values.update(vals)
        return self.Breach.with_user(self.privacy_manager).create(values)


@tagged("post_install", "-at_install")
class TestRegisterSecurity(RegistersCase):
    """Only the privacy manager edits the registers; the coach reads them; the
    bookkeeper sees none of it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with freeze_time("2026-03-02 10:00:00"):
            cls.breach = cls.Breach.create(
                {"summary": "Test", "discovered_at": "2026-03-02 09:00:00"}
            )
        cls.records = {
            "avg.processing.activity": cls.dossier_activity,
            "avg.processing.recipient": cls.recipient,
            "avg.processor.agreement": cls.agreement,
            "avg.breach": cls.breach,
        }

    def test_bookkeeper_sees_nothing(self):
        for model, record in self.records.items():
            with self.assertRaises(AccessError, msg=model):
                record.with_user(self.bookkeeper).read(["display_name"])
            with self.assertRaises(AccessError, msg=model):
                self.env[model].with_user(self.bookkeeper).search([])
            with self.assertRaises(AccessError, msg=model):
                record.with_user(self.bookkeeper).write({"display_name": "x"})
        with self.assertRaises(AccessError):
            self.Activity.with_user(self.bookkeeper).create(
                {"name": "x", "purpose": "x", "legal_basis": "consent"}
            )
        with self.assertRaises(AccessError):
            self.env["avg.information.notice"].with_user(self.bookkeeper).search([])

    def test_coach_reads_but_does_not_edit(self):
        for model, record in self.records.items():
            self.assertTrue(record.with_user(self.coach).read(["display_name"]))
            self.assertIn(record, self.env[model].with_user(self.coach).search([]))
        with self.assertRaises(AccessError):
            self.dossier_activity.with_user(self.coach).write({"purpose": "Anders"})
        with self.assertRaises(AccessError):
            self.agreement.with_user(self.coach).write({"clause_audits": False})
        with self.assertRaises(AccessError):
            self.breach.with_user(self.coach).write({"summary": "Anders"})
        with self.assertRaises(AccessError):
            self.Breach.with_user(self.coach).create({"summary": "Nieuw"})
        with self.assertRaises(AccessError):
            self.Agreement.with_user(self.coach).create(
                {"name": "x", "partner_id": self.processor.id}
            )

    def test_privacy_manager_edits(self):
        activity = self.dossier_activity.with_user(self.privacy_manager)
        activity.write({"security_measures": "Versleuteling en een kluis."})
        self.assertEqual(activity.security_measures, "Versleuteling en een kluis.")
        self.agreement.with_user(self.privacy_manager).service = "Software"
        new = self.Activity.with_user(self.privacy_manager).create(
            {
                "name": "Intervisie",
                "purpose": "Casuïstiek anoniem bespreken",
                "legal_basis": "legitimate_interest",
                "data_categories": "Geen herleidbare gegevens",
                "data_subject_categories": "Cliënten",
                "retention_description": "Niet bewaard",
                "security_measures": "Anoniem",
            }
        )
        self.assertTrue(new.active)

    def test_other_company_is_refused(self):
        other = self.env["res.company"].create({"name": "Andere Fictieve Praktijk"})
        with freeze_time("2026-03-02 10:00:00"):
            foreign = self.Breach.create(
                {
                    "summary": "Elders",
                    "company_id": other.id,
                    "discovered_at": "2026-03-02 09:00:00",
                }
            )
        as_manager = self.Breach.with_user(self.privacy_manager)
        self.assertNotIn(foreign, as_manager.search([]))
        with self.assertRaises(AccessError):
            foreign.with_user(self.privacy_manager).read(["summary"])
        with self.assertRaises(AccessError):
            foreign.with_user(self.privacy_manager).write({"summary": "x"})


@tagged("post_install", "-at_install")
class TestProcessingRegister(RegistersCase):
    def test_seeded_purposes(self):
        codes = set(self.Activity.search([]).mapped("code"))
        self.assertTrue(set(SEEDED) <= codes, codes)
        self.assertTrue(self.dossier_activity.special_categories)
        self.assertEqual(self.dossier_activity.art9_exception, "explicit_consent")
        self.assertEqual(self.dossier_activity.retention_term, 7)
        self.assertEqual(
            self.dossier_activity.retention_display,
            "7 years after the trajectory ended",
        )
        bookkeeping = self.Activity.search([("code", "=", "bookkeeping")])
        self.assertEqual(bookkeeping.legal_basis, "legal_obligation")
        self.assertEqual(
            set(bookkeeping.recipient_ids.mapped("recipient_type")),
            {"processor", "authority"},
        )

    def test_bad_input_refused(self):
        activity = self.dossier_activity.with_user(self.privacy_manager)
        with self.assertRaisesRegex(ValidationError, "art. 9 exception"):
            activity.art9_exception = False
        with self.assertRaisesRegex(ValidationError, "cannot be negative"):
            activity.retention_term = -1
        with self.assertRaisesRegex(ValidationError, "outside the EU"):
            activity.transfer_outside_eu = True
        with self.assertRaisesRegex(UserError, "Archive it instead"):
            activity.unlink()
        with self.assertRaisesRegex(ValidationError, "Fill in these parts"):
            self.Activity.with_user(self.privacy_manager).create(
                {
                    "name": " ",
                    "purpose": "",
                    "legal_basis": "consent",
                    "data_categories": "",
                    "data_subject_categories": "",
                    "retention_description": "",
                    "security_measures": "",
                }
            )

    @freeze_time("2026-03-01")
    def test_processor_warning(self):
        self.assertEqual(self.recipient.agreement_status, "valid")
        self.assertEqual(self.recipient.agreement_id, self.agreement)
        self.assertFalse(self.dossier_activity.processor_warning)
        self.agreement.clause_audits = False
        self.env.invalidate_all()
        self.assertEqual(self.recipient.agreement_status, "missing")
        self.assertIn(self.recipient.name, self.dossier_activity.processor_warning)
        authority = self.Activity.search([("code", "=", "bookkeeping")]).recipient_ids
        self.assertIn("not_required", authority.mapped("agreement_status"))

    def test_fingerprint_follows_the_register(self):
        digest, last_change = self.Activity._avg_register_fingerprint()
        self.assertEqual(len(digest), 64)
        self.assertTrue(last_change)
        self.assertEqual(self.Activity._avg_register_fingerprint()[0], digest)
        # Reading in another language does not change it.
        self.assertEqual(
            self.Activity.with_context(lang="nl_NL")._avg_register_fingerprint()[0],
            digest,
        )
        self.dossier_activity.retention_term = 5
        self.assertNotEqual(self.Activity._avg_register_fingerprint()[0], digest)

    @freeze_time("2026-03-01")
    def test_register_pdf(self):
        text = self.render(
            "avg_coaching.avg_processing_activity_report_register",
            self.Activity.search([]),
        )
        self.assertIn("Processing register (art. 30 GDPR)", text)
        for name in ("Client dossier", "Bookkeeping", "Website", "Invoicing"):
            self.assertIn(name, text)
        self.assertIn("Art. 9(2)(a): explicit consent", text)
        self.assertIn("Verwerkersovereenkomst test", text)
        # The website host has no agreement: the register says so.
        self.assertIn("NO VALID PROCESSOR AGREEMENT", text)
        self.assertIn("72 hours", text)


@tagged("post_install", "-at_install")
class TestProcessorAgreement(RegistersCase):
    def test_validity(self):
        agreement = self.agreement
        self.assertTrue(agreement._avg_is_valid("2026-06-01"))
        self.assertTrue(agreement._avg_is_valid("2026-12-31"))
        self.assertFalse(agreement._avg_is_valid("2027-01-01"))
        self.assertFalse(agreement._avg_is_valid("2025-12-31"))
        agreement.clause_subprocessors = False
        self.assertFalse(agreement._avg_is_valid("2026-06-01"))
        with freeze_time("2026-06-01"):
            self.assertEqual(agreement.state, "incomplete")
            agreement.clause_subprocessors = True
            self.env.invalidate_all()
            self.assertEqual(agreement.state, "valid")
            self.assertTrue(agreement.is_valid)
            self.assertIn(agreement, self.Agreement.search([("is_valid", "=", True)]))
            self.assertNotIn(
                agreement, self.Agreement.search([("is_valid", "=", False)])
            )
        with freeze_time("2027-02-01"):
            self.env.invalidate_all()
            self.assertEqual(agreement.state, "expired")
            self.assertIn(agreement, self.Agreement.search([("is_valid", "=", False)]))
        unsigned = self.Agreement.create(
            {"name": "Concept", "partner_id": self.processor.id, **CLAUSES}
        )
        self.assertFalse(unsigned._avg_is_valid("2026-06-01"))
        self.assertEqual(unsigned.state, "draft")

    @freeze_time("2026-06-01")
    def test_find_valid_for_processor(self):
        """What another feature asks before it shares data with a processor."""
        found = self.Agreement._avg_find_valid(self.processor_contact)
        self.assertEqual(found, self.agreement)
        self.assertEqual(
            self.Agreement._avg_find_valid(
                self.processor, activity=self.dossier_activity
            ),
            self.agreement,
        )
        website = self.Activity.search([("code", "=", "website")])
        self.assertFalse(
            self.Agreement._avg_find_valid(self.processor, activity=website)
        )
        self.assertFalse(self.Agreement._avg_find_valid(self.commissioner))
        self.assertFalse(self.Agreement._avg_find_valid(self.processor, "2027-01-01"))

    @freeze_time("2026-06-01")
    def test_bad_dates_and_terms(self):
        as_manager = self.agreement.with_user(self.privacy_manager)
        with self.assertRaisesRegex(ValidationError, "ends before it was signed"):
            as_manager.date_end = "2025-12-01"
        with self.assertRaisesRegex(ValidationError, "in the future"):
            as_manager.date_signed = "2026-07-01"
        with self.assertRaisesRegex(ValidationError, "1 to 72 hours"):
            as_manager.breach_notification_hours = 0
        with self.assertRaisesRegex(ValidationError, "1 to 72 hours"):
            as_manager.breach_notification_hours = 96
        with self.assertRaisesRegex(ValidationError, "no signing date"):
            self.Agreement.create(
                {"name": "x", "partner_id": self.processor.id, "date_end": "2026-09-01"}
            )
        with self.assertRaisesRegex(ValidationError, "Give the processor agreement"):
            self.Agreement.create({"name": "  ", "partner_id": self.processor.id})

    def test_expiry_reminder_cron(self):
        cron = self.env.ref("avg_coaching.ir_cron_avg_processor_agreement_reminders")
        activity_type = self.env.ref(
            "avg_coaching.mail_activity_type_processor_agreement_expiry"
        )
        later = self.Agreement.create(
            {
                "name": "Loopt later af",
                "partner_id": self.processor.id,
                "date_signed": "2026-01-01",
                "date_end": "2027-06-30",
                **CLAUSES,
            }
        )

        def reminders(agreement):
            return agreement.activity_ids.filtered(
                lambda a: a.activity_type_id == activity_type
            )

        with freeze_time("2026-11-15"):  # 46 days before the end: too early
            cron.method_direct_trigger()
            self.assertFalse(reminders(self.agreement))
        with freeze_time("2026-12-05"):  # 26 days before the end
            cron.method_direct_trigger()
            reminder = reminders(self.agreement)
            self.assertEqual(len(reminder), 1)
            self.assertEqual(reminder.user_id, self.privacy_manager)
            self.assertEqual(str(reminder.date_deadline), "2026-12-31")
            self.assertFalse(reminders(later))
        with freeze_time("2026-12-06"):  # a second run adds nothing
            cron.method_direct_trigger()
            self.assertEqual(reminders(self.agreement), reminder)
            reminder.action_feedback(feedback="Verlengd")
            cron.method_direct_trigger()
            self.assertFalse(reminders(self.agreement))
            # Renewed: a new end date arms a new reminder when it comes near.
            self.agreement.date_end = "2026-12-20"
            cron.method_direct_trigger()
            self.assertEqual(len(reminders(self.agreement)), 1)

    def test_reminder_days_parameter(self):
        self.env["ir.config_parameter"].set_param(
            "avg_coaching.processor_agreement_reminder_days", "60"
        )
        with freeze_time("2026-11-15"):
            self.Agreement._cron_avg_expiry_reminders()
        self.assertTrue(self.agreement.activity_ids)
        self.env["ir.config_parameter"].set_param(
            "avg_coaching.processor_agreement_reminder_days", "geen getal"
        )
        self.assertEqual(self.Agreement._avg_reminder_days(), 30)


@tagged("post_install", "-at_install")
class TestBreach(RegistersCase):
    @freeze_time("2026-03-02 10:00:00")
    def test_deadline_countdown_and_activity(self):
        breach = self.new_breach()
        self.assertTrue(breach.name.startswith("DL/"), breach.name)
        self.assertEqual(breach.deadline_at, datetime(2026, 3, 5, 9, 0))
        self.assertEqual(breach.countdown, "71 h 0 min left to notify the AP")
        activity = breach.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(
            activity.activity_type_id,
            self.env.ref("avg_coaching.mail_activity_type_breach_deadline"),
        )
        self.assertEqual(activity.user_id, self.privacy_manager)
        self.assertEqual(str(activity.date_deadline), "2026-03-05")
        with freeze_time("2026-03-05 12:00:00"):
            breach.invalidate_recordset(["countdown", "hours_left"])
            self.assertIn("passed 3 h ago", breach.countdown)

    @freeze_time("2026-03-02 10:00:00")
    def test_bad_dates_refused(self):
        with self.assertRaisesRegex(ValidationError, "in the future"):
            self.new_breach(discovered_at="2026-03-03 09:00:00")
        with self.assertRaisesRegex(ValidationError, "after it was discovered"):
            self.new_breach(occurred_at="2026-03-02 09:30:00")
        with self.assertRaisesRegex(ValidationError, "cannot be negative"):
            self.new_breach(subjects_count=-3)
        breach = self.new_breach()
        with self.assertRaisesRegex(
            ValidationError, "before the breach was discovered"
        ):
            breach.ap_notified_at = "2026-03-01 09:00:00"
        with self.assertRaisesRegex(ValidationError, "Summary"):
            self.Breach.with_user(self.privacy_manager).create({"summary": " "})
        with self.assertRaisesRegex(UserError, "cannot be deleted"):
            breach.unlink()

    @freeze_time("2026-03-02 10:00:00")
    def test_close_needs_decisions(self):
        breach = self.new_breach()
        with self.assertRaisesRegex(UserError, "Decide whether to notify") as caught:
            breach.action_close()
        self.assertIn("measures taken", str(caught.exception))
        breach.write(
            {
                "measures": "Laptop op afstand gewist",
                "notify_ap": "yes",
                "notify_ap_reason": "Gezondheidsgegevens, niet versleuteld",
                "notify_subjects": "no",
                "notify_subjects_reason": "Gewist voordat iemand erbij kon",
            }
        )
        with self.assertRaisesRegex(UserError, "when the AP was notified"):
            breach.action_close()
        breach.ap_notified_at = "2026-03-06 10:00:00"  # after 72 hours
        with self.assertRaisesRegex(UserError, "reason for the delay"):
            breach.action_close()
        breach.write(
            {"delay_reason": "Pas na het weekend ontdekt", "ap_reference": "M1"}
        )
        breach.action_close()
        self.assertEqual(breach.state, "closed")
        self.assertFalse(breach.activity_ids)
        with self.assertRaisesRegex(UserError, "Only an open breach"):
            breach.action_close()

    @freeze_time("2026-03-02 10:00:00")
    def test_notify_people(self):
        breach = self.new_breach(
            special_categories=True,
            consequences="Iemand kan je contactgegevens lezen.",
            measures="We hebben de laptop op afstand gewist.",
        )
        with self.assertRaisesRegex(UserError, "decide to notify"):
            breach.action_notify_subjects()
        breach.write(
            {"notify_subjects": "yes", "notify_subjects_reason": "Hoog risico"}
        )
        with self.assertRaisesRegex(UserError, "Write the message"):
            breach.action_notify_subjects()
        breach.subject_message = "Er is een laptop gestolen met je gegevens erop."
        with self.assertRaisesRegex(UserError, "Add the people"):
            breach.action_notify_subjects()
        breach.subject_partner_ids = self.client | self.client2
        with self.assertRaisesRegex(UserError, "no e-mail address"):
            breach.action_notify_subjects()
        breach.subject_partner_ids = self.client
        breach.action_notify_subjects()
        notification = breach.notification_ids
        self.assertEqual(notification.partner_id, self.client)
        mail = (
            self.env["mail.mail"].sudo().search([("id", "=", notification.mail_id.id)])
        )
        self.assertEqual(mail.recipient_ids, self.client)
        self.assertEqual(mail.state, "outgoing")
        self.assertIn("laptop gestolen", mail.body_html)
        self.assertIn("Iemand kan je contactgegevens lezen.", mail.body_html)
        self.assertIn("Autoriteit Persoonsgegevens", mail.body_html)
        self.assertEqual(breach.subjects_notified_at, datetime(2026, 3, 2, 10, 0))
        with self.assertRaisesRegex(UserError, "already received"):
            breach.action_notify_subjects()
        self.assertEqual(
            self.env["mail.mail"]
            .sudo()
            .search_count([("body_html", "ilike", "laptop gestolen")]),
            1,
        )

    @freeze_time("2026-03-02 10:00:00")
    def test_breach_from_processor_and_pdf(self):
        breach = self.new_breach(
            processor_agreement_id=self.agreement.id,
            processor_reported_at="2026-03-02 09:00:00",
            nature="availability",
            encrypted=True,
        )
        self.assertEqual(self.agreement.breach_ids, breach)
        # Someone else's agreement (another company) cannot be linked.
        other = self.env["res.company"].create({"name": "Andere Fictieve Praktijk"})
        foreign = self.Agreement.create(
            {"name": "Elders", "partner_id": self.processor.id, "company_id": other.id}
        )
        with self.assertRaises(UserError):  # incompatible companies
            breach.processor_agreement_id = foreign
        text = self.render("avg_coaching.avg_breach_report", breach)
        self.assertIn(breach.name, text)
        self.assertIn("Fictieve laptop gestolen", text)
        self.assertIn("Fictieve Verwerker B.V.", text)
        self.assertIn("agreed term 24 h", text)
        self.assertIn("Availability", text)


@tagged("post_install", "-at_install")
class TestClientInformation(RegistersCase):
    @freeze_time("2026-03-02 10:00:00")
    def test_send_from_dossier(self):
        self.dossier.retention_years = 3
        dossier = self.dossier.with_user(self.coach).with_context(
            force_report_rendering=True
        )
        dossier.action_avg_send_client_information()
        notice = self.env["avg.information.notice"].search(
            [("partner_id", "=", self.client.id)]
        )
        self.assertEqual(len(notice), 1)
        self.assertEqual(notice.dossier_id, self.dossier)
        self.assertEqual(notice.retention_years, 3)
        self.assertEqual(
            notice.register_hash, self.Activity._avg_register_fingerprint()[0]
        )
        self.assertTrue(notice.is_current)
        self.assertEqual(notice.date_sent, datetime(2026, 3, 2, 10, 0))
        text = pdf_text(notice.attachment_id.raw)
        self.assertIn("How we handle your personal data", text)
        self.assertIn(self.client.name, text)
        self.assertIn("3 years after the trajectory ended, as agreed with you", text)
        self.assertIn("3 years after the agreement ended, as agreed with you", text)
        self.assertIn("Art. 6(1)(b): performance of a contract", text)
        self.assertIn("Autoriteit Persoonsgegevens", text)
        self.assertIn("article 15", text)
        self.assertIn(notice.register_hash[:12], text)
        mail = notice.mail_id.sudo()
        self.assertEqual(mail.recipient_ids, self.client)
        self.assertEqual(mail.attachment_ids, notice.attachment_id)
        # The register changes: what the client received is no longer current.
        self.dossier_activity.retention_description = "Zeven jaar."
        notice.invalidate_recordset(["is_current"])
        self.assertFalse(notice.is_current)
        with self.assertRaisesRegex(UserError, "cannot be changed"):
            notice.with_user(self.privacy_manager).register_hash = "x"
        with self.assertRaisesRegex(UserError, "cannot be deleted"):
            notice.with_user(self.privacy_manager).unlink()

    def test_preview_pdf_follows_register(self):
        text = self.render(
            "avg_coaching.coaching_dossier_report_client_information", self.dossier
        )
        for activity in self.Activity.search([]):
            self.assertIn(activity.name, text)
        self.assertIn("7 years", text)

    def test_refusals(self):
        with self.assertRaises(AccessError):
            self.dossier.with_user(self.coach2).action_avg_send_client_information()
        with self.assertRaisesRegex(UserError, "no e-mail address"):
            self.dossier2.with_user(self.coach2).action_avg_send_client_information()
        with self.assertRaises(AccessError):
            self.client.with_user(self.bookkeeper).action_avg_send_client_information()

    def test_send_from_client_as_privacy_manager(self):
        self.client.with_user(self.privacy_manager).action_avg_send_client_information()
        notice = self.env["avg.information.notice"].search(
            [("partner_id", "=", self.client.id)]
        )
        self.assertEqual(len(notice), 1)
        self.assertFalse(notice.sudo().dossier_id)
        self.assertTrue(notice.mail_id)
        # The coach of the client sees it; another coach does not.
        self.assertTrue(notice.with_user(self.coach).read(["date_sent"]))
        with self.assertRaises(AccessError):
            notice.with_user(self.coach2).read(["date_sent"])
