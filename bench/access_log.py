# Issue 12 benchmark, run with: bench/run access_log.py (inside odoo-bin shell: `env`).
# What the read gate and its access log cost, measured in one run against the same
# operations without them (the yardstick: the gate's two methods replaced by no-ops
# in this process only):
#   * the coach opens a dossier with 50 sessions (web_read with the form's fields
#     and its session list), and
#   * a client downloads her JSON export (200 sessions with encrypted notes), and
#   * the coach opens the same dossier as the web client does: a whole Odoo HTTP
#     request (JSON-RPC web_read through odoo.http.root, with session, routing,
#     serialisation and commit), in this process, without a socket.
# Every operation is one "request": a cold cache, then a commit (as Odoo's HTTP
# layer commits). The seal is made by the cron worker every minute, not in the
# request: its cost is measured apart, per entry.
# The data stays in the benchmark database (log entries cannot be deleted).
import statistics
import time

from lxml import etree

ROUNDS = int(__import__("os").environ.get("AVG_BENCH_ROUNDS", "30"))
TEXT = "Sessie-aantekening: de cliënt oefende met grenzen aangeven. " * 10

env = env(context=dict(env.context, avg_access_system="benchmark"))  # noqa: F821
Gate = type(env["avg.access.gate"])
coach = env["res.users"].search([("login", "=", "bench_log_coach")])
if not coach:
    coach = env["res.users"].create(
        {
            "name": "Bench Coach",
            "login": "bench_log_coach",
            "groups_id": [(6, 0, [env.ref("avg_coaching.group_avg_coach").id])],
        }
    )
    coach.totp_secret = "JBSWY3DPEHPK3PXPJBSWY3DP"
client_user = env["res.users"].search([("login", "=", "bench_log_client")])
if not client_user:
    client_user = env["res.users"].create(
        {
            "name": "Bench Cliënt Log",
            "login": "bench_log_client",
            "groups_id": [(6, 0, [env.ref("base.group_portal").id])],
        }
    )
client = client_user.partner_id
client.write({"is_coaching_client": True, "coaching_birthdate": "1980-01-01"})
# Nothing goes into a dossier before the client's dossier consent (issue 15).
if not env["avg.consent"]._avg_has_consent(client, "dossier"):
    env["avg.consent"].create(
        {
            "partner_id": client.id,
            "purpose": "dossier",
            "method": "signed_form",
            "text_version": "Bench",
            "date_given": "2026-01-01",
        }
    )
Dossier = env["coaching.dossier"]
if Dossier.search_count([("client_id", "=", client.id)]) < 2:
    for count in (50, 200):
        dossier = Dossier.create(
            {"client_id": client.id, "coach_id": coach.id, "help_question": TEXT}
        )
        env["coaching.session"].create(
            [
                {"dossier_id": dossier.id, "date": "2026-01-01", "notes": TEXT}
                for _ in range(count)
            ]
        )
    env.cr.commit()
dossiers = Dossier.search([("client_id", "=", client.id)], order="id")
dossier50 = dossiers.filtered(lambda d: len(d.session_ids) == 50)[:1]

# The form's own fields, and its session list (date, duration).
arch = etree.fromstring(
    Dossier.with_user(coach).get_views([(False, "form")])["views"]["form"]["arch"]
)
names = {
    node.get("name")
    for node in arch.iter("field")
    if not any(parent.tag == "field" for parent in node.iterancestors())
}
spec = {name: {} for name in names if name in Dossier._fields}
spec["session_ids"] = {"fields": {"date": {}, "duration": {}}}


def request(func):
    env.invalidate_all()
    env["avg.data.key"]._avg_clear_cache()
    start = time.perf_counter()
    func()
    env.cr.commit()  # as the HTTP layer does: runs the sealing after commit
    return time.perf_counter() - start


def open_dossier():
    Dossier.with_user(coach).browse(dossier50.id).web_read(spec)


def _http_client():
    """A logged-in coach session for the WSGI application, made as Odoo's own
    HttpCase.authenticate makes one (no password: the coach has a second factor)."""
    import json as _json

    from werkzeug.test import Client

    import odoo.http
    from odoo.service import security

    session = odoo.http.root.session_store.new()
    session.update(odoo.http.get_default_session(), db=env.cr.dbname)
    session.uid = coach.id
    session.login = coach.login
    session.session_token = security.compute_session_token(session, env(user=coach))
    session.context = dict(env(user=coach)["res.users"].context_get())
    session["avg_two_factor"] = True  # as after her two-factor login
    odoo.http.root.session_store.save(session)
    client = Client(odoo.http.root)
    client.set_cookie("session_id", session.sid, domain="localhost")
    body = _json.dumps(
        {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {
                "model": "coaching.dossier",
                "method": "web_read",
                "args": [[dossier50.id]],
                "kwargs": {"specification": spec},
            },
        }
    )

    def call():
        response = client.post(
            "/web/dataset/call_kw/coaching.dossier/web_read",
            data=body,
            content_type="application/json",
        )
        answer = response.get_json()
        assert answer and "result" in answer, (response.status, answer)

    return call


env.cr.commit()
open_dossier_http = _http_client()


def export_json():
    env["avg.subject.data"].with_user(client_user)._avg_collect_json(client)


real = (Gate._avg_authorize, Gate._avg_authorize_subject)


def without_gate(on):
    if on:
        Gate._avg_authorize = lambda self, records, action=None: None
        Gate._avg_authorize_subject = lambda self, partner, action, kind="export": (
            "client"
        )
    else:
        Gate._avg_authorize, Gate._avg_authorize_subject = real


results = {}
for label, func in (
    ("open dossier (50 sessions)", open_dossier),
    ("JSON export (200+50 sessions)", export_json),
    ("open dossier over HTTP (JSON-RPC web_read)", open_dossier_http),
):
    times = {"with": [], "without": []}
    for _round in range(ROUNDS):
        # Alternate, so that drift in the machine's load hits both alike.
        for mode in ("without", "with"):
            without_gate(mode == "without")
            try:
                times[mode].append(request(func))
            finally:
                without_gate(False)
    results[label] = {mode: statistics.median(values) for mode, values in times.items()}

pending = env["avg.access.log"].search_count([("seal", "=", False)])
start = time.perf_counter()
env["avg.access.log"]._avg_seal_pending()
seal_time = time.perf_counter() - start
env.cr.commit()
entries = env["avg.access.log"].search_count([("subject_id", "=", client.id)])
sealed = env["avg.access.log"].search_count(
    [("subject_id", "=", client.id), ("seal", "!=", False)]
)
print(f"access log bench: median of {ROUNDS} requests each, cold cache, with commit")
for label, res in results.items():
    ratio = res["with"] / res["without"]
    print(
        f"  {label}: without gate+log {res['without'] * 1000:.1f} ms, "
        f"with {res['with'] * 1000:.1f} ms, ratio {ratio:.3f}x (goal: at most 1.10x)"
    )
print(
    f"  sealing (cron worker, after the requests): {pending} entries in "
    f"{seal_time * 1000:.1f} ms ({seal_time * 1000 / max(pending, 1):.2f} ms per entry)"
)
print(f"  log entries for the client: {entries}, sealed: {sealed}")
