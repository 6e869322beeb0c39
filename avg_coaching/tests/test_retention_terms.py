"""The terms the client is told are the terms the engine applies (issue 14).

Each policy at its boundary under frozen time: the day before the term ends the
data are kept, the day it ends they are purged; the day is computed from the
term the register, the notice, the portal and the export state.
"""

import json
import os
import tempfile
from datetime import date

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from ..controllers import request_forms
from ..services import tokens
from .common import RetentionCase


@tagged("post_install", "-at_install")
class TestRetentionTerms(RetentionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Activity = cls.env["avg.processing.activity"]

    def _client(self, name, day="2018-01-01", **extra):
        vals = {
            "name": name,
            "is_coaching_client": True,
            "email": f"{name.split()[0].lower()}@x.test",
            "phone": "+31 6 00000000",
            "street": "Fictieve straat 1",
            "city": "Fictiefstad",
            "coaching_birthdate": "1980-02-02",
            "coaching_employer": "Fictief B.V.",
        }
        vals.update(extra)
        with freeze_time(day):
            return self.env["res.partner"].create(vals)

    def _closed(self, client, date_end, **extra):
        vals = {
            "client_id": client.id,
            "coach_id": self.coach.id,
            "state": "active",
            "date_start": "2017-01-01",
            "date_end": date_end,
            "help_question": "Hulpvraag",
        }
        vals.update(extra)
        self._dossier_consent(client)
        with freeze_time("2017-01-01"):
            dossier = self.env["coaching.dossier"].create(vals)
        dossier.action_close()
        return dossier

    def _dossier_consent(self, client):
        """Nothing is recorded in a dossier before the client's consent for it."""
        if not self.env["avg.consent"]._avg_has_consent(client, "dossier"):
            self._consent(client, "dossier", date_given="2016-12-01")

    def assertBoundary(self, due, kept, gone):
        """The day before ``due`` ``kept()`` holds; on ``due``, ``gone()``."""
        self._run_cron(due - date.resolution)
        self.assertTrue(kept(), f"kept the day before {due}")
        self._run_cron(due)
        self.assertTrue(gone(), f"purged on {due}")

    # ------------------------------------------------------------ contact
    def test_contact_term_at_boundary(self):
        policy = self.policy("contact")
        self.assertEqual(policy.term_display, "2 years after the last contact")
        prospect = self._client("Prospect Fictief", day="2024-03-01")
        due = policy._avg_due_on(prospect.sudo().avg_last_contact_stored)
        self.assertEqual(due, date(2026, 3, 1))
        self.assertBoundary(due, prospect.exists, lambda: not prospect.exists())

    def test_never_started_intake_goes_with_the_contact_term(self):
        client = self._client("Intake Fictief", day="2024-03-01")
        with freeze_time("2024-03-01"):
            intake = self.env["coaching.dossier"].create(
                {"client_id": client.id, "coach_id": self.coach.id}
            )
        due = self.policy("contact")._avg_due_on(date(2024, 3, 1))
        self.assertBoundary(
            due,
            lambda: intake.exists() and client.exists(),
            lambda: not intake.exists() and not client.exists(),
        )
        log = self.env["avg.deletion.log"].search(
            [("policy_id.code", "=", "contact")], order="id"
        )
        self.assertIn("coaching.dossier (intake)", log[0].counts)

    def test_last_contact_follows_real_contact(self):
        client = self._client("Contact Fictief", day="2020-01-01")
        stored = client.sudo()
        self.assertEqual(stored.avg_last_contact_stored, date(2020, 1, 1))
        with freeze_time("2021-05-05 10:00:00"):
            # A message from her.
            client.message_post(
                body="Vraag", message_type="comment", author_id=client.id
            )
        self.assertEqual(stored.avg_last_contact_stored, date(2021, 5, 5))
        with freeze_time("2022-06-06 10:00:00"):
            # An e-mail to her, from a record that is not her contact.
            self.commissioner.message_post(
                body="Bericht",
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
                partner_ids=client.ids,
            )
        self.assertEqual(stored.avg_last_contact_stored, date(2022, 6, 6))
        # An internal note about her is not contact with her.
        with freeze_time("2022-07-07 10:00:00"):
            client.message_post(body="Notitie", subtype_xmlid="mail.mt_note")
        self.assertEqual(stored.avg_last_contact_stored, date(2022, 6, 6))
        self._dossier_consent(client)
        with freeze_time("2023-01-01"):
            dossier = self.env["coaching.dossier"].create(
                {"client_id": client.id, "coach_id": self.coach.id}
            )
        with freeze_time("2023-03-03"):
            self.env["coaching.session"].create(
                {"dossier_id": dossier.id, "date": "2023-03-03"}
            )
        self.assertEqual(stored.avg_last_contact_stored, date(2023, 3, 3))
        self._invoice(client, "2023-08-08")
        self.assertEqual(stored.avg_last_contact_stored, date(2023, 8, 8))
        # Setting another private field leaves it alone (one inverse per field).
        client.coaching_employer = "Ander Fictief B.V."
        self.assertEqual(stored.avg_last_contact_stored, date(2023, 8, 8))
        self.assertEqual(str(stored.coaching_birthdate_stored), "1980-02-02")
        # Never back.
        with freeze_time("2023-09-01"):
            self.env["coaching.session"].create(
                {"dossier_id": dossier.id, "date": "2023-01-15"}
            )
        self.assertEqual(stored.avg_last_contact_stored, date(2023, 8, 8))

    # ------------------------------------------------------------ client
    def test_client_data_term_at_boundary(self):
        policy = self.policy("client_data")
        self.assertEqual(policy.term_display, "3 years after the agreement ended")
        client = self._client("Klant Fictief")
        held = self._client("Gefactureerd Fictief")
        for partner in (client, held):
            self._closed(partner, "2019-01-10")
        self._invoice(held, "2019-01-05")  # the fiscal term holds the address
        due = policy._avg_due_on(client.avg_relation_end)
        self.assertEqual(due, date(2022, 1, 10))
        self.assertBoundary(
            due,
            lambda: client.coaching_birthdate and client.street,
            lambda: not client.coaching_birthdate and not client.street,
        )
        self.assertFalse(client.coaching_employer)
        # The CRM term still runs: name, e-mail and phone stay.
        self.assertEqual(client.name, "Klant Fictief")
        self.assertEqual(client.email, "klant@x.test")
        self.assertTrue(client.phone)
        self.assertFalse(held.coaching_birthdate)
        self.assertEqual(held.street, "Fictieve straat 1")

    def test_crm_term_at_boundary_not_waiting_for_the_dossier(self):
        policy = self.policy("crm")
        self.assertEqual(
            policy.term_display, "5 years after the client relationship ended"
        )
        client = self._client("Relatie Fictief")
        dossier = self._closed(client, "2019-01-10")
        due = policy._avg_due_on(client.avg_relation_end)
        self.assertEqual(due, date(2024, 1, 10))
        self.assertBoundary(due, lambda: client.email, lambda: not client.email)
        self.assertTrue(dossier.exists(), "the agreement's own term runs on")
        self.assertEqual(dossier.help_question, "Hulpvraag")
        self.assertEqual(client.name, "Relatie Fictief")

    def test_commissioner_contact_person_term(self):
        organisation = self.env["res.partner"].create(
            {
                "name": "Fictieve Opdrachtgever B.V.",
                "is_company": True,
                "is_coaching_commissioner": True,
            }
        )
        person = self.env["res.partner"].create(
            {"name": "Contactpersoon Fictief", "parent_id": organisation.id}
        )
        client = self._client("Gestuurd Fictief")
        self._closed(client, "2018-05-01", commissioner_id=organisation.id)
        self._closed(
            self._client("Later Fictief"), "2019-01-10", commissioner_id=organisation.id
        )
        self.assertEqual(organisation.avg_commission_end, date(2019, 1, 10))
        due = self.policy("crm")._avg_due_on(organisation.avg_commission_end)
        self.assertBoundary(due, person.exists, lambda: not person.exists())
        self.assertTrue(organisation.exists(), "an organisation is no person")

    def test_agreement_and_dossier_terms_at_boundary(self):
        agreement = self.policy("agreement")
        dossier_policy = self.policy("dossier")
        self.assertEqual(agreement.term_display, "7 years after the agreement ended")
        self.assertEqual(
            dossier_policy.term_display, "7 years after the trajectory ended"
        )
        dossier = self._closed(self._client("Dossier Fictief"), "2019-06-30")
        due = dossier_policy._avg_due_on(dossier.date_end)
        self.assertEqual(due, dossier.retention_due_date)
        self.assertEqual(due, agreement._avg_due_on(dossier.date_end))
        self.assertBoundary(due, dossier.exists, lambda: not dossier.exists())

    def test_five_year_setting_at_boundary(self):
        self.env["res.config.settings"].create(
            {"avg_dossier_retention_years": "5"}
        ).execute()
        dossier_policy = self.policy("dossier")
        self.assertEqual(
            (dossier_policy.period, dossier_policy.period_unit), (5, "years")
        )
        self.assertEqual(
            dossier_policy.term_display, "5 years after the trajectory ended"
        )
        dossier = self._closed(self._client("Vijf Fictief"), "2019-06-30")
        self.assertEqual(dossier.retention_due_date, date(2024, 6, 30))
        self.assertBoundary(
            dossier.retention_due_date,
            lambda: dossier.session_ids or dossier.help_question,
            lambda: dossier.exists() and not dossier.help_question,
        )
        # The agreement keeps its own term.
        self._run_cron("2026-06-29")
        self.assertTrue(dossier.exists())
        self._run_cron("2026-06-30")
        self.assertFalse(dossier.exists())

    def test_agreed_term_at_boundary(self):
        client = self._client("Afspraak Fictief")
        dossier = self._closed(client, "2019-06-30", retention_years=3)
        self.assertEqual(
            self.policy("dossier")._avg_term_text(3),
            "3 years after the trajectory ended, as agreed with you",
        )
        due = date(2022, 6, 30)
        self.assertEqual(dossier.retention_due_date, due)
        self.assertBoundary(
            due,
            lambda: dossier.exists() and client.exists(),
            lambda: not dossier.exists() and not client.exists(),
        )

    def test_preview_states_the_engine_day(self):
        client = self._client("Voorbeeld Fictief")
        self._closed(client, "2019-01-10", retention_years=2)
        with freeze_time("2020-12-20"):
            preview = (
                self.env["avg.retention.preview"]
                .with_user(self.privacy_manager)
                .create({"days": 30})
            )
            preview.action_preview()
        due = {
            line.policy_id.code: line.due_date
            for line in preview.line_ids
            if line.model == "res.partner" and line.res_id == client.id
        }
        self.assertEqual(
            due, {"client_data": date(2021, 1, 10), "crm": date(2021, 1, 10)}
        )

    def test_withdrawn_consent_says_immediately(self):
        policy = self.policy("special_withdrawn")
        self.assertEqual(
            policy.term_display, "Immediately after the consent was withdrawn"
        )

    # ------------------------------------------------------------ what is shown
    def _shown(self, partner=None):
        information = self.env["avg.subject.data"]._avg_information(partner)
        return {
            row["purpose"]: row["retention"]
            for row in information["purposes_and_retention"]
        }

    def test_every_place_states_the_engine_terms(self):
        policies = self.env["avg.retention.policy"].search([])
        shown = self._shown()
        for policy in policies:
            self.assertEqual(shown[policy.name], policy._avg_term_text(), policy.code)
        for text in shown.values():
            self.assertNotRegex(text, r"^0 ")
        for activity in self.Activity.search([("retention_policy_id", "!=", False)]):
            self.assertEqual(
                activity.retention_display, activity.retention_policy_id.term_display
            )
        crm = self.env.ref("avg_coaching.avg_processing_activity_crm")
        self.assertIn("Contact persons of a commissioner", crm.retention_description)

    def test_display_follows_the_five_year_setting(self):
        activity = self.env.ref("avg_coaching.avg_processing_activity_dossier")
        self.assertEqual(
            activity.retention_display, "7 years after the trajectory ended"
        )
        digest = self.Activity._avg_register_fingerprint()[0]
        self.env["res.config.settings"].create(
            {"avg_dossier_retention_years": "5"}
        ).execute()
        self.assertEqual(
            activity.retention_display, "5 years after the trajectory ended"
        )
        self.assertEqual(
            self._shown()["Coaching dossier"], "5 years after the trajectory ended"
        )
        self.assertNotEqual(self.Activity._avg_register_fingerprint()[0], digest)
        text = self._render_notice(self.dossier)
        self.assertIn("5 years after the trajectory ended", text)
        self.assertNotIn("7 years after the trajectory ended", text)
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.avg_dossier_retention_years, "5")

    def test_display_of_an_agreed_term(self):
        self.dossier.retention_years = 3
        shown = self._shown(self.client)
        self.assertEqual(
            shown["Coaching dossier"],
            "3 years after the trajectory ended, as agreed with you",
        )
        self.assertEqual(
            shown["Coaching agreement"],
            "3 years after the agreement ended, as agreed with you",
        )
        self.assertEqual(
            shown["Client relationship (CRM)"],
            "3 years after the client relationship ended, as agreed with you",
        )
        self.assertEqual(
            shown["Invoices and bookkeeping"], "7 years after the invoice date"
        )
        # Another client is told the practice's terms.
        self.assertEqual(
            self._shown(self.client2)["Coaching dossier"],
            "7 years after the trajectory ended",
        )
        text = self._render_notice(self.dossier)
        self.assertIn("3 years after the trajectory ended, as agreed with you", text)
        self.assertIn("7 years after the invoice date", text)

    def _render_notice(self, dossier):
        report = self.env["ir.actions.report"]
        html, _kind = report._render_qweb_html(
            "avg_coaching.coaching_dossier_report_client_information", dossier.ids
        )
        return html.decode()

    # ------------------------------------------------------------ requests
    def _public_request(self, email, day):
        """A request from the public form, confirmed on ``day`` by someone
        whose address is no contact's (so it is linked to nobody)."""
        env = self.env
        with freeze_time(day):
            token, _payload = request_forms.seal_public_request(
                env,
                request_forms.public_request_payload(
                    {
                        "name": "Buitenstaander Fictief",
                        "email": email,
                        "request_type": "access",
                        "description": "Wat weten jullie over mij? TRACE-PUBLIC",
                    }
                ),
            )
            return env["avg.request"]._avg_public_create(
                request_forms.open_public_request(env, token),
                tokens.fingerprint(token),
            )

    def _close(self, request, day):
        with freeze_time(day):
            request._avg_close("refused", "Wij kennen u niet. TRACE-ANSWER")
        # The mail queue has run: the answer left (the message stays on file).
        mails = self.env["mail.mail"].search(
            [("model", "=", "avg.request"), ("res_id", "=", request.id)]
        )
        mails.write({"state": "sent"})

    def test_public_request_term_at_boundary(self):
        policy = self.policy("request")
        self.assertEqual(policy.term_display, "2 years after the request was closed")
        request = self._public_request("buiten@elders.test", "2024-02-10")
        self.assertEqual(request.requester_name, "Buitenstaander Fictief")
        self.assertFalse(request.partner_id)
        self._close(request, "2024-03-01 15:00:00")
        # A request of a contact follows her, not this term.
        linked = self._public_request("anna@client.test", "2024-02-10")
        self.assertEqual(linked.partner_id, self.client)
        self._close(linked, "2024-03-01 15:00:00")
        # An open one waits for its answer.
        still_open = self._public_request("open@elders.test", "2024-02-10")
        due = policy._avg_due_on(fields.Date.to_date(request.date_closed))
        self.assertEqual(due, date(2026, 3, 1))
        traces = self.env["mail.message"].search(
            [("model", "=", "avg.request"), ("res_id", "=", request.id)]
        )
        self.assertTrue(traces)
        self.assertBoundary(
            due,
            lambda: request.requester_email == "buiten@elders.test",
            lambda: request.anonymised and not request.requester_email,
        )
        # Evidence without her: reference, kind, dates and outcome stay.
        self.assertTrue(request.name.strip("/"))
        self.assertEqual(request.request_type, "access")
        self.assertEqual(request.state, "refused")
        self.assertFalse(request.requester_name)
        self.assertFalse(request.description)
        self.assertFalse(request.refusal_reason)
        self.assertFalse(traces.exists())
        self.assertFalse(
            self.env["mail.mail"].search(
                [("model", "=", "avg.request"), ("res_id", "=", request.id)]
            )
        )
        self.assertEqual(linked.requester_email, "anna@client.test")
        self.assertEqual(still_open.requester_email, "open@elders.test")
        log = self.env["avg.deletion.log"].search(
            [("policy_id", "=", policy.id)], limit=1
        )
        self.assertEqual(log.operation, "anonymise")
        self.assertFalse(log.subject_ref)
        self.assertIn('"avg.request (anonymised)": 1', log.counts)

    # ------------------------------------------------------------ deletion log
    def test_deletion_log_term_at_boundary(self):
        policy = self.policy("deletion_log")
        self.assertEqual(policy.term_display, "8 years after the deletion")
        client = self._client("Gewist Fictief")
        with freeze_time("2020-03-01 10:00:00"):
            client._avg_erase(reason="log term test")
        entry = self.env["avg.deletion.log"].search([("reason", "=", "log term test")])
        self.assertEqual(str(entry.date), "2020-03-01 10:00:00")
        due = policy._avg_due_on(fields.Date.to_date(entry.date))
        self.assertEqual(due, date(2028, 3, 1))
        self.assertBoundary(due, entry.exists, lambda: not entry.exists())
        # The purge is evidence too.
        purge = self.env["avg.deletion.log"].search(
            [("policy_id", "=", policy.id)], limit=1
        )
        self.assertEqual(purge.operation, "purge")
        self.assertIn('"avg.deletion.log"', purge.counts)

    def test_deletion_log_never_shorter_than_the_longest_term(self):
        policy = self.policy("deletion_log")
        self.assertEqual(
            max(
                (p for p in self.Policy.search([]) if p != policy),
                key=lambda p: date(2000, 1, 1) + p._avg_delta(),
            )._avg_delta(),
            policy._avg_delta() - relativedelta(years=1),
            "the longest term and one year",
        )
        with self.assertRaisesRegex(ValidationError, "at least as long"):
            policy.write({"period": 6})
        with self.assertRaisesRegex(ValidationError, "at least as long"):
            self.policy("agreement").write({"period": 9})
        policy.write({"period": 10})
        self.policy("agreement").write({"period": 9})

    def test_journal_pruned_with_the_log(self):
        path = os.path.join(tempfile.mkdtemp(), "journal.jsonl")
        lines = [
            {"date": "2019-12-31 23:00:00", "operation": "erase", "subject_ref": "a"},
            {"date": "2020-03-01 10:00:00", "operation": "erase", "subject_ref": "b"},
            {"date": "2020-03-02 09:00:00", "operation": "erase", "subject_ref": "c"},
        ]
        with open(path, "w", encoding="utf-8") as journal:
            journal.writelines(json.dumps(line) + "\n" for line in lines)
        self.env["avg.deletion.log"]._avg_journal_prune(path, "2020-03-01 10:00:00")
        with open(path, encoding="utf-8") as journal:
            left = [json.loads(line)["subject_ref"] for line in journal]
        self.assertEqual(left, ["c"])

    def test_new_terms_shown_to_the_client(self):
        shown = self._shown(self.client)
        self.assertEqual(
            shown["Data-subject requests of people without a contact"],
            "2 years after the request was closed",
        )
        self.assertEqual(
            shown["Deletion log and journal"], "8 years after the deletion"
        )
        for code in ("requests", "deletion_log"):
            activity = self.env.ref(f"avg_coaching.avg_processing_activity_{code}")
            self.assertEqual(
                activity.retention_display,
                activity.retention_policy_id.term_display,
            )
        text = self._render_notice(self.dossier)
        self.assertIn("2 years after the request was closed", text)
        self.assertIn("8 years after the deletion", text)
