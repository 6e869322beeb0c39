"""The bottom line of every page of the addon's PDFs: practice, date, page number.

Odoo puts its report headers and footers (letterhead, page numbers) in separate
HTML files that wkhtmltopdf repeats on every page, which only wkhtmltopdf built
with its patched Qt can do. Debian's package is not that build: it ignores them,
and the PDFs had no letterhead, date or page number. The addon's layout
(``avg_coaching.report_layout``) therefore puts the letterhead and the date in
the page itself, and leaves the text of the bottom line in a hidden element of
each document; here each document is rendered on its own and that line is
written on each of its pages, with "page N of M" counted per document. It works
the same with the patched build, and other reports are left alone.
"""

import io
import logging
import os

import lxml.html
from pypdf import PdfReader, PdfWriter
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from odoo import api, models

_logger = logging.getLogger(__name__)

FOOTER_MARK = "avg_page_footer"
# The fonts the layout asks for (tools/common.sh installs them on Debian).
FONT_FILES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
)
FONT_NAME = "AvgReportSans"


def _footer_font():
    """A TrueType font registered with reportlab (embedded, so any character of a
    practice's name is printed), else the standard Helvetica."""
    if FONT_NAME in pdfmetrics.getRegisteredFontNames():
        return FONT_NAME
    for path in FONT_FILES:
        if os.path.isfile(path):
            pdfmetrics.registerFont(TTFont(FONT_NAME, path))
            return FONT_NAME
    _logger.info("No DejaVu or Liberation font found: page footers in Helvetica.")
    return "Helvetica"


class IrActionsReport(models.Model):
    _inherit = "ir.actions.report"

    @api.model
    def _avg_page_footer(self, body):
        """(left text, right text with {page} and {pages}) of a document made with
        the addon's layout, or None for any other document."""
        if FOOTER_MARK not in body:
            return None
        root = lxml.html.fromstring(body)
        left = root.xpath(f"//*[contains(@class, '{FOOTER_MARK}_left')]")
        right = root.xpath(f"//*[contains(@class, '{FOOTER_MARK}_right')]")
        if not right:
            return None
        return (
            " ".join(left[0].text_content().split()) if left else "",
            " ".join(right[0].text_content().split()),
        )

    @api.model
    def _avg_stamp_pages(self, pdf, footer):
        """Writes the footer line at the bottom of every page of ``pdf``."""
        left, right = footer
        writer = PdfWriter(clone_from=io.BytesIO(pdf))
        total = len(writer.pages)
        font = _footer_font()
        for number, page in enumerate(writer.pages, start=1):
            width = float(page.mediabox.width)
            overlay = io.BytesIO()
            sheet = canvas.Canvas(
                overlay, pagesize=(width, float(page.mediabox.height))
            )
            sheet.setStrokeGray(0.55)
            sheet.setLineWidth(0.5)
            sheet.line(18 * mm, 14 * mm, width - 18 * mm, 14 * mm)
            sheet.setFillGray(0.25)
            sheet.setFont(font, 8)
            sheet.drawString(18 * mm, 10 * mm, left)
            sheet.drawRightString(
                width - 18 * mm,
                10 * mm,
                right.replace("{page}", str(number)).replace("{pages}", str(total)),
            )
            sheet.save()
            page.merge_page(PdfReader(overlay).pages[0])
        result = io.BytesIO()
        writer.write(result)
        return result.getvalue()

    @api.model
    def _run_wkhtmltopdf(
        self,
        bodies,
        report_ref=False,
        header=None,
        footer=None,
        landscape=False,
        specific_paperformat_args=None,
        set_viewport_size=False,
    ):
        footers = [self._avg_page_footer(body) for body in bodies]
        if not any(footers):
            return super()._run_wkhtmltopdf(
                bodies,
                report_ref=report_ref,
                header=header,
                footer=footer,
                landscape=landscape,
                specific_paperformat_args=specific_paperformat_args,
                set_viewport_size=set_viewport_size,
            )
        # One run per document, so that its pages are numbered from 1; Odoo's
        # header and footer files are left out (the layout has none).
        writer = PdfWriter()
        for body, page_footer in zip(bodies, footers, strict=True):
            pdf = super()._run_wkhtmltopdf(
                [body],
                report_ref=report_ref,
                landscape=landscape,
                specific_paperformat_args=specific_paperformat_args,
                set_viewport_size=set_viewport_size,
            )
            if page_footer:
                pdf = self._avg_stamp_pages(pdf, page_footer)
            writer.append(PdfReader(io.BytesIO(pdf)))
        result = io.BytesIO()
        writer.write(result)
        return result.getvalue()
