"""The key store: a purge leaves earlier backups unable to read what it purged.

Every data key is wrapped in the database under a key derived from the master key
and the key's shard, kept in the key store outside the database (and outside its
backups). Erasure shreds the shard; a content purge re-keys the client (what is
kept is re-encrypted under a new key) and shreds the old shard.
"""

import base64
import json
import os
import shutil
import tempfile
import time
from importlib import util
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import config, mute_logger

from ..services import crypto
from .common import AvgCoachingCase
from .scratch import REPO_DIR, ScratchDatabase

SETUP = """
import base64, json
coach = env["res.users"].create({
    "name": "Sleutel Coach",
    "login": "sleutel_coach",
    "groups_id": [(6, 0, [env.ref("base.group_user").id,
                          env.ref("avg_coaching.group_avg_coach").id])],
})
Partner = env["res.partner"]

def client(name):
    partner = Partner.create({"name": name, "is_coaching_client": True,
                              "email": name.split()[-1].lower() + "@sleutel.test",
                              "coaching_birthdate": "1980-01-01"})
    env["avg.consent"].create({"partner_id": partner.id, "purpose": "dossier",
                               "method": "signed_form", "text_version": "v1",
                               "date_given": "2008-12-01"})
    return partner

def dossier(partner, marker, **extra):
    vals = {"client_id": partner.id, "coach_id": coach.id,
            "state": "active", "date_start": "2009-01-01",
            "help_question": marker + "-HULPVRAAG",
            "personal_notes": marker + "-NOTITIE"}
    vals.update(extra)
    record = env["coaching.dossier"].with_user(coach).create(vals)
    env["coaching.session"].with_user(coach).create(
        {"dossier_id": record.id, "date": "2009-02-01",
         "notes": marker + "-SESSIE"})
    env["coaching.document"].with_user(coach).create(
        {"dossier_id": record.id, "name": marker + ".txt",
         "file": base64.b64encode((marker + "-DOCUMENT").encode())})
    return record

erased = client("Sleutel Gewist")
purged = client("Sleutel Opgeschoond")
stays = client("Sleutel Blijft")
dossier(erased, "MRKGEWIST")
old = dossier(purged, "MRKWEG", date_end="2010-01-01",
              agreement_document=base64.b64encode(b"MRKBEWAARD-AKKOORD"))
old.action_close()
kept = dossier(purged, "MRKBEWAARD")
dossier(stays, "MRKBLIJFT")
env.cr.commit()
print("OUT=" + json.dumps({"erased": erased.id, "purged": purged.id,
                           "stays": stays.id, "old": old.id, "kept": kept.id}))
"""

PURGE = """
import json
from odoo import fields
keys = env["avg.data.key"].search([("partner_id", "in", [%(erased)d, %(purged)d])])
before = {k.partner_id.id: k.shard_id for k in keys}
# The daily run (it commits per batch), then an erasure request.
policy = env.ref("avg_coaching.retention_policy_dossier")
done, failed = policy._avg_run(fields.Date.today())
env["res.partner"].browse(%(erased)d)._avg_erase(reason="request")
env.cr.commit()
old = env["coaching.dossier"].browse(%(old)d)
after = env["avg.data.key"].search([("partner_id", "=", %(purged)d)]).shard_id
print("OUT=" + json.dumps({"done": done, "failed": failed, "before": before,
                           "after": after,
                           "purged_date": str(old.content_purged_date)}))
"""

# Everything the database can decrypt, as maintenance reads it: every encrypted
# field of every model, and the state of each subject's key.
READ = """
import base64, json
env = env(context=dict(env.context, avg_access_system="maintenance",
                       active_test=False))
Key = env["avg.data.key"]
texts = []
for name in Key._avg_encrypted_models():
    Model = env[name]
    for record in Model.search([]):
        for field in Model._avg_encrypted_fields():
            value = record[field.name]
            if value and field.type == "binary":
                value = base64.b64decode(value).decode("utf-8", "replace")
            if value:
                texts.append(value)
states = {}
for pid in (%(erased)d, %(purged)d, %(stays)d):
    partner = env["res.partner"].browse(pid).exists()
    if partner:
        states[pid] = str(Key._avg_get_keys(partner)[pid] if not isinstance(
            Key._avg_get_keys(partner)[pid], bytes) else "ok")
print("OUT=" + json.dumps({"texts": texts, "states": states}))
"""


def _out(done):
    line = next(x for x in done.stdout.splitlines() if x.startswith("OUT="))
    return json.loads(line[4:])


def _markers(texts, marker):
    return [text for text in texts if marker in text]


@tagged("post_install", "-at_install")
class TestKeyStoreBackups(AvgCoachingCase):
    """Real pg_dump and pg_restore, real commits, a real key store."""

    def test_backup_before_purge_cannot_read_purged(self):
        scratch = ScratchDatabase(self, self.env.cr.dbname, "keys").make()
        ids = _out(scratch.shell(SETUP))
        before = _out(scratch.shell(READ % ids))["texts"]
        for marker in ("MRKGEWIST", "MRKWEG", "MRKBEWAARD", "MRKBLIJFT"):
            self.assertTrue(_markers(before, marker), marker)
        # The backup: the database only; the key store is backed up on its own
        # (README: Backups). Its copy as it is now is kept to show what the
        # rotation of the key store's backups is for.
        backup = scratch.dump()
        key_store_then = os.path.join(scratch.workdir, "key-store-then")
        shutil.copytree(scratch.key_store(scratch.dbname), key_store_then)
        # (With the filestore as it was: Odoo's backup holds it.)
        filestore_then = os.path.join(scratch.workdir, "filestore-then")
        shutil.copytree(config.filestore(scratch.dbname), filestore_then)

        purge = _out(scratch.shell(PURGE % ids))
        self.assertEqual(purge["failed"], 0)
        self.assertGreaterEqual(purge["done"], 1)
        self.assertNotEqual(purge["purged_date"], "False")
        old_shards = purge["before"].values()
        self.assertTrue(all(old_shards))
        self.assertNotIn(purge["after"], old_shards, "the client was re-keyed")
        store = scratch.key_store(scratch.dbname)
        left = {name.split(".")[0] for name in os.listdir(store)}
        for shard in old_shards:
            self.assertNotIn(shard, left, "the old shards are shredded")
        self.assertIn(purge["after"], left)

        # The live database: what was kept still reads, under the new key.
        live = _out(scratch.shell(READ % ids))["texts"]
        self.assertEqual(_markers(live, "MRKGEWIST"), [])
        self.assertEqual(_markers(live, "MRKWEG"), [])
        self.assertEqual(len(_markers(live, "MRKBEWAARD")), 5)  # + the agreement
        self.assertEqual(len(_markers(live, "MRKBLIJFT")), 4)

        # The backup made before, restored with the master key and the key
        # store as they are now: what was purged or erased no longer opens.
        restored = f"{scratch.dbname}_b"
        scratch.restore(backup, restored)
        shutil.copytree(filestore_then, config.filestore(restored))
        rows = scratch.sql(
            "SELECT count(*) FROM coaching_session WHERE notes_enc IS NOT NULL"
            f" AND client_id IN ({ids['erased']}, {ids['purged']})",
            dbname=restored,
        )
        self.assertEqual(rows, [["3"]], "the backup holds their ciphertext")
        old = _out(scratch.shell(READ % ids, dbname=restored))
        self.assertEqual(_markers(old["texts"], "MRKGEWIST"), [])
        self.assertEqual(_markers(old["texts"], "MRKWEG"), [])
        self.assertEqual(len(_markers(old["texts"], "MRKBLIJFT")), 4)
        # (What was kept of the re-keyed client was under the old key too: it
        # reads in the live database and in every backup made after the purge.)
        self.assertEqual(_markers(old["texts"], "MRKBEWAARD"), [])
        self.assertEqual(
            old["states"],
            {
                str(ids["erased"]): "destroyed",
                str(ids["purged"]): "destroyed",
                str(ids["stays"]): "ok",
            },
        )

        # A backup made after the purge reads what was kept, not what went.
        after = f"{scratch.dbname}_a"
        scratch.restore(scratch.dump(), after)
        shutil.copytree(config.filestore(scratch.dbname), config.filestore(after))
        later = _out(scratch.shell(READ % ids, dbname=after))["texts"]
        self.assertEqual(_markers(later, "MRKWEG"), [])
        self.assertEqual(len(_markers(later, "MRKBEWAARD")), 5)
        self.assertEqual(len(_markers(later, "MRKBLIJFT")), 4)

        # Why the key store's own backups have a short rotation: with a copy
        # of the key store made before the purge, the old backup still opens.
        scratch.copy_key_store(key_store_then, restored)
        with_old_store = _out(scratch.shell(READ % ids, dbname=restored))["texts"]
        self.assertTrue(_markers(with_old_store, "MRKWEG"))


@tagged("post_install", "-at_install")
class TestKeyStore(AvgCoachingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Key = cls.env["avg.data.key"]

    def _without_key_store(self, path=None):
        """Point this database at a key store that is not there (or not its)."""
        path = path or os.path.join(tempfile.mkdtemp(prefix="avg-nokeys-"), "gone")
        self.addCleanup(shutil.rmtree, os.path.dirname(path), ignore_errors=True)
        root = os.path.dirname(path)
        self.Key._avg_clear_cache()
        self.env.invalidate_all()
        patcher = patch.dict(config.options, {"avg_key_store_dir": root})
        patcher.start()
        self.addCleanup(patcher.stop)
        return os.path.join(root, self.env.cr.dbname)

    def _store_files(self):
        path = self.Key._avg_key_store_path()
        return set(os.listdir(path)) if os.path.isdir(path) else set()

    def test_content_has_a_shard(self):
        key = self.Key.search([("partner_id", "=", self.client.id)])
        self.assertTrue(key.shard_id)
        store = self.Key._avg_key_store()
        self.assertEqual(len(store.get(key.shard_id)), crypto.KEY_BYTES)
        self.assertIn(f"{key.shard_id}.pending", self._store_files())
        self.assertEqual(self.session.notes, "Intake")

    @mute_logger("odoo.addons.avg_coaching.models.avg_data_key")
    def test_missing_key_store_refused(self):
        notes_enc = self.session.notes_enc
        before = self.Key.search_count([])
        self._without_key_store()
        session = self.session.with_user(self.coach)
        self.assertEqual(session.avg_key_state, "no_store")
        self.assertEqual(session.notes, "[Encrypted – the key store is unavailable]")
        with self.assertRaisesRegex(UserError, "key store .* is missing"):
            session.write({"notes": "Nieuwe notitie"})
            self.env.flush_all()
        # A client without a key yet: no key is made without its shard.
        newcomer = self.env["res.partner"].create(
            {
                "name": "Sleutelloze Cliënt",
                "is_coaching_client": True,
                "coaching_birthdate": "1990-01-01",
            }
        )
        self._consent(newcomer, "dossier")
        with self.assertRaisesRegex(UserError, "key store .* is missing"):
            self.env["coaching.dossier"].with_user(self.coach).create(
                {
                    "client_id": newcomer.id,
                    "coach_id": self.coach.id,
                    "help_question": "Mag niet",
                }
            )
            self.env.flush_all()
        # Erasure and re-keying refuse too: neither can shred without it.
        with self.assertRaisesRegex(UserError, "key store .* is missing"):
            self.client._avg_erase(reason="request")
        with self.assertRaisesRegex(UserError, "key store .* is missing"):
            self.Key._avg_rekey(self.client)
        self.env.invalidate_all()
        self.assertEqual(self.session.exists().notes_enc, notes_enc)
        self.assertEqual(self.Key.search_count([]), before)
        self.assertFalse(self.client.avg_erased_date)
        key = self.Key.search([("partner_id", "=", self.client.id)])
        self.assertEqual(key.state, "active")

    @mute_logger("odoo.addons.avg_coaching.models.avg_data_key")
    def test_wrong_key_store_refused(self):
        """A key store that is not this database's is told, not taken for an
        empty one (which would make new keys no backup of the store holds)."""
        path = self._without_key_store()
        crypto.KeyStore(path).initialise("another-database")
        self.assertEqual(os.listdir(path), ["AVG_KEY_STORE"])
        with self.assertRaisesRegex(UserError, "not the one of this database"):
            self.session.with_user(self.coach).write({"notes": "Nieuwe notitie"})
            self.env.flush_all()
        self.assertEqual(os.listdir(path), ["AVG_KEY_STORE"], "nothing written")

    def test_content_purge_rekeys(self):
        """The dossier purge re-encrypts what is kept under a new key."""
        self.dossier.write(
            {"agreement_document": base64.b64encode(b"Getekende overeenkomst")}
        )
        other = self.env["coaching.dossier"].create(
            {
                "client_id": self.client.id,
                "coach_id": self.coach.id,
                "help_question": "Tweede traject",
            }
        )
        self.dossier.write(
            {"state": "active", "date_start": "2009-01-01", "date_end": "2010-01-01"}
        )
        self.dossier.action_close()
        key = self.Key.search([("partner_id", "=", self.client.id)])
        old_shard = key.shard_id
        old_token = other.help_question_enc
        policy = self.env.ref("avg_coaching.retention_policy_dossier")
        self.assertEqual(policy._avg_run(fields.Date.to_date("2026-11-01")), (1, 0))
        self.env.invalidate_all()
        self.Key._avg_clear_cache()
        self.assertNotEqual(key.shard_id, old_shard)
        self.assertNotEqual(other.help_question_enc, old_token)
        self.assertEqual(other.help_question, "Tweede traject")
        self.assertEqual(
            base64.b64decode(self.dossier.agreement_document),
            b"Getekende overeenkomst",
        )
        self.assertFalse(self.dossier.session_ids)
        self.assertFalse(self.dossier.help_question)
        files = self._store_files()
        self.assertIn(f"{old_shard}.retired", files, "shredded once committed")
        self.assertIn(f"{key.shard_id}.pending", files)
        # The other client's key is left alone.
        self.assertEqual(self.dossier2.client_id.id, self.client2.id)

    def test_key_without_shard_keeps_working_and_gets_one(self):
        """A key made before the key store (wrapped by the master key alone)
        reads, and the migration's step (the rotation) gives it a shard."""
        key = self.Key.search([("partner_id", "=", self.client.id)])
        data_key = self.Key._avg_get_keys(self.client)[self.client.id]
        master = self.Key._avg_current_master()
        key.write(
            {
                "wrapped_key": crypto.wrap_key(master, data_key, self.client.id),
                "shard_id": False,
            }
        )
        self.Key._avg_clear_cache()
        self.env.invalidate_all()
        self.assertEqual(self.session.notes, "Intake")
        path = os.path.join(
            REPO_DIR, "avg_coaching", "migrations", "18.0.1.1.0", "post-migrate.py"
        )
        spec = util.spec_from_file_location("avg_post_migrate", path)
        migration = util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        migration._shard_data_keys(self.env)
        self.assertTrue(key.shard_id)
        self.Key._avg_clear_cache()
        self.env.invalidate_all()
        self.assertEqual(self.session.notes, "Intake")
        # Without its shard the key no longer opens: not with the master alone.
        with self.assertRaises(crypto.IntegrityError):
            crypto.unwrap_key(master, key.wrapped_key, self.client.id)

    def test_sweep_finishes_what_a_crash_left(self):
        """Only .pending and .retired shards older than the grace period are
        settled by the sweep; a .key shard is never swept."""
        path = tempfile.mkdtemp(prefix="avg-sweep-")
        self.addCleanup(shutil.rmtree, path, ignore_errors=True)
        store = crypto.KeyStore(path)
        store.initialise("sweep")
        handles = [crypto.new_shard_handle() for _i in range(5)]
        live_pending, dead_pending, live_retired, dead_retired, dead_key = handles
        store.write_pending({h: os.urandom(crypto.KEY_BYTES) for h in handles})
        store.settle([live_retired, dead_retired], ".retired")
        store.settle([dead_key], ".key")
        young = crypto.new_shard_handle()
        store.write_pending({young: os.urandom(crypto.KEY_BYTES)})
        now = time.time() + crypto.SWEEP_GRACE + 60
        os.utime(os.path.join(path, f"{young}.pending"), (now, now))
        active = {live_pending, live_retired}
        self.assertEqual(store.sweep(active, now=now), (2, 2))
        self.assertEqual(
            set(os.listdir(path)),
            {
                "AVG_KEY_STORE",
                f"{live_pending}.key",
                f"{live_retired}.key",
                f"{dead_key}.key",
                f"{young}.pending",
            },
        )
        self.assertIsNone(store.get(dead_pending))
        self.assertEqual(store.sweep(active, now=now), (0, 0), "a second run")


WRITER = """
import os, time
env = env(context=dict(env.context, avg_access_system="maintenance"))
session = env["coaching.session"].create(
    {"dossier_id": %(kept)d, "date": "2026-02-01", "notes": "MRKTIJDENS-SESSIE"})
env.flush_all()
with open(%(held)r, "w") as handle:
    handle.write(str(session.id))
time.sleep(8)  # the re-keying starts meanwhile and waits for this transaction
env.cr.commit()
"""

REKEY = """
import os, time, psycopg2
from odoo.exceptions import UserError
deadline = time.time() + 240
while not os.path.exists(%(held)r) and time.time() < deadline:
    time.sleep(0.05)
partner = env["res.partner"].browse(%(purged)d)
try:
    count = env["avg.data.key"]._avg_rekey(partner)
    env.cr.commit()
    print("OUT=" + str(count))
except psycopg2.errors.SerializationFailure:
    env.cr.rollback()
    print("OUT=retry")
"""


@tagged("post_install", "-at_install")
class TestKeyStoreConcurrency(AvgCoachingCase):
    def test_rekey_never_leaves_content_under_the_old_key(self):
        """Content written while a re-keying starts: the re-keying waits for the
        writer, then fails on the row the writer held (and is retried), so the
        new content is re-encrypted too and reads."""
        scratch = ScratchDatabase(self, self.env.cr.dbname, "rekey").make()
        ids = _out(scratch.shell(SETUP))
        held = os.path.join(scratch.workdir, "held")
        writer = scratch.popen(WRITER % dict(ids, held=held))
        first = _out_text(scratch.shell(REKEY % dict(ids, held=held)))
        out, err = writer.communicate(timeout=300)
        self.assertEqual(writer.returncode, 0, f"{out}\n{err}")
        self.assertEqual(first, "retry", "the re-keying waited and gave way")
        again = _out_text(scratch.shell(REKEY % dict(ids, held=held)))
        self.assertGreater(int(again), 0)
        texts = _out(scratch.shell(READ % ids))["texts"]
        self.assertEqual(_markers(texts, "MRKTIJDENS"), ["MRKTIJDENS-SESSIE"])
        self.assertEqual(len(_markers(texts, "MRKBEWAARD")), 5)


def _out_text(done):
    return next(x for x in done.stdout.splitlines() if x.startswith("OUT="))[4:]
