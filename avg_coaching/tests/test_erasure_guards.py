from ast import literal_eval

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from .common import COACH, AvgCoachingCase

DSR = "Data-subject requests"


@tagged("post_install", "-at_install")
class TestErasureGuards(AvgCoachingCase):
    """Issue 13: privacy_lookup, Contacts > Merge and deleting by hand do not go
    around the erasure path."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.env.ref("base.user_admin")
        # The coach as in the practice (demo data): she also manages contacts.
        cls.coach_pm = new_test_user(
            cls.env,
            "t_coach_pm",
            groups=f"base.group_user,base.group_partner_manager,{COACH}",
        )
        cls.dossier.coach_id = cls.coach_pm
        cls.consent = cls._consent(cls.client, "dossier")
        cls.Log = cls.env["avg.deletion.log"]

    def _log_count(self):
        return self.Log.search_count([])

    def _key(self, partner):
        return self.env["avg.data.key"].search([("partner_id", "=", partner.id)])

    # ------------------------------------------------------------ privacy_lookup
    def _lookup(self, name, email):
        wizard = (
            self.env["privacy.lookup.wizard"]
            .with_user(self.admin)
            .create({"name": name, "email": email})
        )
        wizard.action_lookup()
        return wizard.line_ids

    def test_privacy_lookup_refuses_client_under_legal_hold(self):
        self.client.write({"avg_legal_hold": True, "avg_legal_hold_reason": "Zaak"})
        lines = self._lookup(self.client.name, self.client.email)
        found = set(lines.mapped("res_model"))
        for model in ("res.partner", "coaching.dossier", "coaching.session"):
            self.assertIn(model, found)
        self.assertIn("avg.consent", found)
        logs = self._log_count()
        for line in lines.filtered(
            lambda ln: (
                ln.res_model
                in (
                    "res.partner",
                    "coaching.dossier",
                    "coaching.session",
                    "avg.consent",
                )
            )
        ):
            with (
                self.subTest(model=line.res_model),
                self.assertRaisesRegex(UserError, DSR),
            ):
                line.action_unlink()
        with self.assertRaisesRegex(UserError, DSR):
            lines.action_unlink_all()
        for record in (self.client, self.dossier, self.session, self.consent):
            self.assertTrue(record.exists(), record._name)
        self.assertFalse(lines.filtered("is_unlinked"))
        self.assertEqual(self._log_count(), logs)
        self.assertEqual(
            self.dossier.with_user(self.coach_pm).help_question[:6], "Grenze"
        )

    def test_privacy_lookup_refuses_archiving_and_evidence(self):
        request = self.env["avg.request"].create(
            {"partner_id": self.client.id, "request_type": "access"}
        )
        lines = self._lookup(self.client.name, self.client.email)
        request_line = lines.filtered(
            lambda ln: ln.res_model == "avg.request" and ln.res_id == request.id
        )
        self.assertTrue(request_line)
        consent_line = lines.filtered(lambda ln: ln.res_model == "avg.consent")
        for line in request_line | consent_line:
            with self.assertRaisesRegex(UserError, DSR):
                line.action_unlink()
        with self.assertRaisesRegex(UserError, DSR):
            lines.action_archive_all()
        self.assertTrue(self.client.active)
        self.assertTrue(request.exists() and self.consent.exists())

    def test_privacy_lookup_still_works_for_other_contacts(self):
        other = self.env["res.partner"].create(
            {"name": "Losse Nieuwsbriefrelatie", "email": "los@elders.test"}
        )
        lines = self._lookup(other.name, other.email)
        self.assertEqual(lines.mapped("res_model"), ["res.partner"])
        lines.action_archive_all()
        self.assertFalse(other.active)
        lines.action_unlink_all()
        self.assertFalse(other.exists())

    # ------------------------------------------------------------------ merge
    def _merge_wizard(self, user, partners, dst):
        return (
            self.env["base.partner.merge.automatic.wizard"]
            .with_user(user)
            .with_context(active_model="res.partner", active_ids=partners.ids)
            .create(
                {
                    "partner_ids": [(6, 0, partners.ids)],
                    "dst_partner_id": dst.id,
                    "state": "selection",
                }
            )
        )

    def test_merge_refused_for_a_client_for_coach_and_bookkeeper(self):
        duplicate = self.env["res.partner"].create(
            {"name": "Anna Fictief (dubbel)", "email": self.client.email}
        )
        key = self._key(self.client)
        self.assertTrue(key)
        for user in (self.coach_pm, self.bookkeeper):
            for dst in (duplicate, self.client):
                with self.subTest(user=user.login, dst=dst.name):
                    wizard = self._merge_wizard(user, self.client | duplicate, dst)
                    with self.assertRaisesRegex(UserError, "cannot be merged"):
                        wizard.action_merge()
        with self.assertRaisesRegex(UserError, "cannot be merged"):
            self.env["base.partner.merge.automatic.wizard"]._merge(
                [self.client.id, duplicate.id], duplicate
            )
        self.assertTrue(self.client.exists() and duplicate.exists())
        self.assertEqual(self.dossier.client_id, self.client)
        self.assertEqual(self.consent.partner_id, self.client)
        self.assertEqual(self._key(self.client), key)
        self.assertEqual(
            self.dossier.with_user(self.coach_pm).help_question,
            "Grenzen aangeven op het werk",
        )

    def test_merge_refused_for_a_contact_with_only_a_request(self):
        contact = self.env["res.partner"].create(
            {"name": "Vrager", "email": "v@x.test"}
        )
        self.env["avg.request"].create(
            {"partner_id": contact.id, "request_type": "access"}
        )
        other = self.env["res.partner"].create({"name": "Vrager", "email": "v@x.test"})
        wizard = self._merge_wizard(self.bookkeeper, contact | other, other)
        with self.assertRaisesRegex(UserError, "cannot be merged"):
            wizard.action_merge()

    def test_duplicate_finder_leaves_clients_out(self):
        self.env["res.partner"].create(
            [
                {"name": "Anna Fictief (dubbel)", "email": self.client.email},
                {"name": "Dubbel", "email": "dubbel@elders.test"},
                {"name": "Dubbel BV", "email": "dubbel@elders.test"},
            ]
        )
        wizard = (
            self.env["base.partner.merge.automatic.wizard"]
            .with_user(self.bookkeeper)
            .create({"group_by_email": True})
        )
        wizard.action_start_manual_process()
        groups = [
            set(self.env["res.partner"].browse(eval_ids).mapped("email"))
            for eval_ids in (literal_eval(line.aggr_ids) for line in wizard.line_ids)
        ]
        self.assertIn({"dubbel@elders.test"}, groups)
        self.assertNotIn({self.client.email}, groups)
        self.assertEqual(wizard.number_group, len(groups))

    def test_merge_still_works_for_other_contacts(self):
        first, second = self.env["res.partner"].create(
            [
                {"name": "Leverancier", "email": "lev@elders.test"},
                {"name": "Leverancier BV", "email": "lev@elders.test"},
            ]
        )
        self._merge_wizard(self.bookkeeper, first | second, second).action_merge()
        self.assertFalse(first.exists())
        self.assertTrue(second.exists())

    # ------------------------------------------------------------ delete by hand
    @freeze_time("2026-03-01")
    def test_coach_cannot_delete_active_dossier_with_health_data(self):
        self._consent(self.client, "special_health")
        self.dossier.write({"state": "active", "medical_treatment": "Antidepressiva"})
        logs = self._log_count()
        with self.assertRaisesRegex(UserError, "has not been closed"):
            self.dossier.with_user(self.coach_pm).unlink()
        self.assertTrue(self.dossier.exists() and self.session.exists())
        self.assertEqual(self._log_count(), logs)
        self.assertEqual(
            self.dossier.with_user(self.coach_pm).medical_treatment, "Antidepressiva"
        )

    @freeze_time("2026-03-01")
    def test_coach_cannot_delete_held_closed_dossier_in_retention(self):
        self.dossier.write({"state": "closed", "date_end": "2023-05-01"})
        self.assertEqual(str(self.dossier.retention_due_date), "2030-05-01")
        self.client.write({"avg_legal_hold": True, "avg_legal_hold_reason": "Zaak"})
        logs = self._log_count()
        dossier = self.dossier.with_user(self.coach_pm)
        with self.assertRaisesRegex(UserError, "legal hold") as caught:
            dossier.unlink()
        self.assertIn("2030", str(caught.exception))
        with self.assertRaisesRegex(UserError, "legal hold"):
            self.session.with_user(self.coach_pm).unlink()
        self.client.avg_legal_hold = False
        # Without the hold the retention term still runs.
        with self.assertRaisesRegex(UserError, "retention term runs until"):
            dossier.unlink()
        with self.assertRaisesRegex(UserError, "retention term runs until"):
            self.session.with_user(self.coach_pm).unlink()
        self.assertTrue(self.dossier.exists() and self.session.exists())
        self.assertEqual(self._log_count(), logs)

    @freeze_time("2026-03-01")
    def test_coach_cannot_delete_while_restricted_or_requested(self):
        self.client.avg_restricted = True
        with self.assertRaisesRegex(UserError, "processing is restricted"):
            self.dossier.with_user(self.coach_pm).unlink()
        with self.assertRaisesRegex(UserError, "processing is restricted"):
            self.session.with_user(self.coach_pm).unlink()
        self.client.avg_restricted = False
        request = self.env["avg.request"].create(
            {"partner_id": self.client.id, "request_type": "access"}
        )
        with self.assertRaisesRegex(UserError, request.name):
            self.session.with_user(self.coach_pm).unlink()
        self.assertTrue(self.dossier.exists() and self.session.exists())

    @freeze_time("2026-03-01")
    def test_mistaken_intake_and_session_are_deleted_and_logged(self):
        mistake = self.env["coaching.dossier"].create(
            {"client_id": self.client.id, "coach_id": self.coach_pm.id}
        )
        logs = self._log_count()
        mistake.with_user(self.coach_pm).unlink()
        self.assertFalse(mistake.exists())
        log = self.Log.search([], order="id desc", limit=1)
        self.assertEqual(self._log_count(), logs + 1)
        self.assertEqual((log.operation, log.reason), ("purge", "manual"))
        self.assertIn('"coaching.dossier": 1', log.counts)
        self.assertEqual(log.subject_ref, self.Log._avg_subject_ref(self.client))
        self.assertNotIn(self.client.name, log.counts)
        # A session written by mistake in a running trajectory may go too.
        self.session.with_user(self.coach_pm).unlink()
        self.assertFalse(self.session.exists())
        self.assertEqual(self._log_count(), logs + 2)
        self.assertIn(
            '"coaching.session": 1',
            self.Log.search([], order="id desc", limit=1).counts,
        )

    def test_sudo_and_a_forged_context_do_not_get_through(self):
        """What privacy_lookup does (sudo) and what an RPC caller can send (a
        context key) are not the erasure path."""
        forged = {"avg_erasure": True}
        with self.assertRaisesRegex(UserError, "cannot be deleted"):
            self.dossier.with_context(**forged).sudo().unlink()
        for record in (self.consent, self._key(self.client)):
            with self.assertRaises(UserError):
                record.with_context(**forged).sudo().unlink()
        self.assertTrue(self.consent.exists() and self._key(self.client).exists())

    def test_client_is_removed_only_through_the_erasure_path(self):
        for user in (self.admin, self.coach_pm, self.bookkeeper):
            with self.subTest(user=user.login), self.assertRaisesRegex(UserError, DSR):
                self.client.with_user(user).unlink()
        # Even a client without dossier (only the flag) and as superuser.
        with self.assertRaisesRegex(UserError, DSR):
            self.env["res.partner"].create(
                {"name": "Aanmelding", "is_coaching_client": True}
            ).unlink()
        self.assertTrue(self.client.exists() and self.dossier.exists())
        # The erasure path itself still deletes, and logs.
        logs = self._log_count()
        self.client2._avg_erase()
        self.assertFalse(self.client2.exists() or self.dossier2.exists())
        self.assertEqual(self._log_count(), logs + 1)
        other = self.env["res.partner"].create({"name": "Gewoon contact"})
        other.with_user(self.bookkeeper).unlink()
        self.assertFalse(other.exists())
