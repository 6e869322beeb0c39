from odoo.tests import tagged

from .common import new_consent
from .http_common import AvgPortalCase

WAIT_FOR_FORM = """
    const deadline = Date.now() + 20000;
    (function check() {
        const form = document.querySelector('.o_form_view');
        if (form && document.body.innerText.includes(%(text)r)) {
            console.log('test successful');
        } else if (Date.now() > deadline) {
            console.error('the form did not show ' + %(text)r);
        } else {
            setTimeout(check, 200);
        }
    })();
"""


@tagged("post_install", "-at_install")
class TestWebClient(AvgPortalCase):
    """The coach's forms open in a real browser (headless Chromium) without errors."""

    avg_read_as_maintenance = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.coach = cls.avg_new_coach("web_coach", password="web-coach-pw")
        client = cls.env["res.partner"].create(
            {
                "name": "Browser Testcliënt",
                "is_coaching_client": True,
                "coaching_birthdate": "1980-01-01",
            }
        )
        new_consent(cls.env, client)
        cls.dossier = cls.env["coaching.dossier"].create(
            {
                "client_id": client.id,
                "coach_id": cls.coach.id,
                "help_question": "Zichtbaar in de browser",
            }
        )
        cls.env["coaching.session"].create(
            {"dossier_id": cls.dossier.id, "date": "2026-02-01", "notes": "Notitie"}
        )
        cls.request = cls.env["avg.request"].create(
            {
                "partner_id": client.id,
                "request_type": "rectification",
                "rectification_field": "phone",
                "rectification_wrong": "Oud nummer",
                "rectification_correct": "+31 6 00000000",
            }
        )

    def test_dossier_form_opens(self):
        self.browser_js(
            f"/odoo/action-avg_coaching.coaching_dossier_action/{self.dossier.id}",
            WAIT_FOR_FORM % {"text": self.dossier.name},
            login="web_coach",
            timeout=60,
        )

    def test_request_form_opens(self):
        self.browser_js(
            f"/odoo/action-avg_coaching.avg_request_action/{self.request.id}",
            WAIT_FOR_FORM % {"text": self.request.name},
            login="web_coach",
            timeout=60,
        )
