import io
from datetime import date

from freezegun import freeze_time
from pypdf import PdfReader

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import SQL

from .common import AvgCoachingCase

MARK = "ZZINV-{}-QX"


@freeze_time("2026-02-01")
@tagged("post_install", "-at_install")
class TestInvoicing(AvgCoachingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._ensure_chart_of_accounts()
        cls._consent(cls.client, "special_health")
        cls.dossier.write(
            {
                "help_question": MARK.format("help"),
                "medical_treatment": MARK.format("medical"),
                "personal_notes": MARK.format("personal"),
            }
        )
        cls.session.write(
            {"notes": MARK.format("notes"), "report": MARK.format("report")}
        )
        cls.session2 = cls.env["coaching.session"].create(
            {
                "dossier_id": cls.dossier.id,
                "date": "2026-01-24",
                "duration": 1.5,
                "observations": MARK.format("observations"),
            }
        )
        cls.session_other = cls.env["coaching.session"].create(
            {"dossier_id": cls.dossier2.id, "date": "2026-01-12"}
        )
        # wkhtmltopdf fetches the report's stylesheets from report.url. During the
        # test run that is the test HTTP server (or another on the same port), whose
        # answers made pages come out without text now and then; the text checked
        # here does not depend on styles, so point it at a closed port.
        cls.env["ir.config_parameter"].set_param("report.url", "http://127.0.0.1:9")
        cls.product = cls.env.ref("avg_coaching.product_coaching_session")
        cls.markers = [
            MARK.format(name)
            for name in ("help", "medical", "personal", "notes", "report")
        ] + [MARK.format("observations")]

    def _invoice(self, user=None, **vals):
        wizard = (
            self.env["coaching.invoice.wizard"]
            .with_user(user or self.coach)
            .create(
                dict(
                    {"dossier_id": self.dossier.id, "invoice_date": "2026-02-01"},
                    **vals,
                )
            )
        )
        action = wizard.action_create_invoice()
        return self.env["account.move"].browse(action["res_id"])

    def test_invoice_commissioner(self):
        action = self.dossier.with_user(self.coach).action_invoice_sessions()
        self.assertEqual(action["res_model"], "coaching.invoice.wizard")
        move = self._invoice(price_unit=100.0)
        self.assertEqual(move.move_type, "out_invoice")
        self.assertEqual(move.state, "draft")
        self.assertEqual(move.partner_id, self.commissioner)
        self.assertEqual(move.invoice_origin, self.dossier.name)
        self.assertEqual(move.coaching_dossier_id, self.dossier)
        lines = move.invoice_line_ids.sorted("id")
        self.assertEqual(lines.mapped("quantity"), [1.0, 1.5])
        self.assertEqual(lines.mapped("price_unit"), [100.0, 100.0])
        self.assertEqual(lines.product_id, self.product)
        self.assertEqual(move.amount_untaxed, 250.0)
        self.assertIn(self.dossier.name, lines[0].name)
        self.assertIn("01/10/2026", lines[0].name)
        self.assertIn("1:00", lines[0].name)
        self.assertIn("01/24/2026", lines[1].name)
        self.assertIn("1:30", lines[1].name)
        self.assertEqual(self.session.invoice_line_id, lines[0])
        self.assertEqual(self.session2.invoice_line_id, lines[1])
        self.assertTrue(self.session.is_invoiced)
        self.assertEqual(self.dossier.invoice_count, 1)
        self.assertEqual(self.dossier.session_to_invoice_count, 0)
        # Nothing of the dossier's content, nor the client's name, is on the invoice.
        text = " ".join(
            [move.ref or "", str(move.narration or ""), move.invoice_origin]
            + [name for name in move.line_ids.mapped("name") if name]
        )
        for marker in self.markers + [self.client.name]:
            self.assertNotIn(marker, text)

    def test_default_rate_and_client(self):
        self.dossier.commissioner_id = False
        wizard = (
            self.env["coaching.invoice.wizard"]
            .with_user(self.coach)
            .create({"dossier_id": self.dossier.id, "invoice_date": "2026-02-01"})
        )
        self.assertEqual(wizard.bill_to, "client")
        self.assertEqual(wizard.partner_id, self.client)
        self.assertEqual(wizard.product_id, self.product)
        self.assertEqual(wizard.price_unit, self.product.lst_price)
        self.assertEqual(wizard.session_ids, self.session | self.session2)
        self.assertEqual(wizard.total_hours, 2.5)
        # Sessions after the invoice date are not invoiced in advance.
        wizard.invoice_date = "2026-01-15"
        self.assertEqual(wizard.session_ids, self.session)
        move = self.env["account.move"].browse(wizard.action_create_invoice()["res_id"])
        self.assertEqual(move.partner_id, self.client)
        self.assertFalse(self.session2.is_invoiced)
        # Commissioner chosen but none recorded: refused with what to do.
        wizard = (
            self.env["coaching.invoice.wizard"]
            .with_user(self.coach)
            .create(
                {
                    "dossier_id": self.dossier.id,
                    "invoice_date": "2026-02-01",
                    "bill_to": "commissioner",
                }
            )
        )
        with self.assertRaisesRegex(UserError, "has no commissioner"):
            wizard.action_create_invoice()

    def test_hourly_rate_setting(self):
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.avg_session_product_id, self.product)
        settings.avg_hourly_rate = 110.0
        settings.execute()
        self.assertEqual(self.product.list_price, 110.0)
        wizard = (
            self.env["coaching.invoice.wizard"]
            .with_user(self.coach)
            .create({"dossier_id": self.dossier.id, "invoice_date": "2026-02-01"})
        )
        self.assertEqual(wizard.price_unit, 110.0)

    def test_second_run_refused(self):
        self._invoice()
        with self.assertRaisesRegex(UserError, "no sessions left to invoice"):
            self.dossier.with_user(self.coach).action_invoice_sessions()
        with self.assertRaisesRegex(UserError, "no sessions to invoice"):
            self._invoice()
        # A stale selection (a session invoiced meanwhile) is refused too.
        with self.assertRaisesRegex(UserError, "already invoiced"):
            self._invoice(session_ids=[Command.set(self.session.ids)])
        self.assertEqual(len(self.dossier.invoice_ids), 1)

    def test_no_sessions(self):
        empty = self.env["coaching.dossier"].create(
            {"client_id": self.client2.id, "coach_id": self.coach2.id}
        )
        with self.assertRaisesRegex(UserError, "no sessions left to invoice"):
            empty.with_user(self.coach2).action_invoice_sessions()
        with self.assertRaisesRegex(UserError, "no sessions to invoice"):
            self._invoice(user=self.coach2, dossier_id=empty.id)

    def test_cancelled_invoice_frees_sessions(self):
        move = self._invoice()
        move.with_user(self.coach).button_cancel()
        self.assertFalse(self.session.is_invoiced)
        self.assertEqual(self.dossier.session_to_invoice_count, 2)
        move2 = self._invoice()
        self.assertEqual(self.session.invoice_line_id.move_id, move2)

    def test_invoiced_session_frozen_closed_dossier_invoiced(self):
        self.dossier.write({"agreement_date": "2026-01-05"})
        self._inform(self.dossier)
        self.dossier.action_start()
        self.dossier.action_close()
        # Invoicing after the trajectory closed is normal and allowed.
        move = self._invoice()
        self.assertEqual(len(move.invoice_line_ids), 2)
        self.dossier.action_reopen()
        with self.assertRaisesRegex(UserError, "has been invoiced"):
            self.session.with_user(self.coach).duration = 2.0
        self.session.with_user(self.coach).notes = "Nog aan te vullen"

    def test_other_coach_refused(self):
        with self.assertRaises(AccessError):
            self.dossier.with_user(self.coach2).action_invoice_sessions()
        with self.assertRaises(AccessError):
            self._invoice(user=self.coach2)
        # Someone else's session smuggled into one's own dossier's invoice.
        with self.assertRaises(AccessError):
            self._invoice(
                user=self.coach2,
                dossier_id=self.dossier2.id,
                session_ids=[Command.set((self.session | self.session_other).ids)],
            )
        # One's own session, but of another dossier.
        own_other = self.env["coaching.session"].create(
            {
                "dossier_id": self.env["coaching.dossier"]
                .create({"client_id": self.client2.id, "coach_id": self.coach.id})
                .id,
                "date": "2026-01-15",
            }
        )
        with self.assertRaisesRegex(UserError, "does not belong to dossier"):
            self._invoice(session_ids=[Command.set((self.session | own_other).ids)])
        self.assertFalse(self.session.invoice_line_id)
        self.assertFalse(self.session_other.invoice_line_id)

    def test_pdf_holds_reference_dates_durations_only(self):
        move = self._invoice()
        move.action_post()
        pdf, _type = (
            self.env["ir.actions.report"]
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf("account.account_invoices", [move.id])
        )
        self.assertTrue(pdf.startswith(b"%PDF"))
        text = " ".join(
            " ".join(
                page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages
            ).split()
        )
        for expected in (self.dossier.name, "01/10/2026", "01/24/2026", "1:00", "1:30"):
            self.assertIn(expected, text)
        for marker in self.markers + [self.client.name]:
            self.assertNotIn(marker, text)

    def test_bookkeeper_invoice_without_dossier(self):
        move = self._invoice()
        as_bookkeeper = move.with_user(self.bookkeeper)
        self.assertEqual(as_bookkeeper.partner_id, self.commissioner)
        self.assertEqual(len(as_bookkeeper.invoice_line_ids), 2)
        self.assertIn(self.dossier.name, as_bookkeeper.invoice_line_ids[0].name)
        as_bookkeeper.action_post()
        self.assertEqual(move.state, "posted")
        with self.assertRaises(AccessError):
            self.assertFalse(as_bookkeeper.coaching_dossier_id.name)
        with self.assertRaises(AccessError):
            self.assertFalse(as_bookkeeper.invoice_line_ids.coaching_session_ids)
        with self.assertRaises(AccessError):
            as_bookkeeper.read(["coaching_dossier_id"])
        with self.assertRaises(AccessError):
            self.dossier.with_user(self.bookkeeper).read(["name"])
        with self.assertRaises(AccessError):
            self.session.with_user(self.bookkeeper).read(["invoice_line_id"])
        # The invoice form the bookkeeper gets does not even name the field.
        arch = as_bookkeeper.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertNotIn("coaching_dossier_id", arch)
        arch = move.with_user(self.coach).get_views([(False, "form")])["views"]
        self.assertIn("coaching_dossier_id", arch["form"]["arch"])


@tagged("post_install", "-at_install")
class TestFiscalHold(AvgCoachingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._ensure_chart_of_accounts()
        cls.product = cls.env.ref("avg_coaching.product_coaching_session")

    def _move(self, partner, invoice_date, post=True, move_type="out_invoice"):
        move = self.env["account.move"].create(
            {
                "move_type": move_type,
                "partner_id": partner.id,
                "invoice_date": invoice_date,
                "invoice_line_ids": [
                    Command.create({"product_id": self.product.id, "price_unit": 80})
                ],
            }
        )
        if post:
            move.action_post()
        return move

    @freeze_time("2026-06-01")
    def test_fiscal_hold_until(self):
        self.assertFalse(self.client._avg_fiscal_hold_until())
        self._move(self.client, "2025-03-01")
        self._move(self.client, "2026-02-10")
        self._move(self.client, "2026-05-20", post=False)  # a draft does not count
        cancelled = self._move(self.client, "2026-05-25")
        cancelled.button_draft()
        cancelled.button_cancel()
        self.assertEqual(self.client._avg_fiscal_hold_until(), date(2033, 2, 10))
        self.assertFalse(self.client2._avg_fiscal_hold_until())
        # A contact of a company on an invoice: the company holds the invoice.
        contact = self.env["res.partner"].create(
            {"name": "Fictieve Contactpersoon", "parent_id": self.commissioner.id}
        )
        self._move(contact, "2024-07-31")
        self.assertEqual(self.commissioner._avg_fiscal_hold_until(), date(2031, 7, 31))
        self.assertEqual(contact._avg_fiscal_hold_until(), date(2031, 7, 31))
        # The bookkeeper and the crons may ask: it reads invoices as the system.
        self.assertEqual(
            self.client.with_user(self.bookkeeper)._avg_fiscal_hold_until(),
            date(2033, 2, 10),
        )


@tagged("post_install", "-at_install")
class TestInsurerDisclosure(AvgCoachingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.insurer = cls.env["res.partner"].create(
            {"name": "Fictieve Zorgverzekeraar N.V.", "is_company": True}
        )
        cls.session_other = cls.env["coaching.session"].create(
            {"dossier_id": cls.dossier2.id, "date": "2026-01-12"}
        )

    def _disclose(self, user=None, **vals):
        return (
            self.env["coaching.insurer.disclosure"]
            .with_user(user or self.coach)
            .create(
                dict(
                    {
                        "client_id": self.client.id,
                        "insurer_id": self.insurer.id,
                        "date": "2026-01-20",
                        "shared": "invoice",
                        "session_ids": [Command.set(self.session.ids)],
                    },
                    **vals,
                )
            )
        )

    def test_record_disclosure(self):
        disclosure = self._disclose(
            shared="other", details="ZZDISCLOSE-declaratieformulier-QX"
        )
        self.assertEqual(disclosure.session_ids, self.session)
        self.assertEqual(disclosure.details, "ZZDISCLOSE-declaratieformulier-QX")
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "SELECT row_to_json(d)::text FROM coaching_insurer_disclosure d "
                "WHERE id = %s",
                disclosure.id,
            )
        )
        raw = self.env.cr.fetchone()[0]
        self.assertNotIn("ZZDISCLOSE", raw)
        self.assertIn("avg1:", raw)

    def test_bad_input(self):
        with self.assertRaisesRegex(ValidationError, "Only sessions of"):
            self._disclose(session_ids=[Command.set(self.session_other.ids)])
        with self.assertRaisesRegex(ValidationError, "Describe what was shared"):
            self._disclose(shared="other")
        with self.assertRaisesRegex(ValidationError, "BSN"):
            self._disclose(shared="other", details="BSN 111222333 gedeeld")

    def test_coach_only(self):
        disclosure = self._disclose()
        with self.assertRaises(AccessError):
            disclosure.with_user(self.bookkeeper).read(["date"])
        with self.assertRaises(AccessError):
            self._disclose(user=self.bookkeeper)
        with self.assertRaises(AccessError):
            disclosure.with_user(self.privacy_manager).read(["date"])
        with self.assertRaises(AccessError):
            disclosure.with_user(self.coach2).read(["date"])
        self.assertFalse(
            self.env["coaching.insurer.disclosure"].with_user(self.coach2).search([])
        )
