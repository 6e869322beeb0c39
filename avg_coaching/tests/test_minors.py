from freezegun import freeze_time

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import AvgCoachingCase


@tagged("post_install", "-at_install")
@freeze_time("2026-06-01")
class TestMinors(AvgCoachingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.minor = cls.env["res.partner"].create(
            {
                "name": "Jonge Testcliënt",
                "is_coaching_client": True,
                "coaching_birthdate": "2011-01-01",  # 15 on 2026-06-01
            }
        )

    def _set_policy(self, policy):
        self.env["res.config.settings"].create({"avg_minor_policy": policy}).execute()

    def _open(self, partner, **extra):
        vals = {"client_id": partner.id, "coach_id": self.coach.id}
        vals.update(extra)
        return self.env["coaching.dossier"].with_user(self.coach).create(vals)

    def test_refused_by_default(self):
        self.assertEqual(
            self.env["ir.config_parameter"].get_param("avg_coaching.minor_policy"),
            "refuse",
        )
        with self.assertRaisesRegex(
            ValidationError, "does not take on clients under 16"
        ):
            self._open(self.minor)
        # Turning 16 at the start date counts.
        self.assertTrue(self._open(self.minor, date_start="2027-01-01"))

    def test_guardian_policy(self):
        self._set_policy("guardian")
        with self.assertRaisesRegex(ValidationError, "parent or guardian"):
            self._open(self.minor)
        self._consent(self.minor, "guardian", guardian_name="Ouder Fictief")
        dossier = self._open(self.minor)
        self.assertEqual(dossier.client_id, self.minor)

    def test_withdrawn_guardian_consent_does_not_count(self):
        self._set_policy("guardian")
        consent = self._consent(self.minor, "guardian", guardian_name="Ouder Fictief")
        consent.action_withdraw()
        with self.assertRaisesRegex(ValidationError, "parent or guardian"):
            self._open(self.minor)

    def test_adults_and_unknown_birthdate(self):
        self.assertTrue(self._open(self.client2))  # no birth date known
        adult = self.env["res.partner"].create(
            {
                "name": "Volwassen Test",
                "is_coaching_client": True,
                "coaching_birthdate": "2010-06-01",
            }
        )
        self.assertTrue(self._open(adult))  # exactly 16 today

    def test_switching_client_to_minor_refused(self):
        empty = self._open(self.client2)
        with self.assertRaisesRegex(ValidationError, "under 16"):
            empty.write({"client_id": self.minor.id})
        self.assertEqual(empty.client_id, self.client2)
