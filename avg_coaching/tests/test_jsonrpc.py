import json

from odoo.tests import HttpCase, get_db_name, new_test_user, tagged
from odoo.tests.common import JsonRpcException

from .common import ADMINISTRATION, COACH, new_consent


@tagged("post_install", "-at_install")
class TestJsonRpc(HttpCase):
    """The bookkeeper gets no dossier over the web client's RPC nor over /jsonrpc."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.coach = new_test_user(
            cls.env,
            "rpc_coach",
            groups=f"base.group_user,{COACH}",
            password="rpc-coach-pw",
        )
        cls.bookkeeper = new_test_user(
            cls.env,
            "rpc_bookkeeper",
            groups="base.group_user,base.group_partner_manager,base.group_allow_export,"
            f"{ADMINISTRATION}",
            password="rpc-bookkeeper-pw",
        )
        cls.client_partner = cls.env["res.partner"].create(
            {
                "name": "RPC Testcliënt",
                "is_coaching_client": True,
                "coaching_birthdate": "1990-01-01",
            }
        )
        new_consent(cls.env, cls.client_partner)
        cls.dossier = cls.env["coaching.dossier"].create(
            {
                "client_id": cls.client_partner.id,
                "coach_id": cls.coach.id,
                "help_question": "RPC-hulpvraag",
            }
        )

    def _call_kw(self, model, method, args, kwargs=None):
        return self.make_jsonrpc_request(
            "/web/dataset/call_kw",
            {"model": model, "method": method, "args": args, "kwargs": kwargs or {}},
        )

    def _external(self, login, password, model, method, args, kwargs=None):
        """A call as an external JSON-RPC client makes it (/jsonrpc, execute_kw)."""
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {
                "service": "object",
                "method": "execute_kw",
                "args": [
                    get_db_name(),
                    self._uid(login, password),
                    password,
                    model,
                    method,
                    args,
                    kwargs or {},
                ],
            },
        }
        response = self.url_open(
            "/jsonrpc",
            data=json.dumps(payload),
            headers={"Content-Type": "application/json"},
        )
        return response.json()

    def _uid(self, login, password):
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {
                "service": "common",
                "method": "authenticate",
                "args": [get_db_name(), login, password, {}],
            },
        }
        response = self.url_open(
            "/jsonrpc",
            data=json.dumps(payload),
            headers={"Content-Type": "application/json"},
        )
        return response.json()["result"]

    def test_coach_gets_her_dossiers(self):
        self.authenticate("rpc_coach", "rpc-coach-pw")
        rows = self._call_kw(
            "coaching.dossier",
            "search_read",
            [[]],
            {"fields": ["name", "help_question"]},
        )
        self.assertEqual([r["id"] for r in rows], [self.dossier.id])
        self.assertEqual(rows[0]["help_question"], "RPC-hulpvraag")
        answer = self._external(
            "rpc_coach",
            "rpc-coach-pw",
            "coaching.dossier",
            "search_read",
            [[]],
            {"fields": ["help_question"]},
        )
        self.assertEqual(answer["result"][0]["help_question"], "RPC-hulpvraag")

    def test_bookkeeper_refused_over_web_rpc(self):
        self.authenticate("rpc_bookkeeper", "rpc-bookkeeper-pw")
        for model, method, args, kwargs in (
            ("coaching.dossier", "search_read", [[]], {"fields": ["help_question"]}),
            ("coaching.dossier", "read", [[self.dossier.id], ["help_question"]], {}),
            ("coaching.session", "search_read", [[]], {}),
            ("avg.consent", "search_read", [[]], {}),
            (
                "coaching.dossier",
                "export_data",
                [[self.dossier.id], ["help_question"]],
                {},
            ),
            (
                "res.partner",
                "read",
                [[self.client_partner.id], ["coaching_birthdate"]],
                {},
            ),
            (
                "res.partner",
                "read",
                [[self.client_partner.id], ["coaching_dossier_ids"]],
                {},
            ),
        ):
            with self.assertRaises(JsonRpcException, msg=f"{model}.{method}") as caught:
                self._call_kw(model, method, args, kwargs)
            self.assertEqual(str(caught.exception), "odoo.exceptions.AccessError")
        # Contacts stay open to her.
        rows = self._call_kw(
            "res.partner", "read", [[self.client_partner.id], ["name", "email"]]
        )
        self.assertEqual(rows[0]["name"], "RPC Testcliënt")

    def test_bookkeeper_refused_over_external_jsonrpc(self):
        answer = self._external(
            "rpc_bookkeeper",
            "rpc-bookkeeper-pw",
            "coaching.dossier",
            "search_read",
            [[]],
            {"fields": ["help_question"]},
        )
        self.assertNotIn("result", answer)
        self.assertEqual(answer["error"]["data"]["name"], "odoo.exceptions.AccessError")
        self.assertNotIn("RPC-hulpvraag", json.dumps(answer))
