from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .common import AvgCoachingCase, new_portal_client


@tagged("post_install", "-at_install")
@freeze_time("2026-06-01 10:00:00")
class TestDossierConsent(AvgCoachingCase):
    """Issue 15: no dossier content before the dossier consent; withdrawing it
    closes and queues the trajectory for the retention engine."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.newcomer = cls.env["res.partner"].create(
            {
                "name": "Testcliënt Nieuw Fictief",
                "is_coaching_client": True,
                "coaching_birthdate": "1979-09-09",
                "email": "nieuw@client.test",
            }
        )

    def test_no_content_before_the_dossier_consent(self):
        Dossier = self.env["coaching.dossier"].with_user(self.coach)
        with self.assertRaisesRegex(ValidationError, "consent for a coaching dossier"):
            Dossier.create(
                {
                    "client_id": self.newcomer.id,
                    "coach_id": self.coach.id,
                    "help_question": "Te vroeg",
                }
            )
        # The intake itself (who, which coach, the agreement) needs no consent.
        dossier = Dossier.create(
            {"client_id": self.newcomer.id, "coach_id": self.coach.id}
        )
        for vals in (
            {"help_question": "Te vroeg"},
            {"coaching_goals": "Te vroeg"},
            {"personal_notes": "Te vroeg"},
        ):
            with self.assertRaisesRegex(
                ValidationError, "consent for a coaching dossier"
            ):
                dossier.write(vals)
        with self.assertRaisesRegex(ValidationError, "consent for a coaching dossier"):
            self.env["coaching.session"].with_user(self.coach).create(
                {"dossier_id": dossier.id, "date": "2026-05-01", "notes": "Te vroeg"}
            )
        self._consent(self.newcomer, "special_religion")
        with self.assertRaisesRegex(ValidationError, "consent for a coaching dossier"):
            self.env["coaching.special.data"].with_user(self.coach).create(
                {
                    "dossier_id": dossier.id,
                    "category": "religion",
                    "relation_note": "Speelt mee",
                }
            )
        self.assertFalse(dossier.sudo().help_question_enc)
        self.assertFalse(dossier.session_ids)
        dossier.write({"help_question": False})  # emptying is always allowed
        self._consent(self.newcomer, "dossier")
        dossier.write({"help_question": "Nu wel"})
        self.assertEqual(dossier.help_question, "Nu wel")

    def test_withdrawal_by_the_coach_closes_and_queues(self):
        consent = self.env["avg.consent"].search(
            [("partner_id", "=", self.client.id), ("purpose", "=", "dossier")]
        )
        self.dossier.write({"agreement_date": "2026-01-05"})
        consent.with_user(self.coach).action_withdraw()
        dossier = self.dossier.with_user(self.coach)
        self.assertEqual(dossier.state, "closed")
        self.assertEqual(str(dossier.date_end), "2026-06-01")
        self.assertEqual(str(dossier.consent_withdrawn_date), "2026-06-01")
        self.assertEqual(str(dossier.retention_due_date), "2026-06-01")
        # Frozen: nothing is added or changed, and it cannot be reopened into use.
        with self.assertRaisesRegex(UserError, "closed"):
            dossier.write({"help_question": "Toch nog"})
        with self.assertRaises(ValidationError):
            self.env["coaching.session"].with_user(self.coach).create(
                {"dossier_id": dossier.id, "date": "2026-06-01"}
            )
        # Not deleted by the withdrawal: by the retention engine's dossier purge.
        self.assertTrue(dossier.sudo().help_question_enc)
        policy = self.env.ref("avg_coaching.retention_policy_dossier")
        policy._avg_run(dossier.retention_due_date)
        self.env.invalidate_all()
        self.assertTrue(dossier.content_purged_date)
        self.assertFalse(dossier.sudo().help_question_enc)
        self.assertFalse(self.session.exists())
        self.assertTrue(dossier.exists())  # the agreement stays for its own term

    def test_withdrawal_while_another_consent_stands_changes_nothing(self):
        second = self._consent(self.client, "dossier", text_version="v2")
        second.with_user(self.coach).action_withdraw()
        self.assertEqual(self.dossier.state, "intake")
        self.assertFalse(self.dossier.consent_withdrawn_date)

    def test_withdrawal_by_the_portal_client(self):
        """As the controller does it: her own consent, read-checked as her."""
        portal = new_portal_client(self.env, "t_consent_portal", "t-consent-portal")
        client = portal.partner_id
        consent = self._consent(client, "dossier")
        dossier = self.env["coaching.dossier"].create(
            {
                "client_id": client.id,
                "coach_id": self.coach.id,
                "help_question": "Portaal",
            }
        )
        mine = consent.with_user(portal)
        mine.check_access("read")
        mine.sudo().action_withdraw()
        self.assertEqual(dossier.state, "closed")
        self.assertEqual(str(dossier.retention_due_date), "2026-06-01")


@tagged("post_install", "-at_install")
@freeze_time("2026-06-01 10:00:00")
class TestInformationBeforeStart(AvgCoachingCase):
    """Art. 13 and 14: the trajectory starts only after the client received the
    current privacy information, naming the commissioner her data came from."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dossier.agreement_date = "2026-05-01"
        cls.dossier2.agreement_date = "2026-05-01"

    def test_start_refused_until_informed(self):
        dossier = self.dossier2.with_user(self.coach2)
        with self.assertRaisesRegex(UserError, "current privacy information"):
            dossier.action_start()
        self.assertEqual(dossier.state, "intake")
        wizard = (
            self.env["avg.information.given.wizard"]
            .with_user(self.coach2)
            .create(
                {
                    "dossier_id": dossier.id,
                    "delivery": "in_person",
                    "date_given": "2026-05-20",
                }
            )
        )
        wizard.action_confirm()
        notice = self.env["avg.information.notice"].search(
            [("partner_id", "=", self.client2.id)]
        )
        self.assertEqual(notice.delivery, "in_person")
        self.assertEqual(str(notice.date_sent), "2026-05-20 00:00:00")
        self.assertTrue(notice.attachment_id)
        self.assertTrue(notice.is_current)
        dossier.action_start()
        self.assertEqual(dossier.state, "active")

    def test_recorded_date_checked(self):
        Wizard = self.env["avg.information.given.wizard"].with_user(self.coach2)
        wizard = Wizard.create(
            {"dossier_id": self.dossier2.id, "date_given": "2026-07-01"}
        )
        with self.assertRaisesRegex(ValidationError, "not in the future"):
            wizard.action_confirm()
        with self.assertRaises(AccessError):  # not her dossier
            Wizard.with_user(self.coach).create(
                {"dossier_id": self.dossier2.id}
            ).action_confirm()

    def test_outdated_information_does_not_count(self):
        self._inform(self.dossier2)
        activity = self.env["avg.processing.activity"].search([], limit=1)
        activity.purpose = f"{activity.purpose} Gewijzigd."
        with self.assertRaisesRegex(UserError, "current privacy information"):
            self.dossier2.with_user(self.coach2).action_start()

    def test_commissioner_needs_the_art14_information(self):
        dossier = self.dossier.with_user(self.coach)
        # Information without this dossier (art. 13 only): no source named.
        self.env["avg.information.notice"]._avg_send(self.client)
        notice = self.env["avg.information.notice"].search(
            [("partner_id", "=", self.client.id)]
        )
        self.assertEqual(len(notice), 1)
        with self.assertRaisesRegex(UserError, "art. 14"):
            dossier.action_start()
        dossier.action_avg_send_client_information()
        sent = self.env["avg.information.notice"].search(
            [("partner_id", "=", self.client.id), ("id", "!=", notice.id)]
        )
        self.assertEqual(sent.source_partner_id, self.commissioner)
        self.assertEqual(sent.delivery, "email")
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("avg_coaching.avg_information_notice_report", sent.ids)[
                0
            ]
            .decode()
        )
        self.assertIn("Where your data came from", html)
        self.assertIn(self.commissioner.name, html)
        dossier.action_start()
        self.assertEqual(dossier.state, "active")

    def test_commissioner_set_on_a_running_trajectory_asks_for_art14(self):
        self._inform(self.dossier2)
        dossier = self.dossier2.with_user(self.coach2)
        dossier.action_start()
        dossier.commissioner_id = self.commissioner
        activity = self.dossier2.activity_ids.filtered(
            lambda a: "art. 14" in (a.summary or "")
        )
        self.assertEqual(activity.user_id, self.coach2)
        self.assertEqual(str(activity.date_deadline), "2026-07-01")

    def test_personal_notes_help_is_truthful(self):
        """The screen says what is shared: her access export includes the notes."""
        field = self.env["coaching.dossier"]._fields["personal_notes"]
        self.assertIn("access export", field.help)
        arch = self.env["coaching.dossier"].get_view(view_type="form")["arch"]
        self.assertNotIn("never shared", arch)
        self.assertIn("access export", arch)
        self.dossier.personal_notes = "NOTITIE-VOOR-INZAGE"
        data = self.env["avg.subject.data"]._avg_collect(self.client)
        self.assertIn("NOTITIE-VOOR-INZAGE", str(data))
