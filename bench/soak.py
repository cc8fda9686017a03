"""Soak run: several waitress processes on one PostgreSQL database, under a steady mixed load.

Not run in CI. It wipes the PostgreSQL database named by HYPERAPI_BENCH_DATABASE_URL (drops its
`public` schema), migrates it with Alembic, makes one organization admin with a token, one project and
some parties, then starts `--processes` waitress servers (each `--server-threads` threads) on free
ports of 127.0.0.1. `--clients` client threads (persistent HTTP/1.1 connections, spread over the
servers) then mix, for `--seconds`:

    GET a page of the project's parties (sometimes filtered, searched or ordered)   30%
    GET the flat list of projects                                                    10%
    GET one party                                                                    25%
    GET one party, then PATCH it with If-Match (its ETag)                            25%
    POST a new party (it joins the pool of parties the others read and write)        10%

and then stop by themselves (servers are stopped too, whatever happens). It prints requests per
second, the count of every status per operation (no 5xx is expected, nor any connection error; 409
and 412 are the expected refusals of concurrent writes), the writes lost (for each party: its final
`version` against 1 + the PATCHes the server accepted for it — a lost update shows as a difference),
and each server process's resident memory (VmRSS from /proc/<pid>/status) after warm-up and at the
end, with the growth in %. Server logs go to a file whose path is printed. The exit status is 1 when
there was a 5xx, a connection error or a lost write.

    createdb -h 127.0.0.1 -U postgres hyperapi_soak
    HYPERAPI_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/hyperapi_soak \\
        .venv/bin/python bench/soak.py [--seconds 600] [--processes 2] [--server-threads 8] [--clients 32]
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


def serve(port: int, threads: int) -> None:
    """`soak.py --serve PORT`: one waitress process (run by the soak run itself)."""
    import waitress

    from hyperapi import main

    logging.basicConfig(level=logging.WARNING, format=f"%(asctime)s [{port}] %(levelname)s %(name)s %(message)s")
    url = os.environ[URL_ENV]
    os.environ.pop("HYPERAPI_DATABASE_URL", None)
    app = main({}, **app_settings(url, threads + 2))
    waitress.serve(app, host="127.0.0.1", port=port, threads=threads, connection_limit=1000, ident="soak")


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
    from hyperapi.db import make_engine
    from hyperapi.migrations import upgrade
    from hyperapi.models import Organization, OrganizationMember, Party, Project, User
    from hyperapi.security import hash_password
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
            process = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--serve", str(port),
                                        "--server-threads", str(args.server_threads)],
                                       env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
            servers.append((port, process))
        for port, process in servers:
            wait_ready(port, process)

        # Warm-up: every server answers a few of each request before its memory is first read.
        for port, _ in servers:
            warm = Client(port, key)
            for _ in range(20):
                warm.request("GET", PARTIES)
                warm.request("GET", f"{PARTIES}{stats.party()}/")
            warm.close()
        rss_start = {process.pid: rss_kib(process.pid) for _, process in servers}

        print(f"{args.processes} servers x {args.server_threads} threads on ports "
              f"{', '.join(str(p) for p, _ in servers)}; {args.clients} clients for {args.seconds} s")
        serial = [0]
        began = time.monotonic()
        deadline = began + args.seconds
        threads = [threading.Thread(target=client_loop, args=(Client(servers[n % len(servers)][0], key), stats,
                                                              deadline, serial), daemon=True)
                   for n in range(args.clients)]
        for thread in threads:
            thread.start()
        next_report = began + 30
        while any(thread.is_alive() for thread in threads):
            time.sleep(0.5)
            now = time.monotonic()
            if now >= next_report:
                print(f"  {now - began:6.0f} s: {stats.requests} requests, {len(stats.errors)} errors")
                next_report += 30
            if now > deadline + 120:
                print("clients still running 120 s after the deadline; stopping anyway")
                break
        elapsed = time.monotonic() - began
        rss_end = {process.pid: rss_kib(process.pid) for _, process in servers if process.poll() is None}
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

    print(f"\n{total} requests in {elapsed:.1f} s: {total / elapsed:.1f} requests/s")
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
    for pid, start in rss_start.items():
        if pid in rss_end:
            end = rss_end[pid]
            print(f"server {pid}: VmRSS {start / 1024:.1f} MiB after warm-up, {end / 1024:.1f} MiB at the end "
                  f"({100 * (end - start) / start:+.1f}%)")
    for port, code in dead:
        print(f"server on port {port} died during the run (exit status {code})")
    with open(log_path) as logged:
        problems = [line for line in logged if " ERROR " in line or "Traceback" in line]
    print(f"server log: {log_path} ({len(problems)} ERROR lines)")
    failed = server_errors or stats.errors or lost or dead
    return 1 if failed else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--server-threads", type=int, default=8)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--parties", type=int, default=200)
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve, args.server_threads)
        return
    sys.exit(run(args))


if __name__ == "__main__":
    main()
