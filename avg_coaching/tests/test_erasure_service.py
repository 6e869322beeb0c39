import base64
import os

from odoo import http
from odoo.tests import tagged
from odoo.tools import config

from .common import AvgCoachingCase

# Models of the addon that point to a contact without that contact being the data
# subject of the record: an organisation or a user, not a client.
NOT_A_SUBJECT = {
    ("avg.processor.agreement", "partner_id"): "the processor, an organisation",
    ("avg.processing.recipient", "partner_id"): "a recipient organisation",
    ("coaching.dossier", "commissioner_id"): "the commissioning organisation",
    ("avg.information.notice", "source_partner_id"): "the commissioner (art. 14)",
    ("coaching.insurer.disclosure", "insurer_id"): "the health insurer",
    ("avg.breach", "subject_partner_ids"): "unlinked by the erasure path",
    ("avg.request.throttle", None): "keyed hashes only, forgotten after a day",
    ("avg.request.recipient", "partner_id"): "the recipient organisation (art. 19)",
}


@tagged("post_install", "-at_install")
class TestErasureService(AvgCoachingCase):
    """The one erasure service: reach from the registry, Odoo's traces cleared."""

    def test_every_model_with_a_person_declares_its_erasure(self):
        """A new model that points to a contact fails here until someone decides
        what the erasure does with it."""
        reach = {
            (model, subject)
            for model, subject, _action in self.env["avg.erasure"]._avg_subject_models()
        }
        undecided = []
        for name in self.env.registry:
            model = self.env[name]
            if model._abstract or model._transient or not model._auto:
                continue
            if "avg_coaching" not in self.env["ir.model"]._get(name).modules.split(
                ", "
            ) or not name.startswith(("avg.", "coaching.")):
                continue
            for fname, field in model._fields.items():
                if (
                    field.comodel_name == "res.partner"
                    and field.store
                    and field.type in ("many2one", "many2many")
                    and (name, fname) not in reach
                    and (name, fname) not in NOT_A_SUBJECT
                    and not (
                        fname in ("client_id", "partner_id")
                        and getattr(model, "_avg_erasure", None) == "with_dossier"
                    )
                ):
                    undecided.append(f"{name}.{fname}")
        self.assertEqual(undecided, [])
        self.assertIn(("coaching.session", "client_id"), reach)
        self.assertIn(("avg.access.log", "partner_id"), reach)

    def _plant_traces(self, partner):
        """What Odoo keeps of a person besides the addon's records."""
        attachment = self.env["ir.attachment"].create(
            {
                "name": "paspoort.txt",
                "res_model": "res.partner",
                "res_id": partner.id,
                "raw": b"TRACE-ATTACHMENT-" + str(partner.id).encode(),
            }
        )
        self.env["mail.activity"].create(
            {
                "res_model_id": self.env["ir.model"]._get_id("res.partner"),
                "res_id": partner.id,
                "activity_type_id": self.env.ref("mail.mail_activity_data_todo").id,
                "summary": "TRACE-ACTIVITY",
                "user_id": self.coach.id,
            }
        )
        self.env["mail.mail"].create(
            {
                "subject": "TRACE-MAIL",
                "email_to": partner.email,
                "body_html": "<p>TRACE-MAIL</p>",
                "state": "exception",
            }
        )
        self.env["bus.bus"]._sendone(partner, "simple_notification", {"m": "TRACE"})
        self.env.cr.precommit.run()  # the bus writes its rows at commit
        return attachment

    def test_erasure_clears_odoos_traces(self):
        # What runs after commit works in a cursor of its own: share this test's.
        self.registry.enter_test_mode(self.cr)
        self.addCleanup(self.registry.leave_test_mode)
        portal = self.env["res.users"].create(
            {
                "name": self.client.name,
                "login": "erase-me@client.test",
                "partner_id": self.client.id,
                "groups_id": [(6, 0, [self.env.ref("base.group_portal").id])],
            }
        )
        attachment = self._plant_traces(self.client)
        # A login session of hers on this server.
        store = http.root.session_store
        session = store.new()
        session.update(http.get_default_session(), db=self.env.cr.dbname, uid=portal.id)
        store.save(session)
        self.addCleanup(store.delete, session)
        self.env.cr.execute(
            "SELECT count(*) FROM bus_bus WHERE channel LIKE %s",
            [f'%"res.partner",{self.client.id}]%'],
        )
        self.assertEqual(self.env.cr.fetchone()[0], 1, "planted on the bus")
        fname = attachment.store_fname
        path = os.path.join(config.filestore(self.env.cr.dbname), fname)
        self.assertTrue(os.path.exists(path))
        mails_before = self.env["mail.mail"].search_count([])
        self.client._avg_erase(reason="test")
        self.env.flush_all()
        self.assertFalse(self.client.exists())
        self.assertFalse(attachment.exists())
        self.assertFalse(portal.exists())
        self.assertFalse(
            self.env["mail.activity"].search([("summary", "=", "TRACE-ACTIVITY")])
        )
        self.assertFalse(self.env["mail.mail"].search([("subject", "=", "TRACE-MAIL")]))
        # No "login changed" or other mail to the address being erased.
        self.assertLessEqual(self.env["mail.mail"].search_count([]), mails_before - 1)
        # The file, the session and the bus go once the erasure is committed.
        self.assertTrue(os.path.exists(path))
        self.assertTrue(store.get(session.sid).get("uid"))
        self.env.cr.postcommit.run()
        self.env.cr.execute(
            "SELECT count(*) FROM bus_bus WHERE channel LIKE %s",
            [f'%"res.partner",{self.client.id}]%'],
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0)
        if not self.env["ir.attachment"].search_count([("store_fname", "=", fname)]):
            self.assertFalse(os.path.exists(path))
        self.assertFalse(store.get(session.sid).get("uid"), "her session is gone")

    def test_invoice_contact_keeps_only_name_and_address(self):
        self._ensure_chart_of_accounts()
        self.client.write(
            {
                "company_name": "TRACE-COMPANY",
                "ref": "TRACE-REF",
                "street": "Fictieve Straat 1",
                "avg_legal_hold_reason": False,
            }
        )
        move = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.client.id,
                "invoice_date": "2026-01-15",
                "invoice_line_ids": [
                    (0, 0, {"name": "Sessie", "quantity": 1, "price_unit": 80})
                ],
            }
        )
        move.action_post()
        user = self.env["res.users"].create(
            {
                "name": self.client.name,
                "login": "kept@client.test",
                "partner_id": self.client.id,
                "groups_id": [(6, 0, [self.env.ref("base.group_portal").id])],
            }
        )
        mails_before = self.env["mail.mail"].search_count([])
        self.client._avg_erase(reason="test")
        self.env.flush_all()
        self.assertTrue(self.client.exists())
        self.assertEqual(self.client.name, "Testcliënt Anna Fictief")
        self.assertEqual(self.client.street, "Fictieve Straat 1")
        self.assertFalse(self.client.company_name)
        self.assertFalse(self.client.ref)
        self.assertFalse(self.client.email)
        self.assertNotIn("TRACE-COMPANY", move.invoice_partner_display_name)
        self.assertFalse(user.with_context(active_test=False).active)
        self.assertEqual(self.env["mail.mail"].search_count([]), mails_before)
        # The deletion log does not tell what kind of data a kept contact had.
        log = self.env["avg.deletion.log"].search([], limit=1)
        self.assertNotIn("coaching.special.data", log.counts)
        self.assertNotIn("coaching.session", log.counts)
        self.assertIn("records erased", log.counts)

    def test_content_purge_removes_shared_documents(self):
        attachment = self.env["ir.attachment"].create(
            {
                "name": "beveiligd.pdf",
                "res_model": "coaching.dossier",
                "res_id": self.dossier.id,
                "datas": base64.b64encode(b"%PDF-1.4 TRACE-PDF"),
            }
        )
        self.dossier.write({"state": "closed", "date_end": "2020-01-01"})
        policy = self.env.ref("avg_coaching.retention_policy_dossier")
        self.dossier._avg_purge_dossier(policy)
        self.assertFalse(attachment.exists())
        self.assertTrue(self.dossier.exists(), "the agreement stays for its term")
