import io
import json
import zipfile

from pypdf import PdfReader

from odoo import http
from odoo.tests import tagged

from .common import (
    DOCUMENT_PASSWORD,
    agree_document_password,
    new_portal_client,
    open_protected_zip,
)
from .http_common import AvgPortalCase


@tagged("post_install", "-at_install")
class TestPrivacyPortal(AvgPortalCase):
    """/my/privacy over real HTTP: her own data only, CSRF on every form."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.coach = cls.avg_new_coach("portal_t_coach")
        cls.anna = new_portal_client(cls.env, "anna_portal", "anna-portal-pw")
        cls.bert = new_portal_client(cls.env, "bert_portal", "bert-portal-pw")
        cls.consent_anna = cls.avg_consent(cls.anna.partner_id)
        cls.consent_bert = cls.avg_consent(cls.bert.partner_id)
        cls.dossier_anna = cls.avg_dossier(
            cls.anna.partner_id,
            cls.coach,
            notes="ANNA-NOTITIE",
            help_question="ANNA-HULPVRAAG",
        )
        insurer = cls.env["res.partner"].create({"name": "Fictieve Zorgverzekeraar"})
        cls.env["coaching.insurer.disclosure"].create(
            {
                "client_id": cls.anna.partner_id.id,
                "insurer_id": insurer.id,
                "date": "2026-03-01",
                "shared": "invoice",
            }
        )
        cls.dossier_bert = cls.avg_dossier(
            cls.bert.partner_id, cls.coach, help_question="BERT-HULPVRAAG"
        )
        # Seed 004 §2: Anna's coach agreed a document password with her; Bert has
        # none yet.
        agree_document_password(cls.env, cls.anna.partner_id)
        # wkhtmltopdf fetches the report's stylesheets from report.url, which in
        # a test run is the test server itself: point it at a closed port (the
        # text checked does not depend on styles).
        cls.env["ir.config_parameter"].set_param("report.url", "http://127.0.0.1:9")

    def test_overview_shows_her_data_only(self):
        self.authenticate("anna_portal", "anna-portal-pw")
        response = self.url_open("/my/privacy")
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.dossier_anna.name, response.text)
        self.assertNotIn(self.dossier_bert.name, response.text)
        self.assertIn("Overeenkomst v1", response.text)
        self.assertIn("/my/privacy/export.json", response.text)
        home = self.url_open("/my")
        self.assertIn("/my/privacy", home.text)

    def test_overview_and_export_state_her_terms(self):
        """Why we keep your data, and for how long: the engine's terms, with
        the shorter term agreed with her (issue 14); no "0 Days"."""
        self.dossier_anna.retention_years = 3
        self.authenticate("anna_portal", "anna-portal-pw")
        page = self.url_open("/my/privacy").text
        self.assertIn("3 years after the trajectory ended, as agreed with you", page)
        self.assertIn("7 years after the invoice date", page)
        self.assertIn("Immediately after the consent was withdrawn", page)
        self.assertNotIn("0 Days", page)
        files = open_protected_zip(self.url_open("/my/privacy/export.json").content)
        data = json.loads(files["my-data.json"])
        rows = {
            row["purpose"]: row["retention"]
            for row in data["information"]["purposes_and_retention"]
        }
        self.assertEqual(
            rows["Coaching agreement"],
            "3 years after the agreement ended, as agreed with you",
        )
        self.authenticate("bert_portal", "bert-portal-pw")
        page = self.url_open("/my/privacy").text
        self.assertIn("7 years after the trajectory ended", page)
        self.assertNotIn("as agreed with you", page)

    def test_overview_data_leaves_session_notes_encrypted(self):
        # The overview shows how many sessions there are: their notes are neither
        # fetched nor decrypted for it (issue 6: a third of the page's cost).
        collector = self.env["avg.subject.data"]
        partner = self.anna.partner_id
        session = self.dossier_anna.session_ids
        notes = session._fields["notes"]
        self.env.invalidate_all()
        brief = collector._avg_collect(partner, brief=True)
        self.assertEqual(
            brief["dossiers"][0]["sessions"],
            [{"date": "2026-02-01", "duration_hours": 1.0}],
        )
        self.assertEqual(brief["records"], [])
        # Nothing decrypted: the plaintext never reached the record cache.
        self.assertFalse(self.env.cache.contains(session, notes))
        self.assertFalse(self.env.cache.contains(session.sudo(), notes))
        full = collector._avg_collect(partner)
        self.assertEqual(full["dossiers"][0]["sessions"][0]["notes"], "ANNA-NOTITIE")
        # The same check sees the decryption the full export does.
        self.assertTrue(
            self.env.cache.contains(session, notes)
            or self.env.cache.contains(session.sudo(), notes)
        )

    def test_json_export(self):
        self.authenticate("anna_portal", "anna-portal-pw")
        response = self.url_open("/my/privacy/export.json")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Content-Type"], "application/zip")
        self.assertIn("attachment", response.headers["Content-Disposition"])
        # Seed 004 §2: an AES-256 zip under her password, nothing readable
        # without it.
        self.assertNotIn(b"ANNA-NOTITIE", response.content)
        with self.assertRaises(RuntimeError):
            open_protected_zip(response.content, "Een-Ander-Wachtwoord-1")
        with self.assertRaises(RuntimeError):
            zipfile.ZipFile(io.BytesIO(response.content)).read("my-data.json")
        files = open_protected_zip(response.content)
        self.assertEqual(list(files), ["my-data.json"])
        data = json.loads(files["my-data.json"])
        self.assertEqual(data["contact"]["name"], self.anna.partner_id.name)
        self.assertEqual(len(data["dossiers"]), 1)
        self.assertEqual(data["dossiers"][0]["help_question"], "ANNA-HULPVRAAG")
        self.assertEqual(data["dossiers"][0]["sessions"][0]["notes"], "ANNA-NOTITIE")
        self.assertEqual(len(data["consents"]), 1)
        self.assertTrue(data["information"]["purposes_and_retention"])
        self.assertEqual(
            data["insurer_disclosures"][0]["insurer"], "Fictieve Zorgverzekeraar"
        )
        self.assertEqual(data["insurer_disclosures"][0]["shared_on"], "2026-03-01")
        self.assertNotIn(b"BERT-HULPVRAAG", files["my-data.json"])

    def test_csv_export(self):
        self.authenticate("anna_portal", "anna-portal-pw")
        response = self.url_open("/my/privacy/export.csv")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Content-Type"], "application/zip")
        self.assertNotIn(b"ANNA-NOTITIE", response.content)
        with self.assertRaises(RuntimeError):
            open_protected_zip(response.content, "Een-Ander-Wachtwoord-1")
        files = open_protected_zip(response.content)
        self.assertIn("contact.csv", files)
        tables = b"".join(files.values())
        self.assertIn(b"ANNA-NOTITIE", tables)
        self.assertNotIn(b"BERT-HULPVRAAG", tables)

    def test_pdf_export(self):
        self.authenticate("anna_portal", "anna-portal-pw")
        response = self.url_open("/my/privacy/export.pdf")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Content-Type"], "application/pdf")
        self.assertIn("attachment", response.headers["Content-Disposition"])
        # A real PDF, AES-256 encrypted under her password (seed 004 §2).
        reader = PdfReader(io.BytesIO(response.content))
        self.assertTrue(reader.is_encrypted)
        self.assertEqual(reader.decrypt("Een-Ander-Wachtwoord-1"), 0)
        reader = PdfReader(io.BytesIO(response.content))
        self.assertTrue(reader.decrypt(DOCUMENT_PASSWORD))
        # AES-256: security handler revision 6, AESV3 crypt filter.
        encrypt = reader.trailer["/Encrypt"]
        self.assertEqual((encrypt["/V"], encrypt["/R"]), (5, 6))
        self.assertEqual(encrypt["/CF"]["/StdCF"]["/CFM"], "/AESV3")
        text = "".join(page.extract_text() for page in reader.pages)
        self.assertIn("ANNA-HULPVRAAG", text)
        self.assertNotIn("BERT-HULPVRAAG", text)
        self.assertNotIn(b"ANNA-HULPVRAAG", response.content)

    def test_generic_report_route_gives_her_no_unprotected_export(self):
        """Seed 004 §2: Odoo's /report/<converter>/... would print her access
        export unprotected; she gets it only as the protected download."""
        self.authenticate("anna_portal", "anna-portal-pw")
        partner = self.anna.partner_id
        report = "avg_coaching.avg_access_export_report"
        log = self.env["avg.access.log"].sudo()
        logged = log.search_count([("subject_id", "=", partner.id)])
        forged = json.dumps({"avg_protected_export": True})
        for converter in ("pdf", "html", "text"):
            for query in ("", f"?context={forged}"):
                url = f"/report/{converter}/{report}/{partner.id}{query}"
                response = self.url_open(url)
                self.assertEqual(response.status_code, 403, url)
                self.assertNotIn(b"ANNA-HULPVRAAG", response.content, url)
                self.assertNotIn(b"%PDF", response.content[:10], url)
        # Nothing was read for those refusals.
        self.assertEqual(log.search_count([("subject_id", "=", partner.id)]), logged)
        # The protected download still works (its content: test_pdf_export).
        response = self.url_open("/my/privacy/export.pdf")
        self.assertEqual(response.status_code, 200)
        self.assertTrue(PdfReader(io.BytesIO(response.content)).is_encrypted)

    def test_without_password_she_is_told_how_to_agree_one(self):
        self.authenticate("bert_portal", "bert-portal-pw")
        page = self.url_open("/my/privacy")
        self.assertIn("o_avg_no_password", page.text)
        self.assertIn("agree", page.text)
        self.assertNotIn("/my/privacy/export.json", page.text)
        for fmt in ("pdf", "json", "csv"):
            response = self.url_open(f"/my/privacy/export.{fmt}", allow_redirects=False)
            self.assertIn(response.status_code, (302, 303), fmt)
            self.assertIn("message=no_password", response.headers["Location"])
            self.assertNotIn(b"BERT-HULPVRAAG", response.content)
        page = self.url_open("/my/privacy?message=no_password")
        self.assertIn("o_avg_no_password_message", page.text)

    def test_not_logged_in_is_sent_to_login(self):
        response = self.url_open("/my/privacy/export.json", allow_redirects=False)
        self.assertIn(response.status_code, (302, 303))
        self.assertIn("/web/login", response.headers["Location"])

    def test_withdraw_own_consent(self):
        self.authenticate("anna_portal", "anna-portal-pw")
        url = f"/my/privacy/consent/{self.consent_anna.id}/withdraw"
        # Not without the confirmation step: a bare POST shows it first.
        response = self.url_open(
            url,
            data={"csrf_token": http.Request.csrf_token(self)},
            allow_redirects=False,
        )
        self.assertTrue(
            response.headers["Location"].endswith(
                f"/my/privacy/consent/{self.consent_anna.id}"
            )
        )
        self.assertEqual(self.consent_anna.state, "given")
        page = self.url_open(f"/my/privacy/consent/{self.consent_anna.id}")
        self.assertIn("o_avg_withdraw_confirm", page.text)
        self.assertIn("Your coaching trajectory stops", page.text)
        response = self.url_open(
            url,
            data={"csrf_token": http.Request.csrf_token(self), "confirm": "1"},
            allow_redirects=False,
        )
        self.assertIn(response.status_code, (302, 303))
        self.assertIn("message=withdrawn", response.headers["Location"])
        self.assertEqual(self.consent_anna.state, "withdrawn")
        # Her dossier rested on it: closed, frozen and queued for the purge.
        self.assertEqual(self.dossier_anna.state, "closed")
        self.assertTrue(self.dossier_anna.consent_withdrawn_date)
        self.assertEqual(
            self.dossier_anna.retention_due_date,
            self.dossier_anna.consent_withdrawn_date,
        )
        # Her coach is told, without content.
        activity = self.dossier_anna.activity_ids
        self.assertEqual(activity.user_id, self.coach)
        self.assertEqual(activity.summary, "Client withdrew a consent")
        self.assertNotIn("ANNA-HULPVRAAG", activity.note)
        # A second run says so instead of failing (the step and the form).
        response = self.url_open(
            url,
            data={"csrf_token": http.Request.csrf_token(self), "confirm": "1"},
            allow_redirects=False,
        )
        self.assertIn("already_withdrawn", response.headers["Location"])
        response = self.url_open(
            f"/my/privacy/consent/{self.consent_anna.id}", allow_redirects=False
        )
        self.assertIn("already_withdrawn", response.headers["Location"])

    def test_someone_elses_consent_and_bad_ids_refused(self):
        self.authenticate("anna_portal", "anna-portal-pw")
        for consent_id in (self.consent_bert.id, 999999999):
            response = self.url_open(
                f"/my/privacy/consent/{consent_id}/withdraw",
                data={"csrf_token": http.Request.csrf_token(self), "confirm": "1"},
                allow_redirects=False,
            )
            self.assertEqual(response.headers["Location"].rsplit("/", 1)[-1], "my")
            # Nor does the confirmation step show someone else's consent.
            response = self.url_open(
                f"/my/privacy/consent/{consent_id}", allow_redirects=False
            )
            self.assertEqual(response.headers["Location"].rsplit("/", 1)[-1], "my")
        self.assertEqual(self.consent_bert.state, "given")
        response = self.url_open("/my/privacy/consent/abc/withdraw", data={})
        self.assertEqual(response.status_code, 404)

    def test_csrf_required(self):
        self.authenticate("anna_portal", "anna-portal-pw")
        response = self.url_open(
            f"/my/privacy/consent/{self.consent_anna.id}/withdraw",
            data={"confirm": "1"},
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 400)
        self.assertEqual(self.consent_anna.state, "given")

    def test_portal_user_cannot_read_dossiers_over_rpc(self):
        self.authenticate("anna_portal", "anna-portal-pw")
        with self.assertRaises(Exception) as caught:
            self.make_jsonrpc_request(
                "/web/dataset/call_kw",
                {
                    "model": "coaching.dossier",
                    "method": "search_read",
                    "args": [[]],
                    "kwargs": {"fields": ["help_question"]},
                },
            )
        self.assertIn("AccessError", str(caught.exception))
