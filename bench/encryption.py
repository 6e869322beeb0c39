# Issue 3 benchmark, run with: bench/run encryption.py (inside odoo-bin shell: `env`).
# Writes and reads 1,000 session notes with and without encryption in the same run,
# on the same model and table: "plain" writes/reads the storage column directly, the
# encrypted path goes through the encrypted field (key lookup, AES-GCM, ORM compute).
# Everything is rolled back at the end.
import statistics
import time

N = 1000
ROUNDS = 5
TEXT = "Sessie-aantekening: de cliënt oefende met grenzen aangeven. " * 8  # ~500 chars

# The shell reads as the superuser, which the read gate allows only with a named
# purpose (and logs).
env = env(context=dict(env.context, avg_access_system="benchmark"))  # noqa: F821
Session = env["coaching.session"]
Partner = env["res.partner"]
client = Partner.create(
    {
        "name": "Bench Cliënt",
        "is_coaching_client": True,
        "coaching_birthdate": "1980-01-01",
    }
)
# Nothing goes into a dossier before the client's dossier consent (issue 15).
env["avg.consent"].create(
    {
        "partner_id": client.id,
        "purpose": "dossier",
        "method": "signed_form",
        "text_version": "Bench",
        "date_given": "2026-01-01",
    }
)
dossier = env["coaching.dossier"].create(
    {"client_id": client.id, "coach_id": env.ref("base.user_admin").id}
)
env.flush_all()


def timed(func):
    start = time.perf_counter()
    func()
    env.flush_all()
    return time.perf_counter() - start


def write(field):
    def run():
        Session.create(
            [
                {"dossier_id": dossier.id, "date": "2026-01-01", field: TEXT}
                for _ in range(N)
            ]
        )

    return run


def read(field):
    def run():
        env.invalidate_all()
        env["avg.data.key"]._avg_clear_cache()
        records = Session.search(
            [("dossier_id", "=", dossier.id)], limit=N, order="id desc"
        )
        values = records.mapped(field)
        assert len(values) == N and all(values)

    return run


results = {}
for label, field in (("plain", "notes_enc"), ("encrypted", "notes")):
    writes, reads = [], []
    for _round in range(ROUNDS):
        env.cr.execute("SAVEPOINT bench")
        writes.append(timed(write(field)))
        reads.append(timed(read(field)))
        env.cr.execute("ROLLBACK TO SAVEPOINT bench")
        env.invalidate_all()
    results[label] = (statistics.median(writes), statistics.median(reads))

pw, pr = results["plain"]
ew, er = results["encrypted"]
print(f"encryption bench: {N} notes of {len(TEXT)} chars, median of {ROUNDS} rounds")
print(f"  write: plain {pw:.3f} s, encrypted {ew:.3f} s, ratio {ew / pw:.2f}x")
print(f"  read:  plain {pr:.3f} s, encrypted {er:.3f} s, ratio {er / pr:.2f}x")
print(f"  write+read ratio: {(ew + er) / (pw + pr):.2f}x (goal: at most 1.5x)")

# The key store (issue 14): a new data key writes (and fsyncs) its shard before
# the commit; opening a key reads its shard; a content purge re-keys the client
# (re-encrypts what is kept) and retires the old shard.
Key = env["avg.data.key"]
if hasattr(Key, "_avg_rekey"):
    K = 200
    env.cr.execute("SAVEPOINT bench_keys")
    clients = Partner.create(
        [{"name": f"Bench Sleutel {i}", "is_coaching_client": True} for i in range(K)]
    )
    start = time.perf_counter()
    Key._avg_get_keys(clients, create=True)
    env.flush_all()
    made = time.perf_counter() - start
    Key._avg_clear_cache()
    start = time.perf_counter()
    Key._avg_get_keys(clients)
    opened = time.perf_counter() - start
    Session.create(
        [{"dossier_id": dossier.id, "date": "2026-01-01", "notes": TEXT}] * N
    )
    env.flush_all()
    start = time.perf_counter()
    count = Key._avg_rekey(client)
    env.flush_all()
    rekeyed = time.perf_counter() - start
    env.cr.execute("ROLLBACK TO SAVEPOINT bench_keys")
    print(f"key store: {K} new data keys {made:.3f} s ({made / K * 1000:.2f} ms each,")
    print(f"  shard written and fsynced); {K} keys opened cold {opened:.3f} s")
    print(f"  ({opened / K * 1000:.2f} ms each); re-keying a client with {count}")
    print(f"  encrypted values {rekeyed:.3f} s")
env.cr.rollback()
