import base64

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .common import AvgCoachingCase


@tagged("post_install", "-at_install")
class TestDataSubjectRequests(AvgCoachingCase):
    """The request workflow for the coach and the privacy manager (art. 12-22)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Request = cls.env["avg.request"]

    def _request(self, kind="erasure", partner=None, **vals):
        vals = {
            "request_type": kind,
            "partner_id": (partner or self.client).id,
            "date_received": "2026-03-02",
            **vals,
        }
        return self.Request.with_user(self.coach).create(vals)

    def _outgoing(self, request):
        return self.env["mail.mail"].search(
            [("model", "=", "avg.request"), ("res_id", "=", request.id)]
        )

    def _verify(self, request, method="in_person"):
        request.identity_method = method
        request.action_verify_identity()

    # ------------------------------------------------------------ deadlines
    def test_due_one_month_after_receipt_with_activity(self):
        request = self._request()
        self.assertEqual(request.name[:4], "REQ/")
        self.assertEqual(request.date_due, fields.Date.to_date("2026-04-02"))
        self.assertEqual(request.user_id, self.coach)
        activity = request.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.coach)
        self.assertEqual(activity.date_deadline, fields.Date.to_date("2026-03-26"))

    def test_extension_sends_reason_and_moves_due_date(self):
        request = self._request()
        with freeze_time("2026-03-20"):
            wizard = (
                self.env["avg.request.decision"]
                .with_user(self.coach)
                .create(
                    {
                        "request_id": request.id,
                        "mode": "extend",
                        "months": "2",
                        "reason": "Uw dossier is omvangrijk",
                    }
                )
            )
            self.assertEqual(wizard.new_date_due, fields.Date.to_date("2026-06-02"))
            wizard.action_confirm()
        self.assertEqual(request.date_due, fields.Date.to_date("2026-06-02"))
        mails = self._outgoing(request)
        self.assertTrue(
            any("Uw dossier is omvangrijk" in m.body_html for m in mails), mails
        )
        self.assertEqual(mails[-1].email_to, "anna@client.test")
        # Once only, and never past two months.
        with freeze_time("2026-03-21"):
            wizard = self.env["avg.request.decision"].create(
                {
                    "request_id": request.id,
                    "mode": "extend",
                    "months": "1",
                    "reason": "x",
                }
            )
            with self.assertRaisesRegex(UserError, "already been extended"):
                wizard.action_confirm()
        with self.assertRaises(ValidationError):
            request.sudo().write({"extension_months": 3})

    def test_extension_refused_after_first_month(self):
        request = self._request()
        with freeze_time("2026-04-03"):
            wizard = self.env["avg.request.decision"].create(
                {
                    "request_id": request.id,
                    "mode": "extend",
                    "months": "1",
                    "reason": "x",
                }
            )
            with self.assertRaisesRegex(UserError, "first month has passed"):
                wizard.action_confirm()
        self.assertEqual(request.extension_months, 0)

    def test_refusal_needs_reason_and_sends_it(self):
        request = self._request(kind="objection")
        wizard = self.env["avg.request.decision"].create(
            {"request_id": request.id, "mode": "refuse", "reason": "  "}
        )
        with self.assertRaisesRegex(UserError, "Give the reason"):
            wizard.action_confirm()
        wizard.reason = "Wij hebben dwingende gerechtvaardigde gronden"
        wizard.action_confirm()
        self.assertEqual(request.state, "refused")
        self.assertIn("dwingende", request.refusal_reason)
        self.assertTrue(
            any("dwingende" in m.body_html for m in self._outgoing(request))
        )
        with self.assertRaisesRegex(UserError, "not possible now"):
            request.action_start()

    @freeze_time("2026-03-28")
    def test_deadline_cron_escalates_once(self):
        request = self._request()
        cron = self.env.ref("avg_coaching.ir_cron_avg_request_deadlines")
        cron.method_direct_trigger()
        cron.method_direct_trigger()
        soon = request.activity_ids.filtered(lambda a: "Due soon" in (a.summary or ""))
        self.assertEqual(len(soon), 1)
        with freeze_time("2026-04-05"):
            self.assertTrue(request.is_overdue)
            cron.method_direct_trigger()
        self.assertTrue(
            request.activity_ids.filtered(lambda a: "Overdue" in (a.summary or ""))
        )

    # ------------------------------------------------------------ identity
    def test_identity_copy_deleted_on_verification(self):
        request = self._request(kind="access")
        request.write(
            {
                "id_copy": base64.b64encode(b"%PDF-1.4 FICTIEF-ID-BEWIJS"),
                "id_copy_name": "id.pdf",
            }
        )
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT count(*) FROM ir_attachment WHERE res_model = 'avg.request' "
            "AND res_id = %s",
            [request.id],
        )
        self.assertEqual(self.env.cr.fetchone()[0], 1)
        with self.assertRaisesRegex(UserError, "Record how the identity"):
            request.action_verify_identity()
        self._verify(request, "id_copy")
        self.assertEqual(request.state, "verified")
        self.assertEqual(request.identity_verified_by, self.coach)
        self.assertFalse(request.id_copy)
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT count(*) FROM ir_attachment WHERE res_model = 'avg.request' "
            "AND res_id = %s AND res_field = 'id_copy_enc'",
            [request.id],
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0)

    def test_id_copy_needs_the_subject(self):
        with self.assertRaisesRegex(ValidationError, "Link the request"):
            self.Request.create(
                {
                    "request_type": "access",
                    "requester_email": "someone@else.test",
                    "id_copy": base64.b64encode(b"ID"),
                }
            )

    def test_verification_needs_a_known_subject(self):
        request = self.Request.create(
            {"request_type": "access", "requester_email": "x@unknown.test"}
        )
        request.identity_method = "known_contact"
        with self.assertRaisesRegex(UserError, "Link the request"):
            request.action_verify_identity()
        self.assertEqual(request.state, "received")

    # ------------------------------------------------------------ carrying out
    def test_rectification_applies_the_correction(self):
        request = self._request(
            kind="rectification",
            rectification_field="phone",
            rectification_wrong="+31 6 11111111",
            rectification_correct="+31 6 22222222",
        )
        self._verify(request)
        request.action_carry_out()
        self.assertEqual(self.client.phone, "+31 6 22222222")
        # Art. 19: the commissioner of her dossier is told first.
        self.assertEqual(request.state, "in_progress")
        self.assertEqual(request.recipient_ids.partner_id, self.commissioner)
        request.recipient_ids.action_mark_done()
        self.assertEqual(request.state, "done")
        self.assertIn("phone", request.resolution.lower())

    def test_rectification_bad_date_refused_nothing_changed(self):
        request = self._request(
            kind="rectification",
            rectification_field="coaching_birthdate",
            rectification_wrong="15-06-1985",
            rectification_correct="vijftien juni",
        )
        self._verify(request)
        with self.assertRaisesRegex(UserError, "not a date"):
            request.action_carry_out()
        self.assertEqual(str(self.client.coaching_birthdate), "1985-06-15")
        self.assertEqual(request.state, "verified")

    def test_rectification_needs_both_texts(self):
        with self.assertRaisesRegex(ValidationError, "what is wrong"):
            self._request(kind="rectification", rectification_wrong="x")

    def test_restriction_freezes_processing_until_lifted(self):
        with self.assertRaisesRegex(ValidationError, "four grounds"):
            self._request(kind="restriction")
        request = self._request(kind="restriction", restriction_ground="accuracy")
        self._verify(request)
        request.action_carry_out()
        self.assertTrue(self.client.avg_restricted)
        dossier = self.dossier.with_user(self.coach)
        with self.assertRaisesRegex(UserError, "restricted"):
            dossier.help_question = "Iets nieuws"
        with self.assertRaisesRegex(UserError, "restricted"):
            self.env["coaching.session"].with_user(self.coach).create(
                {"dossier_id": self.dossier.id, "date": "2026-03-10", "notes": "x"}
            )
        with self.assertRaisesRegex(UserError, "cannot be erased"):
            self.client._avg_erase()
        self.assertEqual(dossier.help_question, "Grenzen aangeven op het werk")
        request.action_lift_restriction()
        self.assertFalse(self.client.avg_restricted)
        self.assertTrue(any("lifted" in m.body_html for m in self._outgoing(request)))
        dossier.help_question = "Iets nieuws"
        with self.assertRaisesRegex(UserError, "already been lifted"):
            request.action_lift_restriction()

    def test_withdrawal_of_a_consent(self):
        consent = self._consent(self.client, "dossier")
        other = self._consent(self.client2, "dossier")
        with self.assertRaisesRegex(ValidationError, "one of the data subject"):
            self._request(kind="withdrawal", consent_id=other.id)
        request = self._request(kind="withdrawal", consent_id=consent.id)
        self._verify(request)
        request.action_carry_out()
        self.assertEqual(consent.state, "withdrawn")
        self.assertEqual(other.state, "given")

    def test_objection_needs_judgement_then_done_with_resolution(self):
        request = self._request(kind="objection")
        self._verify(request)
        request.action_start()
        # Upholding it needs to know what it stops (test_request_recipients).
        with self.assertRaisesRegex(UserError, "Objection to"):
            request.action_carry_out()
        with self.assertRaisesRegex(UserError, "What was done"):
            request.action_done()
        request.resolution = "Geen nieuwsbrief meer"
        request.action_done()
        self.assertEqual(request.state, "done")

    def test_erasure_through_the_one_path_tells_what_is_kept(self):
        self._ensure_chart_of_accounts()
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.client.id,
                "invoice_date": "2026-02-01",
                "invoice_line_ids": [
                    (0, 0, {"name": "Coachingsessie", "quantity": 1, "price_unit": 90})
                ],
            }
        )
        invoice.action_post()
        request = self._request(description="Wis alles")
        self._verify(request)
        other_open = self._request(kind="objection")
        with self.assertRaisesRegex(UserError, "request is open"):
            request.action_carry_out()
        other_open.resolution = "Afgehandeld"
        other_open.identity_method = "in_person"
        other_open.action_verify_identity()
        other_open.action_done()
        request.action_carry_out()
        # Art. 19: the commissioner and the bookkeeper are told before it closes.
        self.assertEqual(request.state, "in_progress")
        self.assertEqual(
            sorted(request.recipient_ids.mapped("kind")), ["bookkeeper", "commissioner"]
        )
        request.recipient_ids.action_mark_done()
        self.assertEqual(request.state, "done")
        mail = self._outgoing(request).filtered(lambda m: "2033" in m.body_html)
        self.assertTrue(mail, "the client is told until when invoices are kept")
        self.assertEqual(mail.email_to, "anna@client.test")
        self.assertIn("art. 52 AWR", mail.body_html)
        # The one erasure path ran: dossier gone, partner anonymised in place.
        self.assertFalse(self.dossier.exists())
        self.assertTrue(self.client.avg_erased_date)
        self.assertFalse(self.client.email)
        self.assertEqual(self.client.avg_fiscal_hold_until.year, 2033)
        # The request stays as evidence, without what identifies her.
        self.assertEqual(request.request_type, "erasure")
        self.assertTrue(request.anonymised)
        self.assertFalse(request.requester_email or request.description)
        log = self.env["avg.deletion.log"].search([("reason", "=", request.name)])
        self.assertTrue(log)
        self.assertNotIn("Anna", str(log.read()))

    def test_second_erasure_run_is_harmless(self):
        request = self._request()
        self._verify(request)
        request.action_carry_out()
        with self.assertRaisesRegex(UserError, "has been carried out"):
            request.action_carry_out()
        request.recipient_ids.action_mark_done()
        with self.assertRaisesRegex(UserError, "not possible now"):
            request.action_carry_out()

    # ------------------------------------------------------------ security
    def test_bookkeeper_and_other_coach_refused(self):
        request = self._request()
        with self.assertRaises(AccessError):
            request.with_user(self.bookkeeper).read(["name"])
        with self.assertRaises(AccessError):
            self.Request.with_user(self.bookkeeper).create(
                {"request_type": "access", "partner_id": self.client.id}
            )
        with self.assertRaises(AccessError):
            request.with_user(self.coach2).read(["name"])
        self.assertFalse(
            self.Request.with_user(self.coach2).search([("id", "=", request.id)])
        )
        # The privacy manager sees and handles all of them.
        self.assertEqual(request.with_user(self.privacy_manager).state, "received")

    def test_a_closed_request_is_not_rewritten(self):
        """What a closed request asked and how it was answered is the record of
        how the right was handled: the coach and the privacy manager cannot
        change it (the form shows it read-only; the server refuses it too, for
        a call over RPC); a note on it is still possible, and the erasure path
        still empties it."""
        request = self._request(kind="objection")
        request.with_user(self.coach).description = "Geen nieuwsbrief meer"
        self.env["avg.request.decision"].create(
            {"request_id": request.id, "mode": "refuse", "reason": "Gronden X"}
        ).action_confirm()
        self.assertTrue(request.avg_closed)
        for user in (self.coach, self.privacy_manager):
            for field, value in (
                ("refusal_reason", "Andere gronden"),
                ("description", "Iets anders gevraagd"),
                ("request_type", "access"),
                ("resolution", "Toch gedaan"),
            ):
                with self.assertRaisesRegex(UserError, "is closed"):
                    request.with_user(user).write({field: value})
        self.assertEqual(request.refusal_reason, "Gronden X")
        self.assertEqual(request.description, "Geen nieuwsbrief meer")
        self.assertEqual(request.request_type, "objection")
        request.with_user(self.coach).message_post(
            body="Nagebeld", message_type="comment"
        )
        # An open request is edited as before.
        other = self._request(kind="access")
        other.with_user(self.coach).description = "Alles graag"
        self.assertFalse(other.avg_closed)
        # The erasure path empties what identifies her, as superuser.
        request._avg_anonymise()
        self.assertFalse(request.refusal_reason)
        self.assertFalse(request.description)

    def test_a_verified_request_is_not_re_pointed(self):
        """Once her identity is verified, the request cannot be turned into one
        of someone else (whose data the next step would hand out), nor can how
        she was verified be rewritten; before that the coach may correct both."""
        request = self._request(kind="access")
        request.with_user(self.coach).partner_id = self.client2
        request.with_user(self.coach).partner_id = self.client
        self._verify(request)
        for user in (self.coach, self.privacy_manager):
            for field, value in (
                ("partner_id", self.client2.id),
                ("identity_method", "video"),
                ("identity_note", "Anders gecontroleerd"),
            ):
                with self.assertRaisesRegex(UserError, "has been verified"):
                    request.with_user(user).write({field: value})
        self.assertEqual(request.partner_id, self.client)
        self.assertEqual(request.identity_method, "in_person")

    def test_requests_are_evidence_not_deleted(self):
        request = self._request()
        with self.assertRaisesRegex(UserError, "evidence"):
            request.with_user(self.privacy_manager).unlink()
