import base64
import json
import subprocess
import uuid
from unittest.mock import patch

import psycopg2
from freezegun import freeze_time

from odoo import SUPERUSER_ID, api, fields
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import config, mute_logger
from odoo.tools.misc import exec_pg_environ, find_pg_tool

from ..models.avg_retention_policy import RULES
from ..services.erasure import erasure_env
from .common import RetentionCase, new_consent, new_dossier


@tagged("post_install", "-at_install")
class TestRetention(RetentionCase):
    def _closed_dossier(self, client, date_end, **extra):
        # A dossier needs the client's age and her dossier consent (issue 15).
        if not client.sudo().coaching_birthdate_stored:
            client.coaching_birthdate = "1980-01-01"
        if not self.env["avg.consent"]._avg_has_consent(client, "dossier"):
            self._consent(client, "dossier", date_given="2008-12-01")
        vals = {
            "client_id": client.id,
            "coach_id": self.coach.id,
            "state": "active",
            "date_start": "2009-01-01",
            "date_end": date_end,
            "help_question": "Oude hulpvraag",
        }
        vals.update(extra)
        dossier = self.env["coaching.dossier"].create(vals)
        self.env["coaching.session"].create(
            {"dossier_id": dossier.id, "date": "2009-02-01", "notes": "Oude notitie"}
        )
        dossier.action_close()
        return dossier

    def _client(self, name, **extra):
        vals = {"name": name, "is_coaching_client": True, "email": f"{name[:3]}@x.test"}
        vals.update(extra)
        return self.env["res.partner"].create(vals)

    # ---------------------------------------------------------------- policies
    def test_default_policies_shipped(self):
        codes = {p.code: (p.period, p.period_unit) for p in self.Policy.search([])}
        self.assertEqual(codes["contact"], (2, "years"))
        self.assertEqual(codes["invoice"], (7, "years"))
        self.assertEqual(codes["agreement"], (7, "years"))
        self.assertEqual(codes["client_data"], (3, "years"))
        self.assertEqual(codes["crm"], (5, "years"))
        self.assertEqual(codes["dossier"], (7, "years"))
        for policy in self.Policy.search([]):
            self.assertTrue(policy.legal_basis, policy.code)
        # Every handler is declared in one place, on the model it purges.
        self.assertEqual(set(RULES), set(dict(self.Policy._fields["code"].selection)))
        for code, rule in RULES.items():
            for handler in rule.handlers:
                model = self.env[handler.model]
                self.assertTrue(hasattr(model, handler.due.__name__), code)
                self.assertTrue(hasattr(model, handler.purge.__name__), code)
        self.assertEqual(RULES["invoice"].handlers[0].model, "res.partner")
        # The fields the engine never read are gone; the handler is fixed.
        for name in ("model_id", "date_field_id", "action"):
            self.assertNotIn(name, self.Policy._fields)
        self.assertTrue(self.Policy._fields["code"].readonly)

    def test_contact_without_service_at_boundary(self):
        with freeze_time("2024-03-01"):
            prospect = self._client("Prospect Fictief")
        self.assertEqual(str(prospect.avg_last_contact), "2024-03-01")
        self._run_cron("2026-02-28")
        self.assertTrue(prospect.exists())
        self._run_cron("2026-03-01")
        self.assertFalse(prospect.exists())
        log = self.env["avg.deletion.log"].search(
            [("policy_id.code", "=", "contact"), ("date", "=", "2026-03-01 00:00:00")]
        )
        self.assertEqual(len(log), 1)
        self.assertEqual(log.operation, "erase")
        self.assertEqual(len(log.subject_ref), 64)
        self.assertNotIn("Prospect", str(log.read()))

    def test_dossier_content_at_boundary_and_agreed_term(self):
        default = self._closed_dossier(self.client, "2019-06-30")
        agreed = self._closed_dossier(self.client2, "2019-06-30", retention_years=3)
        self.assertEqual(str(default.retention_due_date), "2026-06-30")
        self.assertEqual(str(agreed.retention_due_date), "2022-06-30")
        self._run_cron("2022-06-29")
        self.assertTrue(agreed.session_ids)
        self._run_cron("2022-06-30")
        # The agreed term reaches the agreement too (processing register §2).
        self.assertFalse(agreed.exists())
        self.assertTrue(default.session_ids)
        self._run_cron("2026-06-29")
        self.assertEqual(default.help_question, "Oude hulpvraag")
        self._run_cron("2026-06-30")
        # Seven years: the dossier term and the agreement term end together.
        self.assertFalse(default.exists())

    def test_setting_switches_default_to_five_years(self):
        dossier = self._closed_dossier(self.client, "2019-06-30")
        self.env["res.config.settings"].create(
            {"avg_dossier_retention_years": "5"}
        ).execute()
        self.assertEqual(str(dossier.retention_due_date), "2024-06-30")

    def test_agreed_term_reaches_agreement_and_contact(self):
        """Processing register §2: after 7 years, or sooner when agreed, the
        client data are destroyed: the agreement and the contact too."""
        client = self._client("Oud Cliënt")
        dossier = self._closed_dossier(client, "2019-01-10", retention_years=2)
        self.assertEqual(str(client.avg_relation_end), "2019-01-10")
        self.assertEqual(client.avg_agreed_years, 2)
        self._run_cron("2021-01-09")
        self.assertTrue(dossier.exists())
        self.assertTrue(client.exists())
        self._run_cron("2021-01-10")
        self.assertFalse(dossier.exists())
        self.assertFalse(client.exists())

    def test_agreement_at_boundary_then_contact_erased(self):
        client = self._client("Oud Cliënt Zeven")
        dossier = self._closed_dossier(client, "2019-01-10")
        self._run_cron("2026-01-09")
        self.assertTrue(dossier.exists())
        self.assertTrue(client.exists())
        self._run_cron("2026-01-10")
        self.assertFalse(dossier.exists())
        # The CRM term had ended: with the agreement gone, nothing keeps her.
        self.assertFalse(client.exists())

    def test_backlog_erases_before_it_trims(self):
        """A run that finds every term of a client ended (a backlog) erases her
        without first trimming her contact: the engine runs what erases before
        what trims (RULES' order)."""
        self.assertLess(list(RULES).index("agreement"), list(RULES).index("dossier"))
        self.assertLess(list(RULES).index("crm"), list(RULES).index("client_data"))
        self.assertEqual(list(RULES)[-1], "deletion_log", "it logs the others")
        client = self._client("Achterstand Cliënt", comment="Notitie")
        dossier = self._closed_dossier(client, "2015-01-10")
        ref = self.env["avg.deletion.log"]._avg_subject_ref(client)
        self._run_cron("2026-11-01")
        self.assertFalse(dossier.exists())
        self.assertFalse(client.exists())
        logs = self.env["avg.deletion.log"].search([("subject_ref", "=", ref)])
        self.assertEqual(
            sorted(logs.mapped("policy_id.code")),
            ["agreement", "crm"],
            logs.mapped("counts"),
        )
        self.assertEqual(
            logs.filtered(lambda log: log.policy_id.code == "crm").operation, "erase"
        )

    def test_crm_does_not_wait_for_the_dossier(self):
        client = self._client("CRM Cliënt", phone="+31 6 12121212")
        dossier = self._closed_dossier(client, "2019-01-10")
        self._run_cron("2024-01-09")
        self.assertEqual(client.email, "CRM@x.test")
        self._run_cron("2024-01-10")  # CRM term ended, the agreement's runs
        self.assertTrue(dossier.exists())
        self.assertEqual(client.name, "CRM Cliënt", "the agreement names her")
        self.assertFalse(client.email)
        self.assertFalse(client.phone)
        self.assertEqual(str(client.avg_crm_purged_date), "2024-01-10")

    def test_withdrawn_special_data_purged(self):
        consent = self._consent(self.client, "special_health")
        line = self.env["coaching.special.data"].create(
            {
                "dossier_id": self.dossier.id,
                "category": "health",
                "relation_note": "Moe",
            }
        )
        with freeze_time("2026-05-01 09:00:00"):
            consent.action_withdraw()
        self._run_cron("2026-04-30")
        self.assertTrue(line.exists())
        self._run_cron("2026-05-01")
        self.assertFalse(line.exists())

    def test_log_of_a_kept_contact_reveals_no_special_data_or_breach(self):
        """Her reference can be followed back to a contact kept for her
        invoices: no entry about her names special-category data or a breach."""
        consent = self._consent(self.client, "special_health")
        self.env["coaching.special.data"].create(
            {"dossier_id": self.dossier.id, "category": "health"}
            | {"relation_note": "Moe"}
        )
        breach = self.env["avg.breach"].create(
            {"summary": "Laptop kwijt", "discovered_at": "2026-04-01 10:00:00"}
        )
        breach.subject_partner_ids = self.client
        self.env["avg.breach.notification"].create(
            {"breach_id": breach.id, "partner_id": self.client.id}
        )
        with freeze_time("2026-05-01 09:00:00"):
            consent.action_withdraw()
        self._run_cron("2026-05-01")
        self.assertFalse(self.dossier.special_data_ids)
        self._invoice(self.client, "2026-05-02")
        # A part deleted by hand is logged too (reason: manual).
        with freeze_time("2026-05-03"):
            self.dossier.session_ids.with_user(self.coach).unlink()
            self.client._avg_erase(reason="request")
        self.assertTrue(self.client.exists(), "kept for her invoice")
        self.assertFalse(breach.subject_partner_ids)
        Log = self.env["avg.deletion.log"]
        ref = Log._avg_subject_ref(self.client)
        entries = Log.search([("subject_ref", "=", ref)])
        self.assertTrue(entries)
        for entry in entries:
            for word in ("special", "breach", "special_withdrawn"):
                self.assertNotIn(word, entry.counts + (entry.reason or ""))
            self.assertNotEqual(entry.policy_id.code, "special_withdrawn")
        # The purge under that policy is logged, without a reference.
        withdrawn = Log.search([("policy_id.code", "=", "special_withdrawn")])
        self.assertTrue(withdrawn)
        self.assertFalse(any(withdrawn.mapped("subject_ref")))

    def test_deletion_log_is_append_only(self):
        self.client._avg_erase(reason="append-only test")
        entry = self.env["avg.deletion.log"].search(
            [("reason", "=", "append-only test"), ("operation", "=", "erase")]
        )
        self.assertEqual(len(entry), 1)
        for env in (self.env, erasure_env(self.env)):
            log = entry.with_env(env)
            with self.assertRaisesRegex(UserError, "append-only"):
                log.write({"counts": "{}"})
            with self.assertRaisesRegex(UserError, "cannot be deleted"):
                log.unlink()
        with self.assertRaisesRegex(UserError, "cannot be deleted"):
            entry.with_user(self.privacy_manager).unlink()
        for statement in (
            "DELETE FROM avg_deletion_log WHERE id = %s",
            "UPDATE avg_deletion_log SET counts = '{}' WHERE id = %s",
            "UPDATE avg_deletion_log SET subject_ref = 'x' WHERE id = %s",
        ):
            with (
                self.assertRaisesRegex(psycopg2.Error, "append-only"),
                mute_logger("odoo.sql_db"),
                self.env.cr.savepoint(),
            ):
                self.env.cr.execute(statement, [entry.id])
        self.assertTrue(entry.exists())
        # A policy that goes takes only its link.
        self.env.cr.execute(
            "UPDATE avg_deletion_log SET policy_id = NULL WHERE id = %s", [entry.id]
        )

    # ---------------------------------------------------------------- blockers
    def test_hold_and_restriction_block_everything(self):
        for field in ("avg_legal_hold", "avg_restricted"):
            with self.subTest(field=field):
                client = self._client(f"Vastgehouden {field}")
                dossier = self._closed_dossier(client, "2010-01-01")
                client.write({field: True})
                self._run_cron("2026-11-01")
                self.assertTrue(client.exists())
                self.assertTrue(dossier.session_ids)
                with self.assertRaisesRegex(UserError, "cannot be erased now"):
                    client._avg_erase()
                self.assertTrue(dossier.exists())
                client.write({field: False})
                self._run_cron("2026-11-01")
                self.assertFalse(client.exists())

    def test_open_request_blocks_everything(self):
        client = self._client("Verzoeker met open verzoek")
        dossier = self._closed_dossier(client, "2010-01-01")
        request = self.env["avg.request"].create(
            {"partner_id": client.id, "request_type": "access"}
        )
        self._run_cron("2026-11-01")
        self.assertTrue(client.exists())
        self.assertTrue(dossier.session_ids)
        with self.assertRaisesRegex(UserError, "request is open"):
            client._avg_erase()
        # Answered: the purge goes on at the next run.
        request.resolution = "Inzage gegeven"
        request.identity_method = "in_person"
        request.action_verify_identity()
        request.action_done()
        self._run_cron("2026-11-01")
        self.assertFalse(dossier.exists())

    # ---------------------------------------------------------------- robustness
    def test_failure_isolated_and_retried(self):
        first = self._closed_dossier(self.client, "2010-01-01")
        second = self._closed_dossier(self.client2, "2010-01-01")
        original = type(self.env["coaching.dossier"])._avg_purge_dossier

        def failing(records, policy):
            if first in records:
                raise RuntimeError("disk full")
            return original(records, policy)

        with (
            patch.object(
                type(self.env["coaching.dossier"]), "_avg_purge_dossier", failing
            ),
            mute_logger("odoo.addons.avg_coaching.models.avg_retention_policy"),
        ):
            policy = self.env.ref("avg_coaching.retention_policy_dossier")
            with freeze_time("2026-11-01"):
                done, failed = policy._avg_run(fields.Date.to_date("2026-11-01"))
        self.assertEqual((done, failed), (1, 1))
        self.assertTrue(first.session_ids, "the failing record is left intact")
        self.assertFalse(second.session_ids)
        self._run_cron("2026-11-02")  # retried on the next run
        self.assertFalse(first.session_ids)

    def test_long_run_reports_progress_and_resumes(self):
        """One call purges a bounded number of batches and tells the scheduler
        what remains (ir.cron progress): it calls again until nothing does."""
        with freeze_time("2015-01-01"):
            prospects = self.env["res.partner"].create(
                [
                    {"name": f"Voortgang {n}", "is_coaching_client": True}
                    for n in range(3)
                ]
            )
        module = "odoo.addons.avg_coaching.models.avg_retention_policy"
        progress = self.env["ir.cron.progress"]
        with (
            patch(f"{module}.BATCH_SIZE", 1),
            patch(f"{module}.BATCHES_PER_CALL", 2),
        ):
            self._run_cron("2020-01-01")
            first = progress.search([("cron_id", "=", self.cron.id)], limit=1)
            self.assertEqual((first.done, first.remaining), (2, 1))
            self.assertEqual(len(prospects.exists()), 1)
            self._run_cron("2020-01-01")
        last = progress.search(
            [("cron_id", "=", self.cron.id)], order="id desc", limit=1
        )
        self.assertEqual((last.done, last.remaining), (1, 0))
        self.assertFalse(prospects.exists())

    def test_second_run_changes_nothing(self):
        self._closed_dossier(self.client, "2010-01-01")
        self._run_cron("2026-11-01")
        logs = self.env["avg.deletion.log"].search_count([])
        self._run_cron("2026-11-01")
        self.assertEqual(self.env["avg.deletion.log"].search_count([]), logs)

    def test_concurrent_run_skips(self):
        dossier = self._closed_dossier(self.client, "2010-01-01")
        policy = self.env.ref("avg_coaching.retention_policy_dossier")
        with self.registry.cursor() as other:
            # Another run holds the retention lock (one for all policies).
            other.execute("SELECT pg_advisory_lock(4242, 0)")
            try:
                self.assertEqual(
                    policy._avg_run(fields.Date.to_date("2026-11-01")), (0, 0)
                )
                self.assertTrue(dossier.session_ids)
            finally:
                other.execute("SELECT pg_advisory_unlock(4242, 0)")
        self.assertEqual(policy._avg_run(fields.Date.to_date("2026-11-01")), (1, 0))
        self.assertFalse(dossier.session_ids)

    def test_preview_and_reminder(self):
        dossier = self._closed_dossier(self.client, "2019-12-15")  # due 2026-12-15
        with freeze_time("2026-11-23"):
            preview = (
                self.env["avg.retention.preview"]
                .with_user(self.privacy_manager)
                .create({"days": 30})
            )
            preview.action_preview()
            self.assertIn(dossier.display_name, preview.line_ids.mapped("name"))
            preview.days = 10
            preview.action_preview()
            self.assertNotIn(dossier.display_name, preview.line_ids.mapped("name"))
            # The purge cron reminds once it has purged what is due.
            self.cron.method_direct_trigger()
            self.cron.method_direct_trigger()
        activities = dossier.activity_ids
        self.assertEqual(len(activities), 1, "one reminder, also after a second run")
        self.assertEqual(activities.user_id, self.coach)
        with self.assertRaises(UserError):
            self.env["avg.retention.preview"].create({"days": -1})

    def test_register_states_the_policy_term(self):
        activity = self.env.ref("avg_coaching.avg_processing_activity_crm")
        policy = self.env.ref("avg_coaching.retention_policy_crm")
        self.assertEqual(activity.retention_policy_id, policy)
        self.assertEqual(
            activity.retention_display, "5 years after the client relationship ended"
        )
        policy.period = 6
        self.assertEqual(
            activity.retention_display, "6 years after the client relationship ended"
        )

    def test_only_privacy_manager_edits_policies(self):
        policy = self.env.ref("avg_coaching.retention_policy_crm")
        policy.with_user(self.privacy_manager).write({"period": 6})
        self.assertEqual(policy.with_user(self.coach).period, 6)
        from odoo.exceptions import AccessError

        with self.assertRaises(AccessError):
            policy.with_user(self.coach).write({"period": 1})
        with self.assertRaises(AccessError):
            policy.with_user(self.bookkeeper).read(["period"])
        with self.assertRaises(AccessError):
            self.env["avg.deletion.log"].with_user(self.coach).search([])

    # ---------------------------------------------------------------- erasure
    def test_erasure_with_posted_invoice_and_audit_trail(self):
        self.env.company.check_account_audit_trail = True
        client = self._client(
            "Factuur Cliënt", phone="+31 6 22223333", comment="Notitie X"
        )
        dossier = self._closed_dossier(client, "2024-01-01")
        self._consent(client, "dossier")
        invoice = self._invoice(client, "2024-02-01")
        client.message_post(body="Bericht over de cliënt")
        client.write({"email": "nieuw@x.test"})  # tracked
        self.flush_tracking()
        partner_id = client.id
        with freeze_time("2026-11-01"):
            client._avg_erase(reason="request")
        self.env.invalidate_all()
        self.assertEqual(client.id, partner_id)
        self.assertTrue(client.exists(), "anonymised in place: invoices point here")
        self.assertEqual(invoice.partner_id, client)
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(
            client.name, "Factuur Cliënt", "the invoice still needs the name"
        )
        self.assertFalse(client.email)
        self.assertFalse(client.phone)
        self.assertFalse(client.comment)
        self.assertFalse(dossier.exists())
        self.assertFalse(
            self.env["avg.consent"].search([("partner_id", "=", partner_id)])
        )
        self.assertEqual(str(client.avg_fiscal_hold_until), "2031-02-01")
        key = self.env["avg.data.key"].search([("partner_id", "=", partner_id)])
        self.assertEqual(key.state, "destroyed")
        # The fiscal term ends: the rest goes.
        self._run_cron("2031-01-31")
        self.assertEqual(client.name, "Factuur Cliënt")
        self._run_cron("2031-02-01")
        self.assertNotEqual(client.name, "Factuur Cliënt")
        self.assertFalse(client.street)
        self.assertFalse(
            self.env["mail.message"].search(
                [("model", "=", "res.partner"), ("res_id", "=", partner_id)]
            )
        )
        self.assertEqual(invoice.state, "posted")

    def test_erasure_deactivates_portal_user(self):
        user = self.env["res.users"].create(
            {
                "name": "Portaal Cliënt",
                "login": "portal-client@x.test",
                "groups_id": [(6, 0, [self.env.ref("base.group_portal").id])],
            }
        )
        partner = user.partner_id
        partner.is_coaching_client = True
        self._invoice(partner, "2026-01-01")
        partner._avg_erase(reason="request")
        self.assertFalse(user.active)
        self.assertNotIn("portal-client", user.login)

    def test_erasure_removes_everything_of_the_addon_about_the_person(self):
        client = self._client("Alles Weg")
        dossier = self._closed_dossier(client, "2024-01-01")
        insurer = self.env["res.partner"].create(
            {"name": "Fictieve Verzekeraar", "is_company": True}
        )
        disclosure = self.env["coaching.insurer.disclosure"].create(
            {
                "client_id": client.id,
                "insurer_id": insurer.id,
                "date": "2024-02-01",
                "shared": "sessions",
                "details": "Sessiedata gedeeld",
            }
        )
        secret = self.env["coaching.client.secret"].create(
            {"partner_id": client.id, "password": "Zeer-Geheim-Wachtwoord-42"}
        )
        client._avg_erase(reason="request")
        self.assertFalse(client.exists())
        self.assertFalse(dossier.exists())
        # Kept as evidence of what was shared, without her (issue 15, art. 19).
        self.assertTrue(disclosure.anonymised)
        self.assertFalse(disclosure.client_id or disclosure.details)
        self.assertFalse(secret.exists())
        self.assertTrue(insurer.exists())

    def test_erasure_without_invoices_deletes_contact(self):
        client = self._client("Zonder Factuur")
        self._closed_dossier(client, "2024-01-01")
        client._avg_erase(reason="request")
        self.assertFalse(client.exists())
        client._avg_erase(reason="request")  # a second run on the same ids is harmless

    def test_pg_dump_after_erasure_keeps_only_fiscal_data(self):
        """After erasure no trace of e-mail, phone or notes anywhere in a pg_dump."""
        tag = uuid.uuid4().hex[:8]
        email, phone, note = (
            f"wis-{tag}@erase.test",
            f"+31 6 {tag}",
            f"WISNOTITIE-{tag}",
        )
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            client = env["res.partner"].create(
                {
                    "name": "Wis Cliënt",
                    "is_coaching_client": True,
                    "email": email,
                    "phone": phone,
                    "coaching_birthdate": "1980-01-01",
                }
            )
            new_consent(env, client)
            dossier = new_dossier(
                env, client, env.ref("base.user_admin"), help_question=note
            )
            env["coaching.session"].create({"dossier_id": dossier.id, "notes": note})
            env["coaching.document"].create(
                {
                    "dossier_id": dossier.id,
                    "name": note,
                    "file": base64.b64encode(note.encode()),
                }
            )
            client.message_post(body=note)
            client.write({"phone": f"+31 6 9{tag}"})
            move = env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": client.id,
                    "invoice_line_ids": [(0, 0, {"name": "Sessie", "price_unit": 90})],
                }
            )
            move.action_post()
            # pg_dump only sees committed rows; they stay (it is a throwaway test DB).
            cr.commit()  # pylint: disable=invalid-commit
            client._avg_erase(reason="test")
            cr.commit()  # pylint: disable=invalid-commit
        dump = subprocess.run(
            [find_pg_tool("pg_dump"), "--no-owner", self.env.cr.dbname],
            env=exec_pg_environ(),
            capture_output=True,
            check=True,
        ).stdout
        for trace in (email, phone, f"+31 6 9{tag}", note):
            self.assertFalse(trace.encode() in dump, f"{trace} found in pg_dump")
        self.assertTrue("Wis Cliënt".encode() in dump, "kept for the fiscal term")
        self.assertTrue(config.filestore(self.env.cr.dbname))

    def test_reapply_after_restore(self):
        client = self._client("Herstel Cliënt")
        journal = self.env["avg.deletion.log"]._avg_journal_path()
        ref = self.env["avg.deletion.log"]._avg_subject_ref(client)
        with open(journal, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"operation": "erase", "subject_ref": ref}) + "\n")
        self.assertEqual(self.env["avg.deletion.log"]._avg_reapply(journal), 1)
        self.assertFalse(client.exists())
        self.assertEqual(self.env["avg.deletion.log"]._avg_reapply(journal), 0)
        with self.assertRaisesRegex(UserError, "No deletion journal"):
            self.env["avg.deletion.log"]._avg_reapply("/nonexistent/journal.jsonl")
