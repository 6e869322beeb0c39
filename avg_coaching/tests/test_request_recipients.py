import json

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .common import AvgCoachingCase


@tagged("post_install", "-at_install")
class TestRequestRecipients(AvgCoachingCase):
    """Art. 19: a rectification, erasure or restriction is passed on to everyone
    who received the data, derived from the records; the request closes only when
    each is informed or the reason it is not is recorded. Handled as the coach."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._ensure_chart_of_accounts()
        cls.insurer = cls.env["res.partner"].create(
            {"name": "Fictieve Zorgverzekeraar NV", "is_company": True}
        )
        cls.zkm = cls.env["res.partner"].create(
            {"name": "Fictieve ZKM Vereniging", "is_company": True}
        )
        cls.env.ref(
            "avg_coaching.avg_processing_recipient_dossier_zkm"
        ).partner_id = cls.zkm
        cls.disclosure = cls.env["coaching.insurer.disclosure"].create(
            {
                "client_id": cls.client.id,
                "insurer_id": cls.insurer.id,
                "date": "2026-02-01",
                "shared": "other",
                "details": "DISCLOSURE-DETAIL Declaratie met sessiedata",
                "session_ids": [(6, 0, cls.session.ids)],
            }
        )
        invoice = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": cls.client.id,
                "invoice_date": "2026-02-01",
                "invoice_line_ids": [
                    (0, 0, {"name": "Coachingsessie", "quantity": 1, "price_unit": 90})
                ],
            }
        )
        invoice.action_post()

    def _request(self, kind, **vals):
        request = (
            self.env["avg.request"]
            .with_user(self.coach)
            .create(
                {
                    "request_type": kind,
                    "partner_id": self.client.id,
                    "date_received": "2026-03-02",
                    **vals,
                }
            )
        )
        request.identity_method = "in_person"
        request.action_verify_identity()
        return request

    def _mails(self, request):
        return self.env["mail.mail"].search(
            [("model", "=", "avg.request"), ("res_id", "=", request.id)]
        )

    def _transfer(self):
        """Moments of her dossier went to the ZKM Computer Service."""
        self.env["coaching.moment.transfer"].create(
            {"dossier_id": self.dossier.id}
        ).sudo().write({"export_date": "2026-02-10 10:00:00", "state": "exported"})

    def test_rectification_waits_for_each_recipient(self):
        request = self._request(
            "rectification",
            rectification_field="name",
            rectification_wrong="Testcliënt Anna Fictief",
            rectification_correct="Testcliënt Anna Fictief-Verbeterd",
        )
        self._transfer()
        request.action_carry_out()
        self.assertEqual(self.client.name, "Testcliënt Anna Fictief-Verbeterd")
        tasks = request.recipient_ids
        # Derived from the data: her insurer, the commissioner of her dossier,
        # the bookkeeper (posted invoices); not the ZKM Computer Service, which
        # never received her name.
        self.assertEqual(
            sorted(tasks.mapped("kind")), ["bookkeeper", "commissioner", "insurer"]
        )
        insurer_task = tasks.filtered(lambda t: t.kind == "insurer")
        self.assertEqual(insurer_task.partner_id, self.insurer)
        self.assertIn("2026-02-01", insurer_task.what)
        self.assertNotIn("DISCLOSURE-DETAIL", " ".join(tasks.mapped("what")))
        self.assertEqual(request.state, "in_progress")
        self.assertEqual(request.recipients_open, 3)
        self.assertFalse(
            self._mails(request).filtered(lambda m: "corrected" in m.body_html)
        )
        # Not closed while a recipient is still to inform.
        with self.assertRaisesRegex(UserError, "cannot be closed yet"):
            request.action_done()
        with self.assertRaisesRegex(UserError, "has been carried out"):
            request.action_carry_out()
        tasks = tasks.with_user(self.coach)
        tasks.filtered(lambda t: t.kind == "insurer").action_mark_done()
        # Impossible or disproportionate only with the reason recorded.
        commissioner = tasks.filtered(lambda t: t.kind == "commissioner")
        with self.assertRaisesRegex(ValidationError, "Record why"):
            commissioner.action_mark_disproportionate()
        commissioner.note = "Opdrachtgever bestaat niet meer (KvK uitgeschreven)"
        commissioner.action_mark_impossible()
        self.assertEqual(request.state, "in_progress")
        with self.assertRaisesRegex(UserError, "already been dealt with"):
            commissioner.action_mark_done()
        tasks.filtered(lambda t: t.kind == "bookkeeper").action_mark_done()
        # The last one closes the request, and she is told who was informed.
        self.assertEqual(request.state, "done")
        mail = self._mails(request).filtered(lambda m: "corrected" in m.body_html)
        self.assertTrue(mail)
        self.assertIn("Fictieve Zorgverzekeraar NV", mail.body_html)
        self.assertEqual(set(tasks.mapped("done_uid")), {self.coach})

    def test_other_coach_and_bookkeeper_cannot_touch_the_tasks(self):
        request = self._request("restriction", restriction_ground="accuracy")
        request.action_carry_out()
        tasks = request.recipient_ids
        self.assertTrue(tasks)
        for user in (self.coach2, self.bookkeeper):
            with self.assertRaises(AccessError):
                tasks.with_user(user).read(["name"])
            with self.assertRaises(AccessError):
                tasks.with_user(user).action_mark_done()
        # The privacy manager handles them too.
        tasks.with_user(self.privacy_manager).action_mark_done()
        self.assertEqual(request.state, "done")
        self.assertTrue(self.client.avg_restricted)

    def test_restriction_includes_the_zkm_computer_service(self):
        self._transfer()
        request = self._request("restriction", restriction_ground="objection")
        request.action_carry_out()
        zkm = request.recipient_ids.filtered(lambda t: t.kind == "zkm")
        self.assertEqual(zkm.partner_id, self.zkm)
        self.assertIn("2026-02-10", zkm.what)

    def test_no_recipients_closes_at_once(self):
        request = (
            self.env["avg.request"]
            .with_user(self.coach2)
            .create(
                {
                    "request_type": "rectification",
                    "partner_id": self.client2.id,
                    "rectification_field": "phone",
                    "rectification_wrong": "-",
                    "rectification_correct": "+31 6 33333333",
                }
            )
        )
        request.identity_method = "in_person"
        request.action_verify_identity()
        request.action_carry_out()
        self.assertFalse(request.recipient_ids)
        self.assertEqual(request.state, "done")

    def test_erasure_keeps_disclosures_and_tasks_without_her(self):
        self._transfer()
        request = self._request("erasure")
        request.action_carry_out()
        # She was told before the erasure, with who is informed.
        mail = self._mails(request).filtered(lambda m: "erased" in m.body_html)
        self.assertEqual(mail.email_to, "anna@client.test")
        self.assertIn("Fictieve Zorgverzekeraar NV", mail.body_html)
        self.assertTrue(self.client.avg_erased_date)
        self.assertFalse(self.dossier.exists())
        self.assertEqual(
            sorted(request.recipient_ids.mapped("kind")),
            ["bookkeeper", "commissioner", "insurer", "zkm"],
        )
        self.assertTrue(request.anonymised)
        self.assertEqual(request.state, "in_progress")
        # No longer hers: it does not hold back the retention of her invoices.
        self.assertFalse(request.partner_id)
        self.assertNotIn(self.client.id, self.env["res.partner"]._avg_blocked_ids())
        # The disclosure stays as evidence: date, insurer, kind, number of
        # sessions; not the details nor the link to her.
        disclosure = self.disclosure.with_user(self.coach)
        self.assertTrue(disclosure.exists())
        self.assertFalse(disclosure.client_id)
        self.assertTrue(disclosure.anonymised)
        self.assertEqual(disclosure.insurer_id, self.insurer)
        self.assertEqual(str(disclosure.date), "2026-02-01")
        self.assertEqual(disclosure.shared, "other")
        self.assertEqual(disclosure.session_count, 1)
        self.assertFalse(disclosure.details)
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT row_to_json(d)::text FROM coaching_insurer_disclosure d "
            "WHERE id = %s",
            [self.disclosure.id],
        )
        row = self.env.cr.fetchone()[0]
        self.assertIn('"client_id":null', row)
        self.assertIn('"details_enc":null', row)
        with self.assertRaisesRegex(ValidationError, "cannot be changed"):
            disclosure.shared = "form"
        # The tasks are done after her erasure; the request then closes without
        # a mail (her address is gone).
        mails_before = len(self._mails(request))
        for task in request.recipient_ids.with_user(self.coach):
            task.action_mark_done()
        self.assertEqual(request.state, "done")
        self.assertEqual(len(self._mails(request)), mails_before)
        self.assertNotIn("anna", (request.resolution or "").lower())


@tagged("post_install", "-at_install")
class TestObjection(AvgCoachingCase):
    """Art. 21: an upheld objection stops the processing it names until lifted;
    lifting tells her."""

    def _request(self, **vals):
        request = (
            self.env["avg.request"]
            .with_user(self.coach)
            .create(
                {
                    "request_type": "objection",
                    "partner_id": self.client.id,
                    **vals,
                }
            )
        )
        request.identity_method = "in_person"
        request.action_verify_identity()
        return request

    def _mass_mail(self, body, partners=None):
        """An e-mail to her (or to ``partners``) from Contacts (list, Action,
        Send email), as the coach."""
        return (
            self.env["mail.compose.message"]
            .with_user(self.coach)
            .with_context(
                default_composition_mode="mass_mail",
                default_model="res.partner",
                default_res_ids=(partners or self.client).ids,
            )
            .create({"subject": "Nieuws", "body": body})
            .action_send_mail()
        )

    def _blacklisted(self):
        return self.env["mail.blacklist"].search([("email", "=", "anna@client.test")])

    def test_objection_to_mailings_blacklists_until_lifted(self):
        request = self._request()
        with self.assertRaisesRegex(UserError, "Objection to"):
            request.action_carry_out()
        request.objection_scope = "mailings"
        request.action_carry_out()
        self.assertEqual(request.state, "done")
        self.assertTrue(request.objection_active)
        self.assertTrue(self._blacklisted())
        self.client.invalidate_recordset()
        self.assertTrue(self.client.with_user(self.coach).is_blacklisted)
        # The coach's mass e-mail from Contacts does not go to her.
        self.coach.groups_id += self.env.ref("base.group_partner_manager")
        self._mass_mail("Nieuwsbrief van de praktijk")
        mail = self.env["mail.mail"].search(
            [("model", "=", "res.partner"), ("res_id", "=", self.client.id)]
        )
        # Excluded as blacklisted (the test server's failed SMTP connection
        # may mark the batch 'exception' afterwards; it never reached her).
        self.assertEqual(mail.failure_type, "mail_bl")
        self.assertNotEqual(mail.state, "sent")
        with self.assertRaisesRegex(UserError, "Only an objection in force"):
            self.env["avg.request"].with_user(self.coach).create(
                {"request_type": "access", "partner_id": self.client.id}
            ).action_lift_objection()
        request.action_lift_objection()
        self.assertFalse(request.objection_active)
        self.assertTrue(request.objection_lifted_date)
        self.assertFalse(self._blacklisted())
        mails = self.env["mail.mail"].search(
            [("model", "=", "avg.request"), ("res_id", "=", request.id)]
        )
        self.assertTrue(any("lifted" in m.body_html for m in mails))
        with self.assertRaisesRegex(UserError, "Only an objection in force"):
            request.action_lift_objection()

    def test_objection_to_other_processing_is_recorded(self):
        request = self._request(objection_scope="other")
        with self.assertRaisesRegex(UserError, "which processing you stopped"):
            request.action_carry_out()
        request.resolution = "Geen evaluatieformulier meer na de sessies"
        request.action_carry_out()
        self.assertTrue(request.objection_active)
        mails = self.env["mail.mail"].search(
            [("model", "=", "avg.request"), ("res_id", "=", request.id)]
        )
        self.assertTrue(any("evaluatieformulier" in m.body_html for m in mails))
        self.assertFalse(self._blacklisted())
        # Her contact tells her coach; what was stopped is on the request.
        self.client.invalidate_recordset()
        info = self.client.with_user(self.coach).avg_objection_info
        self.assertIn("Other processing", info)
        self.assertIn(request.name, info)
        self.assertIn("evaluatieformulier", request.resolution)

    def _say(self, user, body, **kwargs):
        """A message to her from her contact, as ``user`` (chatter, 'Send message')."""
        return self.client.with_user(user).message_post(
            body=body,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            partner_ids=self.client.ids,
            **kwargs,
        )

    def test_objection_to_client_relations_stops_messages_until_lifted(self):
        # The coach works in Contacts as in the demo: she may edit contacts.
        self.coach.groups_id += self.env.ref("base.group_partner_manager")
        crm = self.env.ref("avg_coaching.avg_processing_activity_crm")
        request = self._request(objection_scope="activity")
        with self.assertRaisesRegex(UserError, "Processing objected to"):
            request.action_carry_out()
        # Art. 21(1): legitimate interests only; consent is withdrawn instead.
        objectable = self.env["avg.processing.activity"].search(
            request._fields["objection_activity_id"].domain
        )
        self.assertIn(crm, objectable)
        self.assertNotIn(
            self.env.ref("avg_coaching.avg_processing_activity_dossier"), objectable
        )
        request.objection_activity_id = crm
        request.action_carry_out()
        self.assertEqual(request.state, "done")
        self.assertTrue(request.objection_active)
        mails = self.env["mail.mail"].search(
            [("model", "=", "avg.request"), ("res_id", "=", request.id)]
        )
        self.assertTrue(any("Client relations" in m.body_html for m in mails))
        # Her contact says so to her coach.
        self.client.invalidate_recordset()
        info = self.client.with_user(self.coach).avg_objection_info
        self.assertIn("Client relations", info)
        self.assertIn(request.name, info)
        # The coach keeping in touch from her contact is refused, and so is the
        # bookkeeper; a mass e-mail from Contacts too.
        for user in (self.coach, self.bookkeeper):
            with self.assertRaisesRegex(
                UserError, "objected to the processing 'Client relations'"
            ):
                self._say(user, "Hoe gaat het nu met je?")
        with self.assertRaisesRegex(UserError, "Client relations"):
            self._mass_mail("Nieuws van de praktijk")
        self.assertFalse(
            self.env["mail.mail"].search([("body_html", "ilike", "Nieuws van de")])
        )
        # To her and others: the others get it, she does not, the coach is told.
        other = self.env["res.partner"].create(
            {"name": "Andere Relatie Fictief", "email": "andere.relatie@client.test"}
        )
        self.env["bus.bus"].sudo().search([]).unlink()
        self._mass_mail("Nieuws voor twee", partners=self.client | other)
        sent = self.env["mail.mail"].search(
            [("body_html", "ilike", "Nieuws voor twee")]
        )
        self.assertEqual(sent.mapped("res_id"), other.ids)
        self.assertFalse(
            self.env["mail.message"].search(
                [
                    ("model", "=", "res.partner"),
                    ("res_id", "=", self.client.id),
                    ("body", "ilike", "Nieuws voor twee"),
                ]
            )
        )
        self.env.flush_all()
        self.env.cr.precommit.run()  # Odoo writes bus messages before the commit
        told = (
            self.env["bus.bus"]
            .sudo()
            .search([("message", "ilike", "Not sent to everyone")])
        )
        self.assertEqual(len(told), 1)
        self.assertEqual(
            json.loads(told.channel)[1:], ["res.partner", self.coach.partner_id.id]
        )
        payload = json.loads(told.message)["payload"]
        self.assertEqual(payload["type"], "warning")
        self.assertIn(self.client.name, payload["message"])
        # An internal note is no contact with her.
        self.client.with_user(self.coach).message_post(
            body="Bezwaar besproken", subtype_xmlid="mail.mt_note"
        )
        # While a trajectory of hers is active, messages serve the agreement.
        self.dossier.sudo().state = "active"
        self._say(self.coach, "De sessie van dinsdag gaat door.")
        self.dossier.sudo().state = "intake"
        with self.assertRaisesRegex(UserError, "Client relations"):
            self._say(self.coach, "Nog een vraag")
        # Lifted: the processing may start again.
        request.action_lift_objection()
        self.client.invalidate_recordset()
        self.assertFalse(self.client.with_user(self.coach).avg_objection_info)
        self._say(self.coach, "Hoe gaat het nu met je?")

    def test_erasure_removes_her_blacklist_entry(self):
        request = self._request(objection_scope="mailings")
        request.action_carry_out()
        self.assertTrue(self._blacklisted())
        self.client._avg_erase(reason="test")
        self.assertFalse(
            self.env["mail.blacklist"]
            .with_context(active_test=False)
            .search([("email", "=", "anna@client.test")])
        )
