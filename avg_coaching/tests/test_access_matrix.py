"""The access matrix, generated from the registry and the routing map.

Every model, report and controller route of the addon, and Odoo's generic data
routes, are tried over real HTTP as every role, with content planted that a
refused answer must not contain. What each role may see is declared below; a
model, report or route that is not declared fails the test, so that the next one
cannot slip through unseen.
"""

import base64
import json

from odoo import http
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import agree_document_password, new_consent, open_protected_zip
from .http_common import AvgHttpCase

ROLES = (
    "coach",
    "coach2",
    "privacy_manager",
    "bookkeeper",
    "admin",
    "client",
    "other_client",
    "public",
)
# Planted content, by the roles that may read it. Over RPC the client reads only
# her moments (the portal rule); her exports give her all of it.
MARKERS = {
    "MXHELPQUESTION": {"coach"},
    "MXSESSIONNOTE": {"coach"},
    "MXSPECIALDETAIL": {"coach"},
    "MXMOMENTTEXT": {"coach", "client"},
    "MXDOCUMENTBODY": {"coach"},
    "MXINSURERDETAIL": {"coach"},
    "MXEMPLOYERNAME": {"coach", "privacy_manager"},
    "MXATTACHBODY": {"coach"},
}
# Through the client's own exports (portal routes and her access export).
OWN_EXPORT = {"client"}

# Every model of the addon: what it holds.
#   content: encrypted dossier content (the read gate decides)
#   client: a client's contact data or her requests/consents (record rules)
#   register: the practice's accountability registers (no client content)
#   technical: no personal content to show
MODELS = {
    "coaching.dossier": "content",
    "coaching.session": "content",
    "coaching.document": "content",
    "coaching.special.data": "content",
    "coaching.moment": "content",
    "coaching.moment.transfer": "content",
    "coaching.insurer.disclosure": "content",
    "coaching.client.secret": "content",
    "coaching.dossier.part": "technical",
    "coaching.invoice.wizard": "client",
    "coaching.protected.document.wizard": "client",
    "avg.information.given.wizard": "client",
    "avg.request": "client",
    "avg.request.decision": "client",
    "avg.request.recipient": "client",
    "avg.request.throttle": "technical",
    "avg.consent": "client",
    "avg.access.log": "client",
    "avg.access.gate": "technical",
    "avg.gated.report": "technical",
    "avg.content.chatter": "technical",
    "avg.data.key": "technical",
    "avg.deletion.log": "technical",
    "avg.encrypted.mixin": "technical",
    "avg.evidence.mixin": "technical",
    "avg.append.only.mixin": "technical",
    "avg.erasure": "technical",
    "base": "technical",
    # Extended for the BSN guard (chatter, attachment names); a message from
    # or to a person also moves her last-contact date on (retention).
    "mail.message": "client",
    "ir.attachment": "client",
    "avg.subject.data": "technical",
    "avg.retention.policy": "register",
    "avg.retention.preview": "register",
    "avg.retention.preview.line": "register",
    "avg.processing.activity": "register",
    "avg.processing.recipient": "register",
    "avg.processor.agreement": "register",
    "avg.breach": "register",
    "avg.breach.notification": "register",
    # The privacy manager's set-up checklist (issue 17): the practice's state.
    "avg.setup": "register",
    "avg.information.notice": "client",
    "res.partner": "client",
    # Extended so that coaches land in Coaching (their home action), and with
    # the one place that names the privacy manager.
    "res.users": "technical",
    "account.move": "client",
    "account.move.line": "client",
    "res.config.settings": "technical",
    "ir.http": "technical",
    "ir.binary": "technical",
    # Extended to write the bottom line (practice, date, page) on the addon's
    # PDFs: no data of its own.
    "ir.actions.report": "technical",
    # Odoo's own tools the addon guards (erasure path or refusal, issue 13).
    "privacy.lookup.wizard.line": "client",
    "base.partner.merge.automatic.wizard": "client",
    # Extended so that a mass e-mail skips the contacts whose upheld objection
    # stops messages to them (art. 21): no data of its own.
    "mail.compose.message": "technical",
    # Report models: each checks its records (and asks the read gate) before
    # rendering; tried through /report below.
    "report.avg_coaching.avg_access_export_report": "technical",
    "report.avg_coaching.coaching_dossier_report": "technical",
    "report.avg_coaching.coaching_session_report": "technical",
    "report.avg_coaching.report_avg_register": "technical",
    "report.avg_coaching.report_avg_breach": "technical",
    "report.avg_coaching.report_avg_information_notice": "technical",
    "report.avg_coaching.report_coaching_dossier_client_information": "technical",
}
# Every report of the addon: (model of the planted record, roles that may print
# the planted content with it).
REPORTS = {
    # The client gets her export only through the protected portal download.
    "avg_coaching.avg_access_export_report": ("res.partner", {"coach"}),
    "avg_coaching.coaching_dossier_report": ("coaching.dossier", {"coach"}),
    "avg_coaching.coaching_session_report": ("coaching.session", {"coach"}),
    "avg_coaching.report_avg_register": ("avg.processing.activity", set()),
    "avg_coaching.report_avg_breach": ("avg.breach", set()),
    "avg_coaching.report_avg_information_notice": ("avg.information.notice", set()),
    "avg_coaching.report_coaching_dossier_client_information": (
        "coaching.dossier",
        set(),
    ),
}
# Every route of the addon: how to call it in this test (GET), and who gets the
# client's own content from it. None: a POST form, tried by its own tests (CSRF
# and refusals); here only its GET answer is checked.
ROUTES = {
    "/my/privacy": OWN_EXPORT,
    "/my/privacy/export.json": OWN_EXPORT,
    "/my/privacy/export.csv": OWN_EXPORT,
    "/my/privacy/export.pdf": OWN_EXPORT,
    "/my/privacy/requests/<int:request_id>": set(),
    "/my/privacy/request": None,
    "/my/privacy/consent/<int:consent_id>": set(),
    "/my/privacy/consent/<int:consent_id>/withdraw": None,
    "/my/moments": OWN_EXPORT,
    "/my/moments/new": None,
    "/my/moments/<int:moment_id>": OWN_EXPORT,
    "/privacy/request": set(),
    "/privacy/request/send": None,
    "/privacy/request/confirm": set(),
}
READ_METHODS = (
    "read",
    "search_read",
    "web_read",
    "web_search_read",
    "read_group",
    "web_read_group",
    "name_search",
    "export_data",
)
PASSWORD = "matrix-Passw0rd!"


@tagged("post_install", "-at_install")
class TestAccessMatrix(AvgHttpCase):
    avg_read_as_maintenance = True
    avg_two_factor_required = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.users = {
            "coach": cls.avg_new_coach("mx_coach", password=PASSWORD),
            "coach2": cls.avg_new_coach("mx_coach2", password=PASSWORD),
            "privacy_manager": new_test_user(
                env,
                "mx_privacy",
                "base.group_user,avg_coaching.group_avg_privacy_manager",
                password=PASSWORD,
            ),
            "bookkeeper": new_test_user(
                env,
                "mx_books",
                "base.group_user,avg_coaching.group_avg_administration",
                password=PASSWORD,
            ),
            "admin": new_test_user(
                env,
                "mx_admin",
                "base.group_user,base.group_system,base.group_erp_manager",
                password=PASSWORD,
            ),
            "client": new_test_user(
                env, "mx_client", "base.group_portal", password=PASSWORD
            ),
            "other_client": new_test_user(
                env, "mx_other", "base.group_portal", password=PASSWORD
            ),
        }
        # Everyone who reads dossiers has two-factor login on.
        for role in ("coach", "coach2", "privacy_manager"):
            cls.users[role].sudo().totp_secret = "JBSWY3DPEHPK3PXPJBSWY3DP"
        coach = cls.users["coach"]
        cls.client_partner = cls.users["client"].partner_id
        cls.client_partner.write(
            {
                "is_coaching_client": True,
                "coaching_employer": "MXEMPLOYERNAME",
                "coaching_birthdate": "1980-01-01",
            }
        )
        other = cls.users["other_client"].partner_id
        other.write({"is_coaching_client": True, "coaching_birthdate": "1981-01-01"})
        for partner in (cls.client_partner, other):
            for purpose in ("dossier", "special_health"):
                new_consent(env, partner, purpose)
        cls.dossier = env["coaching.dossier"].create(
            {
                "client_id": cls.client_partner.id,
                "coach_id": coach.id,
                "state": "active",
                "date_start": "2026-01-05",
                "help_question": "MXHELPQUESTION",
            }
        )
        env["coaching.dossier"].create(
            {
                "client_id": other.id,
                "coach_id": cls.users["coach2"].id,
                "help_question": "Andere hulpvraag",
            }
        )
        cls.coaching_session = env["coaching.session"].create(
            {"dossier_id": cls.dossier.id, "notes": "MXSESSIONNOTE"}
        )
        cls.special = env["coaching.special.data"].create(
            {
                "dossier_id": cls.dossier.id,
                "category": "health",
                "relation_note": "Relatie",
                "details": "MXSPECIALDETAIL",
            }
        )
        cls.moment = env["coaching.moment"].create(
            {"dossier_id": cls.dossier.id, "text": "MXMOMENTTEXT"}
        )
        cls.document = env["coaching.document"].create(
            {
                "dossier_id": cls.dossier.id,
                "name": "Verslag",
                "file": base64.b64encode(b"MXDOCUMENTBODY"),
            }
        )
        cls.attachment = env["ir.attachment"].create(
            {
                "name": "bijlage.txt",
                "res_model": "coaching.dossier",
                "res_id": cls.dossier.id,
                "raw": b"MXATTACHBODY",
            }
        )
        insurer = env["res.partner"].create({"name": "Verzekeraar Fictief"})
        env["coaching.insurer.disclosure"].create(
            {
                "client_id": cls.client_partner.id,
                "insurer_id": insurer.id,
                "details": "MXINSURERDETAIL",
            }
        )
        cls.request = env["avg.request"].create(
            {"partner_id": cls.client_partner.id, "request_type": "access"}
        )
        # Her downloads are protected with the password agreed with her coach.
        agree_document_password(env, cls.client_partner)
        # wkhtmltopdf (her PDF download) fetches the report's stylesheets from
        # report.url, the test server itself, which waits for the request that
        # runs wkhtmltopdf: a closed port instead.
        env["ir.config_parameter"].set_param("report.url", "http://127.0.0.1:9")
        cls.activity = env["avg.processing.activity"].search([], limit=1)
        cls.breach = env["avg.breach"].create(
            {
                "summary": "Laptop kwijt",
                "discovered_at": "2026-02-01 10:00:00",
                "user_id": cls.users["privacy_manager"].id,
            }
        )
        cls.notice = env["avg.information.notice"].search([], limit=1)
        cls.record_of = {
            "res.partner": cls.client_partner,
            "coaching.dossier": cls.dossier,
            "coaching.session": cls.coaching_session,
            "avg.processing.activity": cls.activity,
            "avg.breach": cls.breach,
            "avg.information.notice": cls.notice,
        }

    # ------------------------------------------------------------------ helpers
    def _login(self, role):
        if role == "public":
            self.authenticate(None, None)
        else:
            self.avg_login(self.users[role], PASSWORD)

    def _assert_no_marker(self, role, body, allowed, where):
        for marker, roles in MARKERS.items():
            if role not in roles | allowed:
                self.assertNotIn(marker, body, f"{role} got {marker} from {where}")

    def _rpc(self, model, method, args, kwargs=None):
        return self.avg_call_kw(model, method, args, kwargs)

    def _rpc_calls(self, model_name, role):
        """Each read method, asking for every field the role may read (as the web
        client asks for the fields of its views)."""
        model = self.env[model_name]
        user = self.users.get(role)
        readable = (
            model.with_user(user).check_field_access_rights("read", None)
            if user
            else list(model._fields)
        )
        names = [
            name
            for name in readable
            if model._fields[name].type != "binary"
            or name in ("file", "agreement_document")
        ]
        spec = {name: {} for name in names}
        ids = self._target_ids(model_name)
        groupable = next(
            (
                name
                for name, field in model._fields.items()
                if field.store
                and field.type in ("many2one", "selection", "char")
                and name != "id"
            ),
            "create_uid",
        )
        return [
            ("read", [ids, names], {}),
            ("search_read", [[], names], {"limit": 50}),
            ("web_read", [ids], {"specification": spec}),
            ("web_search_read", [[]], {"specification": spec, "limit": 50}),
            ("read_group", [[], [groupable], [groupable]], {}),
            ("web_read_group", [[], [groupable], [groupable]], {}),
            ("name_search", [], {"name": "MX"}),
            ("export_data", [ids, names], {}),
        ]

    def _target_ids(self, model_name):
        """The planted client's records of the model: what an attacker asks for."""
        model = self.env[model_name].sudo().with_context(active_test=False)
        if model_name == "res.partner":
            return self.client_partner.ids
        for name in ("client_id", "partner_id"):
            field = model._fields.get(name)
            if field and field.comodel_name == "res.partner" and field.store:
                found = model.search([(name, "=", self.client_partner.id)])
                if found:
                    return found.ids
        return model.search([], limit=20).ids

    # ------------------------------------------------------------------ tests
    def test_every_model_route_and_report_is_declared(self):
        """A new model, report or route fails here until someone decides."""
        addon_models = {
            m.model
            for m in self.env["ir.model"].sudo().search([])
            if "avg_coaching" in (m.modules or "").split(", ")
        }
        self.assertEqual(addon_models - set(MODELS), set(), "undeclared models")
        reports = set(
            self.env["ir.actions.report"]
            .sudo()
            .search([("report_name", "=like", "avg_coaching.%")])
            .mapped("report_name")
        )
        self.assertEqual(reports, set(REPORTS), "undeclared or gone reports")
        routes = set()
        # The routing map Odoo serves (every installed module), kept to the
        # routes whose code is the addon's own.
        ir_http = self.env["ir.http"]
        for url, endpoint in ir_http._generate_routing_rules(
            sorted(self.registry._init_modules), converters=ir_http._get_converters()
        ):
            func = getattr(endpoint, "original_endpoint", endpoint)
            module = getattr(func, "__module__", "") or ""
            if module.startswith("odoo.addons.avg_coaching."):
                routes.add(url)
        self.assertEqual(routes, set(ROUTES), "undeclared or gone routes")

    def test_call_kw_read_methods(self):
        """Every read method of /web/dataset/call_kw on every model of the addon,
        as every role: no planted content unless the matrix allows it."""
        seen_by_coach = set()
        for role in ROLES:
            self._login(role)
            for model_name, kind in MODELS.items():
                if kind == "technical" or self.env[model_name]._abstract:
                    continue
                for method, args, kwargs in self._rpc_calls(model_name, role):
                    body = self._rpc(model_name, method, args, kwargs)
                    self._assert_no_marker(role, body, set(), f"{model_name}.{method}")
                    if role == "coach":
                        seen_by_coach |= {m for m in MARKERS if m in body}
        # The test can fail: the coach does get every planted text back.
        # (The document's file and the attachment come through /web/content.)
        self.assertEqual(
            seen_by_coach, set(MARKERS) - {"MXDOCUMENTBODY", "MXATTACHBODY"}
        )

    def test_content_reads_take_a_read_write_cursor(self):
        """Reading content writes the access log, so the read methods of every
        content model choose a read/write cursor (as call_kw looks it up), and the
        coach's web_read is not run twice after a failed read-only attempt."""
        content_models = [
            name
            for name, model in self.registry.models.items()
            if not model._abstract
            and issubclass(model, type(self.env["avg.encrypted.mixin"]))
        ]
        self.assertIn("coaching.session", content_models)
        for name in content_models:
            for method_name in ("read", "search_read", "web_read", "web_search_read"):
                # the look-up of web's DataSet._call_kw_readonly
                readonly = next(
                    (
                        method._readonly
                        for cls in type(self.env[name]).mro()
                        if (method := getattr(cls, method_name, None)) is not None
                        and hasattr(method, "_readonly")
                    ),
                    False,
                )
                self.assertFalse(readonly, f"{name}.{method_name}")
        self._login("coach")
        with self.assertNoLogs("odoo.http", "WARNING"):
            body = self._rpc(
                "coaching.dossier",
                "web_read",
                [self.dossier.ids],
                {"specification": {"help_question": {}}},
            )
        self.assertIn("MXHELPQUESTION", body)

    def test_reports_over_the_generic_route(self):
        """/report/html and /report/pdf for every report of the addon, with the
        planted record's id, as every role."""
        printed = set()
        for role in ROLES:
            self._login(role)
            for report_name, (model_name, allowed) in REPORTS.items():
                record = self.record_of[model_name]
                if not record:
                    continue
                url = f"/report/html/{report_name}/{record.id}"
                body = self.url_open(url).text
                self._assert_no_marker(role, body, allowed, url)
                if allowed and role in allowed and "MXHELPQUESTION" in body:
                    printed.add((role, report_name))
        self.assertIn(("coach", "avg_coaching.coaching_dossier_report"), printed)
        self.assertIn(("coach", "avg_coaching.avg_access_export_report"), printed)

    def test_addon_routes(self):
        """Every GET route of the addon as every role, with the client's ids."""
        values = {
            "request_id": self.request.id,
            "consent_id": 0,
            "moment_id": self.moment.id,
        }
        got_own = set()
        for role in ROLES:
            self._login(role)
            for route, allowed in ROUTES.items():
                if allowed is None:
                    continue
                url = route
                for name, value in values.items():
                    url = url.replace(f"<int:{name}>", str(value))
                content = self.url_open(url).content
                body = content.decode("utf-8", "replace")
                self._assert_no_marker(role, body, allowed, url)
                if role == "client" and content.startswith(b"PK"):
                    # Her JSON and CSV come in a zip under her password.
                    self.assertNotIn("MXSESSIONNOTE", body, url)
                    body = b"".join(open_protected_zip(content).values()).decode()
                if role == "client" and "MXSESSIONNOTE" in body:
                    got_own.add(route)
        self.assertIn("/my/privacy/export.json", got_own)
        self.assertIn("/my/privacy/export.csv", got_own)

    @mute_logger("odoo.addons.web.controllers.export")  # the refusals it provokes
    def test_generic_data_routes(self):
        """/web/content, /web/image, /web/export, /mail/thread: nothing planted
        reaches anyone but the coach."""
        downloads = [
            f"/web/content/coaching.document/{self.document.id}/file",
            f"/web/image/coaching.document/{self.document.id}/file",
            f"/web/content/coaching.dossier/{self.dossier.id}/agreement_document",
            f"/web/content/{self.attachment.id}",
            f"/web/content/ir.attachment/{self.attachment.id}/raw",
        ]
        exports = {
            "coaching.session": ["notes", "observations", "report"],
            "coaching.dossier": ["help_question", "personal_notes"],
            "res.partner": ["coaching_employer", "coaching_birthdate"],
        }
        got = set()
        for role in ROLES:
            self._login(role)
            for url in downloads:
                body = self.url_open(url).content.decode("latin-1")
                self._assert_no_marker(role, body, set(), url)
                if "MXDOCUMENTBODY" in body:
                    got.add((role, url))
            for model, names in exports.items():
                ids = self.env[model].sudo().search([], limit=50).ids
                for kind in ("csv", "xlsx"):
                    data = json.dumps(
                        {
                            "model": model,
                            "fields": [{"name": n, "label": n} for n in names],
                            "ids": ids,
                            "domain": [],
                            "import_compat": False,
                        }
                    )
                    body = self.url_open(
                        f"/web/export/{kind}",
                        data={
                            "data": data,
                            "csrf_token": http.Request.csrf_token(self),
                        },
                    ).content.decode("latin-1")
                    self._assert_no_marker(role, body, set(), f"export {model}")
            for path, params in (
                (
                    "/mail/thread/data",
                    {"request_list": ["followers", "attachments", "activities"]},
                ),
                ("/mail/thread/messages", {}),
            ):
                body = self.url_open(
                    path,
                    data=json.dumps(
                        {
                            "jsonrpc": "2.0",
                            "method": "call",
                            "params": dict(
                                params,
                                thread_model="coaching.dossier",
                                thread_id=self.dossier.id,
                            ),
                        }
                    ),
                    headers={"Content-Type": "application/json"},
                ).text
                self._assert_no_marker(role, body, set(), path)
                if role != "coach":
                    self.assertNotIn("bijlage.txt", body, f"{role}: {path}")
        self.assertIn(("coach", downloads[0]), got)
