"""Soak run: several waitress processes on one PostgreSQL database, under a steady mixed load.

Not run in CI. It wipes the PostgreSQL database named by HYPERAPI_BENCH_DATABASE_URL (drops its
`public` schema), migrates it with Alembic, makes one organization admin with a token, one project and
some parties, then starts `--processes` waitress servers (each `--server-threads` threads) on free
ports of 127.0.0.1. `--clients` client threads (persistent HTTP/1.1 connections, spread over the
servers) then mix, for `--warm-up` and then `--seconds` more, without a pause between the two:

    GET a page of the project's parties (sometimes filtered, searched or ordered)   30%
    GET the flat list of projects                                                    10%
    GET one party                                                                    25%
    GET one party, then PATCH it with If-Match (its ETag)                            25%
    POST a new party (it joins the pool of parties the others read and write)        10%

and then stop by themselves (servers are stopped too, whatever happens). It prints requests per
second, the count of every status per operation (no 5xx is expected, nor any connection error; 409
and 412 are the expected refusals of concurrent writes), the writes lost (for each party: its final
`version` against 1 + the PATCHes the server accepted for it — a lost update shows as a difference),
all of these counting the warm-up too. For memory it prints each server process's resident memory
(VmRSS from /proc/<pid>/status) when ready, after the warm-up, every `--sample-every` seconds and at
the end, the growth in each half of the measured run, and the growth from after the warm-up to the
end against the target (under 10%), with the growth since ready beside it. Server logs go to a file
whose path is printed. The exit status is 1 when there was a 5xx, a connection error, a lost write,
a server that died or grew 10% or more after the warm-up.

Why a warm-up of 60 s of the same load: memory is read after it because a fresh server has not yet
made what it keeps for good, at sizes fixed by its configuration, not by the time it runs — a
connection per waitress thread in the pool (8), a first request on every thread, each statement the
mix uses compiled once into SQLAlchemy's cache (14 of its 500 places), pymalloc's and glibc's
arenas grown to the peak of 8 requests at once. Measured with `--diagnose` (issue 6): all of that
is in place within the first ~10 s (~1,100 requests), and VmRSS rose ~6 MiB in those 10 s and
~8.5 MiB by 60 s, then ~2 MiB in the next 3 minutes. The warm-up this replaced (40 GETs per server
from one connection) touched one thread, one connection and none of the write paths, so a 10-minute
run counted that fixed cost as growth (+14%). Growth after the warm-up is what would go on: the
target is unchanged, and the raw numbers are all printed. One part of the old growth did go on, and
is fixed: Pyramid's `quote_path_segment` kept every URL segment it had quoted, so each server kept
the id of every party whose URL it wrote, ~1.5 MiB per 10,000 (hyperapi/traversal/urls.py, and
tests/functional/test_memory.py, which finds such process-wide containers by name).

`--diagnose DIR` (slow: tracemalloc makes the servers ~5x slower, and its own memory counts in VmRSS,
so the growth target is not checked): each server traces its allocations and writes, into DIR, a
line of samples every `--sample-every` s (VmRSS, traced bytes, SQLAlchemy's compiled-cache size and
hits, the pool, the threads) and a tracemalloc snapshot after the warm-up, at each quarter of the run
and at the end; once the servers have stopped, the soak run compares them (top growth by line and by
traceback, `server-PORT.growth.txt`) and prints a summary.

    createdb -h 127.0.0.1 -U postgres hyperapi_soak
    HYPERAPI_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/hyperapi_soak \\
        .venv/bin/python bench/soak.py [--seconds 600] [--warm-up 60] [--processes 2] [--server-threads 8] \\
        [--clients 32] [--sample-every 10] [--diagnose DIR]
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from urllib.parse import quote

import sqlalchemy as sa

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
URL_ENV = "HYPERAPI_BENCH_DATABASE_URL"
API = "/api/v1"
PROJECT = f"{API}/organizations/soak/projects/field/"
PARTIES = f"{PROJECT}parties/"
NAMES = ["Amina", "Barnabas", "Chen", "Dina", "Emeka", "Farah", "Grace", "Hassan", "Ivy", "Juma"]


def app_settings(url: str, pool_size: int) -> dict:
    return {
        "sqlalchemy.url": url,
        "sqlalchemy.pool_size": str(pool_size),
        "sqlalchemy.max_overflow": "4",
        "sqlalchemy.pool_pre_ping": "true",
        "hyperapi.auto_migrate": "false",
        "hyperapi.migrations": os.path.join(ROOT, "alembic"),
    }


# --- the server processes ------------------------------------------------------------------------------


def serve(port: int, threads: int, diagnose: str | None = None, sample_every: float = 10) -> None:
    """`soak.py --serve PORT`: one waitress process (run by the soak run itself)."""
    import waitress

    from hyperapi import main

    logging.basicConfig(level=logging.WARNING, format=f"%(asctime)s [{port}] %(levelname)s %(name)s %(message)s")
    url = os.environ[URL_ENV]
    os.environ.pop("HYPERAPI_DATABASE_URL", None)
    if diagnose:
        import tracemalloc

        tracemalloc.start(TRACE_FRAMES)
    app = main({}, **app_settings(url, threads + 2))
    if diagnose:
        Diagnostics(app.registry["db.engine"], os.path.join(diagnose, f"server-{port}"), sample_every).start()
    waitress.serve(app, host="127.0.0.1", port=port, threads=threads, connection_limit=1000, ident="soak")


# --- the opt-in diagnostics of a server process (--diagnose DIR) ---------------------------------------

TRACE_FRAMES = 8
TOP_N = 30


class Diagnostics:
    """What a server process's memory is made of, over time, written under `prefix`:

    - `prefix.samples.jsonl`: every `sample_every` s one JSON line: seconds since start, VmRSS,
      the bytes tracemalloc traces (Python's own allocations), the entries of SQLAlchemy's compiled
      statement cache and its hits/misses since the last line, the connection pool's connections,
      the threads;
    - on SIGUSR1 (the soak run sends one after warm-up, one at each quarter of the run and one at
      the end): a tracemalloc snapshot, `prefix.snapshot-N.tracemalloc`.
    """

    def __init__(self, engine, prefix: str, sample_every: float):
        self.engine = engine
        self.prefix = prefix
        self.sample_every = sample_every
        self.began = time.monotonic()
        self.cache_hits: Counter = Counter()
        self.taken = 0
        self.lock = threading.Lock()
        self.snapshot_lock = threading.Lock()

    def start(self) -> None:
        from sqlalchemy import event

        @event.listens_for(self.engine, "before_cursor_execute")
        def count(connection, cursor, statement, parameters, context, executemany):
            if context is not None:
                with self.lock:
                    self.cache_hits[str(getattr(context, "cache_hit", None))] += 1

        signal.signal(signal.SIGUSR1, lambda *_: threading.Thread(target=self.snapshot, daemon=True).start())
        threading.Thread(target=self.sample_loop, daemon=True, name="soak-diagnostics").start()

    def sample_loop(self) -> None:
        import tracemalloc

        with open(f"{self.prefix}.samples.jsonl", "w") as out:
            while True:
                with self.lock:
                    hits, self.cache_hits = self.cache_hits, Counter()
                pool = self.engine.pool
                line = {
                    "t": round(time.monotonic() - self.began, 1),
                    "at": time.strftime("%H:%M:%S"),
                    "rss_kib": rss_kib(os.getpid()),
                    "traced_kib": tracemalloc.get_traced_memory()[0] // 1024,
                    "compiled_cache": len(self.engine._compiled_cache or ()),
                    "statements": dict(hits),
                    "pool": {"size": pool.size(), "checked_in": pool.checkedin(), "overflow": pool.overflow()},
                    "threads": threading.active_count(),
                }
                out.write(json.dumps(line) + "\n")
                out.flush()
                time.sleep(self.sample_every)

    def snapshot(self) -> None:
        """Dump a snapshot to `prefix.snapshot-N.tracemalloc`; the soak run compares them once the
        servers have stopped, so that the comparing neither slows the run nor shows in its memory."""
        import tracemalloc

        with self.snapshot_lock:
            path = f"{self.prefix}.snapshot-{self.taken}.tracemalloc"
            self.taken += 1
            tracemalloc.take_snapshot().dump(path + ".part")
            os.replace(path + ".part", path)


def compare_snapshots(directory: str, port: int) -> list[str]:
    """Write `server-PORT.growth.txt` (growth of traced memory from each snapshot to the next and from
    the first to the last, top `TOP_N` by file and line and by traceback), and answer a summary."""
    import tracemalloc

    prefix = os.path.join(directory, f"server-{port}")
    paths = sorted((p for p in os.listdir(directory) if p.startswith(f"server-{port}.snapshot-")
                    and p.endswith(".tracemalloc")), key=lambda p: int(p.split("-")[-1].split(".")[0]))
    ignore = [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, "<frozen importlib.*>"),
              tracemalloc.Filter(False, "<unknown>")]
    snapshots = [tracemalloc.Snapshot.load(os.path.join(directory, p)).filter_traces(ignore) for p in paths]
    summary = []
    if len(snapshots) < 2:
        return [f"server {port}: {len(snapshots)} snapshot(s), nothing to compare"]
    totals = [sum(trace.size for trace in snapshot.traces) for snapshot in snapshots]
    summary.append(f"server {port}: traced MiB at each snapshot " + ", ".join(f"{t / 2**20:.1f}" for t in totals))
    pairs = [(n, n + 1) for n in range(len(snapshots) - 1)] + [(0, len(snapshots) - 1)]
    with open(f"{prefix}.growth.txt", "w") as out:
        for a, b in pairs:
            out.write(f"===== snapshot {a} -> {b}: {(totals[b] - totals[a]) / 1024:+.1f} KiB traced\n")
            for key in ("lineno", "traceback"):
                out.write(f"--- top {TOP_N} by {key}\n")
                for stat in snapshots[b].compare_to(snapshots[a], key)[:TOP_N]:
                    out.write(f"{stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d} blocks (now "
                              f"{stat.size / 1024:.1f} KiB)  ")
                    frames = stat.traceback.format(most_recent_first=True)
                    out.write(("\n    ".join([""] + frames) if key == "traceback" else frames[0].strip()) + "\n")
            out.write("\n")
    first_last = snapshots[-1].compare_to(snapshots[0], "lineno")[:5]
    summary += [f"    {stat.size_diff / 1024:+8.1f} KiB {stat.traceback.format()[0].strip()}" for stat in first_last]
    summary.append(f"    (all of it in {prefix}.growth.txt)")
    return summary


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def wait_ready(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {process.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", f"{API}/")
            if connection.getresponse().status == 200:
                connection.close()
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server on port {port} not ready after {timeout} s")


# --- the database --------------------------------------------------------------------------------------


def prepare_database(url: str, parties: int) -> str:
    """Wipe, migrate, and fill the database; returns the API key."""
    from hyperapi.auth.passwords import hash_password
    from hyperapi.db import make_engine
    from hyperapi.db.migrations import upgrade
    from hyperapi.models import Organization, OrganizationMember, Party, Project, User
    from hyperapi.services.users import new_token

    settings = app_settings(url, 2)
    engine = make_engine(settings)
    if engine.dialect.name != "postgresql":
        raise SystemExit(f"{URL_ENV} must name a PostgreSQL database")
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    upgrade(settings, engine)
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        user = User(username="soak", full_name="Soak", password_hash=hash_password("soak-password-123"))
        org = Organization(slug="soak", name="Soak", access="private")
        session.add_all([user, org])
        session.flush()
        session.add(OrganizationMember(organization_id=org.id, user_id=user.id, role="admin"))
        project = Project(organization_id=org.id, slug="field", name="Field", country="UG")
        session.add(project)
        session.flush()
        session.add_all(Party(project_id=project.id, name=f"{NAMES[n % 10]} {n:05d}", type="IN")
                        for n in range(parties))
        _, key = new_token(session, user, name="soak")
        session.commit()
    engine.dispose()
    return key


def final_versions(url: str) -> dict[str, int]:
    from hyperapi.db import make_engine
    from hyperapi.models import Party

    engine = make_engine(app_settings(url, 1))
    with engine.connect() as connection:
        versions = dict(connection.execute(sa.select(Party.id, Party.version)).all())
    engine.dispose()
    return versions


def initial_parties(url: str) -> list[str]:
    return list(final_versions(url))


# --- the clients ---------------------------------------------------------------------------------------


class Stats:
    def __init__(self, parties: list[str]):
        self.lock = threading.Lock()
        self.statuses: dict[str, Counter] = defaultdict(Counter)
        self.accepted: Counter = Counter()  # party id -> PATCHes answered 200
        self.parties = list(parties)  # ids every client may read and write
        self.errors: list[str] = []
        self.server_errors: list[str] = []
        self.requests = 0

    def record(self, operation: str, status: int, body: bytes, path: str) -> None:
        with self.lock:
            self.requests += 1
            self.statuses[operation][status] += 1
            if status >= 500 and len(self.server_errors) < 20:
                self.server_errors.append(f"{operation} {path} -> {status} {body[:200]!r}")

    def party(self) -> str:
        with self.lock:
            return random.choice(self.parties)


class Client:
    """One thread's persistent connection to one server."""

    def __init__(self, port: int, key: str):
        self.port = port
        self.headers = {"Authorization": f"Token {key}"}
        self.connection = None

    def request(self, method: str, path: str, body: dict | None = None, headers: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        all_headers = {**self.headers, **(headers or {})}
        if data is not None:
            all_headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.connection.request(method, path, body=data, headers=all_headers)
                response = self.connection.getresponse()
                payload = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.close()
                return response.status, response, payload
            except (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine):
                # A keep-alive connection the server closed between requests: once more, on a new one.
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def client_loop(client: Client, stats: Stats, deadline: float, serial: list) -> None:
    while time.monotonic() < deadline:
        roll = random.random()
        try:
            if roll < 0.30:
                query = random.choice(["", "?search=amina", "?ordering=-name&limit=50", "?type=IN&offset=20",
                                       f"?name__istartswith={quote(random.choice(NAMES))}"])
                status, _, body = client.request("GET", PARTIES + query)
                stats.record("GET parties", status, body, PARTIES + query)
            elif roll < 0.40:
                status, _, body = client.request("GET", f"{API}/projects/")
                stats.record("GET projects", status, body, f"{API}/projects/")
            elif roll < 0.65:
                path = f"{PARTIES}{stats.party()}/"
                status, _, body = client.request("GET", path)
                stats.record("GET party", status, body, path)
            elif roll < 0.90:
                party = stats.party()
                path = f"{PARTIES}{party}/"
                status, response, body = client.request("GET", path)
                stats.record("GET party", status, body, path)
                if status != 200:
                    continue
                with stats.lock:
                    serial[0] += 1
                    n = serial[0]
                status, _, body = client.request("PATCH", path, {"name": f"Patched {n:07d}"},
                                                 {"If-Match": response.getheader("ETag")})
                stats.record("PATCH party (If-Match)", status, body, path)
                if status == 200:
                    with stats.lock:
                        stats.accepted[party] += 1
            else:
                with stats.lock:
                    serial[0] += 1
                    n = serial[0]
                status, _, body = client.request("POST", PARTIES, {"name": f"Posted {n:07d}", "type": "GR"})
                stats.record("POST party", status, body, PARTIES)
                if status == 201:
                    with stats.lock:
                        stats.parties.append(json.loads(body)["id"])
        except Exception as exc:  # a connection error or a bad answer: counted, and the run goes on
            with stats.lock:
                stats.errors.append(f"{type(exc).__name__}: {exc}")
            client.close()
            time.sleep(0.1)
    client.close()


# --- the run -------------------------------------------------------------------------------------------


def request_snapshots(servers, directory: str, taken: int, wait: bool = False, timeout: float = 300) -> int:
    """Ask every server for a tracemalloc snapshot (SIGUSR1), and with `wait` wait until each has
    written it; answers the count of snapshots asked for."""
    for _, process in servers:
        if process.poll() is None:
            process.send_signal(signal.SIGUSR1)
    if wait:
        deadline = time.monotonic() + timeout
        for port, process in servers:
            path = os.path.join(directory, f"server-{port}.snapshot-{taken}.tracemalloc")
            while not os.path.exists(path) and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.2)
    return taken + 1


def print_rss_series(before: dict[int, int], warm: dict[int, int], samples, warm_up: float) -> None:
    """Every sample of every server's VmRSS, and the growth in each half of the measured run, so a
    plateau shows apart from a steady slope."""
    print(f"VmRSS (MiB) of each server, sampled from the start of the load (warm-up until {warm_up:.0f} s):")
    print("        s requests  " + "  ".join(f"{pid:>7}" for pid in before))
    print("    ready        0  " + "  ".join(f"{before[pid] / 1024:7.1f}" for pid in before))
    for t, requests, rss in samples:
        print(f"  {t:7.0f} {requests:8}  " + "  ".join(f"{rss[pid] / 1024:7.1f}" if pid in rss else "      -"
                                                      for pid in before))
    measured = [sample for sample in samples if sample[0] >= warm_up]
    if warm and len(measured) >= 3:
        half = (measured[0][0] + measured[-1][0]) / 2
        middle = min(measured, key=lambda sample: abs(sample[0] - half))
        for pid in warm:
            if pid in measured[-1][2] and pid in middle[2]:
                first = middle[2][pid] - warm[pid]
                second = measured[-1][2][pid] - middle[2][pid]
                print(f"  server {pid}: {first / 1024:+.1f} MiB in the first half of the measured run, "
                      f"{second / 1024:+.1f} MiB in the second (from {middle[0]:.0f} s)")


def run(args) -> int:
    url = os.environ.get(URL_ENV)
    if not url:
        raise SystemExit(f"set {URL_ENV} to a PostgreSQL database (it will be wiped)")
    print(f"preparing {url.split('@')[-1]} (wiped, migrated, {args.parties} parties)")
    key = prepare_database(url, args.parties)
    stats = Stats(initial_parties(url))

    log_dir = tempfile.mkdtemp(prefix="hyperapi-soak-")
    log_path = os.path.join(log_dir, "servers.log")
    log = open(log_path, "w")
    servers: list[tuple[int, subprocess.Popen]] = []
    env = {**os.environ, URL_ENV: url}
    env.pop("HYPERAPI_DATABASE_URL", None)
    try:
        for _ in range(args.processes):
            port = free_port()
            diagnose = ["--diagnose", args.diagnose, "--sample-every", str(args.sample_every)] if args.diagnose else []
            process = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--serve", str(port),
                                        "--server-threads", str(args.server_threads), *diagnose],
                                       env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
            servers.append((port, process))
        for port, process in servers:
            wait_ready(port, process, timeout=300 if args.diagnose else 60)
        rss_before = {process.pid: rss_kib(process.pid) for _, process in servers}

        print(f"{args.processes} servers x {args.server_threads} threads on ports "
              f"{', '.join(str(p) for p, _ in servers)}; {args.clients} clients from {time.strftime('%H:%M:%S')}: "
              f"{args.warm_up:.0f} s of warm-up, then {args.seconds:.0f} s measured")
        serial = [0]
        began = time.monotonic()
        warm_until = began + args.warm_up
        deadline = warm_until + args.seconds
        threads = [threading.Thread(target=client_loop, args=(Client(servers[n % len(servers)][0], key), stats,
                                                              deadline, serial), daemon=True)
                   for n in range(args.clients)]
        for thread in threads:
            thread.start()
        rss_start: dict[int, int] = {}
        warm_requests = 0
        snapshots = 0
        next_report = began + 30
        next_sample = began
        next_snapshot = warm_until
        samples: list[tuple[float, int, dict[int, int]]] = []  # (s since start, requests, pid -> VmRSS KiB)
        while any(thread.is_alive() for thread in threads):
            time.sleep(0.5)
            now = time.monotonic()
            if not rss_start and now >= warm_until:
                # The measured run begins: the load goes on without a pause.
                rss_start = {p.pid: rss_kib(p.pid) for _, p in servers if p.poll() is None}
                warm_requests = stats.requests
                samples.append((now - began, stats.requests, rss_start))
                print(f"  {now - began:6.0f} s: warm-up done after {warm_requests} requests; VmRSS MiB "
                      + " ".join(f"{kib / 1024:.1f}" for kib in rss_start.values()))
            if now >= next_sample and now < deadline and now - began - samples[-1][0] >= 1 if samples else True:
                samples.append((now - began, stats.requests,
                                {p.pid: rss_kib(p.pid) for _, p in servers if p.poll() is None}))
                next_sample += args.sample_every
            if args.diagnose and now >= next_snapshot and now < deadline - 1:
                snapshots = request_snapshots(servers, args.diagnose, snapshots)
                next_snapshot += args.seconds / 4
            if now >= next_report:
                print(f"  {now - began:6.0f} s: {stats.requests} requests, {len(stats.errors)} errors; VmRSS MiB "
                      + " ".join(f"{rss_kib(p.pid) / 1024:.1f}" for _, p in servers if p.poll() is None))
                next_report += 30
            if now > deadline + 120:
                print("clients still running 120 s after the deadline; stopping anyway")
                break
        ended = time.monotonic()
        elapsed = ended - began
        measured = ended - warm_until
        rss_end = {process.pid: rss_kib(process.pid) for _, process in servers if process.poll() is None}
        samples.append((elapsed, stats.requests, rss_end))
        if args.diagnose:
            print("waiting for the servers' last tracemalloc snapshots")
            request_snapshots(servers, args.diagnose, snapshots, wait=True)
        dead = [(port, process.returncode) for port, process in servers if process.poll() is not None]
    finally:
        for _, process in servers:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for _, process in servers:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()

    versions = final_versions(url)
    lost = {party: 1 + stats.accepted[party] - versions.get(party, 0) for party in stats.parties
            if 1 + stats.accepted[party] != versions.get(party, 0)}
    total = stats.requests
    server_errors = sum(n for counts in stats.statuses.values() for status, n in counts.items() if status >= 500)

    print(f"\n{total} requests in {elapsed:.1f} s ({warm_requests} in {args.warm_up:.0f} s of warm-up): "
          f"{(total - warm_requests) / max(measured, 1e-9):.1f} requests/s measured; statuses, errors and writes "
          f"below count the warm-up too")
    print(f"{'operation':26} " + " ".join(f"{s:>7}" for s in sorted({s for c in stats.statuses.values() for s in c})))
    every = sorted({s for c in stats.statuses.values() for s in c})
    for operation, counts in sorted(stats.statuses.items()):
        print(f"{operation:26} " + " ".join(f"{counts.get(s, 0):7}" for s in every))
    print(f"5xx: {server_errors} (expected 0)")
    for line in stats.server_errors[:10]:
        print(f"  {line}")
    print(f"connection errors: {len(stats.errors)} (expected 0)")
    for line in stats.errors[:10]:
        print(f"  {line}")
    accepted = sum(stats.accepted.values())
    print(f"PATCHes accepted: {accepted} on {len(stats.accepted)} parties; parties: {len(stats.parties)}; "
          f"lost writes: {sum(v for v in lost.values() if v > 0)} (expected 0)")
    for party in list(lost)[:10]:
        print(f"  party {party}: {stats.accepted[party]} accepted PATCHes, version {versions.get(party)} "
              f"(expected {1 + stats.accepted[party]})")
    print_rss_series(rss_before, rss_start, samples, warm_until - began)
    too_much = []
    for pid, start in rss_start.items():
        if pid in rss_end:
            end, ready = rss_end[pid], rss_before[pid]
            growth = 100 * (end - start) / start
            print(f"server {pid}: VmRSS {ready / 1024:.1f} MiB ready, {start / 1024:.1f} MiB after warm-up, "
                  f"{end / 1024:.1f} MiB at the end: {growth:+.1f}% after warm-up (target under 10%), "
                  f"{100 * (end - ready) / ready:+.1f}% since ready")
            if growth >= 10:
                too_much.append(pid)
    if args.diagnose and too_much:
        print("  (with --diagnose, tracemalloc's own memory counts in VmRSS: the growth target is not checked)")
        too_much = []
    if args.diagnose:
        for port, _ in servers:
            print("\n".join(compare_snapshots(args.diagnose, port)))
    for port, code in dead:
        print(f"server on port {port} died during the run (exit status {code})")
    with open(log_path) as logged:
        problems = [line for line in logged if " ERROR " in line or "Traceback" in line]
    print(f"server log: {log_path} ({len(problems)} ERROR lines)")
    failed = server_errors or stats.errors or lost or dead or too_much
    return 1 if failed else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=600, help="the measured run, after the warm-up")
    parser.add_argument("--warm-up", type=float, default=60, metavar="SECONDS",
                        help="the same load before memory is first read (default 60; see the docstring)")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--server-threads", type=int, default=8)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--parties", type=int, default=200)
    parser.add_argument("--sample-every", type=float, default=10, metavar="SECONDS",
                        help="how often each server's VmRSS is sampled (default 10)")
    parser.add_argument("--diagnose", metavar="DIR",
                        help="each server traces its allocations (tracemalloc, slower) and writes samples and "
                             "snapshot comparisons into DIR")
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve, args.server_threads, args.diagnose, args.sample_every)
        return
    if args.diagnose:
        args.diagnose = os.path.abspath(args.diagnose)
        os.makedirs(args.diagnose, exist_ok=True)
    sys.exit(run(args))


if __name__ == "__main__":
    main()
