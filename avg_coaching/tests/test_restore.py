"""The restore path, with real tools: pg_dump, erase, restore, re-apply."""

import json
import os
import subprocess

from odoo.tests import tagged

from .common import AvgCoachingCase
from .scratch import REPO_DIR, ScratchDatabase

REAPPLY = os.path.join(REPO_DIR, "tools", "reapply-erasures")

SETUP = """
import json
coach = env["res.users"].create({
    "name": "Herstel Coach",
    "login": "herstel_coach",
    "groups_id": [(6, 0, [env.ref("base.group_user").id,
                          env.ref("avg_coaching.group_avg_coach").id])],
})
Partner = env["res.partner"]
gone = Partner.create({"name": "Herstel Weg Cliënt", "is_coaching_client": True,
                       "email": "weg@client.test",
                       "coaching_birthdate": "1980-01-01"})
stays = Partner.create({"name": "Herstel Blijft Cliënt", "is_coaching_client": True,
                        "email": "blijft@client.test",
                        "coaching_birthdate": "1981-01-01"})
env["avg.consent"].create([
    {"partner_id": p.id, "purpose": "dossier", "method": "signed_form",
     "text_version": "Toestemming v1", "date_given": "2026-01-05"}
    for p in (gone, stays)
])
Dossier = env["coaching.dossier"].with_user(coach)
gone_dossier = Dossier.create({"client_id": gone.id, "coach_id": coach.id,
                               "help_question": "Vraag van wie weg wil"})
stays_dossier = Dossier.create({"client_id": stays.id, "coach_id": coach.id,
                                "help_question": "Vraag van wie blijft"})
env["coaching.session"].with_user(coach).create(
    {"dossier_id": stays_dossier.id, "date": "2026-01-10", "notes": "Notitie blijft"})
ref = env["avg.deletion.log"]._avg_subject_ref(gone)
env.cr.commit()
print("OUT=" + json.dumps({"coach": coach.id, "gone": gone.id, "stays": stays.id,
                           "stays_dossier": stays_dossier.id, "ref": ref}))
"""

ERASE = """
import json, os
Log = env["avg.deletion.log"]
path = Log._avg_journal_path()

def journal():
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line)["subject_ref"] for line in handle if line.strip()]

env["res.partner"].browse(%(gone)d)._avg_erase(reason="request")
env.flush_all()
rolled_back_before = journal()
env.cr.rollback()  # the batch fails after the erasure: nothing happened
rolled_back_after = journal()
env["res.partner"].browse(%(gone)d)._avg_erase(reason="request")
env.flush_all()
before_commit = journal()
env.cr.commit()
after_commit = journal()
print("OUT=" + json.dumps({
    "rolled_back_before": rolled_back_before, "rolled_back_after": rolled_back_after,
    "before_commit": before_commit, "after_commit": after_commit,
    "path": path,
}))
"""

READ = """
import json
coach = env["res.users"].browse(%(coach)d)
dossier = env["coaching.dossier"].with_user(coach).browse(%(stays_dossier)d)
print("OUT=" + json.dumps({
    "help_question": dossier.help_question,
    "notes": dossier.session_ids.notes,
    "gone": env["res.partner"].with_context(active_test=False)
        .search_count([("id", "=", %(gone)d), ("avg_erased_date", "=", False)]),
}))
"""

# What the restored database must hold exactly as the original after the erasure.
TABLES = {
    "res_partner": "id, name, email, active, avg_erased_date",
    "res_users": "id, login, active",
    "coaching_dossier": "id, client_id, help_question_enc",
    "coaching_session": "id, dossier_id, notes_enc",
    "avg_data_key": "id, partner_id, state, wrapped_key",
    "avg_consent": "id, partner_id",
    "mail_message": "id, model, res_id",
}


def _out(done):
    line = next(x for x in done.stdout.splitlines() if x.startswith("OUT="))
    return json.loads(line[4:])


@tagged("post_install", "-at_install")
class TestRestorePath(AvgCoachingCase):
    def _journal_refs(self):
        path = self.env["avg.deletion.log"]._avg_journal_path()
        if not os.path.exists(path):
            return []
        with open(path, encoding="utf-8") as handle:
            return [json.loads(line)["subject_ref"] for line in handle if line.strip()]

    def _drop_journal_lines(self, ref):
        """The erasures of this test are rolled back: take their lines out again."""
        path = self.env["avg.deletion.log"]._avg_journal_path()
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                kept = [line for line in handle if ref not in line]
            with open(path, "w", encoding="utf-8") as handle:
                handle.writelines(kept)

    def test_journal_written_after_commit_only(self):
        """In one transaction: the line waits for the commit, and a batch rolled
        back to its savepoint leaves none."""
        Log = self.env["avg.deletion.log"]
        client = self.env["res.partner"].create(
            {"name": "Journaal Cliënt", "is_coaching_client": True}
        )
        failed = self.env["res.partner"].create(
            {"name": "Journaal Mislukt", "is_coaching_client": True}
        )
        ref, failed_ref = Log._avg_subject_ref(client), Log._avg_subject_ref(failed)
        self.addCleanup(self._drop_journal_lines, ref)
        self.addCleanup(self._drop_journal_lines, failed_ref)
        client._avg_erase(reason="request")
        with self.assertRaises(RuntimeError), self.env.cr.savepoint():
            failed._avg_erase(reason="request")
            raise RuntimeError("the batch fails after the erasure")
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.assertNotIn(ref, self._journal_refs(), "written before the commit")
        # What a commit runs once the transaction is committed:
        self.env.cr.postcommit.run()
        refs = self._journal_refs()
        self.assertEqual(refs.count(ref), 1)
        self.assertNotIn(failed_ref, refs)

    def test_restore_and_reapply(self):
        scratch = ScratchDatabase(self, self.env.cr.dbname, "restore").make()
        ids = _out(scratch.shell(SETUP))
        backup = scratch.dump()

        # The erasure, in the original: journalled at commit, not on a rollback.
        erased = _out(scratch.shell(ERASE % ids))
        self.assertEqual(erased["path"], scratch.journal())
        self.assertEqual(erased["rolled_back_before"], [])
        self.assertEqual(erased["rolled_back_after"], [])
        self.assertEqual(erased["before_commit"], [])
        self.assertEqual(erased["after_commit"], [ids["ref"]])

        # The backup made before the erasure comes back in a new database.
        restored = f"{scratch.dbname}_r"
        scratch.restore(backup, restored)
        self.assertEqual(_out(scratch.shell(READ % ids, dbname=restored))["gone"], 1)
        done = subprocess.run(
            [REAPPLY, "-c", scratch.write_conf(restored), "-d", restored,
             "--journal", scratch.journal()],
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("1 erasures re-applied", done.stdout)

        # The person is gone again, the other client is intact and readable.
        after = _out(scratch.shell(READ % ids, dbname=restored))
        self.assertEqual(after["gone"], 0)
        self.assertEqual(after["help_question"], "Vraag van wie blijft")
        self.assertEqual(after["notes"], "Notitie blijft")
        # Nothing else touched: the restored database holds what the original
        # holds after the erasure.
        for table, columns in TABLES.items():
            query = f"SELECT {columns} FROM {table} ORDER BY id"
            self.assertEqual(
                scratch.sql(query, dbname=restored), scratch.sql(query), table
            )

        # Without --journal, the database's own journal: already done, nothing
        # to re-apply.
        again = subprocess.run(
            [REAPPLY, "-c", scratch.conf, "-d", scratch.dbname],
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertIn("0 erasures re-applied", again.stdout)
