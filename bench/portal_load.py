"""Load driver of the portal benchmark (issue 6); bench/portal runs it in the venv.

Each of AVG_BENCH_CLIENTS threads logs in as its own portal user (bench_portal_NN)
through /web/login with the form's CSRF token, in its own requests session. Per
endpoint: a warm-up, a single-session baseline (one client, sequential: the service
time without contention), then AVG_BENCH_ROUNDS rounds in which all sessions fire
their request at the same moment (a barrier) and wait for all answers. Latency is
the time to the last byte of the body; every body is checked (status 200, the
client's own name, 200 sessions and 50 invoices in the JSON, readable notes) so that
error pages are never measured. Repeated AVG_BENCH_REPEATS times; figures printed.
"""

import json
import math
import os
import re
import statistics
import sys
import threading
import time

import psycopg2
import requests

BASE = os.environ.get("AVG_BENCH_URL", "http://127.0.0.1:8079")
CLIENTS = int(os.environ.get("AVG_BENCH_CLIENTS", "20"))
SESSIONS = int(os.environ.get("AVG_BENCH_SESSIONS", "200"))
INVOICES = int(os.environ.get("AVG_BENCH_INVOICES", "50"))
ROUNDS = int(os.environ.get("AVG_BENCH_ROUNDS", "10"))
REPEATS = int(os.environ.get("AVG_BENCH_REPEATS", "3"))
BASELINE = 10
SERVER_PID = int(os.environ.get("AVG_BENCH_SERVER_PID", "0"))
DB = os.environ.get("AVG_BENCH_DB", "avg_coaching_bench_portal")
TICK = os.sysconf("SC_CLK_TCK")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class BenchError(Exception):
    pass


def login(number):
    session = requests.Session()
    page = session.get(f"{BASE}/web/login", timeout=60)
    token = CSRF.search(page.text)
    if page.status_code != 200 or not token:
        raise BenchError(f"no login form at /web/login ({page.status_code})")
    answer = session.post(
        f"{BASE}/web/login",
        data={
            "login": f"bench_portal_{number:02d}",
            "password": f"bench-portal-{number:02d}",
            "csrf_token": token.group(1),
            "redirect": "/my",
        },
        timeout=60,
    )
    if answer.status_code != 200 or "/web/login" in answer.url:
        raise BenchError(f"login of bench_portal_{number:02d} failed")
    session.avg_name = f"Benchcliënt {number:02d} Fictief"
    return session


def check_page(session, response):
    body = response.text
    if response.status_code != 200 or "/web/login" in response.url:
        raise BenchError(f"/my/privacy answered {response.status_code} {response.url}")
    if session.avg_name not in body or f"<td>{SESSIONS}</td>" not in body:
        raise BenchError("/my/privacy does not show the client's own dossier")


def check_json(session, response):
    if response.status_code != 200 or "json" not in response.headers.get(
        "Content-Type", ""
    ):
        raise BenchError(f"export.json answered {response.status_code} {response.url}")
    data = json.loads(response.content)
    sessions = [s for d in data["dossiers"] for s in d["sessions"]]
    if data["contact"]["name"] != session.avg_name:
        raise BenchError("export.json is not the client's own data")
    if len(sessions) != SESSIONS or len(data["invoices"]) != INVOICES:
        raise BenchError(
            f"export.json holds {len(sessions)} sessions and "
            f"{len(data['invoices'])} invoices, not {SESSIONS} and {INVOICES}"
        )
    if not all(s["notes"] and not s["notes"].startswith("[") for s in sessions):
        raise BenchError("export.json holds session notes that were not decrypted")


def check_home(session, response):
    if response.status_code != 200 or "/web/login" in response.url:
        raise BenchError(f"/my answered {response.status_code} {response.url}")
    if session.avg_name not in response.text:
        raise BenchError("/my does not show the client's name")


# /my is Odoo's own portal home (same layout, none of our data): the floor that the
# framework sets on this machine, to read the other two figures against.
ENDPOINTS = (
    ("/my", check_home),
    ("/my/privacy", check_page),
    ("/my/privacy/export.json", check_json),
)


def fetch(session, path, check):
    start = time.perf_counter()
    response = session.get(f"{BASE}{path}", timeout=120)
    _body = response.content  # read to the last byte inside the timing
    elapsed = time.perf_counter() - start
    check(session, response)
    return elapsed, len(_body)


def _cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0, None
    return (int(fields[11]) + int(fields[12])) / TICK, int(fields[1])


def server_cpu():
    """CPU seconds used so far by the Odoo server (master and workers) and the
    PostgreSQL backends of the bench database: the cost of a request, whatever
    else runs on the machine."""
    if not SERVER_PID:
        return 0.0
    total = 0.0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            seconds, parent = _cpu_seconds(entry)
            if int(entry) == SERVER_PID or parent == SERVER_PID:
                total += seconds
    connection = psycopg2.connect(dbname="postgres")
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [DB])
        total += sum(_cpu_seconds(pid)[0] for (pid,) in cursor.fetchall())
    finally:
        connection.close()
    return total


def percentile(values, fraction):
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(len(ordered) * fraction) - 1)]


def summary(latencies, wall, cpu):
    return {
        "cpu": cpu * 1000 / len(latencies),
        "p50": percentile(latencies, 0.50) * 1000,
        "p95": percentile(latencies, 0.95) * 1000,
        "max": max(latencies) * 1000,
        "rps": len(latencies) / wall,
        "n": len(latencies),
    }


def concurrent(sessions, path, check, rounds):
    barrier = threading.Barrier(len(sessions))
    latencies, errors = [], []
    lock = threading.Lock()

    def worker(session):
        for _round in range(rounds):
            try:
                barrier.wait(timeout=300)
                elapsed, _size = fetch(session, path, check)
            except Exception as error:  # noqa: BLE001 - reported, run fails
                errors.append(error)
                barrier.abort()
                return
            with lock:
                latencies.append(elapsed)

    threads = [threading.Thread(target=worker, args=(s,)) for s in sessions]
    cpu = server_cpu()
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    cpu = server_cpu() - cpu
    real = [e for e in errors if not isinstance(e, threading.BrokenBarrierError)]
    if real or errors:
        raise BenchError(f"{path}: {(real or errors)[0]!r}")
    return summary(latencies, wall, cpu)


def load():
    with open("/proc/loadavg") as handle:
        return " ".join(handle.read().split()[:3])


def line(label, figures):
    return (
        f"  {label:<36} p50 {figures['p50']:7.1f} ms  p95 {figures['p95']:7.1f} ms"
        f"  max {figures['max']:7.1f} ms  {figures['rps']:5.1f} req/s"
        f"  server CPU {figures['cpu']:5.1f} ms/req  (n={figures['n']})"
    )


def main():
    print(f"Logging in {CLIENTS} portal sessions at {BASE} ...")
    sessions = [login(number) for number in range(1, CLIENTS + 1)]
    sizes = {}
    for path, check in ENDPOINTS:
        for session in sessions:  # warm-up: every session, every worker
            _elapsed, sizes[path] = fetch(session, path, check)
    print(
        f"Bodies: /my {sizes['/my'] / 1024:.0f} KiB, "
        f"/my/privacy {sizes['/my/privacy'] / 1024:.0f} KiB, "
        f"export.json {sizes['/my/privacy/export.json'] / 1024:.0f} KiB "
        f"({SESSIONS} sessions, {INVOICES} invoices each; all checked)"
    )
    runs = {path: [] for path, _check in ENDPOINTS}
    for repeat in range(1, REPEATS + 1):
        print(f"Repeat {repeat}/{REPEATS} (load average {load()})")
        for path, check in ENDPOINTS:
            cpu, start = server_cpu(), time.perf_counter()
            alone = [fetch(sessions[0], path, check)[0] for _ in range(BASELINE)]
            wall = time.perf_counter() - start
            cpu = server_cpu() - cpu
            print(line(f"{path} 1 session", summary(alone, wall, cpu)))
            figures = concurrent(sessions, path, check, ROUNDS)
            runs[path].append(figures)
            print(line(f"{path} {CLIENTS} concurrent", figures))
    print(
        f"Median of {REPEATS} repeats, {CLIENTS} concurrent sessions, {ROUNDS} rounds:"
    )
    for path, _check in ENDPOINTS:
        medians = {
            key: statistics.median(run[key] for run in runs[path])
            for key in ("p50", "p95", "max", "rps", "cpu", "n")
        }
        print(line(path, medians))
    print(f"Load average after: {load()}")


if __name__ == "__main__":
    try:
        main()
    except BenchError as error:
        print(f"BENCHMARK FAILED: {error}", file=sys.stderr)
        sys.exit(1)
