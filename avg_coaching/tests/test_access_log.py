import psycopg2

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import freeze_time, new_test_user, tagged
from odoo.tools import mute_logger

from .common import (
    AvgCoachingCase,
    agree_document_password,
    new_portal_client,
    protected_json,
)
from .http_common import AvgPortalCase

TOTP = "JBSWY3DPEHPK3PXPJBSWY3DP"


@tagged("post_install", "-at_install")
class TestAccessLog(AvgCoachingCase):
    """The read gate and its NEN 7513 access log."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Log = cls.env["avg.access.log"].sudo()
        cls.env["ir.config_parameter"].set_param(
            "avg_coaching.two_factor_optional", False
        )
        for user in (cls.coach, cls.coach2, cls.privacy_manager):
            user.sudo().totp_secret = TOTP
        cls.admin = new_test_user(
            cls.env, "t_log_admin", groups="base.group_user,base.group_system"
        )

    def setUp(self):
        super().setUp()
        # The sealer works in a cursor of its own: share this test's transaction.
        self.registry.enter_test_mode(self.cr)
        self.addCleanup(self.registry.leave_test_mode)
        self.env.invalidate_all()

    def _entries(self, **domain):
        return self.Log.search(
            [("subject_id", "=", self.client.id)]
            + [(key, "=", value) for key, value in domain.items()]
        )

    def test_coach_read_is_logged(self):
        before = len(self._entries())
        session = self.session.with_user(self.coach)
        self.assertEqual(session.notes, "Intake")
        entry = self._entries(res_model="coaching.session")[:1]
        self.assertEqual(len(self._entries()), before + 1)
        self.assertEqual(entry.user_id, self.coach)
        self.assertEqual(entry.partner_id, self.client)
        self.assertEqual(
            (entry.kind, entry.action, entry.purpose), ("session", "read", "coach")
        )
        self.assertEqual(entry.res_ids, str(self.session.id))

    def test_refused_without_reason(self):
        for user in (self.coach2, self.bookkeeper, self.privacy_manager, self.admin):
            with self.assertRaises(AccessError, msg=user.login):
                _ = self.session.with_user(user).sudo().notes
        # sudo() alone is no reason; neither is the superuser without a purpose.
        plain = self.session.with_context(avg_access_system=False)
        plain.invalidate_recordset()
        with self.assertRaisesRegex(AccessError, "named purpose"):
            _ = plain.notes
        self.assertFalse(self._entries(user_id=self.coach2.id))

    def test_two_factor_required(self):
        self.coach.sudo().totp_secret = False
        with self.assertRaisesRegex(AccessError, "two-factor"):
            _ = self.session.with_user(self.coach).notes
        self.env["ir.config_parameter"].set_param(
            "avg_coaching.two_factor_optional", "True"
        )
        self.assertEqual(self.session.with_user(self.coach).notes, "Intake")

    def test_privacy_manager_only_for_her_request(self):
        collector = self.env["avg.subject.data"].with_user(self.privacy_manager)
        with self.assertRaises(AccessError):
            collector._avg_collect(self.client)
        request = self.env["avg.request"].create(
            {"partner_id": self.client.id, "request_type": "access"}
        )
        request.write({"state": "in_progress"})
        data = collector.with_context(avg_access_request_id=request.id)._avg_collect(
            self.client
        )
        self.assertEqual(data["dossiers"][0]["sessions"][0]["notes"], "Intake")
        entry = self._entries(purpose="request", kind="export")
        self.assertEqual(entry.purpose_ref, request.name)
        self.assertEqual(entry.user_id, self.privacy_manager)
        # Another client's request is no reason to read this client.
        other = self.env["avg.request"].create(
            {"partner_id": self.client2.id, "request_type": "access"}
        )
        other.write({"state": "in_progress"})
        with self.assertRaises(AccessError):
            collector.with_context(avg_access_request_id=other.id)._avg_collect(
                self.client
            )
        # A closed request neither.
        request.write({"state": "done"})
        with self.assertRaises(AccessError):
            collector.with_context(avg_access_request_id=request.id)._avg_collect(
                self.client
            )

    def test_privacy_manager_prints_the_access_export_of_her_request(self):
        request = self.env["avg.request"].create(
            {"partner_id": self.client.id, "request_type": "portability"}
        )
        as_manager = request.with_user(self.privacy_manager)
        with self.assertRaisesRegex(UserError, "not possible now"):
            as_manager.action_print_access_export()
        request.write({"state": "in_progress"})
        action = as_manager.action_print_access_export()
        self.assertEqual(action["context"]["avg_access_request_id"], request.id)
        report = self.env["ir.actions.report"].with_user(self.privacy_manager)
        html = report.with_context(**action["context"])._render_qweb_html(
            action["report_name"], self.client.ids
        )[0]
        self.assertIn(b"Intake", html)
        entry = self._entries(action="print", kind="export", purpose="request")
        self.assertEqual(entry.purpose_ref, request.name)
        # Without the request, the same report for the same person is refused.
        with self.assertRaises(AccessError):
            report._render_qweb_html(action["report_name"], self.client.ids)

    def test_print_is_logged_as_print(self):
        report = self.env["ir.actions.report"].with_user(self.coach)
        html = report._render_qweb_html(
            "avg_coaching.coaching_dossier_report", self.dossier.ids
        )[0]
        self.assertIn(b"Grenzen aangeven", html)
        self.assertTrue(self._entries(action="print", kind="dossier"))
        self.assertTrue(self._entries(action="print", kind="session"))
        with self.assertRaises(AccessError):
            self.env["ir.actions.report"].with_user(self.coach2)._render_qweb_html(
                "avg_coaching.coaching_dossier_report", self.dossier.ids
            )

    def test_append_only(self):
        _ = self.session.with_user(self.coach).notes
        entry = self._entries()[:1]
        for user in (self.admin, self.privacy_manager):
            log = entry.with_user(user).sudo()
            with self.assertRaises(UserError):
                log.write({"purpose": "client"})
            with self.assertRaises(UserError):
                log.unlink()
            with self.assertRaises(UserError):
                log.create({"subject_id": 1})
        # The database refuses too, whoever asks.
        for statement in (
            "UPDATE avg_access_log SET purpose = 'client' WHERE id = %s",
            "DELETE FROM avg_access_log WHERE id = %s",
        ):
            with (
                self.assertRaises(psycopg2.errors.RaiseException),
                mute_logger("odoo.sql_db"),
                self.cr.savepoint(),
            ):
                self.cr.execute(statement, [entry.id])

    def test_unloggable_read_is_refused(self):
        self.cr.execute(
            """
            CREATE FUNCTION pg_temp.avg_no_log() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'log storage unavailable'; END; $$ LANGUAGE plpgsql;
            CREATE TRIGGER avg_no_log BEFORE INSERT ON avg_access_log
                FOR EACH ROW EXECUTE FUNCTION pg_temp.avg_no_log();
            """
        )
        self.session.invalidate_recordset()
        with (
            self.assertRaises(psycopg2.errors.RaiseException),
            mute_logger("odoo.sql_db"),
            self.cr.savepoint(),
        ):
            _ = self.session.with_user(self.coach).notes
        self.cr.execute("DROP TRIGGER avg_no_log ON avg_access_log")

    def test_chain_verifies_and_names_the_first_broken_entry(self):
        for user_session in (self.session.with_user(self.coach),):
            _ = user_session.notes
        _ = self.dossier.with_user(self.coach).help_question
        self.env["avg.subject.data"].with_user(self.coach)._avg_collect(self.client)
        Log = self.env["avg.access.log"].with_user(self.privacy_manager)
        result = Log.action_avg_verify_chain()
        self.assertEqual(result["params"]["type"], "success")
        sealed = self.Log.search([("seal", "!=", False)], order="chain_seq")
        self.assertGreaterEqual(len(sealed), 3)
        victim = sealed[len(sealed) // 2]
        # An attacker with the database's own rights: trigger off, change, on.
        self.cr.execute(
            "ALTER TABLE avg_access_log DISABLE TRIGGER avg_access_log_guard"
        )
        self.cr.execute(
            "UPDATE avg_access_log SET user_id = %s WHERE id = %s",
            [self.coach2.id, victim.id],
        )
        self.cr.execute(
            "ALTER TABLE avg_access_log ENABLE TRIGGER avg_access_log_guard"
        )
        result = Log.action_avg_verify_chain()
        self.assertEqual(result["params"]["type"], "danger")
        self.assertIn(f"entry {victim.id} ", result["params"]["message"])
        with self.assertRaises(UserError):
            self.env["avg.access.log"].with_user(self.coach).action_avg_verify_chain()

    def test_crons_read_no_content_without_a_purpose(self):
        """The crons run as the superuser with no purpose in their context: none
        of them may need to decrypt anything (the gate would refuse it)."""
        self._consent(self.client, "special_health")
        self.dossier.write({"medical_treatment": "Medicatie", "state": "active"})
        self.env["coaching.moment"].create(
            {"dossier_id": self.dossier.id, "text": "Een moment"}
        )
        self.dossier.write({"state": "closed", "date_end": "2026-01-31"})
        crons = (
            self.env["ir.cron"]
            .search([("ir_actions_server_id.model_id.model", "!=", False)])
            .filtered(lambda c: c.get_external_id()[c.id].startswith("avg_coaching."))
        )
        self.assertGreaterEqual(len(crons), 4)
        self.env.invalidate_all()
        for day in ("2026-12-20", "2040-01-01"):
            with freeze_time(day):
                for cron in crons:
                    cron.with_context(avg_access_system=False).method_direct_trigger()
        self.assertFalse(self.dossier.exists(), "the purge did run")

    def test_retention_of_the_log(self):
        policy = self.env.ref("avg_coaching.retention_policy_access_log")
        with freeze_time("2026-01-10 10:00:00"):
            _ = self.session.with_user(self.coach).notes
        with freeze_time("2026-06-10 10:00:00"):
            self.session.invalidate_recordset()
            _ = self.dossier.with_user(self.coach).help_question
        self.Log._avg_seal_pending()
        old = self.Log.search([("date", "<", "2026-02-01")])
        self.assertTrue(old)
        with freeze_time("2031-01-09"):
            policy._avg_run(fields.Date.today())
        self.assertTrue(old.exists(), "kept until its five years have passed")
        with freeze_time("2031-01-11"):
            policy._avg_run(fields.Date.today())
        self.assertFalse(old.exists())
        self.assertTrue(self.Log.search([("date", ">=", "2026-06-01")]))
        checked, broken, _reason = self.Log._avg_verify()
        self.assertFalse(broken)
        self.assertGreater(checked, 0)
        # The register states the log's own term, from the policy.
        activity = self.env.ref("avg_coaching.avg_processing_activity_access_log")
        self.assertEqual(activity.retention_policy_id, policy)
        self.assertIn("5", activity.retention_display)


@tagged("post_install", "-at_install")
class TestAccessLogPortal(AvgPortalCase):
    """The client sees who read her dossier, in date order, by period."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.coach = cls.avg_new_coach("log_portal_coach")
        cls.client_user = new_portal_client(
            cls.env, "log_portal_client", "log-portal-pw"
        )
        partner = cls.client_user.partner_id
        cls.avg_consent(partner, method="signed_form", text_version="Toestemming v1")
        cls.dossier = cls.avg_dossier(partner, cls.coach, help_question="Hv")
        cls.coaching_session = cls.env["coaching.session"].create(
            {"dossier_id": cls.dossier.id, "notes": "Notitie"}
        )
        agree_document_password(cls.env, partner)

    def test_client_sees_her_log(self):
        self.env.invalidate_all()
        with freeze_time("2026-03-01 09:00:00"):
            _ = self.coaching_session.with_user(self.coach).notes
        with freeze_time("2026-05-01 09:00:00"):
            self.coaching_session.invalidate_recordset()
            _ = self.dossier.with_user(self.coach).help_question
        self.authenticate("log_portal_client", "log-portal-pw")
        page = self.url_open("/my/privacy").text
        self.assertIn("log_portal_coach", page)
        self.assertIn("o_avg_access_log", page)
        first, second = page.find("03/01/2026"), page.find("05/01/2026")
        self.assertTrue(0 < first < second, "oldest first")
        page = self.url_open("/my/privacy?log_from=2026-04-01&log_to=2026-12-31").text
        self.assertNotIn("03/01/2026", page)
        self.assertIn("05/01/2026", page)
        bad = self.url_open("/my/privacy?log_from=nonsense&log_to=").text
        self.assertIn("05/01/2026", bad)
        data = protected_json(self.url_open("/my/privacy/export.json").content)
        whos = {entry["who"] for entry in data["access_log"]}
        self.assertIn(self.coach.name, whos)
