from odoo.tests import HttpCase, new_test_user, tagged

from .common import new_portal_client


@tagged("post_install", "-at_install")
class TestPortalTour(HttpCase):
    """Headless Chromium on a phone (390 px): a client goes through her privacy
    page, downloads her data, sees only the fields of the request type she
    chooses, asks for erasure and withdraws her health consent after its
    confirmation step; her coach gets an activity."""

    browser_size = "390x844"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        coach = new_test_user(
            cls.env, "tour_coach", groups="base.group_user,avg_coaching.group_avg_coach"
        )
        cls.client_user = new_portal_client(
            cls.env, "tour_client", "tour-client-pw", email="tour.client@client.test"
        )
        partner = cls.client_user.partner_id
        cls.env["avg.consent"].create(
            {
                "partner_id": partner.id,
                "purpose": "dossier",
                "method": "signed_agreement",
                "text_version": "Tour-overeenkomst v1",
                "date_given": "2026-01-05",
            }
        )
        cls.health_consent = cls.env["avg.consent"].create(
            {
                "partner_id": partner.id,
                "purpose": "special_health",
                "method": "signed_form",
                "text_version": "Tour-gezondheid v1",
                "date_given": "2026-01-05",
            }
        )
        cls.coach = coach
        cls.dossier = dossier = cls.env["coaching.dossier"].create(
            {
                "client_id": partner.id,
                "coach_id": coach.id,
                "name": "TOUR-TRJ",
                "medical_treatment": "TOUR-BEHANDELING",
            }
        )
        cls.env["coaching.session"].create(
            {"dossier_id": dossier.id, "date": "2026-02-01", "notes": "TOUR-NOTITIE"}
        )
        # Her downloads are protected with the password agreed with her coach.
        cls.env["coaching.client.secret"].create(
            {"partner_id": partner.id, "password": "Tour-Wachtwoord-2026!"}
        )

    def test_privacy_tour(self):
        self.start_tour(
            "/my", "avg_coaching_privacy_tour", login="tour_client", timeout=120
        )
        request = self.env["avg.request"].search(
            [("partner_id", "=", self.client_user.partner_id.id)]
        )
        self.assertEqual(request.request_type, "erasure")
        self.assertEqual(request.description, "Wis mijn gegevens")
        self.assertEqual(request.state, "verified")
        # The health consent: withdrawn after the confirmation step; what it
        # covered is frozen, and her coach is told.
        self.assertEqual(self.health_consent.state, "withdrawn")
        special = self.env["coaching.special.data"].search(
            [("dossier_id", "=", self.dossier.id)]
        )
        self.assertEqual(special.mapped("state"), ["withdrawn"])
        activity = self.dossier.activity_ids
        self.assertEqual(activity.user_id, self.coach)
        self.assertEqual(activity.summary, "Client withdrew a consent")
        self.assertIn("Special category: health", activity.note)
        self.assertNotIn("TOUR-BEHANDELING", activity.note)
