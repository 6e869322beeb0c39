import csv
import io

from odoo import http
from odoo.tests import tagged

from .common import (
    agree_document_password,
    new_portal_client,
    open_protected_zip,
    protected_json,
)
from .http_common import AvgPortalCase


@tagged("post_install", "-at_install")
class TestPortalRequests(AvgPortalCase):
    """Requests, CSV export and the reach of the collector, over real HTTP."""

    avg_read_as_maintenance = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.coach = cls.avg_new_coach("req_t_coach")
        cls.anna = new_portal_client(
            cls.env,
            "anna_req",
            "anna-req-pw",
            email="anna.req@client.test",
            name="Anna Verzoekster Fictief",
        )
        cls.bert = new_portal_client(
            cls.env, "bert_req", "bert-req-pw", email="bert.req@client.test"
        )
        cls.consent_anna = cls.avg_consent(cls.anna.partner_id)
        cls.avg_consent(cls.bert.partner_id)
        cls.dossier_anna = cls.avg_dossier(
            cls.anna.partner_id,
            cls.coach,
            notes="ANNA-NOTITIE",
            help_question="ANNA-HULPVRAAG",
        )
        cls.dossier_bert = cls.avg_dossier(
            cls.bert.partner_id,
            cls.coach,
            notes="BERT-NOTITIE",
            help_question="BERT-HULPVRAAG",
        )
        # Her downloads are protected with the password agreed with her coach.
        agree_document_password(cls.env, cls.anna.partner_id)
        # wkhtmltopdf fetches the report's stylesheets from report.url (the test
        # server itself during a test run): a closed port instead.
        cls.env["ir.config_parameter"].set_param("report.url", "http://127.0.0.1:9")
        cls.request_bert = cls.env["avg.request"].create(
            {"partner_id": cls.bert.partner_id.id, "request_type": "objection"}
        )

    def _post(self, values, with_csrf=True):
        data = dict(values)
        if with_csrf:
            data["csrf_token"] = http.Request.csrf_token(self)
        return self.url_open("/my/privacy/request", data=data, allow_redirects=False)

    def _anna_requests(self):
        return self.env["avg.request"].search(
            [("partner_id", "=", self.anna.partner_id.id)]
        )

    def test_objection_in_force_shown_until_lifted(self):
        """Her /my/privacy says which objection is in force and what it stops."""
        request = self.env["avg.request"].create(
            {
                "partner_id": self.anna.partner_id.id,
                "request_type": "objection",
                "objection_scope": "activity",
                "objection_activity_id": self.env.ref(
                    "avg_coaching.avg_processing_activity_crm"
                ).id,
            }
        )
        request.identity_method = "in_person"
        request.action_verify_identity()
        request.with_user(self.coach).action_carry_out()
        self.authenticate("anna_req", "anna-req-pw")
        page = self.url_open("/my/privacy").text
        self.assertIn("o_avg_objection_in_force", page)
        self.assertIn("Client relations", page)
        request.with_user(self.coach).action_lift_objection()
        page = self.url_open("/my/privacy").text
        self.assertNotIn("o_avg_objection_in_force", page)
        self.assertIn("Objection lifted on", page)

    def test_erasure_request_filed_and_listed(self):
        self.authenticate("anna_req", "anna-req-pw")
        response = self._post({"request_type": "erasure", "description": "Alles"})
        self.assertIn(response.status_code, (302, 303))
        self.assertIn("request_filed", response.headers["Location"])
        request = self._anna_requests()
        self.assertEqual(len(request), 1)
        self.assertEqual(request.origin, "portal")
        self.assertEqual(request.state, "verified")
        self.assertEqual(request.identity_method, "portal")
        self.assertEqual(request.user_id, self.coach)
        mails = self.env["mail.mail"].search(
            [("model", "=", "avg.request"), ("res_id", "=", request.id)]
        )
        receipt = mails.filtered(lambda m: m.email_to == "anna.req@client.test")
        self.assertEqual(len(receipt), 1)
        self.assertIn("We answer by", receipt.body_html)
        page = self.url_open("/my/privacy")
        self.assertIn(request.name, page.text)
        self.assertIn(request.access_url, page.text)
        detail = self.url_open(request.access_url)
        self.assertEqual(detail.status_code, 200)
        self.assertIn(request.name, detail.text)
        # A second one of the same kind while the first is open: explained.
        response = self._post({"request_type": "erasure"})
        self.assertEqual(response.status_code, 400)
        self.assertIn("already have an open request", response.text)
        self.assertEqual(len(self._anna_requests()), 1)

    def test_bad_input_refused_nothing_created(self):
        self.authenticate("anna_req", "anna-req-pw")
        cases = [
            ({}, "Choose what you want"),
            ({"request_type": "hack"}, "Choose what you want"),
            ({"request_type": "restriction"}, "four grounds"),
            (
                {"request_type": "restriction", "restriction_ground": "x"},
                "four grounds",
            ),
            (
                {"request_type": "rectification", "rectification_wrong": "x"},
                "what is wrong",
            ),
            ({"request_type": "objection", "description": "x" * 5000}, "too long"),
            ({"request_type": "withdrawal", "consent_id": "abc"}, "own consents"),
        ]
        for values, message in cases:
            response = self._post(values)
            self.assertEqual(response.status_code, 400, values)
            self.assertIn(message, response.text, values)
        self.assertFalse(self._anna_requests())

    def test_restriction_with_ground(self):
        self.authenticate("anna_req", "anna-req-pw")
        self._post({"request_type": "restriction", "restriction_ground": "objection"})
        request = self._anna_requests()
        self.assertEqual(request.restriction_ground, "objection")

    def test_csrf_required(self):
        self.authenticate("anna_req", "anna-req-pw")
        response = self._post({"request_type": "erasure"}, with_csrf=False)
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self._anna_requests())

    def test_not_logged_in(self):
        self.authenticate(None, None)
        response = self.url_open(
            "/my/privacy/request",
            data={
                "request_type": "erasure",
                "csrf_token": http.Request.csrf_token(self),
            },
            allow_redirects=False,
        )
        self.assertIn(response.status_code, (302, 303))
        self.assertIn("/web/login", response.headers["Location"])

    def test_someone_elses_request_and_consent_refused(self):
        self.authenticate("anna_req", "anna-req-pw")
        for url in (
            f"/my/privacy/requests/{self.request_bert.id}",
            "/my/privacy/requests/999999999",
        ):
            response = self.url_open(url, allow_redirects=False)
            self.assertIn(response.status_code, (302, 303), url)
            self.assertEqual(response.headers["Location"].rsplit("/", 1)[-1], "my")
        bert_consent = self.env["avg.consent"].create(
            {
                "partner_id": self.bert.partner_id.id,
                "purpose": "dossier",
                "method": "signed_agreement",
                "text_version": "v1",
                "date_given": "2026-01-05",
            }
        )
        response = self._post(
            {"request_type": "withdrawal", "consent_id": str(bert_consent.id)}
        )
        self.assertEqual(response.status_code, 400)
        self.assertEqual(bert_consent.state, "given")
        page = self.url_open("/my/privacy")
        self.assertNotIn(self.request_bert.name, page.text)
        # Over RPC the record rule refuses too.
        with self.assertRaises(Exception) as caught:
            self.make_jsonrpc_request(
                "/web/dataset/call_kw",
                {
                    "model": "avg.request",
                    "method": "read",
                    "args": [[self.request_bert.id], ["name"]],
                    "kwargs": {},
                },
            )
        self.assertIn("AccessError", str(caught.exception))

    def test_csv_export(self):
        self.authenticate("anna_req", "anna-req-pw")
        response = self.url_open("/my/privacy/export.csv")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Content-Type"], "application/zip")
        files = open_protected_zip(response.content)
        names = set(files)
        self.assertTrue({"contact.csv", "dossiers.csv", "consents.csv"} <= names, names)
        sessions = list(
            csv.DictReader(
                io.StringIO(files["dossiers_sessions.csv"].decode("utf-8-sig"))
            )
        )
        self.assertEqual(sessions[0]["notes"], "ANNA-NOTITIE")
        self.assertEqual(sessions[0]["belongs_to"], self.dossier_anna.name)
        everything = b"".join(files.values())
        self.assertNotIn(b"BERT-", everything)

    def test_export_finds_all_that_privacy_lookup_finds(self):
        partner = self.anna.partner_id
        self.dossier_anna.message_post(body="Bericht", author_id=partner.id)
        self.env["avg.request"].create(
            {"partner_id": partner.id, "request_type": "access"}
        )
        company = self.env.company
        if not company.chart_template:
            self.env["account.chart.template"].try_loading(
                "generic_coa", company=company, install_demo=False
            )
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": "2026-02-01",
                "invoice_line_ids": [
                    (0, 0, {"name": "Sessie", "quantity": 1, "price_unit": 90})
                ],
            }
        )
        invoice.action_post()
        wizard = self.env["privacy.lookup.wizard"].create(
            {"name": partner.name, "email": partner.email}
        )
        wizard.action_lookup()
        found = {(line.res_model, line.res_id) for line in wizard.line_ids}
        self.assertIn(("account.move", invoice.id), found)
        self.assertIn(("coaching.dossier", self.dossier_anna.id), found)
        self.authenticate("anna_req", "anna-req-pw")
        data = protected_json(self.url_open("/my/privacy/export.json").content)
        exported = {(row["model"], row["id"]) for row in data["records"]}
        self.assertFalse(found - exported, "privacy_lookup finds more than the export")
        self.assertEqual(len(data["invoices"]), 1)
        self.assertEqual(data["requests"][0]["request"], "Access to my data (art. 15)")
        # Nothing of Bert's.
        bert_records = {
            ("coaching.dossier", self.dossier_bert.id),
            ("avg.request", self.request_bert.id),
            ("res.partner", self.bert.partner_id.id),
        }
        self.assertFalse(exported & bert_records)

    def test_export_leaves_out_a_namesake(self):
        """privacy_lookup's own query (for the privacy manager's review) takes
        every contact with her name as hers; the collector builds on it but keeps
        only what links to her contact or holds her address. Another client with
        the same name and another address is not her: her records stay out of
        the export."""
        namesake = self.env["res.partner"].create(
            {
                "name": self.anna.partner_id.name,
                "email": "andere.anna@client.test",
                "is_coaching_client": True,
                "coaching_birthdate": "1970-01-01",
            }
        )
        self.avg_consent(namesake)
        dossier = self.avg_dossier(namesake, self.coach, help_question="ANDERE-ANNA")
        wizard = self.env["privacy.lookup.wizard"].create(
            {"name": self.anna.partner_id.name, "email": self.anna.partner_id.email}
        )
        wizard.action_lookup()
        found = {(line.res_model, line.res_id) for line in wizard.line_ids}
        self.assertIn(("coaching.dossier", dossier.id), found)
        self.authenticate("anna_req", "anna-req-pw")
        data = protected_json(self.url_open("/my/privacy/export.json").content)
        exported = {(row["model"], row["id"]) for row in data["records"]}
        self.assertNotIn(("coaching.dossier", dossier.id), exported)
        self.assertNotIn(("res.partner", namesake.id), exported)
        self.assertNotIn("ANDERE-ANNA", str(data))

    def test_export_takes_her_address_not_a_longer_one(self):
        """A record privacy_lookup finds by her e-mail address alone (she asked
        for no more mailings before she was a client) is hers; one whose address
        only contains hers ("joanna.req@..." holds "anna.req@...") is not."""
        Blacklist = self.env["mail.blacklist"].sudo()
        hers = Blacklist.create({"email": "Anna.Req@client.test"})
        longer = Blacklist.create({"email": "joanna.req@client.test"})
        wizard = self.env["privacy.lookup.wizard"].create(
            {"name": self.anna.partner_id.name, "email": self.anna.partner_id.email}
        )
        wizard.action_lookup()
        found = {(line.res_model, line.res_id) for line in wizard.line_ids}
        self.assertIn(("mail.blacklist", hers.id), found)
        self.assertIn(("mail.blacklist", longer.id), found)
        self.authenticate("anna_req", "anna-req-pw")
        data = protected_json(self.url_open("/my/privacy/export.json").content)
        exported = {(row["model"], row["id"]) for row in data["records"]}
        self.assertIn(("mail.blacklist", hers.id), exported)
        self.assertNotIn(("mail.blacklist", longer.id), exported)

    def test_exports_ignore_other_ids(self):
        """There is no id to change in an export URL: extra parameters naming
        someone else change nothing."""
        self.authenticate("anna_req", "anna-req-pw")
        bert = self.bert.partner_id.id
        for url in (
            f"/my/privacy/export.json?partner_id={bert}&id={bert}",
            f"/my/privacy/export.pdf?partner_id={bert}&dossier_id={self.dossier_bert.id}",
        ):
            response = self.url_open(url)
            self.assertEqual(response.status_code, 200, url)
            self.assertNotIn(b"BERT-", response.content, url)
        data = protected_json(
            self.url_open(f"/my/privacy/export.json?partner_id={bert}").content
        )
        self.assertEqual(data["contact"]["name"], "Anna Verzoekster Fictief")
        files = open_protected_zip(
            self.url_open(f"/my/privacy/export.csv?partner_id={bert}").content
        )
        everything = b"".join(files.values())
        self.assertIn(b"ANNA-NOTITIE", everything)
        self.assertNotIn(b"BERT-", everything)
