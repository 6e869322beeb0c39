"""Every PDF the addon prints, read back as text (issue 17).

The reports are found in the registry (every ``ir.actions.report`` of the addon)
and rendered through the real wkhtmltopdf with the real stylesheets, served by the
test server as in production: Odoo's web fonts made Debian's wkhtmltopdf draw the
text as shapes. A new report fails here until someone says which record it prints
(``RECORD_OF``).
"""

import io
import re

from pypdf import PdfReader

from odoo import fields
from odoo.tests import new_test_user, tagged
from odoo.tools.misc import format_date

from ..report.avg_reports import EXPORT_FIELDS
from .common import (
    DOCUMENT_PASSWORD,
    agree_document_password,
    new_consent,
    new_portal_client,
)
from .http_common import AvgHttpCase

LANG = "nl_NL"
PRACTICE = "Praktijk Zonnedauw Fictief"
# Reports the client receives: in her language, from the dossier or herself.
FOR_THE_CLIENT = {
    "avg_coaching.coaching_dossier_report",
    "avg_coaching.coaching_session_report",
    "avg_coaching.avg_access_export_report",
    "avg_coaching.report_avg_information_notice",
    "avg_coaching.report_coaching_dossier_client_information",
}
# Keys of the collected data that are also ordinary Dutch words (and so may be
# in a Dutch text without being a key printed raw).
DUTCH_WORDS = {
    "coach",
    "contact",
    "details",
    "dossiers",
    "order",
    "records",
    "start",
    "status",
}


def pdf_text(content, password=None):
    reader = PdfReader(io.BytesIO(content))
    if password:
        reader.decrypt(password)
    text = "\n".join(page.extract_text() for page in reader.pages)
    # wkhtmltopdf sets words apart with tabs and breaks cells over lines.
    return " ".join(text.split()), len(reader.pages)


def keys_of(data):
    """Every key of the collector's nested dicts and lists."""
    if isinstance(data, dict):
        return set(data) | {key for value in data.values() for key in keys_of(value)}
    if isinstance(data, list):
        return {key for value in data for key in keys_of(value)}
    return set()


@tagged("post_install", "-at_install")
class TestReportPdfs(AvgHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(
            context=dict(cls.env.context, avg_access_system="maintenance")
        )
        cls.env["res.lang"]._activate_lang(LANG)
        cls.env["ir.module.module"].search(
            [("name", "in", ("base", "account", "avg_coaching"))]
        )._update_translations(LANG)
        cls.env.company.write(
            {
                "name": PRACTICE,
                "street": "Verzonnenstraat 12",
                "zip": "9999 ZZ",
                "city": "Nergenshuizen",
                "company_registry": "00000000",
            }
        )
        cls.coach = new_test_user(
            cls.env,
            "pdf_t_coach",
            groups="base.group_user,avg_coaching.group_avg_coach",
            name="Coach Fictief Pdf",
        )
        cls.client_user = new_portal_client(
            cls.env, "pdf_client", "pdf-client-pw", name="Cliënt Fictief Pdf"
        )
        cls.client = cls.client_user.partner_id
        cls.client.write({"lang": LANG, "city": "Nergenshuizen"})
        cls.client_user.lang = LANG
        for purpose in ("dossier", "special_health"):
            new_consent(cls.env, cls.client, purpose)
        cls.dossier = cls.env["coaching.dossier"].create(
            {
                "client_id": cls.client.id,
                "coach_id": cls.coach.id,
                "help_question": "Fictieve hulpvraag over werkdruk",
                "prior_help": True,
                "prior_help_aim": "Fictief eerder doel",
            }
        )
        cls.coaching_session = cls.env["coaching.session"].create(
            {
                "dossier_id": cls.dossier.id,
                "date": "2026-02-03",
                "report": "Fictief sessieverslag",
            }
        )
        cls.notice = cls.env["avg.information.notice"]._avg_record_given(
            cls.client, cls.dossier, "in_person", "2026-01-05"
        )
        privacy_manager = new_test_user(
            cls.env,
            "pdf_t_privacy",
            groups="base.group_user,avg_coaching.group_avg_privacy_manager",
        )
        cls.breach = cls.env["avg.breach"].create(
            {
                "summary": "Fictieve laptop kwijt",
                "discovered_at": "2026-02-01 10:00:00",
                "user_id": privacy_manager.id,
            }
        )
        agree_document_password(cls.env, cls.client)
        cls.record_of = {
            "coaching.dossier": cls.dossier,
            "coaching.session": cls.coaching_session,
            "res.partner": cls.client,
            "avg.information.notice": cls.notice,
            "avg.processing.activity": cls.env["avg.processing.activity"].search([]),
            "avg.breach": cls.breach,
        }

    def setUp(self):
        super().setUp()
        # The stylesheets and fonts come from this test server, as in production
        # they come from Odoo's own.
        self.env["ir.config_parameter"].set_param("report.url", self.base_url())

    def _reports(self):
        reports = self.env["ir.actions.report"].search(
            [("report_name", "=like", "avg_coaching.%")]
        )
        self.assertGreaterEqual(len(reports), 7)
        return reports

    def _render(self, report):
        record = self.record_of.get(report.model)
        self.assertTrue(
            record,
            f"{report.report_name}: which record does it print? Add it to record_of",
        )
        content, kind = (
            self.env["ir.actions.report"]
            .with_context(lang=LANG, force_report_rendering=True)
            ._render_qweb_pdf(report.report_name, record.ids)
        )
        self.assertEqual(kind, "pdf")
        return content

    def _raw_keys(self):
        collected = self.env["avg.subject.data"]._avg_collect(self.client)
        return keys_of(collected) - DUTCH_WORDS

    def assertReadable(self, name, text, pages):
        """A text layer with the letterhead, the date and page numbers, in
        Dutch, without technical names."""
        self.assertGreater(len(text), 200, f"{name}: no text layer")
        self.assertIn(PRACTICE, text, f"{name}: no practice name")
        self.assertIn("Verzonnenstraat 12", text, f"{name}: no letterhead address")
        today = format_date(self.env, fields.Date.today(), lang_code=LANG)
        self.assertIn(f"Datum: {today}", text, f"{name}: no date")
        for page in range(1, pages + 1):
            self.assertIn(f"Pagina {page} van {pages}", text, f"{name}: page {page}")
        for english in ("Page 1 of", "Date:"):
            self.assertNotIn(english, text, f"{name}: English in a Dutch PDF")
        printed = sorted(
            raw
            for raw in ("True", "False", *self._raw_keys())
            if re.search(rf"(?<![\w.-]){re.escape(raw)}(?![\w-])", text)
        )
        self.assertFalse(printed, f"{name}: technical names printed")

    def test_web_fonts_are_what_hid_the_text(self):
        """Why the layout names system fonts: the same page with the report
        stylesheets (served by the test server, so they load here) and Odoo's
        web font has no text layer with this wkhtmltopdf; with the layout's
        fonts it has."""
        Report = self.env["ir.actions.report"]
        page = (
            '<html><head><link rel="stylesheet" href="{url}"/></head><body>'
            '<div class="article" style="font-family: Lato;">{style}'
            "<p>Controle van de tekstlaag</p></div></body></html>"
        )
        bundle = self.env["ir.qweb"]._get_asset_bundle("web.report_assets_common")
        url = self.base_url() + bundle.get_link("css")
        self.assertEqual(self.url_open(url).status_code, 200)
        layout_fonts = (
            '<style>.article, .article * { font-family: "DejaVu Sans", '
            '"Liberation Sans", Arial, sans-serif !important; }</style>'
        )
        texts = [
            pdf_text(Report._run_wkhtmltopdf([page.format(url=url, style=style)]))[0]
            for style in ("", layout_fonts)
        ]
        self.assertNotIn("tekstlaag", texts[0], "web fonts print as text again")
        self.assertIn("Controle van de tekstlaag", texts[1])

    def test_every_report_reads_as_text(self):
        for report in self._reports():
            with self.subTest(report=report.report_name):
                text, pages = pdf_text(self._render(report))
                self.assertReadable(report.report_name, text, pages)
                if report.report_name in FOR_THE_CLIENT:
                    self.assertIn(self.client.name, text)

    def test_access_export_labels_in_her_language(self):
        text, _pages = pdf_text(
            self._render(self.env.ref("avg_coaching.avg_access_export_report_action"))
        )
        Partner = self.env["res.partner"].with_context(lang=LANG)
        for key in ("email", "date_of_birth", "legal_hold"):
            field = Partner._fields[EXPORT_FIELDS["contact"][1][key]]
            self.assertIn(field._description_string(Partner.env), text)
        Dossier = self.env["coaching.dossier"].with_context(lang=LANG)
        label = Dossier._fields["prior_help"]._description_string(Dossier.env)
        self.assertNotEqual(label, "Prior coaching or psychological help")
        self.assertIn(f"{label} Ja", text)
        self.assertIn("Wat Praktijk Zonnedauw Fictief over je bewaart", text)

    def test_export_keys_all_have_a_label(self):
        """Every key the collector gives has a field (or a label) to print."""
        from ..report.avg_reports import DOSSIER_TABLES, EXPORT_LABELS

        collected = self.env["avg.subject.data"]._avg_collect(self.client)
        sections = {
            "contact": [collected["contact"]],
            "dossiers": collected["dossiers"],
            **{
                name: collected[name]
                for name in EXPORT_FIELDS
                if name in collected and name not in ("contact", "dossiers")
            },
        }
        for dossier in collected["dossiers"]:
            for name in DOSSIER_TABLES:
                sections[name] = sections.get(name, []) + dossier[name]
        for section, items in sections.items():
            model, names = EXPORT_FIELDS[section]
            for item in items:
                for key in item:
                    if section == "dossiers" and key in DOSSIER_TABLES:
                        continue
                    name = names.get(key)
                    self.assertTrue(
                        (name and name in self.env[model]._fields)
                        or key in EXPORT_LABELS,
                        f"{section}.{key}: no field or label",
                    )

    def test_art13_from_the_dossier_in_one_language(self):
        report = self.env.ref("avg_coaching.coaching_dossier_report_client_information")
        text, _pages = pdf_text(self._render(report))
        self.assertIn("Hoe we met je persoonsgegevens omgaan", text)
        for activity in self.record_of["avg.processing.activity"]:
            english = " ".join(activity.with_context(lang="en_US").purpose.split())
            dutch = " ".join(activity.with_context(lang=LANG).purpose.split())
            if english != dutch:
                self.assertNotIn(english, text)
                self.assertIn(dutch, text)

    def test_portal_download_reads_as_text(self):
        """The protected PDF of /my/privacy, downloaded by the client herself.

        Rendered inside a request: the test server serves one request at a
        time, so wkhtmltopdf cannot fetch the stylesheets from it (it would wait
        for the request that waits for it); the fonts are checked above, on the
        same report."""
        self.env["ir.config_parameter"].set_param("report.url", "http://127.0.0.1:9")
        self.authenticate("pdf_client", "pdf-client-pw")
        response = self.url_open("/my/privacy/export.pdf")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Content-Type"], "application/pdf")
        text, pages = pdf_text(response.content, password=DOCUMENT_PASSWORD)
        self.assertReadable("/my/privacy/export.pdf", text, pages)
        self.assertIn(self.client.name, text)
