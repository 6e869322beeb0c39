from odoo.tests import HttpCase, new_test_user, tagged

from .common import COACH


@tagged("post_install", "-at_install")
class TestFirstClientTour(HttpCase):
    """Headless Chromium: a coach, in Dutch, takes on her first client from an
    empty practice to an active trajectory by following the steps the dossier
    shows, without one error dialog (issue 17)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        lang = cls.env["res.lang"]._activate_lang("nl_NL")
        cls.env["ir.module.module"].search(
            [("name", "=", "avg_coaching")]
        )._update_translations(lang.code)
        cls.env["ir.config_parameter"].set_param("avg_coaching.minor_policy", "adult")
        # As in the demo: no authenticator app in a headless browser.
        cls.env["ir.config_parameter"].set_param(
            "avg_coaching.two_factor_optional", "True"
        )
        cls.coach = new_test_user(
            cls.env,
            "tour_first_coach",
            password="tour-first-coach-pw",
            groups=f"base.group_user,base.group_partner_manager,{COACH}",
            lang="nl_NL",
        )

    def test_first_client_tour(self):
        Dossier = self.env["coaching.dossier"]
        self.assertFalse(Dossier.search_count([("coach_id", "=", self.coach.id)]))
        self.start_tour(
            "/odoo",
            "avg_coaching_first_client_tour",
            login="tour_first_coach",
            timeout=180,
        )
        dossier = Dossier.search([("coach_id", "=", self.coach.id)])
        self.assertEqual(len(dossier), 1)
        self.assertEqual(dossier.state, "active")
        self.assertEqual(dossier.client_id.name, "Noor Fictief")
        self.assertEqual(str(dossier.agreement_date), "2026-03-02")
        self.assertTrue(dossier.avg_step_consent and dossier.avg_step_information)
