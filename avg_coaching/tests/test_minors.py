from freezegun import freeze_time

from odoo.exceptions import UserError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import AvgCoachingCase


@tagged("post_install", "-at_install")
@freeze_time("2026-06-01")
class TestMinors(AvgCoachingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.minor = Partner.create(
            {
                "name": "Jonge Testcliënt",
                "is_coaching_client": True,
                "coaching_birthdate": "2011-01-01",  # 15 on 2026-06-01
            }
        )
        cls.seventeen = Partner.create(
            {
                "name": "Zeventienjarige Testcliënt",
                "is_coaching_client": True,
                "coaching_birthdate": "2009-01-01",  # 17 on 2026-06-01
            }
        )
        cls.unknown = Partner.create(
            {"name": "Testcliënt Zonder Geboortedatum", "is_coaching_client": True}
        )

    def _set_policy(self, policy):
        self.env["res.config.settings"].create({"avg_minor_policy": policy}).execute()

    def _open(self, partner, **extra):
        vals = {"client_id": partner.id, "coach_id": self.coach.id}
        vals.update(extra)
        return self.env["coaching.dossier"].with_user(self.coach).create(vals)

    def test_no_minors_by_default(self):
        """Seed 004: "Ik werk niet met minderjarige cliënten" (under 18)."""
        self.assertEqual(
            self.env["ir.config_parameter"].get_param("avg_coaching.minor_policy"),
            "adult",
        )
        for partner in (self.minor, self.seventeen):
            with self.assertRaisesRegex(
                ValidationError, "does not take on clients under 18"
            ):
                self._open(partner)
        # Turning 18 at the start date counts.
        self.assertTrue(self._open(self.seventeen, date_start="2027-01-01"))

    def test_refuse_under_16_policy(self):
        self._set_policy("refuse")
        with self.assertRaisesRegex(
            ValidationError, "does not take on clients under 16"
        ):
            self._open(self.minor)
        self.assertTrue(self._open(self.seventeen))
        self.assertTrue(self._open(self.minor, date_start="2027-01-01"))

    def test_guardian_policy(self):
        self._set_policy("guardian")
        with self.assertRaisesRegex(ValidationError, "parent or guardian"):
            self._open(self.minor)
        self.assertTrue(self._open(self.seventeen))  # 16 and over: her own consent
        self._consent(self.minor, "guardian", guardian_name="Ouder Fictief")
        dossier = self._open(self.minor)
        self.assertEqual(dossier.client_id, self.minor)

    def test_withdrawn_guardian_consent_does_not_count(self):
        self._set_policy("guardian")
        consent = self._consent(self.minor, "guardian", guardian_name="Ouder Fictief")
        consent.action_withdraw()
        with self.assertRaisesRegex(ValidationError, "parent or guardian"):
            self._open(self.minor)

    def test_guardian_withdrawal_closes_the_trajectory(self):
        """Withdrawing the guardian's consent closes the child's trajectory,
        freezes its content and queues it for the retention engine."""
        self._set_policy("guardian")
        guardian = self._consent(self.minor, "guardian", guardian_name="Ouder Fictief")
        self._consent(self.minor, "dossier", guardian_name="Ouder Fictief")
        dossier = self._open(self.minor, help_question="Pesten op school")
        guardian.with_user(self.coach).action_withdraw()
        self.assertEqual(dossier.state, "closed")
        self.assertEqual(str(dossier.consent_withdrawn_date), "2026-06-01")
        self.assertEqual(str(dossier.retention_due_date), "2026-06-01")
        with self.assertRaisesRegex(UserError, "closed"):
            dossier.with_user(self.coach).write({"help_question": "Nieuw"})
        policy = self.env.ref("avg_coaching.retention_policy_dossier")
        due = self.env["coaching.dossier"]._avg_due_dossier(
            policy, dossier.retention_due_date
        )
        self.assertIn(dossier, due)
        policy._avg_run(dossier.retention_due_date)
        self.assertTrue(dossier.content_purged_date)
        self.assertFalse(dossier.sudo().help_question_enc)

    def test_unknown_birthdate_refused_under_every_policy(self):
        for policy in ("adult", "refuse", "guardian"):
            self._set_policy(policy)
            with self.assertRaisesRegex(ValidationError, "date of birth .* not known"):
                self._open(self.unknown)
        adult = self.env["res.partner"].create(
            {
                "name": "Volwassen Test",
                "is_coaching_client": True,
                "coaching_birthdate": "2008-06-01",
            }
        )
        self.assertTrue(self._open(adult))  # exactly 18 today

    def test_unknown_birthdate_refused_at_start(self):
        """A dossier whose client's date of birth is unknown cannot start either."""
        dossier = self._open(self.client2, agreement_date="2026-05-01")
        self._inform(dossier)
        self.env.cr.execute(
            "UPDATE res_partner SET coaching_birthdate_stored = NULL WHERE id = %s",
            [self.client2.id],
        )
        self.env.invalidate_all()
        with self.assertRaisesRegex(ValidationError, "not known"):
            dossier.with_user(self.coach).action_start()
        self.assertEqual(dossier.state, "intake")

    def test_birthdate_changed_to_a_child_refused(self):
        # The coach as in the practice: she also manages contacts.
        coach = new_test_user(
            self.env,
            "t_coach_contacts",
            groups="base.group_user,base.group_partner_manager,"
            "avg_coaching.group_avg_coach",
        )
        dossier = (
            self.env["coaching.dossier"]
            .with_user(coach)
            .create({"client_id": self.client2.id, "coach_id": coach.id})
        )
        client = self.client2.with_user(coach)
        with self.assertRaisesRegex(ValidationError, "under 18"):
            client.coaching_birthdate = "2012-03-03"
        with self.assertRaisesRegex(ValidationError, "not known"):
            client.coaching_birthdate = False
        self.assertEqual(str(client.coaching_birthdate), "1990-02-01")
        client.coaching_birthdate = "1990-02-02"  # a correction among adults
        self.assertEqual(dossier.client_id, self.client2)

    def test_switching_client_to_minor_refused(self):
        empty = self._open(self.client2)
        with self.assertRaisesRegex(ValidationError, "under 18"):
            empty.write({"client_id": self.minor.id})
        self.assertEqual(empty.client_id, self.client2)
