"""The database server goes away and comes back while the API is under load (PostgreSQL only).

The test starts its own PostgreSQL server in a temporary directory, serves the real WSGI app with
waitress, and lets a few client threads GET and PATCH parties over HTTP for a bounded time. Midway it
stops PostgreSQL (`pg_ctl stop -m fast`) and a few seconds later starts it again; the clients go on
for a few seconds after that, however long the stop and the start took (on a busy machine — other
workers of the suite, other processes — they can take many seconds). While the database
is down every answer must be a clean 503 (JSON body, `Retry-After`), never a 500 or a traceback; once
it is back, full service must return without restarting the app (`sqlalchemy.pool_pre_ping`).

It runs on the PostgreSQL leg of the suite only (HYPERAPI_TEST_DATABASE_URL set), but never touches
that database: its server is its own, on a free port, removed at the end.
"""

from __future__ import annotations

import contextlib
import glob
import json
import logging
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from hyperapi import main
from hyperapi.db import DATABASE_URL_ENV
from hyperapi.db.migrations import upgrade
from hyperapi.models import User
from hyperapi.services.users import new_token

from ..support.api import API
from ..support.databases import MIGRATIONS, TEST_DATABASE_ENV
from ..support.factory import PASSWORD_HASH

AFTER_SECONDS = 5.0  # full service watched after the restart's grace period, before the clients stop
UP_BEFORE_STOP = 3.0  # normal service before the database is stopped
DOWN_SECONDS = 3.0  # how long it stays down
GRACE = 2.0  # after the restart, 503s may linger this long; then everything is 200
CLIENTS = 4  # client threads, one party each (no two clients write the same row: no 409s)
PAUSE = 0.02  # between one client's requests, to keep the number of requests bounded
TRACEBACK_MARKERS = ("Traceback", 'File "', "sqlalchemy.exc", "psycopg")


def _postgres_bindir() -> str | None:
    """The newest PostgreSQL server binaries on this machine (Debian's layout), or on PATH."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                        key=lambda d: [int(p) if p.isdigit() else 0 for p in d.split("/")[-2].split(".")])
    candidates = [d for d in candidates if all(os.access(os.path.join(d, b), os.X_OK)
                                               for b in ("initdb", "pg_ctl", "postgres"))]
    if candidates:
        return candidates[-1]
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb") and shutil.which("postgres"):
        return os.path.dirname(found)
    return None


def _run_as() -> list[str] | None:
    """The command prefix that runs PostgreSQL's tools as a user it accepts; None if there is none.

    PostgreSQL refuses to run as root: as root, run them as the `postgres` user through runuser.
    As any other user, run them as ourselves."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return None
    return [runuser, "-u", "postgres", "--"] if runuser else None


BINDIR = _postgres_bindir()
RUN_AS = _run_as() if sys.platform.startswith("linux") else None

pytestmark = [
    pytest.mark.slow,  # a PostgreSQL server of its own, under load for seconds
    pytest.mark.skipif(not os.environ.get(TEST_DATABASE_ENV),
                       reason=f"PostgreSQL only: runs when {TEST_DATABASE_ENV} is set"),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="starts a PostgreSQL server: Linux only"),
    pytest.mark.skipif(BINDIR is None, reason="no PostgreSQL server binaries (initdb, pg_ctl, postgres)"),
    pytest.mark.skipif(RUN_AS is None, reason="running as root without runuser or a 'postgres' user"),
]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """A throwaway PostgreSQL cluster: trust authentication, 127.0.0.1 only, its socket in its directory."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="hyperapi-pg-")
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "server.log")
        self.port = _free_port()
        self.running = False
        if os.geteuid() == 0:
            pg = pwd.getpwnam("postgres")
            os.chown(self.dir, pg.pw_uid, pg.pw_gid)

    def _tool(self, name: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        result = subprocess.run([*RUN_AS, os.path.join(BINDIR, name), *args], capture_output=True, text=True,
                                timeout=timeout, cwd=self.dir)
        if result.returncode != 0:
            raise RuntimeError(f"{name} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
                               f"\n{self.server_log()}")
        return result

    def server_log(self) -> str:
        with contextlib.suppress(OSError), open(self.log) as f:
            return f.read()[-4000:]
        return ""

    def init(self) -> None:
        self._tool("initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C",
                   "--no-sync")

    def start(self) -> None:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.dir}"
                   " -c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        self._tool("pg_ctl", "start", "-D", self.data, "-l", self.log, "-w", "-t", "30", "-o", options)
        self.running = True

    def stop(self) -> None:
        self._tool("pg_ctl", "stop", "-D", self.data, "-m", "fast", "-w", "-t", "30")
        self.running = False

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def destroy(self) -> None:
        try:
            if self.running:
                with contextlib.suppress(Exception):
                    self._tool("pg_ctl", "stop", "-D", self.data, "-m", "immediate", "-w", "-t", "30")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


@dataclass
class Answer:
    client: int
    method: str
    started: float
    ended: float
    status: int | None  # None: no HTTP answer at all (connection error, timeout)
    body: str
    retry_after: str | None


class Http:
    def __init__(self, base: str, key: str):
        self.base = base
        self.key = key

    def call(self, method: str, path: str, payload: dict | None = None) -> tuple[int | None, str, dict]:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Authorization", f"Token {self.key}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                return response.status, response.read().decode("utf-8", "replace"), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace"), dict(error.headers)
        except OSError as error:  # no answer: the app hung up, or took too long
            return None, f"{type(error).__name__}: {error}", {}


@contextlib.contextmanager
def serve(app):
    """The WSGI app on waitress, 127.0.0.1 on a free port, 4 threads, in a background thread."""
    import waitress
    from waitress import wasyncore

    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)

    def run():
        with contextlib.suppress(Exception):  # closing the sockets under the loop may upset it
            server.run()

    thread = threading.Thread(target=run, name="waitress", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.task_dispatcher.shutdown()
        wasyncore.close_all(server._map)
        thread.join(5)


def _arrange(pg: PostgresServer) -> tuple[str, str]:
    """A database migrated by Alembic, and a user with an API key."""
    admin = sa.create_engine(pg.url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text("CREATE DATABASE hyperapi"))
    admin.dispose()
    url = pg.url("hyperapi")
    engine = sa.create_engine(url)
    try:
        upgrade({"hyperapi.migrations": MIGRATIONS}, engine)
        with Session(engine, expire_on_commit=False) as db:
            user = User(username="amara", full_name="Amara", password_hash=PASSWORD_HASH)
            db.add(user)
            db.flush()
            _, key = new_token(db, user, name="load")
            db.commit()
    finally:
        engine.dispose()
    return url, key


def _make_parties(http: Http) -> list[str]:
    """An organization, a project and one party per client, made through the API."""
    status, body, _ = http.call("POST", f"{API}/organizations/", {"name": "Terra Registry"})
    assert status == 201, body
    projects = f"{API}/organizations/terra-registry/projects/"
    status, body, _ = http.call("POST", projects, {"name": "Kampala", "country": "UG"})
    assert status == 201, body
    urls = []
    for n in range(CLIENTS):
        status, body, _ = http.call("POST", f"{projects}kampala/parties/", {"name": f"Party {n}", "type": "IN"})
        assert status == 201, body
        urls.append(json.loads(body)["resource_uri"])
    return [urllib.parse.urlsplit(u).path for u in urls]  # resource_uri may be absolute


def _load(http: Http, urls: list[str], t0: float, answers: list[Answer], patches: dict[int, list[str]],
          done: threading.Event):
    lock = threading.Lock()

    def client(n: int):
        url = urls[n]
        i = 0
        while not done.is_set():
            i += 1
            for method in ("GET", "PATCH"):
                payload = {"name": f"Party {n} edit {i}"} if method == "PATCH" else None
                started = time.monotonic()
                status, body, headers = http.call(method, url, payload)
                ended = time.monotonic()
                retry_after = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
                with lock:
                    answers.append(Answer(n, method, started - t0, ended - t0, status, body, retry_after))
                    if method == "PATCH" and status == 200:
                        patches[n].append(payload["name"])
                time.sleep(PAUSE)

    threads = [threading.Thread(target=client, args=(n,), name=f"client-{n}") for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    return threads


def _timeline(answers: list[Answer], step: float = 0.5) -> str:
    """Statuses per half second, for failure messages: `3.0-3.5s: 200×4 503×12`."""
    buckets: dict[int, dict] = {}
    for a in answers:
        counts = buckets.setdefault(int(a.started / step), {})
        counts[a.status] = counts.get(a.status, 0) + 1
    return "\n".join(f"{b * step:5.1f}-{(b + 1) * step:4.1f}s: "
                     + " ".join(f"{s}×{c}" for s, c in sorted(counts.items(), key=lambda x: str(x[0])))
                     for b, counts in sorted(buckets.items()))


def test_the_database_restarts_under_load(monkeypatch, caplog):
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)  # the app must use this test's server only
    caplog.set_level(logging.ERROR)
    pg = PostgresServer()
    events: dict[str, float] = {}
    answers: list[Answer] = []
    patches: dict[int, list[str]] = {n: [] for n in range(CLIENTS)}
    try:
        pg.init()
        pg.start()
        url, key = _arrange(pg)
        app = main({}, **{"sqlalchemy.url": url, "sqlalchemy.pool_pre_ping": "true",
                          "hyperapi.auto_migrate": "false", "hyperapi.migrations": MIGRATIONS})
        try:
            with serve(app) as base:
                http = Http(base, key)
                urls = _make_parties(http)
                t0 = time.monotonic()
                done = threading.Event()
                threads = _load(http, urls, t0, answers, patches, done)
                try:
                    time.sleep(UP_BEFORE_STOP)
                    events["stop"] = time.monotonic() - t0
                    pg.stop()
                    events["stopped"] = time.monotonic() - t0
                    time.sleep(DOWN_SECONDS)
                    events["start"] = time.monotonic() - t0
                    pg.start()
                    events["started"] = time.monotonic() - t0
                    time.sleep(GRACE + AFTER_SECONDS)
                finally:
                    done.set()
                    for thread in threads:
                        thread.join(60)
                # Full service, as seen by a fresh look at every party.
                final = [http.call("GET", u) for u in urls]
        finally:
            app.registry["db.engine"].dispose()
    finally:
        pg.destroy()

    logged = sorted({f"{r.exc_info[0].__module__}.{r.exc_info[0].__qualname__}: {str(r.exc_info[1])[:160]}"
                     for r in caplog.records if r.exc_info})
    report = (f"events (s after load start): {events}\nstatuses per half second:\n{_timeline(answers)}\n"
              "exceptions logged by the app:\n" + "\n".join(logged[:20]))

    assert answers and len(events) == 4, report
    unexpected = [a for a in answers if a.status not in (200, 503)]
    assert not unexpected, f"answers other than 200/503: {unexpected[:5]}\n{report}"
    for a in answers:
        assert not any(marker in a.body for marker in TRACEBACK_MARKERS), f"internals in a body: {a}\n{report}"

    unavailable = [a for a in answers if a.status == 503]
    for a in unavailable:
        assert json.loads(a.body).keys() == {"error"} and isinstance(json.loads(a.body)["error"], str), a
        assert a.retry_after and a.retry_after.isdigit(), f"a 503 without Retry-After: {a}"
    # The outage was seen (otherwise this test proved nothing) …
    assert unavailable, f"no 503 while the database was down\n{report}"
    # … only while the database was down (a request may have begun just before the stop) …
    early = [a for a in unavailable if a.ended < events["stop"]]
    late = [a for a in unavailable if a.started > events["started"] + GRACE]
    assert not early, f"503 before the database was stopped: {early[:5]}\n{report}"
    assert not late, f"503 {GRACE}s after the database was back: {late[:5]}\n{report}"
    # … and full service came back without restarting the app.
    after = [a for a in answers if a.started > events["started"] + GRACE]
    assert len(after) >= CLIENTS * 4, f"too few requests after the restart to judge\n{report}"
    assert all(a.status == 200 for a in after), report
    down = [a for a in answers if events["stopped"] < a.started and a.ended < events["start"]]
    assert down and all(a.status == 503 for a in down), f"not 503 while the database was down\n{report}"

    # Every PATCH answered 200 was kept; a PATCH answered 503 may or may not have been (its commit is in
    # doubt when the server goes away under it), so the version counts at least the 200s.
    for n, (status, body, _) in enumerate(final):
        assert status == 200, body
        party = json.loads(body)
        assert party["version"] >= 1 + len(patches[n]), (party, len(patches[n]))
        assert patches[n] and party["name"].startswith(f"Party {n} edit "), party
