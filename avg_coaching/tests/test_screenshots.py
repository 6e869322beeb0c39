"""The README's screenshots, made by the browser: each named screenshot is a page
opened as its user in headless Chromium at its size. In the test run they are
checked (the page is ready, the image is a PNG) and thrown away;
``tools/screenshots`` runs this test with ``AVG_SCREENSHOTS_DIR`` set to
``docs/screenshots`` (and ``AVG_SCREENSHOTS_LANG``, default Dutch there) to
write them."""

import base64
import os
import tempfile
from collections import namedtuple

from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import TEST_CURSOR_COOKIE_NAME, ChromeBrowser

from .portal_common import CLIENT_LOGIN, make_portal_client

# name: the file (<name>.png); url: a format string over the fixture's ids;
# ready: JavaScript that is true once the page shows what the image is about;
# size: the browser's width x height; height: at most this much of the page.
Screenshot = namedtuple("Screenshot", "name login url ready size height")

SCREENSHOTS = [
    Screenshot(
        "coach-dossier",
        "shot_coach",
        "/odoo/action-avg_coaching.coaching_dossier_action/{dossier}",
        "!!(odoo.__WOWL_DEBUG__ "
        "&& document.querySelector('.o_form_view .o_form_sheet'))",
        "1280x900",
        900,
    ),
    Screenshot(
        "privacy-setup-checklist",
        "shot_privacy",
        "/odoo/action-avg_coaching.avg_setup_action",
        "!!(odoo.__WOWL_DEBUG__ && document.querySelector('.o_avg_setup_item'))",
        "1280x900",
        1400,
    ),
    Screenshot(
        "client-privacy",
        CLIENT_LOGIN,
        "/my/privacy",
        # The form's widget has hidden the fields of the other request types.
        "!!(odoo.__WOWL_DEBUG__ && document.querySelector('.o_avg_for_type.d-none'))",
        "390x844",
        2000,
    ),
]


@tagged("post_install", "-at_install")
class TestScreenshots(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(
            context=dict(cls.env.context, avg_access_system="maintenance")
        )
        cls.lang = os.environ.get("AVG_SCREENSHOTS_LANG", "en_US")
        if cls.lang != "en_US":
            cls.env["res.lang"]._activate_lang(cls.lang)
            cls.env["ir.module.module"].search(
                [("state", "=", "installed")]
            )._update_translations(cls.lang)
        # The practice as the demo sets it up (fictional), not Odoo's YourCompany.
        cls.env.company.write(
            {
                "name": "Coachpraktijk Zonnewende",
                "street": "Fictieplein 1",
                "zip": "9999 ZA",
                "city": "Verzonnendam",
                "country_id": cls.env.ref("base.nl").id,
                "email": "info@praktijk.example",
            }
        )
        cls.fixture = make_portal_client(cls.env)
        # The coach of the dossier, with two-factor login as a real practice has
        # it (here by the policy of auth_totp_mail_enforce: a code by e-mail,
        # which the test's login does not ask for).
        cls.fixture["dossier"].coach_id.write({"login": "shot_coach"})
        # The privacy manager, who works through the set-up checklist.
        new_test_user(
            cls.env,
            "shot_privacy",
            groups="base.group_user,avg_coaching.group_avg_privacy_manager",
            name="Privacy Fictief",
        )
        Param = cls.env["ir.config_parameter"]
        Param.set_param("avg_coaching.two_factor_optional", False)
        Param.set_param("auth_totp.policy", "employee_required")
        cls.env["res.users"].search(
            [("login", "in", ("shot_coach", "shot_privacy", CLIENT_LOGIN))]
        ).write({"lang": cls.lang})
        cls.out_dir = os.environ.get("AVG_SCREENSHOTS_DIR") or tempfile.mkdtemp()
        os.makedirs(cls.out_dir, exist_ok=True)

    def _capture(self, shot):
        """The page as its user sees it, as PNG bytes."""
        self.browser_size = shot.size
        browser = ChromeBrowser(self, headless=True, success_signal="test successful")
        key = self.http_request_key
        try:
            self.http_request_key = self.canonical_tag + "_browser_js"
            self.authenticate(shot.login, shot.login, browser=browser)
            self.cr.flush()
            self.cr.clear()
            url = self.base_url() + shot.url.format(dossier=self.fixture["dossier"].id)
            browser.navigate_to(url, wait_stop=True)
            self.assertTrue(browser._wait_ready(shot.ready), shot.name)
            width = int(shot.size.split("x")[0])
            height = browser._websocket_request(
                "Runtime.evaluate",
                params={
                    "expression": "document.documentElement.scrollHeight",
                    "returnByValue": True,
                },
            )["result"]["value"]
            result = browser._websocket_request(
                "Page.captureScreenshot",
                params={
                    "format": "png",
                    "captureBeyondViewport": True,
                    "clip": {
                        "x": 0,
                        "y": 0,
                        "width": width,
                        "height": min(height, shot.height),
                        "scale": 1,
                    },
                },
                timeout=60,
            )
            # Away from the page before the browser closes: nothing it still
            # fetches fails (and logs an error) under the closing browser.
            browser.navigate_to("about:blank", wait_stop=True)
        finally:
            browser.stop()
            self._wait_remaining_requests()
            self.http_request_key = key
            self.opener.cookies[TEST_CURSOR_COOKIE_NAME] = key
        return base64.b64decode(result["data"])

    def test_screenshots(self):
        self.assertEqual(len({shot.name for shot in SCREENSHOTS}), len(SCREENSHOTS))
        for shot in SCREENSHOTS:
            with self.subTest(screenshot=shot.name):
                png = self._capture(shot)
                self.assertTrue(png.startswith(b"\x89PNG\r\n\x1a\n"), shot.name)
                path = os.path.join(self.out_dir, f"{shot.name}.png")
                with open(path, "wb") as image:
                    image.write(png)
