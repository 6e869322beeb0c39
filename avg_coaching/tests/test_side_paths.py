"""The side paths of issue 12, tried over real HTTP as the user who must be
refused: a second coach, the bookkeeper, the administrator."""

import json
import time

from odoo import http
from odoo.tests import new_test_user, tagged
from odoo.tools import SQL

from .common import new_consent
from .http_common import AvgHttpCase

PASSWORD = "side-Passw0rd!"
TOTP = "JBSWY3DPEHPK3PXPJBSWY3DP"


@tagged("post_install", "-at_install")
class TestSidePaths(AvgHttpCase):
    avg_read_as_maintenance = True
    avg_two_factor_required = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.coach = cls.avg_new_coach("sp_coach", password=PASSWORD)
        cls.coach2 = cls.avg_new_coach("sp_coach2", password=PASSWORD)
        cls.bookkeeper = new_test_user(
            env,
            "sp_books",
            "base.group_user,avg_coaching.group_avg_administration",
            password=PASSWORD,
        )
        cls.admin = new_test_user(
            env, "sp_admin", "base.group_user,base.group_system", password=PASSWORD
        )
        for user in (cls.coach, cls.coach2):
            user.sudo().totp_secret = TOTP
        company = env.company
        if not company.chart_template:
            env["account.chart.template"].try_loading(
                "generic_coa", company=company, install_demo=False
            )
        cls.client_partner = env["res.partner"].create(
            {
                "name": "Zijpad Cliënt Fictief",
                "is_coaching_client": True,
                "coaching_birthdate": "1961-07-23",
                "coaching_employer": "SPEMPLOYER",
            }
        )
        new_consent(env, cls.client_partner)
        cls.dossier = env["coaching.dossier"].create(
            {
                "client_id": cls.client_partner.id,
                "coach_id": cls.coach.id,
                "help_question": "SPHELPQUESTION",
            }
        )
        # As when she creates it herself: its coach follows her dossier.
        cls.dossier.message_subscribe(partner_ids=cls.coach.partner_id.ids)
        env["coaching.session"].create(
            {"dossier_id": cls.dossier.id, "date": "2026-01-10", "notes": "SPNOTE"}
        )
        wizard = (
            env["coaching.invoice.wizard"]
            .with_user(cls.coach)
            .create({"dossier_id": cls.dossier.id, "invoice_date": "2026-02-01"})
        )
        cls.wizard = wizard
        cls.move = env["account.move"].browse(wizard.action_create_invoice()["res_id"])

    def _login(self, user, totp=True):
        self.avg_login(user, PASSWORD, two_factor=totp)

    def _rpc(self, model, method, args, **kwargs):
        return json.loads(self.avg_call_kw(model, method, args, kwargs))

    def test_contact_fields_only_for_her_coach(self):
        fields = ["coaching_birthdate", "coaching_employer", "avg_last_contact"]
        self._login(self.coach)
        mine = self._rpc("res.partner", "read", [self.client_partner.ids, fields])
        self.assertEqual(mine["result"][0]["coaching_birthdate"], "1961-07-23")
        self.assertEqual(mine["result"][0]["coaching_employer"], "SPEMPLOYER")
        self._login(self.coach2)
        other = self._rpc("res.partner", "read", [self.client_partner.ids, fields])
        self.assertEqual(
            other["result"][0],
            {
                "id": self.client_partner.id,
                "coaching_birthdate": False,
                "coaching_employer": False,
                "avg_last_contact": False,
            },
        )
        found = self._rpc(
            "res.partner",
            "search_read",
            [[("coaching_birthdate", "=", "1961-07-23")], ["name"]],
        )
        self.assertEqual(found["result"], [], "nor found by searching on it")
        for user in (self.bookkeeper, self.admin):
            self._login(user)
            for method, args in (
                ("read", [self.client_partner.ids, fields]),
                ("export_data", [self.client_partner.ids, fields]),
                ("search_read", [[("coaching_employer", "=", "SPEMPLOYER")], ["name"]]),
            ):
                answer = self._rpc("res.partner", method, args)
                self.assertIn("error", answer, f"{user.login} {method}")
                self.assertNotIn("SPEMPLOYER", json.dumps(answer["error"]["message"]))
                self.assertNotIn("1961-07-23", json.dumps(answer["error"]["message"]))

    def test_invoice_leads_to_its_dossier_only_for_its_coach(self):
        self._login(self.coach)
        mine = self._rpc(
            "account.move", "read", [self.move.ids, ["coaching_dossier_id"]]
        )
        self.assertEqual(mine["result"][0]["coaching_dossier_id"][0], self.dossier.id)
        self._login(self.coach2)
        other = self._rpc(
            "account.move", "read", [self.move.ids, ["coaching_dossier_id", "name"]]
        )
        self.assertFalse(other["result"][0]["coaching_dossier_id"])
        self.assertNotIn(self.dossier.name, json.dumps(other))
        found = self._rpc(
            "account.move",
            "search_read",
            [[("coaching_dossier_id", "=", self.dossier.id)], ["name"]],
        )
        self.assertEqual(found["result"], [])
        self._login(self.bookkeeper)
        books = self._rpc(
            "account.move", "read", [self.move.ids, ["coaching_dossier_id"]]
        )
        self.assertIn("error", books)

    def test_wizards_and_followers_are_her_own(self):
        self._login(self.coach2)
        wizards = self._rpc(
            "coaching.invoice.wizard", "search_read", [[], ["dossier_id", "partner_id"]]
        )
        self.assertEqual(wizards["result"], [])
        self.assertIn(
            "error",
            self._rpc(
                "coaching.invoice.wizard", "read", [self.wizard.ids, ["dossier_id"]]
            ),
        )
        for user in (self.coach2, self.bookkeeper):
            self._login(user)
            followers = self._rpc(
                "mail.followers",
                "search_read",
                [[("res_model", "=", "coaching.dossier")], ["res_id", "partner_id"]],
            )
            self.assertFalse(
                [f for f in followers["result"] if f["res_id"] == self.dossier.id],
                user.login,
            )
        self._login(self.coach)
        followers = self._rpc(
            "mail.followers",
            "search_read",
            [
                [
                    ("res_model", "=", "coaching.dossier"),
                    ("res_id", "=", self.dossier.id),
                ],
                ["partner_id"],
            ],
        )
        self.assertEqual(
            [f["partner_id"][0] for f in followers["result"]], self.coach.partner_id.ids
        )

    def test_no_free_chatter_on_a_dossier(self):
        """Refused as a note, and with the context the addon's own notes once
        used (a caller can send any JSON value in it), over the chatter's route
        and over call_kw."""
        self._login(self.coach)
        for context in (None, {"avg_system_message": True}):
            params = {
                "thread_model": "coaching.dossier",
                "thread_id": self.dossier.id,
                "post_data": {
                    "body": "SPCHATTER gezondheid",
                    "message_type": "comment",
                    "subtype_xmlid": "mail.mt_note",
                },
            }
            if context:
                params["context"] = context
            answer = self.url_open(
                "/mail/message/post",
                data=json.dumps({"jsonrpc": "2.0", "method": "call", "params": params}),
                headers={"Content-Type": "application/json"},
            ).json()
            self.assertIn("error", answer, context)
            self.assertIn("encrypted", answer["error"]["data"]["message"])
        answer = self.url_open(
            "/web/dataset/call_kw/coaching.dossier/message_post",
            data=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "method": "call",
                    "params": {
                        "model": "coaching.dossier",
                        "method": "message_post",
                        "args": [[self.dossier.id]],
                        "kwargs": {
                            "body": "SPCHATTER gezondheid",
                            "message_type": "comment",
                            "context": {"avg_system_message": True},
                        },
                    },
                }
            ),
            headers={"Content-Type": "application/json"},
        ).json()
        self.assertIn("error", answer)
        self.assertIn("encrypted", answer["error"]["data"]["message"])
        self.env.flush_all()
        for table, column in (
            ("mail_message", "body"),
            ("mail_mail", "body_html"),
            ("bus_bus", "message"),
        ):
            self.env.cr.execute(
                SQL(
                    "SELECT count(*) FROM %s WHERE %s::text LIKE %s",
                    SQL.identifier(table),
                    SQL.identifier(column),
                    "%SPCHATTER%",
                )
            )
            self.assertEqual(self.env.cr.fetchone()[0], 0, table)

    def test_two_factor_and_idle_logout_over_http(self):
        # Without a two-factor login the coach's own dossier stays closed.
        self._login(self.coach, totp=False)
        self.coach.sudo().totp_secret = False
        answer = self._rpc(
            "coaching.dossier", "read", [self.dossier.ids, ["help_question"]]
        )
        self.assertIn("two-factor", answer["error"]["data"]["message"])
        self.assertNotIn("SPHELPQUESTION", json.dumps(answer))
        self.coach.sudo().totp_secret = TOTP
        self._login(self.coach)
        answer = self._rpc(
            "coaching.dossier", "read", [self.dossier.ids, ["help_question"]]
        )
        self.assertEqual(answer["result"][0]["help_question"], "SPHELPQUESTION")
        # Idle longer than the practice allows: logged out on the next request.
        self.env["ir.config_parameter"].set_param(
            "avg_coaching.idle_logout_minutes", "5"
        )
        self.session["avg_last_seen"] = time.time() - 6 * 60
        http.root.session_store.save(self.session)
        answer = self._rpc(
            "coaching.dossier", "read", [self.dossier.ids, ["help_question"]]
        )
        self.assertEqual(
            answer["error"]["data"]["name"], "odoo.http.SessionExpiredException"
        )
        self.assertNotIn("SPHELPQUESTION", json.dumps(answer))
        # Active within the limit: still logged in.
        self._login(self.coach)
        self.session["avg_last_seen"] = time.time() - 4 * 60
        http.root.session_store.save(self.session)
        answer = self._rpc(
            "coaching.dossier", "read", [self.dossier.ids, ["help_question"]]
        )
        self.assertEqual(answer["result"][0]["help_question"], "SPHELPQUESTION")
