from odoo.tests import HttpCase, tagged

from .portal_common import CLIENT_LOGIN, CLIENT_PASSWORD, make_portal_client


@tagged("post_install", "-at_install")
class TestPortalInDutch(HttpCase):
    """A Dutch client reads the portal in Dutch: every choice through the
    field's selection (no Python constant), every date in the Dutch format."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(
            context=dict(cls.env.context, avg_access_system="maintenance")
        )
        cls.env["res.lang"]._activate_lang("nl_NL")
        cls.env["ir.module.module"].search(
            [("name", "=", "avg_coaching")]
        )._update_translations("nl_NL")
        cls.fixture = make_portal_client(cls.env)
        cls.fixture["client"].lang = "nl_NL"

    def test_choices_and_dates_in_dutch(self):
        self.authenticate(CLIENT_LOGIN, CLIENT_PASSWORD)
        page = self.url_open("/my/privacy").text
        Request = self.env["avg.request"].with_context(lang="nl_NL")
        for fname in ("request_type", "restriction_ground"):
            labels = dict(Request._fields[fname]._description_selection(Request.env))
            english = dict(Request._fields[fname].selection)
            for value in ("rectification", "erasure", "restriction", "objection"):
                if value in labels:
                    self.assertIn(f'value="{value}"', page)
            for value, label in labels.items():
                if fname == "request_type" and value in (
                    "access",
                    "portability",
                    "withdrawal",
                ):
                    continue  # the buttons do these
                self.assertNotEqual(label, english[value], "not translated")
                self.assertIn(label, page)
                self.assertNotIn(english[value], page)
        self.assertIn("Verwijdering (art. 17)", page)
        # Dates in the Dutch format: her trajectory's start, her consents.
        self.assertIn("12-01-2026", page)
        self.assertIn("05-01-2026", page)
        self.assertNotIn("2026-01-12", page)
        self.assertNotIn("01/12/2026", page)
        # The public form, read by a Dutch reader, in Dutch too.
        public = self.url_open("/privacy/request").text
        self.assertIn("Verwijdering (art. 17)", public)
        self.assertNotIn("Erasure (art. 17)", public)
        # The confirmation step before a withdrawal.
        consent = self.fixture["consents"].filtered(
            lambda c: c.purpose == "special_health"
        )
        step = self.url_open(f"/my/privacy/consent/{consent.id}").text
        self.assertIn("Je toestemming intrekken?", step)
        self.assertIn("huidige medische behandeling", step)
