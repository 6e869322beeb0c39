import base64
import io

from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import SQL

from .common import AvgCoachingCase

MARK = "ZZDOC-{}-QX"
PASSWORD = "Zeil-Boot-2026!Haven"


@tagged("post_install", "-at_install")
class TestClientDocuments(AvgCoachingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dossier.write(
            {
                "help_question": MARK.format("help"),
                "personal_notes": MARK.format("personal"),
            }
        )
        cls.session.write(
            {"report": MARK.format("report"), "notes": MARK.format("notes")}
        )
        # wkhtmltopdf fetches the report's stylesheets from report.url. During the
        # test run that is the test HTTP server (or another on the same port), whose
        # answers made pages come out without text now and then; the text checked
        # here does not depend on styles, so point it at a closed port.
        cls.env["ir.config_parameter"].set_param("report.url", "http://127.0.0.1:9")
        cls.Secret = cls.env["coaching.client.secret"]

    def _secret(self, password=PASSWORD, user=None, partner=None):
        return self.Secret.with_user(user or self.coach).create(
            {"partner_id": (partner or self.client).id, "password": password}
        )

    def _wizard(self, user=None, **vals):
        return (
            self.env["coaching.protected.document.wizard"]
            .with_user(user or self.coach)
            .with_context(force_report_rendering=True)
            .create(dict({"dossier_id": self.dossier.id}, **vals))
        )

    def _pdf(self, wizard):
        action = wizard.action_download()
        attachment_id = int(action["url"].split("/web/content/")[1].split("?")[0])
        attachment = self.env["ir.attachment"].browse(attachment_id)
        self.assertEqual(attachment.res_model, "coaching.dossier")
        self.assertEqual(attachment.res_id, self.dossier.id)
        return attachment, base64.b64decode(attachment.datas)

    @staticmethod
    def _text(reader):
        return " ".join(
            " ".join(page.extract_text() or "" for page in reader.pages).split()
        )

    def test_weak_passwords_refused(self):
        for password in (False, "", "Kort-1!", "alleenkleineletters", "123456789012"):
            with self.assertRaisesRegex(ValidationError, "not strong enough"):
                self._secret(password)
        secret = self._secret()
        with self.assertRaisesRegex(ValidationError, "not strong enough"):
            secret.with_user(self.coach).password = "short"
        self.assertEqual(secret.password, PASSWORD)

    def test_password_not_stored_in_plaintext(self):
        secret = self._secret()
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "SELECT row_to_json(s)::text FROM coaching_client_secret s "
                "WHERE id = %s",
                secret.id,
            )
        )
        raw = self.env.cr.fetchone()[0]
        self.assertNotIn(PASSWORD, raw)
        self.assertIn("avg1:", raw)
        self.env.invalidate_all()
        self.assertEqual(secret.with_user(self.coach).password, PASSWORD)

    def test_no_password_refused(self):
        wizard = self._wizard()
        self.assertFalse(wizard.has_password)
        with self.assertRaisesRegex(UserError, "No document password has been agreed"):
            wizard.action_download()
        with self.assertRaisesRegex(UserError, "No document password has been agreed"):
            wizard.action_send()
        self.assertFalse(
            self.env["ir.attachment"].search(
                [
                    ("res_model", "=", "coaching.dossier"),
                    ("res_id", "=", self.dossier.id),
                ]
            )
        )

    def test_access_export_encrypted(self):
        """The art. 15 export (the collector's data) as a protected PDF."""
        self._secret()
        wizard = self._wizard(document="access")
        attachment, content = self._pdf(wizard)
        self.assertIn("Your data", attachment.name)
        reader = PdfReader(io.BytesIO(content))
        self.assertTrue(reader.is_encrypted)
        self.assertFalse(PdfReader(io.BytesIO(content)).decrypt("wrong password"))
        self.assertTrue(reader.decrypt(PASSWORD))
        text = self._text(reader)
        self.assertIn(self.dossier.name, text)
        self.assertIn(MARK.format("help"), text)
        self.assertIn(MARK.format("notes"), text)
        self.assertIn("Autoriteit Persoonsgegevens", text)

    def test_dossier_report_encrypted(self):
        self._secret()
        wizard = self._wizard(document="dossier")
        self.assertTrue(wizard.has_password)
        attachment, content = self._pdf(wizard)
        self.assertTrue(attachment.name.endswith(".pdf"))
        self.assertNotIn(b"ZZDOC", content)
        reader = PdfReader(io.BytesIO(content))
        self.assertTrue(reader.is_encrypted)
        encrypt = reader.trailer["/Encrypt"]
        # AES-256: security handler revision 6, AESV3 crypt filter.
        self.assertEqual((encrypt["/V"], encrypt["/R"]), (5, 6))
        self.assertEqual(encrypt["/CF"]["/StdCF"]["/CFM"], "/AESV3")
        with self.assertRaises(FileNotDecryptedError):
            self._text(reader)
        self.assertFalse(PdfReader(io.BytesIO(content)).decrypt("wrong password"))
        reader = PdfReader(io.BytesIO(content))
        self.assertTrue(reader.decrypt(PASSWORD))
        text = self._text(reader)
        self.assertIn(self.dossier.name, text)
        self.assertIn(MARK.format("help"), text)
        self.assertIn(MARK.format("report"), text)
        # The coach's own notes are never shared.
        self.assertNotIn(MARK.format("personal"), text)
        self.assertNotIn(MARK.format("notes"), text)

    def test_session_report_sent_by_mail(self):
        self._secret()
        action = self.session.with_user(self.coach).action_share_protected_report()
        wizard = (
            self.env["coaching.protected.document.wizard"]
            .with_user(self.coach)
            .with_context(
                action["context"],
                mail_notify_force_send=False,
                force_report_rendering=True,
            )
            .create({})
        )
        self.assertEqual(wizard.document, "session")
        self.assertEqual(wizard.session_id, self.session)
        wizard.action_send()
        mail = self.env["mail.mail"].search(
            [("model", "=", "coaching.dossier"), ("res_id", "=", self.dossier.id)]
        )
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.recipient_ids, self.client)
        self.assertEqual(mail.state, "outgoing")
        self.assertNotIn(PASSWORD, mail.body_html)
        self.assertNotIn("ZZDOC", mail.body_html + (mail.subject or ""))
        self.assertEqual(len(mail.attachment_ids), 1)
        reader = PdfReader(io.BytesIO(base64.b64decode(mail.attachment_ids.datas)))
        self.assertTrue(reader.is_encrypted)
        self.assertFalse(reader.decrypt("Zeil-Boot-2026!Have"))
        self.assertTrue(reader.decrypt(PASSWORD))
        text = self._text(reader)
        self.assertIn(MARK.format("report"), text)
        self.assertNotIn(MARK.format("notes"), text)
        self.assertNotIn(MARK.format("help"), text)

    def test_bad_input(self):
        self._secret()
        with self.assertRaisesRegex(UserError, "Choose the session"):
            self._wizard(document="session").action_download()
        other = self.env["coaching.session"].create(
            {
                "dossier_id": self.env["coaching.dossier"]
                .create({"client_id": self.client2.id, "coach_id": self.coach.id})
                .id,
                "date": "2026-01-15",
            }
        )
        with self.assertRaisesRegex(UserError, "does not belong to dossier"):
            self._wizard(document="session", session_id=other.id).action_download()
        self.client.email = False
        with self.assertRaisesRegex(UserError, "has no e-mail address"):
            self._wizard().action_send()

    def test_access(self):
        secret = self._secret()
        for user in (self.bookkeeper, self.privacy_manager, self.coach2):
            with self.assertRaises(AccessError):
                secret.with_user(user).read(["password"])
        with self.assertRaises(AccessError):
            self._secret(user=self.bookkeeper, partner=self.client2)
        with self.assertRaises(AccessError):
            self._wizard(user=self.coach2).action_download()
        with self.assertRaises(AccessError):
            self.dossier.with_user(self.coach2).action_share_protected_document()
        # Rendering the report directly fails on the dossier's access rights.
        with self.assertRaisesRegex(Exception, "not allowed to access 'Coaching dos"):
            self.env["ir.actions.report"].with_user(self.bookkeeper)._render_qweb_pdf(
                "avg_coaching.coaching_dossier_report_action", self.dossier.ids
            )
