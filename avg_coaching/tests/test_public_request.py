import re
from html import unescape
from urllib.parse import unquote

from freezegun import freeze_time

from odoo import http
from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestPublicRequestForm(HttpCase):
    """The request form for people without a portal account, over real HTTP."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.client = cls.env["res.partner"].create(
            {
                "name": "Publieke Cliënt Fictief",
                "email": "publiek@client.test",
                "is_coaching_client": True,
            }
        )

    def setUp(self):
        super().setUp()
        self.authenticate(None, None)

    def _send(self, **values):
        data = {
            "name": "Iemand Fictief",
            "email": "publiek@client.test",
            "request_type": "access",
            "description": "Ik wil mijn gegevens zien",
            "csrf_token": http.Request.csrf_token(self),
        }
        data.update(values)
        return self.url_open("/privacy/request/send", data=data)

    def _confirmation_mails(self, email):
        return self.env["mail.mail"].search(
            [("email_to", "=", email), ("subject", "ilike", "Confirm")]
        )

    def _link(self, mail):
        match = re.search(
            r'href="([^"]*/privacy/request/confirm\?token=[^"]+)"', mail.body_html
        )
        self.assertTrue(match, mail.body_html)
        return unescape(match.group(1)).split("/privacy/", 1)[1]

    def _requests(self):
        return self.env["avg.request"].search(
            [("origin", "=", "public"), ("public_token_hash", "!=", False)]
        )

    def test_nothing_created_until_confirmed(self):
        login = self.url_open("/web/login")
        self.assertIn('href="/privacy/request"', login.text)
        form = self.url_open("/privacy/request")
        self.assertEqual(form.status_code, 200)
        self.assertIn("csrf_token", form.text)
        response = self._send()
        self.assertEqual(response.status_code, 200)
        self.assertIn("If the address is valid", response.text)
        self.assertFalse(self._requests())
        mail = self._confirmation_mails("publiek@client.test")
        self.assertEqual(len(mail), 1)
        # The request travels encrypted: the mail does not hold its text.
        self.assertNotIn("Ik wil mijn gegevens zien", mail.body_html)
        link = self._link(mail)
        page = self.url_open(f"/privacy/{link}")
        self.assertEqual(page.status_code, 200)
        self.assertFalse(self._requests(), "opening the link does not confirm it")
        token = unquote(link.split("token=", 1)[1])
        confirm = self.url_open(
            "/privacy/request/confirm",
            data={"token": token, "csrf_token": http.Request.csrf_token(self)},
        )
        self.assertEqual(confirm.status_code, 200)
        request = self._requests()
        self.assertEqual(len(request), 1)
        self.assertIn(request.name, confirm.text)
        self.assertEqual(request.requester_email, "publiek@client.test")
        self.assertEqual(request.partner_id, self.client)
        self.assertEqual(request.state, "received", "identity still to be verified")
        self.assertEqual(request.description, "Ik wil mijn gegevens zien")
        # A second confirmation creates nothing more.
        again = self.url_open(
            "/privacy/request/confirm",
            data={"token": token, "csrf_token": http.Request.csrf_token(self)},
        )
        self.assertEqual(again.status_code, 200)
        self.assertEqual(len(self._requests()), 1)

    def test_answers_do_not_reveal_clients(self):
        known = self._send(email="publiek@client.test")
        unknown = self._send(email="niemand@nergens.test")

        def strip(text):
            # The CSRF token differs per response; nothing else may.
            return re.sub(r"[0-9a-f]{40}o[0-9]+", "", text)

        self.assertEqual(known.status_code, unknown.status_code)
        self.assertEqual(strip(known.text), strip(unknown.text))
        self.assertEqual(len(self._confirmation_mails("niemand@nergens.test")), 1)

    def test_bad_and_expired_tokens(self):
        for token in ("", "avg1:AAAA", "x" * 30000, "avg1:" + "A" * 100):
            response = self.url_open(
                "/privacy/request/confirm",
                data={"token": token, "csrf_token": http.Request.csrf_token(self)},
            )
            self.assertEqual(response.status_code, 404)
        with freeze_time("2026-05-01 10:00:00"):
            self._send(email="laat@client.test")
        mail = self._confirmation_mails("laat@client.test")
        token = self._link(mail).split("token=", 1)[1]

        with freeze_time("2026-05-02 10:00:01"):
            response = self.url_open(
                "/privacy/request/confirm",
                data={
                    "token": unquote(token),
                    "csrf_token": http.Request.csrf_token(self),
                },
            )
        self.assertEqual(response.status_code, 404)
        self.assertFalse(self._requests())

    def test_invalid_input_refused(self):
        for values, message in (
            ({"email": "geen-adres"}, "valid e-mail"),
            ({"name": ""}, "valid e-mail"),
            ({"request_type": "withdrawal"}, "Choose what"),
            ({"description": "x" * 5000}, "too long"),
        ):
            response = self._send(**values)
            self.assertEqual(response.status_code, 400, values)
            self.assertIn(message, response.text)
        self.assertFalse(
            self.env["mail.mail"].search([("subject", "ilike", "Confirm your privacy")])
        )

    def test_csrf_required(self):
        response = self.url_open(
            "/privacy/request/send",
            data={"name": "x", "email": "a@b.test", "request_type": "access"},
        )
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self._confirmation_mails("a@b.test"))
        self._send(email="csrf@client.test")
        token = unquote(
            self._link(self._confirmation_mails("csrf@client.test")).split("token=")[1]
        )
        response = self.url_open("/privacy/request/confirm", data={"token": token})
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self._requests())

    def test_rate_limited(self):
        self.env["ir.config_parameter"].set_param(
            "avg_coaching.public_request_limit_email", "2"
        )
        for _i in range(3):
            response = self._send(email="veel@client.test")
            self.assertEqual(response.status_code, 200)
        # The address limit is silent: same answer, no third mail.
        self.assertEqual(len(self._confirmation_mails("veel@client.test")), 2)
        statuses = [
            self._send(email=f"ander{i}@client.test").status_code for i in range(6)
        ]
        self.assertIn(429, statuses, "one network address is limited")
