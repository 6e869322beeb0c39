"""Two retention runs at once, in two real Odoo processes on one database."""

import json
import os
import re

from odoo.tests import TransactionCase, tagged

from .scratch import ScratchDatabase

ERROR_LINE = re.compile(r"^\S+ \S+ \d+ (ERROR|CRITICAL) ", re.MULTILINE)

# Shared by the scripts: wait for a file another process writes.
WAIT = """
import os, time

def wait_for(path):
    deadline = time.time() + 240
    while not os.path.exists(path):
        if time.time() > deadline:
            raise SystemExit(f"timed out waiting for {path}")
        time.sleep(0.05)
"""


@tagged("post_install", "-at_install")
class TestConcurrentRetentionRuns(TransactionCase):
    """The cron and a manual run (or two workers) purge at the same time."""

    COUNT = 120

    def setUp(self):
        super().setUp()
        self.scratch = ScratchDatabase(self, self.env.cr.dbname, "conc").make()
        # Only the contact policy runs, on contacts made here: the demo data of
        # the copy stays out of the count.
        self.scratch.shell(
            """
            policies = env["avg.retention.policy"].search([])
            policies.filtered(lambda p: p.code != "contact").active = False
            env.cr.commit()
            """
        )

    def _make_due(self, label):
        """COUNT clients whose last contact is long past, one that is recent."""
        done = self.scratch.shell(
            f"""
            import json
            Partner = env["res.partner"]
            due = Partner.create([
                {{"name": f"{label} verlopen {{n:03d}}", "is_coaching_client": True,
                  "avg_last_contact": "2015-01-01"}}
                for n in range({self.COUNT})
            ])
            recent = Partner.create({{"name": "{label} recent",
                                      "is_coaching_client": True}})
            refs = env["avg.deletion.log"]._avg_subject_refs(due)
            env.cr.commit()
            last_log = env["avg.deletion.log"].search([], limit=1, order="id desc")
            print("IDS=" + json.dumps({{"due": due.ids, "recent": recent.id,
                                        "refs": list(refs.values()),
                                        "after_log": last_log.id or 0}}))
            """
        )
        line = next(x for x in done.stdout.splitlines() if x.startswith("IDS="))
        return json.loads(line[4:])

    def _finish(self, processes):
        outputs = []
        for process in processes:
            out, err = process.communicate(timeout=600)
            self.assertEqual(process.returncode, 0, f"{out}\n{err}")
            outputs.append(err)
        for err in outputs:
            errors = ERROR_LINE.findall(err)
            self.assertFalse(
                errors or "could not serialize" in err,
                f"{len(errors)} ERROR lines, the first:\n{err[:3000]}",
            )
        return outputs

    def _assert_purged_once(self, ids):
        scratch = self.scratch
        due = ",".join(str(pid) for pid in ids["due"])
        self.assertEqual(
            scratch.sql(f"SELECT count(*) FROM res_partner WHERE id IN ({due})"),
            [["0"]],
        )
        self.assertEqual(
            scratch.sql(f"SELECT count(*) FROM res_partner WHERE id = {ids['recent']}"),
            [["1"]],
        )
        # The deletion log: one entry per person, none twice.
        logged = scratch.sql(
            "SELECT subject_ref FROM avg_deletion_log"
            f" WHERE operation = 'erase' AND id > {ids['after_log']}"
        )
        refs = sorted(row[0] for row in logged)
        self.assertEqual(len(refs), len(set(refs)), "a person was logged twice")
        self.assertLessEqual(set(ids["refs"]), set(refs))
        # The journal names exactly the people the log names.
        with open(scratch.journal(), encoding="utf-8") as handle:
            journal = [json.loads(line)["subject_ref"] for line in handle if line]
        self.assertEqual(len(journal), len(set(journal)), "journalled twice")
        self.assertEqual(set(journal), set(refs))
        return refs

    def test_overlapping_runs(self):
        """The second run's transaction began before the first run committed."""
        ids = self._make_due("Overlap")
        work = self.scratch.workdir
        started, first_done = (os.path.join(work, n) for n in ("started", "done"))
        first = self.scratch.popen(
            WAIT
            + f"""
wait_for({started!r})
env["avg.retention.policy"]._cron_purge()
env.cr.commit()
open({first_done!r}, "w").close()
"""
        )
        second = self.scratch.popen(
            WAIT
            + f"""
# Like a cron worker or a manual run: its transaction has read before the
# purge starts, and it starts purging only once the other run has committed.
env["avg.retention.policy"].search([]).mapped("code")
open({started!r}, "w").close()
wait_for({first_done!r})
env["avg.retention.policy"]._cron_purge()
env.cr.commit()
"""
        )
        self._finish([first, second])
        self._assert_purged_once(ids)

    def test_runs_started_together(self):
        """Two runs released at the same moment, then a third one later."""
        ids = self._make_due("Samen")
        go = os.path.join(self.scratch.workdir, "go")
        script = (
            WAIT
            + f"""
env["res.partner"].search_count([])
wait_for({go!r})
env["avg.retention.policy"]._cron_purge()
env.cr.commit()
"""
        )
        processes = [self.scratch.popen(script), self.scratch.popen(script)]
        open(go, "w").close()
        self._finish(processes)
        refs = self._assert_purged_once(ids)
        # A later run finds nothing left to do.
        self._finish([self.scratch.popen("env['avg.retention.policy']._cron_purge()")])
        self.assertEqual(self._assert_purged_once(ids), refs)

    def test_failed_run_releases_the_lock(self):
        """A run that fails outright raises its own error and leaves the lock free
        (a lock left with a pooled connection would make every later run skip)."""
        done = self.scratch.shell(
            """
            import datetime
            Partner = type(env["res.partner"])

            def broken(self, policy, today, limit=None):
                self.env.cr.execute("SELECT 1 / 0")  # the database refuses

            Partner._avg_due_contact = broken
            policy = env.ref("avg_coaching.retention_policy_contact")
            try:
                policy._avg_run(datetime.date.today())
            except Exception as exc:
                print("RAISED=" + type(exc).__name__)
            env.cr.rollback()
            env.cr.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                " AND classid = 4242 AND pid = pg_backend_pid()"
            )
            print("HELD=%s" % env.cr.fetchone()[0])
            """
        )
        self.assertIn("RAISED=DivisionByZero", done.stdout, done.stderr)
        self.assertIn("HELD=0", done.stdout, done.stderr)
