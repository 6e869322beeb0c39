"""A coach's first day (issue 17): a Dutch practice out of the box, the set-up
checklist of the privacy manager, coaches landing in Coaching and the first
client in the lawful order."""

from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user, tagged

from .common import COACH, PRIVACY


@tagged("post_install", "-at_install")
class TestDemoPractice(TransactionCase):
    def test_demo_is_a_dutch_practice(self):
        """The demo data make Odoo's demo company a fictional Dutch practice:
        Dutch address and KvK, A4, Dutch for the coach, the client and the
        public. The euro comes with the database tools/demo creates (the
        Netherlands set before the accounting is installed); the test database
        is Odoo's US demo with dollar entries, whose currency cannot change."""
        coach = self.env.ref("avg_coaching.demo_user_coach", raise_if_not_found=False)
        if not coach:
            self.fail("The test database is installed with the demo data.")
        company = self.env.ref("base.main_company")
        self.assertEqual(company.country_id.code, "NL")
        self.assertEqual(company.paperformat_id.format, "A4")
        self.assertTrue(company.company_registry)
        self.assertNotIn(company.name, ("YourCompany", "My Company"))
        self.assertEqual(coach.lang, "nl_NL")
        self.assertEqual(self.env.ref("avg_coaching.demo_user_client_1").lang, "nl_NL")
        self.assertEqual(
            self.env.ref("avg_coaching.demo_partner_client_1").lang, "nl_NL"
        )
        self.assertEqual(self.env.ref("base.public_user").lang, "nl_NL")
        # What the checklist still asks of the practice is exactly what is missing:
        # on the test database (Odoo's US demo company, dollar entries, its
        # generic chart) the euro and the Dutch localisation.
        expected = []
        if company.currency_id.name != "EUR":
            expected.append("euro as currency")
        if company.chart_template != "nl":
            expected.append(
                "Odoo's Dutch localisation (l10n_nl: chart of accounts, BTW)"
            )
        setup = self.env["avg.setup"].with_context(lang="en_US")._avg_get()
        self.assertEqual(setup._avg_practice_missing(), expected)
        # The demo coach lands in Coaching.
        self.assertEqual(
            coach.action_id.id, self.env.ref("avg_coaching.coaching_dossier_action").id
        )


@tagged("post_install", "-at_install")
class TestCoachHome(TransactionCase):
    def test_coaches_land_in_coaching(self):
        dossiers = self.env.ref("avg_coaching.coaching_dossier_action").id
        coach = new_test_user(self.env, "home_coach", groups=f"base.group_user,{COACH}")
        self.assertEqual(coach.action_id.id, dossiers)
        clerk = new_test_user(self.env, "home_clerk", groups="base.group_user")
        self.assertFalse(clerk.action_id)
        # Made a coach later: lands in Coaching too.
        clerk.write({"groups_id": [(4, self.env.ref(COACH).id)]})
        self.assertEqual(clerk.action_id.id, dossiers)
        # A home chosen by hand is kept.
        other = self.env.ref("base.action_res_users").id
        chosen = new_test_user(self.env, "home_chosen", groups="base.group_user")
        chosen.action_id = other
        chosen.write({"groups_id": [(4, self.env.ref(COACH).id)]})
        self.assertEqual(chosen.action_id.id, other)
        # The administrator is no coach: as she was.
        self.assertNotEqual(self.env.ref("base.user_admin").action_id.id, dossiers)


@tagged("post_install", "-at_install")
class TestSetupChecklist(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env, "setup_privacy", groups=f"base.group_user,{PRIVACY}"
        )
        cls.coach = new_test_user(
            cls.env, "setup_coach", groups=f"base.group_user,{COACH}"
        )
        cls.setup = cls.env["avg.setup"]._avg_get()
        cls.env["ir.config_parameter"].set_param("avg_coaching.minor_policy", "adult")

    def test_items_follow_the_real_state(self):
        setup = self.setup.with_user(self.manager)
        self.assertEqual(setup.item_count, 6)
        # The master key of the test run is configured: present, not yet backed up.
        self.assertTrue(setup.key_present)
        self.assertFalse(setup.key_ok)
        setup.action_confirm_key_backup()
        self.assertTrue(setup.key_ok)
        self.assertEqual(setup.key_backup_user_id, self.manager)
        # Two-factor login: the practice's setting and her own second factor.
        params = self.env["ir.config_parameter"]
        params.set_param("avg_coaching.two_factor_optional", "True")
        setup.invalidate_recordset()
        self.assertFalse(setup.two_factor_ok)
        params.set_param("avg_coaching.two_factor_optional", "False")
        params.set_param("auth_totp.policy", "employee_required")
        setup.invalidate_recordset()
        self.assertTrue(setup.two_factor_ok)
        # The register: reviewed, then changed, asks for a new review.
        setup.action_confirm_register_review()
        self.assertTrue(setup.register_ok)
        activity = self.env["avg.processing.activity"].search([], limit=1)
        activity.purpose = f"{activity.purpose} (changed)"
        setup.invalidate_recordset()
        self.assertFalse(setup.register_ok)
        # Processors: a processor without a valid agreement is named.
        processor = self.env["res.partner"].create(
            {"name": "Hostingbedrijf Fictief", "is_company": True}
        )
        activity.recipient_ids = [
            (
                0,
                0,
                {
                    "name": "Hosting",
                    "recipient_type": "processor",
                    "partner_id": processor.id,
                },
            )
        ]
        setup.invalidate_recordset()
        self.assertFalse(setup.processors_ok)
        self.assertIn("Hosting", setup.processors_missing)

    def test_retention_choices(self):
        setup = self.setup.with_user(self.manager)
        self.assertFalse(setup.retention_ok)
        setup.write({"dossier_retention_years": "5", "minor_policy": "guardian"})
        policy = self.env.ref("avg_coaching.retention_policy_dossier")
        self.assertEqual((policy.period, policy.period_unit), (5, "years"))
        self.assertEqual(self.env["coaching.dossier"]._avg_minor_policy(), "guardian")
        setup.action_confirm_retention()
        self.assertTrue(setup.retention_ok)

    def test_coach_reads_but_cannot_change(self):
        setup = self.setup.with_user(self.coach)
        self.assertEqual(setup.item_count, 6)
        self.assertFalse(setup.can_edit)
        with self.assertRaises(AccessError):
            setup.write({"minor_policy": "refuse"})
        with self.assertRaises(AccessError):
            setup.action_confirm_key_backup()
        self.assertEqual(self.env["coaching.dossier"]._avg_minor_policy(), "adult")


@tagged("post_install", "-at_install")
class TestFirstClient(TransactionCase):
    """Following the steps on the dossier, in their order, never meets a refusal."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].set_param("avg_coaching.minor_policy", "adult")
        # As the demo coach: she also keeps the practice's contacts.
        cls.coach = new_test_user(
            cls.env,
            "first_coach",
            groups=f"base.group_user,base.group_partner_manager,{COACH}",
        )

    def test_steps_in_the_lawful_order(self):
        env = self.env(user=self.coach)
        client = env["res.partner"].create(
            {
                "name": "Eerste Cliënt Fictief",
                "is_coaching_client": True,
                "email": "eerste@client.test",
                "coaching_birthdate": "1990-04-01",
            }
        )
        action = client.action_avg_new_dossier()
        # The form opens with the client filled in, and saves it with her.
        dossier = env["coaching.dossier"].create(
            {"client_id": action["context"]["default_client_id"]}
        )
        self.assertEqual(dossier.client_id, client)
        self.assertEqual(dossier.avg_next_step, "consent")
        self.assertFalse(dossier.avg_step_consent)
        # 2. The consent, as the dialog the step opens records it.
        action = dossier.action_avg_record_consent()
        env["avg.consent"].with_context(**action["context"]).create(
            {
                "text_version": "Toestemming dossier v1",
                "consent_text": "Ik geef toestemming voor een coachingsdossier.",
            }
        )
        dossier.invalidate_recordset()
        self.assertTrue(dossier.avg_step_consent)
        self.assertEqual(dossier.avg_next_step, "agreement")
        # 3. The agreement.
        dossier.agreement_date = "2026-03-01"
        self.assertEqual(dossier.avg_next_step, "information")
        # 4. The privacy information, given in person.
        action = dossier.action_avg_record_client_information()
        wizard = (
            env[action["res_model"]]
            .with_context(avg_information_html=True, **action["context"])
            .create({"delivery": "in_person"})
        )
        wizard.action_confirm()
        dossier.invalidate_recordset()
        self.assertTrue(dossier.avg_step_information)
        self.assertEqual(dossier.avg_next_step, "start")
        # 5. Start.
        dossier.action_start()
        self.assertEqual(dossier.state, "active")
        self.assertEqual(dossier.avg_next_step, "done")

    def test_agreed_retention_empty_until_chosen(self):
        client = self.env["res.partner"].create(
            {
                "name": "Tweede Cliënt Fictief",
                "is_coaching_client": True,
                "coaching_birthdate": "1988-02-02",
            }
        )
        dossier = self.env["coaching.dossier"].create({"client_id": client.id})
        self.assertFalse(dossier.retention_years_choice)
        dossier.retention_years_choice = "3"
        self.assertEqual(dossier.retention_years, 3)
        dossier.retention_years_choice = False
        self.assertFalse(dossier.retention_years)
