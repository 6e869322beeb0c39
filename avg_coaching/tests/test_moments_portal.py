import json

from odoo import http
from odoo.tests import tagged

from .common import agree_document_password, new_portal_client, protected_json
from .http_common import AvgPortalCase


@tagged("post_install", "-at_install")
class TestMomentsPortal(AvgPortalCase):
    """/my/moments over real HTTP: a client writes and edits her own moments while
    her trajectory is active; nobody else's, never after it closed; CSRF on every
    form."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.coach = cls.avg_new_coach("moments_t_coach")
        cls.anna = new_portal_client(cls.env, "anna_moments", "anna-moments-pw")
        cls.bert = new_portal_client(cls.env, "bert_moments", "bert-moments-pw")
        for user in (cls.anna, cls.bert):
            cls.avg_consent(
                user.partner_id, method="signed_form", text_version="Toestemming v1"
            )
        anna, bert = cls.anna.partner_id, cls.bert.partner_id
        cls.dossier_anna = cls.avg_dossier(anna, cls.coach, state="active")
        cls.dossier_bert = cls.avg_dossier(bert, cls.coach, state="active")
        cls.moment_bert = cls.env["coaching.moment"].create(
            {"dossier_id": cls.dossier_bert.id, "text": "BERT-MOMENT"}
        )
        agree_document_password(cls.env, cls.anna.partner_id)

    def _post(self, url, data, token=True):
        if token:
            data = dict(data, csrf_token=http.Request.csrf_token(self))
        return self.url_open(url, data=data, allow_redirects=False)

    def _anna_moments(self):
        return self.env["coaching.moment"].search(
            [("dossier_id", "=", self.dossier_anna.id)]
        )

    def test_write_and_edit_her_own_moments(self):
        self.authenticate("anna_moments", "anna-moments-pw")
        home = self.url_open("/my")
        self.assertIn("/my/moments", home.text)
        response = self._post(
            "/my/moments/new",
            {"dossier_id": self.dossier_anna.id, "text": "Op de fiets in de regen"},
        )
        self.assertEqual(response.status_code, 303)
        self.assertIn("/my/moments?message=added", response.headers["Location"])
        moment = self._anna_moments()
        self.assertEqual(len(moment), 1)
        self.assertEqual(moment.text, "Op de fiets in de regen")
        self.assertEqual(moment.author, "client")
        self.assertTrue(moment.sudo().text_enc.startswith("avg1:"))
        page = self.url_open("/my/moments")
        self.assertEqual(page.status_code, 200)
        self.assertIn("Op de fiets in de regen", page.text)
        self.assertIn(self.dossier_anna.name, page.text)
        self.assertNotIn("BERT-MOMENT", page.text)
        self.assertNotIn(self.dossier_bert.name, page.text)
        edit = self.url_open(f"/my/moments/{moment.id}")
        self.assertEqual(edit.status_code, 200)
        self.assertIn("Op de fiets in de regen", edit.text)
        response = self._post(
            f"/my/moments/{moment.id}",
            {"text": "Op de fiets in de stromende regen", "sequence": "3"},
        )
        self.assertIn("message=saved", response.headers["Location"])
        moment.invalidate_recordset()
        self.assertEqual(moment.text, "Op de fiets in de stromende regen")
        self.assertEqual(moment.sequence, 3)
        # The counter on /my.
        counters = self.make_jsonrpc_request(
            "/my/counters", {"counters": ["zkm_moment_count"]}
        )
        self.assertEqual(counters["zkm_moment_count"], 1)

    def test_refusals_are_shown_and_nothing_saved(self):
        self.authenticate("anna_moments", "anna-moments-pw")
        response = self._post(
            "/my/moments/new",
            {"dossier_id": self.dossier_anna.id, "text": "Mijn BSN: 111222333"},
        )
        self.assertEqual(response.status_code, 422)
        self.assertIn("citizen service number", response.text)
        self.assertFalse(self._anna_moments())
        moment = self.env["coaching.moment"].create(
            {"dossier_id": self.dossier_anna.id, "text": "Eerste versie"}
        )
        response = self._post(f"/my/moments/{moment.id}", {"text": "   "})
        self.assertEqual(response.status_code, 422)
        self.assertIn("cannot be empty", response.text)
        moment.invalidate_recordset()
        self.assertEqual(moment.text, "Eerste versie")

    def test_another_clients_moments_refused(self):
        self.authenticate("anna_moments", "anna-moments-pw")
        for moment_id in (self.moment_bert.id, 999999999):
            with self.subTest(moment_id=moment_id):
                page = self.url_open(f"/my/moments/{moment_id}", allow_redirects=False)
                self.assertEqual(page.status_code, 303)
                self.assertTrue(page.headers["Location"].endswith("/my"))
                response = self._post(f"/my/moments/{moment_id}", {"text": "Van Anna"})
                self.assertTrue(response.headers["Location"].endswith("/my"))
        response = self._post(
            "/my/moments/new",
            {"dossier_id": self.dossier_bert.id, "text": "In Berts dossier"},
        )
        self.assertTrue(response.headers["Location"].endswith("/my"))
        self.moment_bert.invalidate_recordset()
        self.assertEqual(self.moment_bert.text, "BERT-MOMENT")
        self.assertEqual(self.dossier_bert.moment_ids, self.moment_bert)
        # Over JSON-RPC too: the record rule, not the controller, decides.
        found = self.make_jsonrpc_request(
            "/web/dataset/call_kw",
            {
                "model": "coaching.moment",
                "method": "search_read",
                "args": [[]],
                "kwargs": {"fields": ["text"]},
            },
        )
        self.assertEqual(found, [])
        with self.assertRaises(Exception) as caught:
            self.make_jsonrpc_request(
                "/web/dataset/call_kw",
                {
                    "model": "coaching.moment",
                    "method": "write",
                    "args": [[self.moment_bert.id], {"text": "Van Anna"}],
                    "kwargs": {},
                },
            )
        self.assertIn("AccessError", str(caught.exception))
        self.moment_bert.invalidate_recordset()
        self.assertEqual(self.moment_bert.text, "BERT-MOMENT")

    def test_not_after_the_trajectory_closed(self):
        moment = self.env["coaching.moment"].create(
            {"dossier_id": self.dossier_anna.id, "text": "Voor de afsluiting"}
        )
        self.dossier_anna.action_close()
        self.authenticate("anna_moments", "anna-moments-pw")
        page = self.url_open("/my/moments")
        self.assertEqual(page.status_code, 200)
        self.assertNotIn("Voor de afsluiting", page.text)
        self.assertNotIn("/my/moments/new", page.text)
        self.assertIn("/my/privacy", page.text)
        edit = self.url_open(f"/my/moments/{moment.id}", allow_redirects=False)
        self.assertTrue(edit.headers["Location"].endswith("/my"))
        response = self._post(f"/my/moments/{moment.id}", {"text": "Erna gewijzigd"})
        self.assertTrue(response.headers["Location"].endswith("/my"))
        response = self._post(
            "/my/moments/new",
            {"dossier_id": self.dossier_anna.id, "text": "Erna toegevoegd"},
        )
        self.assertTrue(response.headers["Location"].endswith("/my"))
        moment.invalidate_recordset()
        self.assertEqual(moment.text, "Voor de afsluiting")
        self.assertEqual(self._anna_moments(), moment)
        # Her access export still holds them (art. 15).
        export = protected_json(self.url_open("/my/privacy/export.json").content)
        self.assertIn("Voor de afsluiting", json.dumps(export, ensure_ascii=False))

    def test_csrf_required(self):
        moment = self.env["coaching.moment"].create(
            {"dossier_id": self.dossier_anna.id, "text": "Origineel"}
        )
        self.authenticate("anna_moments", "anna-moments-pw")
        response = self._post(
            "/my/moments/new",
            {"dossier_id": self.dossier_anna.id, "text": "Zonder token"},
            token=False,
        )
        self.assertEqual(response.status_code, 400)
        response = self._post(
            f"/my/moments/{moment.id}", {"text": "Zonder token"}, token=False
        )
        self.assertEqual(response.status_code, 400)
        response = self._post(
            f"/my/moments/{moment.id}",
            {"text": "Vals token", "csrf_token": "0" * 40 + "o9999999999"},
            token=False,
        )
        self.assertEqual(response.status_code, 400)
        moment.invalidate_recordset()
        self.assertEqual(moment.text, "Origineel")
        self.assertEqual(self._anna_moments(), moment)

    def test_not_logged_in_is_sent_to_login(self):
        response = self.url_open("/my/moments", allow_redirects=False)
        self.assertIn(response.status_code, (302, 303))
        self.assertIn("/web/login", response.headers["Location"])
