"""Concurrent writes to one party through a real server (PostgreSQL only).

The app runs in a waitress server (16 threads) in a background thread on 127.0.0.1, against a database
of its own (`fresh_database`): created for this module on the PostgreSQL server of
HYPERAPI_TEST_DATABASE_URL, migrated with Alembic, dropped at the end. Its requests commit for real,
so the test database of the rest of the suite is never touched.

Many client threads PATCH the same party at once, half of their writes with `If-Match` (the version
they have just read), half without. Every write names the party after a unique counter. Then:

- no 5xx, no connection error; every refusal is a 412 (stale `If-Match`) or a 409 (a concurrent update
  that lost the race: the version counter's `UPDATE … WHERE version = n` found nothing);
- no lost update: every accepted write answered a different version, and those versions are exactly
  2, 3, …, 1 + accepted; the party's final `version` is 1 + the number of accepted writes;
- the final name is the name sent by the accepted write that answered the highest version;
- the party's ETag names its final state: the body of the write that answered the highest version is
  the body a GET answers, and an `If-None-Match` with that GET's ETag is a 304.

The history of the party's changes is checked by the history tests.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from hyperapi import main
from hyperapi.models import Organization, OrganizationMember, Party, Project, User
from hyperapi.services.users import new_token

from ..support.databases import fresh_database
from ..support.factory import PASSWORD_HASH
from ..support.serving import served

pytestmark = pytest.mark.slow  # hundreds of concurrent writes through a real server

THREADS = 16
WRITES_PER_THREAD = 25
SERVER_THREADS = 16


@pytest.fixture(scope="module")
def database(settings):
    """A fresh, migrated PostgreSQL database for this module; dropped afterwards."""
    if make_url(settings["sqlalchemy.url"]).get_backend_name() != "postgresql":
        pytest.skip("concurrency is tested on PostgreSQL (set HYPERAPI_TEST_DATABASE_URL)")
    with fresh_database(settings, "concurrency", **{"sqlalchemy.pool_size": str(SERVER_THREADS + 4),
                                                    "sqlalchemy.max_overflow": "0"}) as database:
        yield database


@pytest.fixture(scope="module")
def server(database):
    """The real app in a waitress server on a free port; yields its base URL."""
    own, engine = database
    app = main({}, **{**own, "hyperapi.engine": engine})
    with served(app, threads=SERVER_THREADS, connection_limit=THREADS * 4) as url:
        yield url


@pytest.fixture(scope="module")
def party(database):
    """An organization admin's key and a party's URL, committed for real."""
    _, engine = database
    with Session(engine, expire_on_commit=False) as session:
        user = User(username="writer", full_name="Writer", password_hash=PASSWORD_HASH)
        org = Organization(slug="race", name="Race", access="private")
        session.add_all([user, org])
        session.flush()
        session.add(OrganizationMember(organization_id=org.id, user_id=user.id, role="admin"))
        project = Project(organization_id=org.id, slug="track", name="Track")
        session.add(project)
        session.flush()
        row = Party(project_id=project.id, name="start", type="IN")
        session.add(row)
        _, key = new_token(session, user, name="race")
        session.commit()
        return key, f"/api/v1/organizations/race/projects/track/parties/{row.id}/", row.id


@dataclass
class Result:
    status: int
    name: str
    if_match: bool
    version: int | None  # the version an accepted write answered
    body: bytes


def call(base: str, method: str, path: str, key: str, body: dict | None = None, headers: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Authorization", f"Token {key}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_concurrent_patches_lose_no_update(server, party):
    key, path, _ = party
    counter = itertools.count(1)
    results: list[Result] = []
    failures: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(THREADS)

    def writer(n: int):
        start.wait()
        for i in range(WRITES_PER_THREAD):
            try:
                headers = {}
                with_if_match = (n + i) % 2 == 0
                if with_if_match:
                    status, response_headers, _ = call(server, "GET", path, key)
                    assert status == 200, status
                    headers["If-Match"] = response_headers["ETag"]
                name = f"write {next(counter):05d}"
                status, _, body = call(server, "PATCH", path, key, {"name": name}, headers)
                version = json.loads(body)["version"] if status == 200 else None
                with lock:
                    results.append(Result(status, name, with_if_match, version, body))
            except Exception as exc:  # a connection error, a bad answer: the test fails, the others go on
                with lock:
                    failures.append(f"thread {n}, write {i}: {exc!r}")

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    elapsed = time.monotonic() - began
    assert not any(thread.is_alive() for thread in threads), "writers still running after 300 s"
    assert not failures, "\n".join(failures[:20])

    statuses = Counter((r.status, r.if_match) for r in results)
    print(f"\n{len(results)} writes in {elapsed:.1f} s: " + ", ".join(
        f"{status}{' with If-Match' if if_match else ''}: {n}" for (status, if_match), n in sorted(statuses.items())))
    assert len(results) == THREADS * WRITES_PER_THREAD
    server_errors = [r for r in results if r.status >= 500]
    assert not server_errors, f"{len(server_errors)} 5xx, e.g. {server_errors[0].status} {server_errors[0].body!r}"
    unexpected = [r for r in results if r.status not in (200, 409, 412)]
    assert not unexpected, f"unexpected answers: {[(r.status, r.body[:200]) for r in unexpected[:5]]}"
    assert all(r.if_match for r in results if r.status == 412), "a 412 for a write that sent no If-Match"
    for r in results:
        if r.status in (409, 412):
            assert "error" in json.loads(r.body), r.body

    accepted = sorted((r for r in results if r.status == 200), key=lambda r: r.version)
    assert accepted, "no write was accepted"
    versions = [r.version for r in accepted]
    assert versions == list(range(2, 2 + len(accepted))), \
        f"accepted writes answered versions {versions}: two writes saw the same version (a lost update) or one skipped"

    status, headers, body = call(server, "GET", path, key)
    assert status == 200, body
    final = json.loads(body)
    assert final["version"] == 1 + len(accepted), (final["version"], len(accepted))
    assert final["name"] == accepted[-1].name, (final["name"], accepted[-1].name)
    assert body == accepted[-1].body  # the last accepted write answered what a GET now answers
    unchanged, _, _ = call(server, "GET", path, key, headers={"If-None-Match": headers["ETag"]})
    assert unchanged == 304


def test_the_database_agrees(database, party, server):
    """What the server answered is what the database holds (read with a connection of our own)."""
    _, engine = database
    key, path, party_id = party
    status, _, body = call(server, "GET", path, key)
    assert status == 200
    answered = json.loads(body)
    with engine.connect() as connection:
        name, version = connection.execute(sa.select(Party.name, Party.version).where(Party.id == party_id)).one()
    assert (name, version) == (answered["name"], answered["version"])
