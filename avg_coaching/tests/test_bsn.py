from odoo import models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import BaseCase, tagged

from odoo.addons.avg_coaching.services.bsn import find_bsn, passes_eleven_test

from .common import AvgCoachingCase, agree_document_password

# Fictional numbers that pass the eleven-test (111222333, 123456782).
VALID_BSNS = [
    "111222333",
    "123456782",
    "1234.56.782",
    "1234 56 782",
    "1112.22.333",
    "11 12 22 333",
    "111 222 333",
    "111-22-2333",
    "1112-22 333",
    "BSN: 111222333.",
    "BSN111222333",
    "bsn 1234.56.782",
    "<p>nummer <b>123456782</b></p>",
    # The old btw-id of a sole trader embedded the BSN (before 2020).
    "Btw NL111222333B01",
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
    "+31 (0)20 123 4567",
    "+31 6 1234 5678",
    "06 - 12 34 56 78",
    "020 123 4567",
    "0031 6 12345678",
    "KvK 12345678",
    "NL91 ABNA 0417 1643 00",
    "€ 1.234,56 en € 123.456.782,00",
    "Factuur INV/2026/00001 en FACT-2026-00123",
    # Current btw-ids (modulus 97), one whose digits happen to pass the eleven-test.
    "Btw-id NL123456952B01",
    "Btw-id NL200000040B01",
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

    def test_every_text_field_is_guarded(self):
        """Generated from the registry: every free-text field of every model of
        the addon and of contacts refuses a BSN, a new field included."""
        guard = self.env["base"]
        checked = 0
        for name in self.env.registry:
            model = self.env[name]
            if name != "res.partner" and (
                model._abstract or not name.startswith(("avg.", "coaching."))
            ):
                continue
            fnames = guard._avg_bsn_fields_of(name)
            for fname, field in model._fields.items():
                if field.type not in ("char", "text", "html") or fname.endswith("_enc"):
                    continue
                writable = (field.store or field.inverse) and (
                    not field.compute or field.inverse
                )
                if not writable or fname in models.MAGIC_COLUMNS:
                    continue
                if name in ("avg.access.log", "avg.data.key", "avg.deletion.log",
                            "avg.request.throttle"):  # fmt: skip
                    continue
                self.assertIn(fname, fnames, f"{name}.{fname} is not guarded")
                for text in VALID_BSNS:
                    with self.assertRaises(ValidationError, msg=f"{name}.{fname}"):
                        model._avg_check_bsn({fname: text})
                for text in ORDINARY_NUMBERS:
                    model._avg_check_bsn({fname: text})
                checked += 1
        self.assertGreater(checked, 60)
        for fname in ("help_question", "personal_notes", "name"):
            self.assertIn(fname, guard._avg_bsn_fields_of("coaching.dossier"))
        for fname in ("email", "phone", "zip", "ref", "website", "comment", "vat"):
            self.assertIn(fname, guard._avg_bsn_fields_of("res.partner"))

    def _one_of_each(self):
        """A record of every model of the addon that holds text, planted here
        (not taken from demo data)."""
        env = self.env
        self._consent(self.client, "special_religion")
        request = env["avg.request"].create(
            {"request_type": "access", "partner_id": self.client.id}
        )
        insurer = env["res.partner"].create({"name": "Fictieve Verzekeraar"})
        env["avg.request.recipient"].create(
            {"request_id": request.id, "kind": "insurer", "name": "Verzekeraar"}
        )
        env["avg.breach"].create(
            {"summary": "Laptop kwijt", "discovered_at": "2026-02-01 10:00:00"}
        )
        env["avg.processor.agreement"].create(
            {"name": "Verwerkersovereenkomst", "partner_id": insurer.id}
        )
        env["avg.information.notice"].create(
            {"partner_id": self.client.id, "delivery": "in_person"}
        )
        agree_document_password(env, self.client)
        env["coaching.document"].create(
            {"dossier_id": self.dossier.id, "name": "Verslag", "file": b"eA=="}
        )
        env["coaching.insurer.disclosure"].create(
            {"client_id": self.client.id, "insurer_id": insurer.id}
        )
        env["coaching.moment"].create({"dossier_id": self.dossier.id, "text": "M"})
        env["coaching.moment.transfer"].create({"dossier_id": self.dossier.id})
        env["coaching.special.data"].create(
            {
                "dossier_id": self.dossier.id,
                "category": "religion",
                "relation_note": "Speelt mee",
            }
        )

    def test_every_text_field_refuses_a_bsn_through_write(self):
        """Generated from the registry, through write() on a record of each
        guarded model, whatever the model's own write does first (encryption,
        freezing): a BSN is never stored. A new model fails here until it gets
        a record above."""
        self._one_of_each()
        guard = self.env["base"]
        refused, untried = 0, []
        for name in self.env.registry:
            fnames = guard._avg_bsn_fields_of(name)
            model = self.env[name]
            if not fnames or model._abstract or model._transient:
                continue
            record = model.sudo().with_context(active_test=False).search([], limit=1)
            if not record:
                untried.append(name)
            for fname in fnames if record else ():
                try:
                    with self.env.cr.savepoint():
                        record.write({fname: "Haar BSN: 1112 22 333"})
                        record.flush_recordset()
                except (ValidationError, UserError, AccessError):
                    refused += 1
                else:
                    self.fail(f"{name}.{fname} stored a BSN")
        self.assertEqual(untried, [], "guarded models without a record to try")
        self.assertGreater(refused, 90)

    def test_chatter_and_attachment_names_as_the_coach(self):
        """Chatter on her contact and on a privacy record, and the name of a file
        attached to them, as the coach writes them."""
        self.coach.groups_id += self.env.ref("base.group_partner_manager")
        request = (
            self.env["avg.request"]
            .with_user(self.coach)
            .create({"request_type": "access", "partner_id": self.client.id})
        )
        for record in (self.client.with_user(self.coach), request):
            with self.assertRaisesRegex(ValidationError, "BSN"):
                record.message_post(body="Haar nummer is 1234 56 782")
            with self.assertRaisesRegex(ValidationError, "BSN"):
                record.message_post(
                    body="Kopie", attachments=[("bsn 111-22-2333.pdf", b"x")]
                )
        record.message_post(body="Kopie", attachments=[("paspoort.pdf", b"x")])

    def test_chatter_and_attachment_names(self):
        with self.assertRaisesRegex(ValidationError, "BSN"):
            self.client.message_post(body="Zijn BSN is 111 222 333")
        with self.assertRaisesRegex(ValidationError, "BSN"):
            self.env["ir.attachment"].create(
                {
                    "name": "id 1112.22.333.pdf",
                    "res_model": "res.partner",
                    "res_id": self.client.id,
                    "raw": b"x",
                }
            )
        ok = self.env["ir.attachment"].create(
            {
                "name": "verslag.pdf",
                "res_model": "coaching.dossier",
                "res_id": self.dossier.id,
                "raw": b"x",
            }
        )
        with self.assertRaisesRegex(ValidationError, "BSN"):
            ok.write({"name": "111-22-2333.pdf"})
        # Elsewhere Odoo is not the addon's to guard.
        self.env["ir.attachment"].create({"name": "111222333.txt", "raw": b"x"})

    def test_ordinary_numbers_accepted(self):
        for text in ORDINARY_NUMBERS:
            self.dossier.with_user(self.coach).write({"help_question": text})
            self.assertEqual(self.dossier.help_question, text)
            self.client.write({"comment": text})
