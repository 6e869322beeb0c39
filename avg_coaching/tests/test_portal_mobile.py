import re

from odoo.tests import HttpCase, tagged

from .portal_common import CLIENT_LOGIN, CLIENT_PASSWORD, make_portal_client

# A phone: the page must fit its width without sideways scrolling.
PHONE = "390x844"
# The page and its JavaScript (the public root, then widgets) have started.
READY = "document.readyState === 'complete' && !!(window.odoo && odoo.__WOWL_DEBUG__)"
# What the browser reports: the page's width against the window's, and, when it
# is too wide, the elements that stick out (to find them without a phone).
MEASURE = """
const page = document.documentElement.scrollWidth;
const screen = window.innerWidth;
if (page <= screen) {
    console.log("test successful");
} else {
    const wide = [...document.querySelectorAll("body *")]
        .filter((el) => el.getBoundingClientRect().right > screen + 0.5)
        .slice(-5)
        .map((el) => `${el.tagName.toLowerCase()}.${[...el.classList].join(".")}`
            + ` (${Math.round(el.getBoundingClientRect().right)} px)`);
    console.error(`${location.pathname} is ${page} px wide on a ${screen} px screen: `
        + wide.join(", "));
}
"""


@tagged("post_install", "-at_install")
class TestPortalOnAPhone(HttpCase):
    """Every page of the addon a client (or a visitor) opens fits a 390-pixel
    screen: Chromium at that width measures each one. The pages are the
    addon's own GET routes of the routing map, so a new page is measured too."""

    browser_size = PHONE

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(
            context=dict(cls.env.context, avg_access_system="maintenance")
        )
        cls.fixture = make_portal_client(cls.env)

    def _addon_pages(self):
        """The addon's GET routes, with the client's ids for their arguments."""
        ids = {
            "consent_id": self.fixture["consents"][0].id,
            "request_id": self.fixture["request"].id,
            "moment_id": self.fixture["moment"].id,
        }
        ir_http = self.env["ir.http"]
        pages = set()
        for url, endpoint in ir_http._generate_routing_rules(
            sorted(self.registry._init_modules), converters=ir_http._get_converters()
        ):
            func = getattr(endpoint, "original_endpoint", endpoint)
            if not (getattr(func, "__module__", "") or "").startswith(
                "odoo.addons.avg_coaching."
            ):
                continue
            methods = endpoint.routing.get("methods")
            if methods and "GET" not in methods:
                continue
            for name in re.findall(r"<int:(\w+)>", url):
                self.assertIn(name, ids, f"{url}: which record should it show?")
                url = url.replace(f"<int:{name}>", str(ids[name]))
            pages.add(url)
        return sorted(pages)

    def test_every_page_fits_390_pixels(self):
        self.authenticate(CLIENT_LOGIN, CLIENT_PASSWORD)
        measured = []
        for url in self._addon_pages():
            if re.search(r"\.\w+$", url):
                continue  # a file to download (export.pdf...), not a page
            response = self.url_open(url, allow_redirects=False)
            self.assertTrue(
                response.headers.get("Content-Type", "").startswith("text/html"), url
            )
            logged_in = url.startswith("/my")
            with self.subTest(page=url):
                self.browser_js(
                    url,
                    MEASURE,
                    # Once the page's JavaScript has started (it changes the page).
                    ready=READY,
                    login=CLIENT_LOGIN if logged_in else None,
                    timeout=60,
                )
            measured.append(url)
        # The pages the client knows are among them.
        for url in (
            "/my/privacy",
            "/my/moments",
            f"/my/privacy/requests/{self.fixture['request'].id}",
            f"/my/privacy/consent/{self.fixture['consents'][0].id}",
            "/privacy/request",
        ):
            self.assertIn(url, measured)
