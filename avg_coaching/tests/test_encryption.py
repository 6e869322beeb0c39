import base64
import os
import subprocess
from unittest.mock import patch

from odoo import SUPERUSER_ID, api
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import SQL, config, mute_logger
from odoo.tools.misc import exec_pg_environ, find_pg_tool

from odoo.addons.avg_coaching.services import crypto
from odoo.addons.avg_coaching.services.erasure import erasure_env

from .common import AvgCoachingCase, new_consent, new_dossier

MARK = "ZZMARKER-{}-QX"


@tagged("post_install", "-at_install")
class TestEncryption(AvgCoachingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._consent(cls.client, "special_health")
        cls.dossier.write(
            {
                "help_question": MARK.format("help"),
                "medical_treatment": MARK.format("medical"),
                "personal_notes": MARK.format("personal"),
                "agreement_document": base64.b64encode(
                    MARK.format("agreement").encode()
                ),
            }
        )
        cls.session.write(
            {"notes": MARK.format("notes"), "report": MARK.format("report")}
        )
        cls.special = cls.env["coaching.special.data"].create(
            {
                "dossier_id": cls.dossier.id,
                "category": "health",
                "relation_note": MARK.format("relation"),
                "details": MARK.format("details"),
            }
        )
        cls.document = cls.env["coaching.document"].create(
            {
                "dossier_id": cls.dossier.id,
                "name": "Verslag",
                "file": base64.b64encode(MARK.format("document").encode()),
            }
        )
        cls.dossier2.write({"help_question": "Tweede cliënt leesbaar"})
        cls.env.flush_all()

    def setUp(self):
        super().setUp()
        self.addCleanup(self._reset)

    def _reset(self):
        self.env["avg.data.key"]._avg_clear_cache()
        self.env.invalidate_all()

    def _use_keys(self, current=None, previous=None):
        """Configure master keys as text (None: not configured)."""
        options = {
            "avg_master_key": current or "",
            "avg_master_key_file": "",
            "avg_master_key_previous": previous or "",
            "avg_master_key_previous_file": "",
        }
        patcher = patch.dict(config.options, options)
        patcher.start()
        self.addCleanup(patcher.stop)
        env_patcher = patch.dict(os.environ, {}, clear=False)
        env_patcher.start()
        os.environ.pop("AVG_MASTER_KEY", None)
        os.environ.pop("AVG_MASTER_KEY_PREVIOUS", None)
        self.addCleanup(env_patcher.stop)
        self._reset()

    def _current_key_text(self):
        current, _previous = crypto.load_master_keys(config)
        return base64.urlsafe_b64encode(current).decode()

    def _raw_text_columns(self):
        """Every text column of the tables that hold dossier content."""
        found = []
        for table in (
            "coaching_dossier",
            "coaching_session",
            "coaching_special_data",
            "coaching_document",
            "avg_data_key",
            "mail_message",
            "mail_tracking_value",
        ):
            self.env.cr.execute(SQL("SELECT * FROM %s", SQL.identifier(table)))
            found.extend(str(row) for row in self.env.cr.fetchall())
        return "\n".join(found)

    def test_round_trip(self):
        dossier = self.dossier.with_user(self.coach)
        self.assertEqual(dossier.help_question, MARK.format("help"))
        self.assertEqual(dossier.medical_treatment, MARK.format("medical"))
        self.assertEqual(
            base64.b64decode(dossier.agreement_document),
            MARK.format("agreement").encode(),
        )
        self.assertEqual(dossier.avg_key_state, "ok")
        session = self.session.with_user(self.coach)
        self.assertEqual(session.notes, MARK.format("notes"))
        self.assertFalse(session.observations)
        self.assertEqual(
            self.special.with_user(self.coach).details, MARK.format("details")
        )
        self.assertEqual(
            base64.b64decode(self.document.with_user(self.coach).file),
            MARK.format("document").encode(),
        )
        session.write({"notes": "Bijgewerkt", "observations": "Nieuw"})
        self._reset()
        self.assertEqual(session.notes, "Bijgewerkt")
        self.assertEqual(session.observations, "Nieuw")
        session.write({"notes": False})
        self._reset()
        self.assertFalse(session.notes)
        self.assertFalse(self.session.sudo().notes_enc)

    def test_database_holds_only_ciphertext(self):
        raw = self._raw_text_columns()
        self.assertNotIn("ZZMARKER", raw)
        self.assertIn(crypto.TOKEN_PREFIX, raw)
        # Files: the attachments of the encrypted binary fields hold ciphertext only.
        attachments = self.env["ir.attachment"].search(
            [
                "|",
                "&",
                ("res_model", "=", "coaching.document"),
                ("res_id", "=", self.document.id),
                "&",
                ("res_model", "=", "coaching.dossier"),
                ("res_id", "=", self.dossier.id),
                ("res_field", "in", ["file_enc", "agreement_document_enc"]),
            ]
        )
        self.assertEqual(len(attachments), 2)
        for attachment in attachments:
            self.assertNotIn(b"ZZMARKER", attachment.raw)
            self.assertTrue(attachment.raw.startswith(crypto.TOKEN_PREFIX.encode()))

    def test_pg_dump_holds_no_plaintext(self):
        """Content committed through the ORM never appears in a pg_dump."""
        marker = "PGDUMPMARKER-8K3W"
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            partner = env["res.partner"].create(
                {
                    "name": "Dump Testcliënt",
                    "is_coaching_client": True,
                    "coaching_birthdate": "1980-01-01",
                }
            )
            new_consent(env, partner)
            dossier = new_dossier(
                env, partner, env.ref("base.user_admin"), help_question=marker
            )
            env["coaching.session"].create(
                {"dossier_id": dossier.id, "notes": marker, "report": marker}
            )
            env["coaching.document"].create(
                {
                    "dossier_id": dossier.id,
                    "name": "D",
                    "file": base64.b64encode(marker.encode()),
                }
            )
            # A pg_dump only sees committed rows; the finally block removes them.
            cr.commit()  # pylint: disable=invalid-commit
            ids = (partner.id, dossier.id)
        try:
            dump = subprocess.run(
                [find_pg_tool("pg_dump"), "--no-owner", self.env.cr.dbname],
                env=exec_pg_environ(),
                capture_output=True,
                check=True,
            ).stdout
            self.assertIn(b"Dump Testcli", dump)  # the dump holds our rows...
            self.assertNotIn(marker.encode(), dump)  # ...but not their content
            filestore = config.filestore(self.env.cr.dbname)
            for root, _dirs, files in os.walk(filestore):
                for name in files:
                    with open(os.path.join(root, name), "rb") as handle:
                        self.assertNotIn(marker.encode(), handle.read())
        finally:
            with self.registry.cursor() as cr:
                # Removed as the erasure path does, without its journal.
                env = erasure_env(api.Environment(cr, SUPERUSER_ID, {}))
                env["coaching.dossier"].browse(ids[1]).unlink()
                env["avg.data.key"].search([("partner_id", "=", ids[0])]).unlink()
                env["avg.consent"].search([("partner_id", "=", ids[0])]).unlink()
                env["res.partner"].browse(ids[0]).unlink()
                cr.commit()  # pylint: disable=invalid-commit

    def test_dossier_deletion_removes_document_files(self):
        document_ids = self.dossier.document_ids.ids
        self.client._avg_erase()
        self.env.cr.execute(
            "SELECT count(*) FROM ir_attachment WHERE res_model = 'coaching.document' "
            "AND res_id IN %s",
            [tuple(document_ids)],
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0)

    def test_crypto_shredding(self):
        self.env["avg.data.key"]._avg_destroy_for(self.client)
        self._reset()
        dossier = self.dossier.with_user(self.coach)
        self.assertEqual(dossier.help_question, "[Erased]")
        self.assertEqual(dossier.avg_key_state, "destroyed")
        self.assertEqual(self.session.with_user(self.coach).notes, "[Erased]")
        self.assertFalse(self.document.with_user(self.coach).file)
        key = self.env["avg.data.key"].search([("partner_id", "=", self.client.id)])
        self.assertEqual(key.state, "destroyed")
        self.assertFalse(key.wrapped_key)
        with self.assertRaisesRegex(UserError, "erased"):
            dossier.write({"help_question": "Opnieuw"})
        # Other clients are unaffected.
        self.assertEqual(self.dossier2.help_question, "Tweede cliënt leesbaar")

    def test_rotation(self):
        old = self._current_key_text()
        new = crypto.new_master_key_text()
        Key = self.env["avg.data.key"]
        total = Key.search_count([("state", "=", "active")])
        self.assertGreaterEqual(total, 2)
        # Only the new key configured: the old data keys cannot be opened, and the
        # rotation refuses to start rather than half-rotate.
        self._use_keys(current=new)
        self.assertEqual(
            self.dossier.help_question, "[Encrypted – the master key is unavailable]"
        )
        with self.assertRaisesRegex(UserError, "previous"):
            Key._avg_rewrap_all()
        # With the previous key given, content stays readable during the rotation.
        self._use_keys(current=new, previous=old)
        self.assertEqual(self.dossier.help_question, MARK.format("help"))
        # Interrupted after one key: re-wrap one by hand, then resume.
        first = Key.search([("state", "=", "active")], limit=1, order="id")
        # (Wrapped under the master key and the key's shard in the key store.)
        shard = first.shard_id and Key._avg_key_store().get(first.shard_id)
        data_key = crypto.unwrap_key(
            crypto.parse_key(old), first.wrapped_key, first.partner_id.id, shard
        )
        first.write(
            {
                "wrapped_key": crypto.wrap_key(
                    crypto.parse_key(new), data_key, first.partner_id.id, shard
                ),
                "master_key_id": crypto.key_id(crypto.parse_key(new)),
            }
        )
        ciphertext_before = self.dossier.sudo().help_question_enc
        # The interrupted rotation has not changed the recorded key, and new
        # clients are accepted meanwhile (under the new key).
        self.assertEqual(self._recorded(), crypto.key_id(crypto.parse_key(old)))
        during = self._new_client_dossier("Rotatie Cliënt", MARK.format("during"))
        self.assertEqual(
            Key.search([("partner_id", "=", during.client_id.id)]).master_key_id,
            crypto.key_id(crypto.parse_key(new)),
        )
        self.assertEqual(Key._avg_rewrap_all(), total - 1)
        self.assertEqual(self._recorded(), crypto.key_id(crypto.parse_key(new)))
        self.assertEqual(Key._avg_rewrap_all(), 0)  # a second run has nothing to do
        self.assertEqual(self.dossier.sudo().help_question_enc, ciphertext_before)
        self.assertEqual(
            set(Key.search([("state", "=", "active")]).mapped("master_key_id")),
            {crypto.key_id(crypto.parse_key(new))},
        )
        # Everything readable with the new key alone, nothing with the old alone.
        self._use_keys(current=new)
        self.assertEqual(self.dossier.help_question, MARK.format("help"))
        self.assertEqual(self.session.notes, MARK.format("notes"))
        self.assertEqual(self.dossier2.help_question, "Tweede cliënt leesbaar")
        self.assertEqual(during.help_question, MARK.format("during"))
        self._use_keys(current=old)
        self.assertEqual(
            self.session.notes, "[Encrypted – the master key is unavailable]"
        )
        # The old key is no longer this database's key: no new content under it.
        with self.assertRaisesRegex(UserError, "fingerprint"):
            self._new_client_dossier("Na Rotatie", MARK.format("after"))

    # ------------------------------------------------------- the recorded key
    def _recorded(self):
        return (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("avg_coaching.master_key_id")
        )

    def _new_client_dossier(self, name, help_question):
        """The coach opens a dossier with content for a client new to the practice."""
        client = self.env["res.partner"].create(
            {
                "name": name,
                "is_coaching_client": True,
                "coaching_birthdate": "1980-01-01",
            }
        )
        self._consent(client, "dossier")
        return (
            self.env["coaching.dossier"]
            .with_user(self.coach)
            .create(
                {
                    "client_id": client.id,
                    "coach_id": self.coach.id,
                    "help_question": help_question,
                }
            )
        )

    def test_master_key_fingerprint_recorded(self):
        current, _previous = crypto.load_master_keys(config)
        self.assertEqual(self._recorded(), crypto.key_id(current))

    def test_fingerprint_taken_from_existing_keys(self):
        """A database made before the fingerprint was recorded: its data keys say
        which master key it uses, and a wrong key is refused there too."""
        right = self._current_key_text()
        self.env["ir.config_parameter"].sudo().search(
            [("key", "=", "avg_coaching.master_key_id")]
        ).unlink()
        self.assertFalse(self._recorded())
        self._use_keys(current=crypto.new_master_key_text())
        with self.assertRaisesRegex(UserError, "fingerprint"):
            self._new_client_dossier("Oude Database", MARK.format("old"))
        self.assertFalse(self._recorded(), "the refused save wrote nothing")
        self._use_keys(current=right)
        dossier = self._new_client_dossier("Oude Database", MARK.format("old"))
        self.assertEqual(dossier.help_question, MARK.format("old"))
        self.assertEqual(self._recorded(), crypto.key_id(crypto.parse_key(right)))

    def test_wrong_master_key_refuses_new_client_content(self):
        right = self._current_key_text()
        wrong = crypto.new_master_key_text()
        self._use_keys(current=wrong)
        Key = self.env["avg.data.key"]
        keys_before = Key.search_count([])
        dossiers_before = self.env["coaching.dossier"].search_count([])
        client = self.env["res.partner"].create(
            {
                "name": "Nieuwe Cliënt Sleutel",
                "is_coaching_client": True,
                "coaching_birthdate": "1980-01-01",
            }
        )
        self._consent(client, "dossier")
        with self.assertRaisesRegex(UserError, "fingerprint") as caught:
            self.env["coaching.dossier"].with_user(self.coach).create(
                {
                    "client_id": client.id,
                    "coach_id": self.coach.id,
                    "help_question": MARK.format("wrong"),
                }
            )
        message = str(caught.exception)
        self.assertIn(crypto.key_id(crypto.parse_key(wrong)), message)
        self.assertIn(crypto.key_id(crypto.parse_key(right)), message)
        self.assertIn("avg_master_key_file", message)
        self.assertIn("rotation", message)
        # Nothing was written: no data key, no dossier, no ciphertext.
        self.assertEqual(Key.search_count([]), keys_before)
        self.assertEqual(self.env["coaching.dossier"].search_count([]), dossiers_before)
        self.assertNotIn(MARK.format("wrong"), self._raw_text_columns())
        # A dossier without content is no content: the practice keeps working.
        empty = (
            self.env["coaching.dossier"]
            .with_user(self.coach)
            .create({"client_id": client.id, "coach_id": self.coach.id})
        )
        with self.assertRaisesRegex(UserError, "fingerprint"):
            empty.write({"help_question": MARK.format("wrong")})
        self.assertFalse(Key.search([("partner_id", "=", client.id)]))
        # The recorded key is not changed by the attempts; the right key works.
        self.assertEqual(self._recorded(), crypto.key_id(crypto.parse_key(right)))
        self._use_keys(current=right)
        empty.write({"help_question": MARK.format("right")})
        self._reset()
        self.assertEqual(empty.help_question, MARK.format("right"))
        self.assertEqual(
            Key.search([("partner_id", "=", client.id)]).master_key_id,
            crypto.key_id(crypto.parse_key(right)),
        )

    def test_rotation_action_for_administrators_only(self):
        with self.assertRaisesRegex(UserError, "administrator"):
            self.env["avg.data.key"].with_user(self.coach).action_rewrap_keys()
        admin = self.env.ref("base.user_admin")
        settings = self.env["res.config.settings"].with_user(admin).create({})
        action = settings.action_avg_rewrap_keys()
        self.assertEqual(action["params"]["type"], "success")

    def test_missing_and_wrong_master_key(self):
        stored = self.dossier.sudo().help_question_enc
        for current in (None, crypto.new_master_key_text(), "not-a-key"):
            self._use_keys(current=current)
            dossier = self.dossier.with_user(self.coach)
            self.assertEqual(dossier.avg_key_state, "unavailable")
            self.assertEqual(
                dossier.help_question, "[Encrypted – the master key is unavailable]"
            )
            for vals in ({"help_question": "Nieuw"}, {"help_question": False}):
                with self.assertRaisesRegex(UserError, "master key"):
                    dossier.write(vals)
            with self.assertRaisesRegex(UserError, "master key"):
                self.env["coaching.session"].with_user(self.coach).create(
                    {"dossier_id": self.dossier.id, "notes": "Nieuw"}
                )
            self._reset()
            self.assertEqual(self.dossier.sudo().help_question_enc, stored)
            # Contacts and invoicing keep working.
            self.client.with_user(self.bookkeeper).write({"city": "Elders"})
            invoice = (
                self.env["account.move"]
                .with_user(self.bookkeeper)
                .create({"move_type": "out_invoice", "partner_id": self.client.id})
            )
            self.assertTrue(invoice)
            # Non-encrypted dossier fields still work.
            dossier.write({"agreement_date": "2026-01-01"})

    def test_tampered_ciphertext_detected(self):
        stored = self.session.sudo().notes_enc
        tampered = stored[:-4] + ("AAAA" if not stored.endswith("AAAA") else "BBBB")
        self.env.cr.execute(
            "UPDATE coaching_session SET notes_enc = %s WHERE id = %s",
            [tampered, self.session.id],
        )
        self._reset()
        with self.assertLogs(
            "odoo.addons.avg_coaching.models.avg_encrypted_mixin", "ERROR"
        ):
            self.assertEqual(
                self.session.with_user(self.coach).notes,
                "[Unreadable – integrity check failed]",
            )
        # Reading the session again logs the tampered field once more (asserted above);
        # the other fields are intact.
        with mute_logger("odoo.addons.avg_coaching.models.avg_encrypted_mixin"):
            self.assertEqual(self.session.report, MARK.format("report"))
        self.assertEqual(self.session.sudo().notes_enc, tampered)  # nothing overwritten
        # Moving ciphertext to another field or record is detected too (bound by AAD).
        self.env.cr.execute(
            "UPDATE coaching_session SET observations_enc = report_enc WHERE id = %s",
            [self.session.id],
        )
        self._reset()
        with self.assertLogs(
            "odoo.addons.avg_coaching.models.avg_encrypted_mixin", "ERROR"
        ):
            self.assertEqual(
                self.session.observations, "[Unreadable – integrity check failed]"
            )

    def test_tampered_data_key_detected(self):
        key = self.env["avg.data.key"].search([("partner_id", "=", self.client.id)])
        self.env.cr.execute(
            "UPDATE avg_data_key SET wrapped_key = %s WHERE id = %s",
            [base64.b64encode(os.urandom(60)).decode(), key.id],
        )
        self._reset()
        with self.assertLogs("odoo.addons.avg_coaching.models.avg_data_key", "ERROR"):
            self.assertEqual(self.dossier.avg_key_state, "tampered")
        with (
            mute_logger("odoo.addons.avg_coaching.models.avg_data_key"),
            self.assertRaisesRegex(UserError, "integrity"),
        ):
            self.dossier.with_user(self.coach).write({"help_question": "x"})

    def test_search_and_group_refused(self):
        Session = self.env["coaching.session"].with_user(self.coach)
        for domain in (
            [("notes", "ilike", "ZZ")],
            [("notes", "=", False)],
            [("dossier_id.help_question", "ilike", "ZZ")],
        ):
            with self.assertRaisesRegex(UserError, "encrypted and cannot be searched"):
                Session.search(domain)
        with self.assertRaisesRegex(UserError, "encrypted"):
            Session.read_group([], ["duration:sum"], ["notes"])
        with self.assertRaisesRegex(UserError, "encrypted"):
            self.env["coaching.dossier"].with_user(self.coach).read_group(
                [], ["help_question:count"], ["state"]
            )

    def test_client_change_refused_once_content_exists(self):
        with self.assertRaisesRegex(UserError, "new dossier"):
            self.dossier.with_user(self.coach).write({"client_id": self.client2.id})
        self.assertEqual(self.dossier.client_id, self.client)

    def test_service_input(self):
        key = crypto.new_data_key()
        token = crypto.encrypt(key, "héllo", "ctx")
        self.assertEqual(crypto.decrypt(key, token, "ctx"), "héllo".encode())
        self.assertNotEqual(crypto.encrypt(key, "héllo", "ctx"), token)  # random nonce
        for bad in (None, "", "plain text", "avg1:!!!", "avg1:" + token[5:][::-1]):
            with self.assertRaises(crypto.IntegrityError, msg=bad):
                crypto.decrypt(key, bad, "ctx")
        with self.assertRaises(crypto.IntegrityError):
            crypto.decrypt(key, token, "other-context")
        with self.assertRaises(ValueError):
            crypto.parse_key("c2hvcnQ=")
        self.assertIsNone(crypto.parse_key(""))
        big = "x" * 5_000_000
        self.assertEqual(
            len(crypto.decrypt(key, crypto.encrypt(key, big, "c"), "c")), len(big)
        )
