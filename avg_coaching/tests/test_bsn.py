from odoo.exceptions import ValidationError
from odoo.tests import BaseCase, tagged

from odoo.addons.avg_coaching.services.bsn import find_bsn, passes_eleven_test

from .common import AvgCoachingCase

# Fictional numbers that pass the eleven-test (111222333, 123456782).
VALID_BSNS = [
    "111222333",
    "123456782",
    "1234.56.782",
    "1234 56 782",
    "BSN: 111222333.",
    "<p>nummer <b>123456782</b></p>",
]
ORDINARY_NUMBERS = [
    "Bel 0612345678 of +31612345678",
    "IBAN NL91ABNA0417164300",
    "Bedrag 123456782,00 euro",
    "Factuur 1.234.567,82",
    "Geboren 15-06-1985, sessie op 2026-11-23",
    "Ordernummer 123456789",  # nine digits that fail the eleven-test
    "Telefoon 06-12345678",
    "Postcode 1234 AB, huisnummer 56",
    "Kenmerk 1111222333",  # ten digits
]


@tagged("post_install", "-at_install")
class TestBsnDetection(BaseCase):
    def test_eleven_test(self):
        self.assertTrue(passes_eleven_test("111222333"))
        self.assertTrue(passes_eleven_test("123456782"))
        self.assertFalse(passes_eleven_test("123456789"))
        self.assertFalse(passes_eleven_test("000000000"))
        self.assertFalse(passes_eleven_test("12345678"))
        self.assertFalse(passes_eleven_test("12345678a"))

    def test_finds_bsn(self):
        for text in VALID_BSNS:
            self.assertTrue(find_bsn(text), text)

    def test_ignores_ordinary_numbers(self):
        for text in ORDINARY_NUMBERS:
            self.assertIsNone(find_bsn(text), text)

    def test_wrong_types_and_empty(self):
        for value in (None, False, "", 123456782, b"123456782", ["123456782"]):
            self.assertIsNone(find_bsn(value), value)

    def test_huge_text(self):
        text = "woord " * 200_000
        self.assertIsNone(find_bsn(text))
        self.assertEqual(find_bsn(text + " 111222333"), "111222333")


@tagged("post_install", "-at_install")
class TestBsnRefused(AvgCoachingCase):
    def test_refused_in_dossier_session_note_and_contact(self):
        self._consent(self.client, "special_religion")
        special = self.env["coaching.special.data"].create(
            {
                "dossier_id": self.dossier.id,
                "category": "religion",
                "relation_note": "Geloof",
            }
        )
        cases = [
            (self.dossier, "help_question", "Help question"),
            (self.dossier, "personal_notes", "Coach's personal notes"),
            (self.session, "notes", "Session notes"),
            (self.session, "report", "Report"),
            (special, "details", "Details"),
            (self.client, "comment", "Notes"),
            (self.client, "street", "Street"),
        ]
        for record, fname, label in cases:
            before = record[fname]
            with self.assertRaises(ValidationError) as caught:
                record.with_user(self.coach).write({fname: "Haar BSN is 1112.22.333"})
            self.assertIn(label, str(caught.exception), fname)
            self.assertIn("BSN", str(caught.exception))
            record.invalidate_recordset()
            self.assertEqual(record[fname], before, f"{fname} changed despite refusal")

    def test_refused_on_create(self):
        with self.assertRaisesRegex(ValidationError, "BSN"):
            self.env["coaching.dossier"].with_user(self.coach).create(
                {"client_id": self.client.id, "coaching_goals": "BSN 123456782"}
            )
        with self.assertRaisesRegex(ValidationError, "BSN"):
            self.env["res.partner"].create({"name": "Iemand 123456782"})

    def test_ordinary_numbers_accepted(self):
        for text in ORDINARY_NUMBERS:
            self.dossier.with_user(self.coach).write({"help_question": text})
            self.assertEqual(self.dossier.help_question, text)
            self.client.write({"comment": text})
