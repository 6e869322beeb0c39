from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .common import AvgCoachingCase

MARKER = "GEHEIM-MARKER-7Q2X"


@tagged("post_install", "-at_install")
class TestDossier(AvgCoachingCase):
    def test_reference_from_sequence(self):
        self.assertTrue(self.dossier.name.startswith("TRJ/"), self.dossier.name)
        self.assertNotEqual(self.dossier.name, self.dossier2.name)

    @freeze_time("2026-03-01")
    def test_workflow(self):
        client = self.env["res.partner"].create(
            {
                "name": "Testcliënt Cor Fictief",
                "is_coaching_client": True,
                "coaching_birthdate": "1970-04-04",
            }
        )
        dossier = (
            self.env["coaching.dossier"]
            .with_user(self.coach)
            .create({"client_id": client.id, "coach_id": self.coach.id})
        )
        self.assertEqual(dossier.state, "intake")
        with self.assertRaisesRegex(UserError, "agreement was signed"):
            dossier.action_start()
        dossier.agreement_date = "2026-02-20"
        with self.assertRaisesRegex(
            UserError, "consent for building a coaching dossier"
        ):
            dossier.action_start()
        self.assertEqual(dossier.state, "intake")
        self._consent(client, "dossier")
        with self.assertRaisesRegex(UserError, "current privacy information"):
            dossier.action_start()
        self._inform(dossier)
        dossier.action_start()
        self.assertEqual(dossier.state, "active")
        self.assertEqual(str(dossier.date_start), "2026-03-01")
        with self.assertRaises(UserError):
            dossier.action_start()  # a second run
        dossier.action_close()
        self.assertEqual(dossier.state, "closed")
        self.assertEqual(str(dossier.date_end), "2026-03-01")
        with self.assertRaises(UserError):
            dossier.action_close()
        dossier.action_reopen()
        self.assertEqual(dossier.state, "active")
        self.assertFalse(dossier.date_end)

    def test_closed_dossier_content_frozen(self):
        self._inform(self.dossier)
        dossier = self.dossier.with_user(self.coach)
        dossier.agreement_date = "2026-01-01"
        dossier.action_start()
        dossier.action_close()
        with self.assertRaisesRegex(UserError, "closed"):
            dossier.write({"help_question": "Iets anders"})
        self.assertEqual(dossier.help_question, "Grenzen aangeven op het werk")
        with self.assertRaisesRegex(ValidationError, "closed"):
            self.env["coaching.session"].with_user(self.coach).create(
                {"dossier_id": dossier.id, "date": "2026-04-01"}
            )
        with self.assertRaisesRegex(UserError, "closed"):
            self.session.with_user(self.coach).write({"notes": "Na afloop"})
        self.assertEqual(self.session.notes, "Intake")

    def test_dates_and_retention_checked(self):
        dossier = self.dossier.with_user(self.coach)
        with self.assertRaisesRegex(ValidationError, "ends before it starts"):
            dossier.write({"date_start": "2026-05-01", "date_end": "2026-04-01"})
        self.assertFalse(dossier.date_start)
        for wrong in (8, -1, 100):
            with self.assertRaises(ValidationError, msg=wrong):
                dossier.write({"retention_years": wrong})
        dossier.retention_years = 5
        self.assertEqual(dossier.retention_years, 5)

    def test_session_duration_checked(self):
        Session = self.env["coaching.session"].with_user(self.coach)
        for wrong in (0, -1, 25):
            with self.assertRaises(ValidationError, msg=wrong):
                Session.create(
                    {
                        "dossier_id": self.dossier.id,
                        "date": "2026-02-01",
                        "duration": wrong,
                    }
                )
        session = Session.create(
            {"dossier_id": self.dossier.id, "date": "2026-02-01", "duration": 1.5}
        )
        self.assertEqual(session.client_id, self.client)
        self.assertEqual(session.coach_id, self.coach)
        self.assertEqual(self.dossier.session_count, 2)

    def test_chatter_never_copies_sensitive_content(self):
        """Tracking posts state and parties, never the content of dossier fields."""
        self._consent(self.client, "special_health")
        dossier = self.dossier.with_user(self.coach)
        content_fields = [
            "help_question",
            "coaching_goals",
            "prior_help_aim",
            "prior_help_result",
            "medical_treatment",
            "personal_notes",
        ]
        dossier.write({fname: f"{MARKER} {fname}" for fname in content_fields})
        dossier.write({"agreement_date": "2026-01-01", "commissioner_id": False})
        self.session.with_user(self.coach).write({"notes": MARKER, "report": MARKER})
        self.flush_tracking()
        messages = self.env["mail.message"].search(
            [("model", "=", "coaching.dossier"), ("res_id", "=", dossier.id)]
        )
        self.assertTrue(messages.tracking_value_ids, "tracking of the agreement date")
        for message in messages:
            self.assertNotIn(MARKER, str(message.body))
        for value in messages.tracking_value_ids:
            self.assertNotIn(
                MARKER, str(value.old_value_char) + str(value.new_value_char)
            )
            self.assertNotIn(value.field_id.name, content_fields)
        self.env.cr.execute(
            "SELECT count(*) FROM mail_tracking_value "
            "WHERE old_value_char LIKE %s OR new_value_char LIKE %s "
            "OR old_value_text LIKE %s OR new_value_text LIKE %s",
            [f"%{MARKER}%"] * 4,
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0)
        self.env.cr.execute(
            "SELECT count(*) FROM mail_message WHERE body::text LIKE %s",
            [f"%{MARKER}%"],
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0)

    def test_partner_roles_and_birthdate(self):
        self.assertTrue(self.client.is_coaching_client)
        self.assertTrue(self.commissioner.is_coaching_commissioner)
        action = self.client.with_user(self.coach).action_view_coaching_dossiers()
        self.assertEqual(action["res_model"], "coaching.dossier")
        self.assertEqual(
            self.env["coaching.dossier"].with_user(self.coach).search(action["domain"]),
            self.dossier,
        )
        with self.assertRaisesRegex(ValidationError, "not plausible"):
            self.client.coaching_birthdate = "2999-01-01"
        with self.assertRaisesRegex(ValidationError, "not plausible"):
            self.client.coaching_birthdate = "1800-01-01"
        self.assertEqual(str(self.client.coaching_birthdate), "1985-06-15")

    def test_dossier_requires_client(self):
        with self.assertRaises(ValidationError):
            self.env["coaching.dossier"].with_user(self.coach).create(
                {"coach_id": self.coach.id}
            )

    def test_deleting_a_dossier_takes_its_sessions_and_what_hangs_from_them(self):
        """Sessions go in one statement, with what the ORM's unlink would remove."""
        session2 = self.env["coaching.session"].create(
            {"dossier_id": self.dossier.id, "date": "2026-01-17"}
        )
        other = self.env["coaching.session"].create(
            {"dossier_id": self.dossier2.id, "date": "2026-01-17"}
        )
        xmlid = self.env["ir.model.data"].create(
            {
                "module": "__test__",
                "name": "avg_session_xmlid",
                "model": "coaching.session",
                "res_id": self.session.id,
            }
        )
        attachment = self.env["ir.attachment"].create(
            {
                "name": "verslag.txt",
                "raw": b"x",
                "res_model": "coaching.session",
                "res_id": session2.id,
            }
        )
        default = self.env["ir.default"].create(
            {
                "field_id": self.env["ir.model.fields"]
                ._get("coaching.protected.document.wizard", "session_id")
                .id,
                "json_value": str(self.session.id),
            }
        )
        self.assertEqual(self.dossier.session_count, 2)
        with self.assertRaises(AccessError):
            self.dossier.with_user(self.bookkeeper).unlink()
        self.assertTrue(self.session.exists())
        # By hand it is refused (an intake with content); the erasure path deletes.
        with self.assertRaisesRegex(UserError, "cannot be deleted"):
            self.dossier.unlink()
        self.assertTrue(self.session.exists())
        self.client._avg_erase()
        self.assertFalse((self.session | session2).exists())
        for record in (xmlid, attachment, default):
            self.assertFalse(record.exists(), record._name)
        self.assertTrue(other.exists())
        self.assertEqual(self.dossier2.session_count, 1)
