from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import AvgCoachingCase


@tagged("post_install", "-at_install")
class TestSecurity(AvgCoachingCase):
    """Only the coach reads dossiers (seed 004 §4): ACLs and record rules."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.health = cls._consent(cls.client, "special_health")
        cls.special = cls.env["coaching.special.data"].create(
            {
                "dossier_id": cls.dossier.id,
                "category": "health",
                "relation_note": "Vermoeidheid speelt mee",
                "details": "Huisarts",
            }
        )
        cls.document = cls.env["coaching.document"].create(
            {"dossier_id": cls.dossier.id, "name": "Rapport", "file": b"UERGIGRhdGE="}
        )
        cls.sensitive_models = {
            "coaching.dossier": cls.dossier,
            "coaching.session": cls.session,
            "coaching.special.data": cls.special,
            "coaching.document": cls.document,
            "avg.consent": cls.health,
        }

    def test_coach_reads_own_dossier(self):
        dossier = self.dossier.with_user(self.coach)
        self.assertEqual(dossier.help_question, "Grenzen aangeven op het werk")
        self.assertEqual(dossier.session_ids, self.session)
        found = self.env["coaching.dossier"].with_user(self.coach).search([])
        self.assertIn(self.dossier, found)
        self.assertNotIn(self.dossier2, found)
        self.assertEqual(
            self.client.with_user(self.coach).coaching_dossier_ids, self.dossier
        )
        self.assertEqual(self.client.with_user(self.coach).coaching_dossier_count, 1)

    def test_other_coach_is_refused(self):
        for model, record in self.sensitive_models.items():
            as_coach2 = self.env[model].with_user(self.coach2)
            self.assertFalse(
                as_coach2.search([("id", "=", record.id)]),
                f"{model}: another coach finds the record",
            )
            with self.assertRaises(AccessError, msg=model):
                record.with_user(self.coach2).read(["display_name"])
        with self.assertRaises(AccessError):
            self.dossier.with_user(self.coach2).write({"help_question": "x"})
        with self.assertRaises(AccessError):
            self.env["coaching.session"].with_user(self.coach2).create(
                {"dossier_id": self.dossier.id, "date": "2026-02-01"}
            )
        # The other coach's own dossier stays hers.
        self.assertEqual(
            self.env["coaching.dossier"].with_user(self.coach2).search([]),
            self.dossier2,
        )

    def test_bookkeeper_refused_everywhere(self):
        for model, record in self.sensitive_models.items():
            env_model = self.env[model].with_user(self.bookkeeper)
            with self.assertRaises(AccessError, msg=f"{model} read"):
                record.with_user(self.bookkeeper).read(["display_name"])
            with self.assertRaises(AccessError, msg=f"{model} search"):
                env_model.search([])
            with self.assertRaises(AccessError, msg=f"{model} write"):
                record.with_user(self.bookkeeper).write({})
            with self.assertRaises(AccessError, msg=f"{model} export"):
                record.with_user(self.bookkeeper).export_data(["display_name"])
        with self.assertRaises(AccessError):
            self.env["coaching.dossier"].with_user(self.bookkeeper).create(
                {"client_id": self.client.id}
            )
        with self.assertRaises(AccessError):
            self.dossier.with_user(self.bookkeeper).unlink()

    def test_bookkeeper_works_on_contacts_and_invoices(self):
        client = self.client.with_user(self.bookkeeper)
        self.assertEqual(client.name, "Testcliënt Anna Fictief")
        client.write({"street": "Nieuwe straat 1"})
        self.assertEqual(self.client.street, "Nieuwe straat 1")
        # Coach-only partner fields are refused as data, not only hidden in the view.
        for fname in (
            "coaching_birthdate",
            "coaching_employer",
            "avg_last_contact",
            "coaching_dossier_ids",
            "coaching_dossier_count",
        ):
            with self.assertRaises(AccessError, msg=fname):
                client.read([fname])
            with self.assertRaises(AccessError, msg=fname):
                client.export_data([fname])
        with self.assertRaises(AccessError):
            self.env["res.partner"].with_user(self.bookkeeper).search(
                [("coaching_birthdate", "<", "2000-01-01")]
            )
        with self.assertRaises(AccessError):
            self.env["res.partner"].with_user(self.bookkeeper).search(
                [("coaching_dossier_ids.help_question", "ilike", "Grenzen")]
            )
        # The contact form opens for the bookkeeper without the coach's fields.
        arch = (
            self.env["res.partner"]
            .with_user(self.bookkeeper)
            .get_views([(False, "form")])["views"]["form"]["arch"]
        )
        self.assertNotIn('name="coaching_birthdate"', arch)
        self.assertNotIn('name="coaching_dossier_ids"', arch)
        # The employer is the client's coach's to know (issue 12), not the
        # bookkeeper's.
        self.assertNotIn('name="coaching_employer"', arch)
        invoice = (
            self.env["account.move"]
            .with_user(self.bookkeeper)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.client.id,
                    "invoice_line_ids": [
                        (
                            0,
                            0,
                            {"name": "Coachingsessie", "quantity": 1, "price_unit": 95},
                        )
                    ],
                }
            )
        )
        self.assertEqual(invoice.partner_id, self.client)

    def test_bookkeeper_no_messages_or_attachments_of_dossiers(self):
        self.dossier.message_post(body="Afspraak verzet")
        messages = (
            self.env["mail.message"]
            .with_user(self.bookkeeper)
            .search(
                [("model", "=", "coaching.dossier"), ("res_id", "=", self.dossier.id)]
            )
        )
        self.assertFalse(messages)
        attachment = self.env["ir.attachment"].search(
            [
                ("res_model", "=", "coaching.document"),
                ("res_id", "=", self.document.id),
                ("res_field", "=", "file_enc"),
            ]
        )
        self.assertTrue(attachment)
        with self.assertRaises(AccessError):
            attachment.with_user(self.bookkeeper).read(["datas"])

    def test_privacy_manager_reads_consents_only(self):
        consent = self.health.with_user(self.privacy_manager)
        self.assertEqual(consent.purpose, "special_health")
        with self.assertRaises(AccessError):
            consent.write({"note": "x"})
        with self.assertRaises(AccessError):
            self.dossier.with_user(self.privacy_manager).read(["help_question"])
        with self.assertRaises(AccessError):
            self.session.with_user(self.privacy_manager).read(["notes"])

    def test_consents_of_other_coach_clients_hidden(self):
        other = self._consent(self.client2, "dossier")
        self.assertFalse(
            self.env["avg.consent"]
            .with_user(self.coach)
            .search([("id", "=", other.id)])
        )
        self.assertTrue(
            self.env["avg.consent"]
            .with_user(self.coach2)
            .search([("id", "=", other.id)])
        )

    def test_contact_fields_are_written_one_by_one(self):
        """Writing the birth date does not overwrite the stored last contact (nor
        the other way round): each shown field has its own inverse."""
        partner = self.env["res.partner"].create(
            {"name": "Nieuw Contact Fictief", "coaching_birthdate": "1980-02-03"}
        )
        self.assertEqual(
            partner.sudo().avg_last_contact_stored, fields.Date.context_today(partner)
        )
        partner.write({"coaching_employer": "Werkgever Fictief"})
        self.assertEqual(str(partner.sudo().coaching_birthdate_stored), "1980-02-03")
