from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import AvgCoachingCase


@tagged("post_install", "-at_install")
class TestMoments(AvgCoachingCase):
    """ZKM personal moments: part of the dossier, encrypted, for the coach and the
    client herself only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Moment = cls.env["coaching.moment"]
        cls.dossier.state = "active"
        cls.dossier2.state = "active"
        cls.portal_anna = new_test_user(
            cls.env, "t_moments_anna", groups="base.group_portal"
        )
        cls.portal_anna.partner_id.write(
            {
                "name": "Portal Anna Fictief",
                "is_coaching_client": True,
                "coaching_birthdate": "1980-01-01",
            }
        )
        cls.portal_bert = new_test_user(
            cls.env, "t_moments_bert", groups="base.group_portal"
        )
        cls.portal_bert.partner_id.write(
            {"is_coaching_client": True, "coaching_birthdate": "1981-01-01"}
        )
        for user in (cls.portal_anna, cls.portal_bert):
            cls._consent(user.partner_id, "dossier")
        cls.dossier_anna = cls.env["coaching.dossier"].create(
            {
                "client_id": cls.portal_anna.partner_id.id,
                "coach_id": cls.coach.id,
                "state": "active",
            }
        )
        cls.dossier_bert = cls.env["coaching.dossier"].create(
            {
                "client_id": cls.portal_bert.partner_id.id,
                "coach_id": cls.coach.id,
                "state": "active",
            }
        )
        cls.moment = cls.Moment.with_user(cls.coach).create(
            {"dossier_id": cls.dossier.id, "text": "Het moment op de brug"}
        )
        cls.moment_anna = cls.Moment.with_user(cls.portal_anna).create(
            {"dossier_id": cls.dossier_anna.id, "text": "Mijn eerste moment"}
        )
        cls.moment_bert = cls.Moment.create(
            {"dossier_id": cls.dossier_bert.id, "text": "BERT-MOMENT"}
        )

    def test_coach_writes_moments_encrypted_at_rest(self):
        second = self.Moment.with_user(self.coach).create(
            {
                "dossier_id": self.dossier.id,
                "text": "Toen ik het podium opliep",
                "author": "client",
                "date": "2026-02-03",
            }
        )
        self.assertEqual(self.moment.author, "coach")
        self.assertEqual(second.author, "client", "the coach may type the client's")
        self.assertEqual(second.sequence, self.moment.sequence + 1)
        self.assertEqual(self.dossier.moment_ids, self.moment | second)
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT text_enc FROM coaching_moment WHERE id = %s", [second.id]
        )
        stored = self.env.cr.fetchone()[0]
        self.assertTrue(stored.startswith("avg1:"))
        self.assertNotIn("podium", stored)
        self.env.invalidate_all()
        self.assertEqual(second.text, "Toen ik het podium opliep")

    def test_client_is_the_author_of_what_she_writes(self):
        self.assertEqual(self.moment_anna.author, "client")
        moment = self.Moment.with_user(self.portal_anna).create(
            {"dossier_id": self.dossier_anna.id, "text": "Nog een", "author": "coach"}
        )
        self.assertEqual(moment.author, "client")

    def test_empty_and_bsn_refused(self):
        with self.assertRaisesRegex(ValidationError, "cannot be empty"):
            self.Moment.with_user(self.coach).create(
                {"dossier_id": self.dossier.id, "text": "  "}
            )
        with self.assertRaisesRegex(ValidationError, "BSN"):
            self.moment.with_user(self.coach).text = "Mijn nummer is 111222333"
        self.assertEqual(self.moment.text, "Het moment op de brug")

    def test_closed_trajectory_freezes_moments(self):
        self.dossier.action_close()
        with self.assertRaisesRegex(UserError, "has closed"):
            self.moment.with_user(self.coach).text = "Later gewijzigd"
        with self.assertRaisesRegex(UserError, "has closed"):
            self.Moment.with_user(self.coach).create(
                {"dossier_id": self.dossier.id, "text": "Te laat"}
            )
        with self.assertRaisesRegex(UserError, "has closed"):
            self.moment.with_user(self.coach).unlink()
        self.assertEqual(self.moment.text, "Het moment op de brug")

    def test_moment_stays_in_its_dossier(self):
        with self.assertRaisesRegex(UserError, "stays in the dossier"):
            self.moment.with_user(self.coach).dossier_id = self.dossier_anna
        self.assertEqual(self.moment.dossier_id, self.dossier)

    def test_nobody_else_reads_or_writes(self):
        """Bookkeeper, privacy manager, another coach, another client: refused by
        the ACL or the record rules, not by views."""
        for user in (self.bookkeeper, self.privacy_manager, self.coach2):
            with self.subTest(user=user.login):
                with self.assertRaises(AccessError):
                    self.moment.with_user(user).read(["text"])
                with self.assertRaises(AccessError):
                    self.moment.with_user(user).write({"text": "Overschreven"})
                with self.assertRaises(AccessError):
                    self.Moment.with_user(user).create(
                        {"dossier_id": self.dossier.id, "text": "Ingevoegd"}
                    )
        self.assertFalse(self.Moment.with_user(self.coach2).search([]) & self.moment)
        anna = self.Moment.with_user(self.portal_anna)
        self.assertEqual(anna.search([]), self.moment_anna)
        with self.assertRaises(AccessError):
            self.moment_bert.with_user(self.portal_anna).read(["text"])
        with self.assertRaises(AccessError):
            self.moment_bert.with_user(self.portal_anna).write({"text": "Van Anna"})
        with self.assertRaises(AccessError):
            anna.create({"dossier_id": self.dossier_bert.id, "text": "In Berts"})
        with self.assertRaises(AccessError):
            self.moment_anna.with_user(self.portal_anna).unlink()
        self.assertEqual(self.moment_bert.text, "BERT-MOMENT")

    def test_client_only_while_trajectory_active(self):
        anna = self.moment_anna.with_user(self.portal_anna)
        anna.write({"text": "Bijgewerkt", "sequence": 5})
        self.assertEqual(self.moment_anna.text, "Bijgewerkt")
        with self.assertRaisesRegex(UserError, "text, order and date"):
            anna.write({"author": "coach"})
        self.dossier_anna.action_close()
        anna.invalidate_recordset()
        with self.assertRaises(AccessError):
            anna.read(["text"])
        with self.assertRaises(AccessError):
            anna.write({"text": "Na de afsluiting"})
        self.assertFalse(self.Moment.with_user(self.portal_anna).search([]))
        self.assertEqual(self.moment_anna.text, "Bijgewerkt")

    def test_client_not_in_intake(self):
        self.dossier_anna.state = "intake"
        with self.assertRaises(AccessError):
            self.Moment.with_user(self.portal_anna).create(
                {"dossier_id": self.dossier_anna.id, "text": "Te vroeg"}
            )

    def test_access_export_holds_the_moments(self):
        data = self.env["avg.subject.data"]._avg_collect(self.client)
        dossier = next(
            d for d in data["dossiers"] if d["reference"] == self.dossier.name
        )
        self.assertEqual(
            dossier["personal_moments"],
            [
                {
                    "order": self.moment.sequence,
                    "formulated_on": str(self.moment.date),
                    "written_by": "The coach",
                    "text": "Het moment op de brug",
                }
            ],
        )
        html = self.env["ir.actions.report"]._render_qweb_html(
            "avg_coaching.avg_access_export_report_action", self.client.ids
        )[0]
        self.assertIn(b"Het moment op de brug", html)
        self.assertNotIn(b"BERT-MOMENT", html)
