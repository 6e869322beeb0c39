import hashlib

from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo import fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import AvgCoachingCase


@tagged("post_install", "-at_install")
class TestSpecialCategories(AvgCoachingCase):
    def _line(self, category="health", **extra):
        vals = {
            "dossier_id": self.dossier.id,
            "category": category,
            "relation_note": "Speelt mee in de hulpvraag",
            "details": "Detail",
        }
        vals.update(extra)
        return self.env["coaching.special.data"].with_user(self.coach).create(vals)

    def test_refused_without_consent(self):
        for category in ("religion", "health", "sexuality", "violence", "criminal"):
            with self.assertRaisesRegex(ValidationError, "explicit consent"):
                self._line(category)
        self.assertFalse(self.dossier.special_data_ids)

    def test_consent_for_another_category_or_client_does_not_count(self):
        self._consent(self.client, "special_religion")
        self._consent(self.client2, "special_health")
        with self.assertRaisesRegex(ValidationError, "explicit consent"):
            self._line("health")
        self.assertTrue(self._line("religion"))

    def test_allowed_with_consent_and_relation_note(self):
        self._consent(self.client, "special_health")
        with self.assertRaises(ValidationError):
            self._line(relation_note="   ")
        line = self._line()
        self.assertEqual(line.state, "active")
        self.assertEqual(line.client_id, self.client)
        with (
            self.assertRaises(IntegrityError),
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            self._line()

    def test_medical_treatment_needs_health_consent(self):
        dossier = self.dossier.with_user(self.coach)
        with self.assertRaisesRegex(ValidationError, "special-category"):
            dossier.write({"medical_treatment": "Antidepressiva"})
        self.assertFalse(dossier.medical_treatment)
        dossier.write({"medical_treatment": False})  # emptying is always allowed
        self._consent(self.client, "special_health")
        dossier.write({"medical_treatment": "Antidepressiva"})
        self.assertEqual(dossier.medical_treatment, "Antidepressiva")

    @freeze_time("2026-06-01 10:00:00")
    def test_withdrawal_stops_processing(self):
        consent = self._consent(self.client, "special_health")
        line = self._line()
        consent.with_user(self.coach).action_withdraw()
        self.assertEqual(consent.state, "withdrawn")
        self.assertEqual(str(consent.withdrawn_date), "2026-06-01 10:00:00")
        self.assertEqual(line.state, "withdrawn")
        self.assertEqual(line.withdrawn_date, consent.withdrawn_date)
        with self.assertRaisesRegex(UserError, "withdrew consent"):
            line.with_user(self.coach).write({"details": "Nieuw"})
        self.assertEqual(line.details, "Detail")
        later = self.env["coaching.dossier"].create(
            {"client_id": self.client.id, "coach_id": self.coach.id}
        )
        with self.assertRaisesRegex(ValidationError, "explicit consent"):
            self._line("health", dossier_id=later.id)
        with self.assertRaisesRegex(UserError, "already been withdrawn"):
            consent.with_user(self.coach).action_withdraw()
        # Queued for deletion: the retention engine finds it by its withdrawal date.
        queued = self.env["coaching.special.data"].search(
            [("state", "=", "withdrawn"), ("withdrawn_date", "!=", False)]
        )
        self.assertIn(line, queued)

    def test_prior_help_needs_health_consent(self):
        """Prior psychological help is health data (seed 004 §1): gated like the
        medical treatment, the yes/no included."""
        dossier = self.dossier.with_user(self.coach)
        for vals in (
            {"prior_help": True},
            {"prior_help_aim": "Psycholoog, angstklachten"},
            {"prior_help_result": "Minder paniekaanvallen"},
        ):
            with self.assertRaisesRegex(ValidationError, "special-category"):
                dossier.write(vals)
        self.assertFalse(dossier.prior_help)
        self.assertFalse(dossier.sudo().prior_help_aim_enc)
        self._consent(self.client, "special_health")
        dossier.write(
            {
                "prior_help": True,
                "prior_help_aim": "Psycholoog, angstklachten",
                "prior_help_result": "Minder paniekaanvallen",
            }
        )
        self.assertEqual(dossier.prior_help_aim, "Psycholoog, angstklachten")

    @freeze_time("2026-06-01 10:00:00")
    def test_health_withdrawal_freezes_and_queues_the_dossier_fields(self):
        """Withdrawal freezes the dossier's health fields; the retention engine
        (policy special_withdrawn) deletes them, not the withdrawal itself."""
        consent = self._consent(self.client, "special_health")
        self.dossier.with_user(self.coach).write(
            {
                "medical_treatment": "Antidepressiva",
                "prior_help": True,
                "prior_help_aim": "Psycholoog",
            }
        )
        other = self.env["coaching.dossier"].create(
            {"client_id": self.client2.id, "coach_id": self.coach2.id}
        )
        self._consent(self.client2, "special_health")
        other.write({"medical_treatment": "Andere cliënt"})
        consent.with_user(self.coach).action_withdraw()
        self.env.invalidate_all()
        # Frozen, not yet deleted: a withdrawn line carries them to the purge.
        self.assertTrue(self.dossier.sudo().medical_treatment_enc)
        carrier = self.dossier.special_data_ids
        self.assertEqual(carrier.category, "health")
        self.assertEqual(carrier.state, "withdrawn")
        with self.assertRaisesRegex(ValidationError, "special-category"):
            self.dossier.with_user(self.coach).write({"medical_treatment": "Nieuw"})
        policy = self.env.ref("avg_coaching.retention_policy_special_withdrawn")
        logs = self.env["avg.deletion.log"].search_count([])
        policy._avg_run(fields.Date.today())
        self.env.invalidate_all()
        self.assertFalse(carrier.exists())
        self.assertFalse(self.dossier.medical_treatment)
        self.assertFalse(self.dossier.prior_help)
        self.assertFalse(self.dossier.sudo().prior_help_aim_enc)
        self.assertFalse(self.dossier.sudo().medical_treatment_enc)
        self.assertGreater(self.env["avg.deletion.log"].search_count([]), logs)
        self.assertEqual(other.medical_treatment, "Andere cliënt")
        # The rest of the dossier stays: only the health data had no basis left.
        self.assertEqual(self.dossier.help_question, "Grenzen aangeven op het werk")

    def test_withdrawal_recorded_under_a_restriction(self):
        """A restriction keeps the data, and the purge waits for it to be lifted;
        the withdrawal itself is still recorded."""
        consent = self._consent(self.client, "special_health")
        self.dossier.with_user(self.coach).write({"medical_treatment": "Pillen"})
        self.client.avg_restricted = True
        consent.with_user(self.coach).action_withdraw()
        carrier = self.dossier.special_data_ids
        self.assertEqual(carrier.state, "withdrawn")
        policy = self.env.ref("avg_coaching.retention_policy_special_withdrawn")
        policy._avg_run(fields.Date.today())
        self.assertTrue(carrier.exists())
        self.assertTrue(self.dossier.sudo().medical_treatment_enc)

    def test_special_consent_not_bundled_with_the_agreement(self):
        """Art. 7(2): a special-category consent is its own act, not a clause of
        the agreement the client signs."""
        with self.assertRaisesRegex(ValidationError, "separate, explicit act"):
            self._consent(self.client, "special_health", method="signed_agreement")
        self.assertFalse(
            self.env["avg.consent"]._avg_has_consent(self.client, "special_health")
        )
        consent = (
            self.env["avg.consent"]
            .with_user(self.coach)
            .create(
                {
                    "partner_id": self.client.id,
                    "purpose": "special_health",
                    "method": "signed_form",
                    "text_version": "Toestemming gezondheid v1",
                    "date_given": "2026-01-05",
                }
            )
        )
        self.assertTrue(consent)
        # The agreement may still carry the dossier consent.
        self.assertTrue(
            self._consent(self.client, "dossier", method="signed_agreement")
        )

    def test_consent_keeps_the_text_agreed_to(self):
        """Art. 7(1): the consent keeps the text itself and its fingerprint."""
        text = "Ik geef uitdrukkelijk toestemming voor gezondheidsgegevens. (v3)"
        consent = self._consent(self.client, "special_health", consent_text=text)
        self.assertEqual(consent.consent_text, text)
        self.assertEqual(consent.text_hash, hashlib.sha256(text.encode()).hexdigest())
        # Without a text of her own, the practice's standard text is stored.
        standard = self._consent(self.client, "special_religion")
        self.assertIn("separately from the coaching agreement", standard.consent_text)
        self.assertEqual(len(standard.text_hash), 64)
        with self.assertRaisesRegex(UserError, "evidence"):
            consent.with_user(self.coach).write({"consent_text": "Iets anders"})
        with self.assertRaisesRegex(UserError, "evidence"):
            consent.with_user(self.coach).write({"text_hash": "0" * 64})

    def test_consent_is_evidence(self):
        consent = self._consent(self.client, "special_health").with_user(self.coach)
        for vals in (
            {"text_version": "v2"},
            {"purpose": "special_religion"},
            {"date_given": "2026-01-01"},
            {"partner_id": self.client2.id},
            {"method": "email"},
        ):
            with self.assertRaisesRegex(UserError, "evidence"):
                consent.write(vals)
        consent.write(
            {"note": "Formulier in de kast", "text_version": "Toestemming v1"}
        )
        self.assertEqual(consent.note, "Formulier in de kast")
        with self.assertRaisesRegex(UserError, "cannot be deleted"):
            consent.unlink()
        self.assertTrue(consent.exists())

    def test_consent_input_checked(self):
        with self.assertRaisesRegex(ValidationError, "future"):
            self._consent(self.client, "dossier", date_given="2999-01-01")
        with self.assertRaisesRegex(ValidationError, "parent or guardian"):
            self._consent(self.client, "guardian")
        with self.assertRaises(ValueError):
            self._consent(self.client, "no_such_purpose")

    def test_withdrawal_key_sent_by_a_caller_opens_nothing(self):
        """The step that records a withdrawal passes the consent, relation-note,
        restriction and freeze checks, as superuser. The same context key sent
        by a coach (as any JSON-RPC call can) opens none of them."""
        forged = {"avg_consent_withdrawal": True}
        # client2 withdrew her dossier consent: nothing more is recorded for her.
        self.env["avg.consent"].search(
            [("partner_id", "=", self.client2.id), ("purpose", "=", "dossier")]
        ).action_withdraw()
        dossier2 = self.env["coaching.dossier"].create(
            {"client_id": self.client2.id, "coach_id": self.coach.id}
        )
        with self.assertRaisesRegex(ValidationError, "withdrawn\\) consent"):
            self.env["coaching.session"].with_user(self.coach).with_context(
                **forged
            ).create({"dossier_id": dossier2.id, "notes": "Zonder toestemming"})
        self._consent(self.client, "special_health")
        SpecialData = (
            self.env["coaching.special.data"]
            .with_user(self.coach)
            .with_context(**forged)
        )
        with self.assertRaisesRegex(ValidationError, "relates to"):
            SpecialData.create(
                {
                    "dossier_id": self.dossier.id,
                    "category": "health",
                    "relation_note": " ",
                    "details": "X",
                }
            )
        line = self._line()
        self.client.sudo().avg_restricted = True
        with self.assertRaisesRegex(UserError, "restricted"):
            line.with_user(self.coach).with_context(**forged).write({"details": "Y"})
        self.client.sudo().avg_restricted = False
        self.env["avg.consent"].search(
            [("partner_id", "=", self.client.id), ("purpose", "=", "special_health")]
        ).action_withdraw()
        self.assertEqual(line.state, "withdrawn")
        with self.assertRaisesRegex(UserError, "withdrew consent"):
            line.with_user(self.coach).with_context(**forged).write({"details": "Z"})
        self.assertEqual(line.details, "Detail")

    def test_closed_dossier_special_data_frozen(self):
        """As its sessions: a closed dossier's special-category data are not
        added to or changed by anyone (the form shows them read-only; the server
        refuses a call over RPC too). A withdrawal after closing is still
        recorded on them."""
        consent = self._consent(self.client, "special_health")
        self._consent(self.client, "special_religion")
        line = self._line()
        self.dossier.state = "closed"
        with self.assertRaisesRegex(UserError, "is closed"):
            line.with_user(self.coach).write({"details": "Later toegevoegd"})
        with self.assertRaisesRegex(UserError, "is closed"):
            self._line("religion", details="Nieuw na afsluiten")
        self.assertEqual(line.details, "Detail")
        self.assertEqual(len(self.dossier.special_data_ids), 1)
        consent.with_user(self.coach).action_withdraw()
        self.assertEqual(line.state, "withdrawn")
