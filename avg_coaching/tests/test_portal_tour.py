from odoo.tests import HttpCase, new_test_user, tagged

from .common import new_portal_client


@tagged("post_install", "-at_install")
class TestPortalTour(HttpCase):
    """Headless Chromium: a client goes through her privacy page, downloads her
    data and asks for erasure."""

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
        dossier = cls.env["coaching.dossier"].create(
            {"client_id": partner.id, "coach_id": coach.id, "name": "TOUR-TRJ"}
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
