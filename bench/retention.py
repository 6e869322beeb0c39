# Issue 4 benchmarks, run with: bench/run retention.py (inside odoo-bin shell: `env`).
#   AVG_BENCH_MODE=sweep AVG_BENCH_CLIENTS=10000  (default): sweep of N expired clients
#       with 10 sessions each by the daily purge cron, then the same records removed by
#       Odoo's data_recycle (rules on coaching.dossier and res.partner), then bare
#       SQL DELETE (the floor), in one run; AVG_BENCH_ROUNDS rounds (default 2),
#       the best of each compared.
#       Peak memory: growth of the process's maximum RSS during our sweep (run it once
#       with 1000 and once with 10000 clients, each in a fresh process).
#   AVG_BENCH_MODE=idle AVG_BENCH_CLIENTS=100000: daily run when none is due.
# Data is inserted with SQL (fast); the measured parts run through the ORM as in
# production (commits per batch included). Bench rows are removed at the end.
import os
import resource
import time
import tracemalloc

from odoo import fields

from odoo.addons.avg_coaching.services.erasure import erasure_env

N = int(os.environ.get("AVG_BENCH_CLIENTS", "10000"))
MODE = os.environ.get("AVG_BENCH_MODE", "sweep")
SESSIONS = 10
cr = env.cr  # noqa: F821 - provided by odoo-bin shell
coach_id = env.ref("base.user_admin").id  # noqa: F821
company_id = env.company.id  # noqa: F821


def maxrss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_clients(prefix, count, date_end, due):
    """Insert ``count`` clients, each with one closed dossier and 10 sessions."""
    cr.execute(
        """
        INSERT INTO res_partner (name, is_coaching_client, active, type,
                                 autopost_bills, avg_last_contact_stored,
                                 avg_relation_end,
                                 create_date, write_date)
        SELECT %s || g, true, true, 'contact', 'ask', %s, %s, now(), now()
          FROM generate_series(1, %s) g
        RETURNING id
        """,
        [prefix, date_end, date_end, count],
    )
    ids = [row[0] for row in cr.fetchall()]
    cr.execute(
        "UPDATE res_partner SET commercial_partner_id = id WHERE id = ANY(%s)", [ids]
    )
    cr.execute(
        """
        INSERT INTO coaching_dossier (name, company_id, client_id, coach_id, state,
                                      date_start, date_end, retention_due_date,
                                      create_date, write_date)
        SELECT %s || p, %s, p, %s, 'closed', %s::date - 365, %s, %s, now(), now()
          FROM unnest(%s::int[]) p
        RETURNING id, client_id
        """,
        [prefix, company_id, coach_id, date_end, date_end, due, ids],
    )
    dossiers = cr.fetchall()
    cr.execute(
        """
        INSERT INTO coaching_session (dossier_id, client_id, coach_id, company_id, date,
                                      duration, notes_enc, create_date, write_date)
        SELECT d.id, d.client_id, %s, %s, %s::date - s * 7, 1.0,
               'avg1:' || md5(random()::text) || md5(random()::text), now(), now()
          FROM unnest(%s::int[], %s::int[]) AS d(id, client_id),
               generate_series(1, %s) s
        """,
        [
            coach_id,
            company_id,
            date_end,
            [d[0] for d in dossiers],
            [d[1] for d in dossiers],
            SESSIONS,
        ],
    )
    cr.commit()
    env.invalidate_all()  # noqa: F821
    return ids


def remaining(ids):
    cr.execute("SELECT count(*) FROM res_partner WHERE id = ANY(%s)", [ids])
    partners = cr.fetchone()[0]
    cr.execute("SELECT count(*) FROM coaching_session WHERE client_id = ANY(%s)", [ids])
    return partners, cr.fetchone()[0]


def cleanup(prefix):
    cr.execute(
        "DELETE FROM coaching_session WHERE dossier_id IN "
        "(SELECT id FROM coaching_dossier WHERE name LIKE %s)",
        [prefix + "%"],
    )
    cr.execute("DELETE FROM coaching_dossier WHERE name LIKE %s", [prefix + "%"])
    cr.execute(
        "DELETE FROM avg_data_key WHERE partner_id IN "
        "(SELECT id FROM res_partner WHERE name LIKE %s)",
        [prefix + "%"],
    )
    cr.execute("DELETE FROM res_partner WHERE name LIKE %s", [prefix + "%"])
    cr.commit()


Policy = env["avg.retention.policy"]  # noqa: F821
today = fields.Date.context_today(Policy)

if MODE == "idle":
    cleanup("BenchIdle")
    ids = make_clients("BenchIdle", N, "2026-01-01", "2033-01-01")  # none due
    Policy._cron_purge()  # warm-up (caches, plans)
    timings = []
    for _round in range(5):
        start = time.perf_counter()
        Policy._cron_purge()
        timings.append(time.perf_counter() - start)
    assert remaining(ids) == (N, N * SESSIONS)
    print(
        f"idle daily run, {N} clients none due: best {min(timings):.3f} s, "
        f"median {sorted(timings)[2]:.3f} s (goal: under 1 s)"
    )
    cleanup("BenchIdle")
else:

    def sweep_ours(traced=False):
        """Our daily engine on N expired clients: (seconds, RSS growth in MB)."""
        ours = make_clients("BenchAvg", N, "2010-01-01", "2017-01-01")
        rss_before = maxrss_mb()
        if traced:  # Python heap peak; slows the run, so timings are not comparable
            tracemalloc.start()
        start = time.perf_counter()
        # As the scheduler does: called again at once while the run reports work
        # left (each call purges at most BATCHES_PER_CALL batches).
        for _call in range(100):
            Policy._cron_purge()
            if remaining(ours) == (0, 0):
                break
        seconds = time.perf_counter() - start
        rss_growth = maxrss_mb() - rss_before
        if traced:
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            print(f"python heap peak during the sweep of {N} clients: {peak:.1f} MB")
        assert remaining(ours) == (0, 0), remaining(ours)
        return seconds, rss_growth

    def sweep_data_recycle():
        """Odoo's data_recycle on the same rows: (seconds, rows left behind)."""
        theirs = make_clients("BenchDR", N, "2010-01-01", "2017-01-01")
        Recycle = env["data_recycle.model"]  # noqa: F821
        rules = Recycle.create(
            [
                {
                    "name": "Bench dossiers",
                    "res_model_id": env["ir.model"]._get_id("coaching.dossier"),  # noqa: F821
                    "domain": "[('name', 'like', 'BenchDR')]",
                    "recycle_mode": "automatic",
                    "recycle_action": "unlink",
                    "time_field_id": False,
                },
                {
                    "name": "Bench partners",
                    "res_model_id": env["ir.model"]._get_id("res.partner"),  # noqa: F821
                    "domain": "[('name', 'like', 'BenchDR')]",
                    "recycle_mode": "automatic",
                    "recycle_action": "unlink",
                    "time_field_id": False,
                },
            ]
        )
        cr.commit()
        start = time.perf_counter()
        # Odoo's generic deletion, let through the addon's delete guards (only the
        # erasure path passes them): the yardstick measures deleting, not refusing.
        rules.with_env(erasure_env(env))._recycle_records(batch_commits=True)  # noqa: F821
        seconds = time.perf_counter() - start
        left = remaining(theirs)
        rules.unlink()
        cr.commit()
        cleanup("BenchDR")
        return seconds, left

    def sweep_floor():
        """The floor: the same rows removed by bare SQL, no ORM, no log, no checks."""
        floor = make_clients("BenchSQL", N, "2010-01-01", "2017-01-01")
        start = time.perf_counter()
        cr.execute("DELETE FROM coaching_session WHERE client_id = ANY(%s)", [floor])
        cr.execute("DELETE FROM coaching_dossier WHERE client_id = ANY(%s)", [floor])
        cr.execute("DELETE FROM avg_data_key WHERE partner_id = ANY(%s)", [floor])
        cr.execute("DELETE FROM res_partner WHERE id = ANY(%s)", [floor])
        cr.commit()
        seconds = time.perf_counter() - start
        cleanup("BenchSQL")
        return seconds

    # On a shared machine one round's figures swing with the load: each round
    # times all three on fresh rows, one after the other, and the best of each
    # is compared (AVG_BENCH_ROUNDS, default 2).
    ROUNDS = int(os.environ.get("AVG_BENCH_ROUNDS", "2"))
    cleanup("BenchAvg")
    cleanup("BenchDR")
    cleanup("BenchSQL")
    rounds = []
    for number in range(ROUNDS):
        t_ours, growth = sweep_ours(
            traced=number == 0 and os.environ.get("AVG_BENCH_TRACEMALLOC") == "1"
        )
        if number == 0:
            rss_growth = growth  # the first sweep of this process
        t_theirs, left = sweep_data_recycle()
        t_floor = sweep_floor()
        rounds.append((t_ours, t_theirs, t_floor))
        print(
            f"  round {number + 1}: avg_coaching {t_ours:.1f} s, data_recycle "
            f"{t_theirs:.1f} s, bare SQL {t_floor:.2f} s, data_recycle left {left}"
        )
    t_ours = min(r[0] for r in rounds)
    t_theirs = min(r[1] for r in rounds)
    t_floor = min(r[2] for r in rounds)
    print(f"sweep of {N} expired clients x {SESSIONS} sessions (best of {ROUNDS}):")
    print(
        f"  avg_coaching erasure: {t_ours:.1f} s ({N / t_ours:.0f} clients/s), "
        f"max RSS growth {rss_growth:.0f} MB (first sweep)"
    )
    print(f"  data_recycle unlink:  {t_theirs:.1f} s ({N / t_theirs:.0f} clients/s)")
    print(f"  bare SQL DELETE:      {t_floor:.2f} s (the floor)")
    print(f"  ratio data_recycle / avg_coaching: {t_theirs / t_ours:.2f}x (goal: > 1)")
    print(f"  ratio avg_coaching / bare SQL:     {t_ours / t_floor:.1f}x")
