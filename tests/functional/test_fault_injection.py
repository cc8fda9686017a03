"""The database fails at each point of a write request: the answer is a clean JSON error, and nothing
is written (SPEC §4; `hyperapi/tweens.py`, `hyperapi/views/errors.py`).

The app runs against a database of its own (`fresh_database`: a new SQLite file, or a new PostgreSQL
database when HYPERAPI_TEST_DATABASE_URL is set), so its requests commit for real and a failure at
commit is a real one. Faults are injected with SQLAlchemy engine events:

- at each write statement of the request — every INSERT, UPDATE and DELETE it sends (found by running
  the same request once without faults), including the caller's `last_used` stamp: `before` the
  statement reaches the database (`before_cursor_execute`), or `after` the database has executed it
  (`after_cursor_execute`), so that a rollback must undo it;
- at commit (the engine's `commit` event, before the database commits; the database's side of the
  failure is simulated too: a connection that went away is invalidated, a failed commit rolled back).

Each fault is raised as the database going away (`OperationalError`) → 503 with `Retry-After`, as a
lost connection (`DBAPIError` with `connection_invalidated`) → 503, and as anything else
(`RuntimeError`) → 500 `{"error": "Internal server error."}`. Whatever the fault, no traceback reaches
the body, and the database afterwards holds exactly what it held before (every row of every table).

The requests: POST a party, PATCH a party, DELETE a party, POST an organization. Each runs with a new
token, so that the `last_used` stamp is always among its writes.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session
from webtest import TestApp

from hyperapi import main
from hyperapi.models import Organization, OrganizationMember, Party, Project, User
from hyperapi.models.meta import metadata
from hyperapi.services.users import new_token

from ..support.api import API
from ..support.databases import fresh_database
from ..support.factory import PASSWORD_HASH

WRITE = re.compile(r"^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.IGNORECASE)
BASE = f"{API}/organizations/faulty/projects/plant/parties/"


@dataclass
class Faulty:
    app: TestApp
    engine: sa.engine.Engine


@pytest.fixture(scope="module")
def faulty(settings):
    with fresh_database(settings, "faults") as (own, engine):
        with Session(engine) as session:
            user = User(username="fixer", full_name="Fixer", password_hash=PASSWORD_HASH)
            org = Organization(slug="faulty", name="Faulty", access="private")
            session.add_all([user, org])
            session.flush()
            session.add(OrganizationMember(organization_id=org.id, user_id=user.id, role="admin"))
            session.add(Project(organization_id=org.id, slug="plant", name="Plant"))
            session.commit()
        yield Faulty(TestApp(main({}, **{**own, "hyperapi.engine": engine})), engine)


def fresh_key(engine) -> str:
    """A token never used, so that its first request stamps `last_used` (one more write to fail)."""
    with Session(engine) as session:
        user = session.scalar(sa.select(User).where(User.username == "fixer"))
        _, key = new_token(session, user, name="fault")
        session.commit()
    return key


def new_party(engine, name: str = "Before") -> str:
    with Session(engine) as session:
        project = session.scalar(sa.select(Project).where(Project.slug == "plant"))
        party = Party(project_id=project.id, name=name, type="IN")
        session.add(party)
        session.commit()
        return f"{BASE}{party.id}/"


def snapshot(engine) -> str:
    """Every row of every table, as one digest."""
    digest = hashlib.sha256()
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            rows = connection.execute(sa.select(table).order_by(*table.primary_key.columns)).all()
            digest.update(f"{table.name}:{len(rows)}:{rows!r}\n".encode())
    return digest.hexdigest()


# --- the requests (PATCH and DELETE get a party made before them, outside the request) ---------------


def post_party(f: Faulty, key: str, url: str | None):
    return f.app.post(BASE, json.dumps({"name": "New", "type": "GR"}), content_type="application/json",
                      headers={"Authorization": f"Token {key}"}, expect_errors=True)


def patch_party(f: Faulty, key: str, url: str | None):
    return f.app.patch(url, json.dumps({"name": "After"}), content_type="application/json",
                       headers={"Authorization": f"Token {key}", "If-Match": '"1"'}, expect_errors=True)


def delete_party(f: Faulty, key: str, url: str | None):
    return f.app.delete(url, headers={"Authorization": f"Token {key}"}, expect_errors=True)


ORG_NAMES = itertools.count(1)


def post_organization(f: Faulty, key: str, url: str | None):
    body = json.dumps({"name": f"Brand New Org {next(ORG_NAMES)}"})
    return f.app.post(f"{API}/organizations/", body, content_type="application/json",
                      headers={"Authorization": f"Token {key}"}, expect_errors=True)


# name -> (request, needs a party, status without faults)
REQUESTS = {
    "POST party": (post_party, False, 201),
    "PATCH party": (patch_party, True, 200),
    "DELETE party": (delete_party, True, 204),
    "POST organization": (post_organization, False, 201),
}


def prepare(f: Faulty, request_name: str) -> tuple[str, str | None]:
    """A new key, and the party the request is about (if any)."""
    _, needs_party, _ = REQUESTS[request_name]
    return fresh_key(f.engine), new_party(f.engine) if needs_party else None


# --- the faults ---------------------------------------------------------------------------------------


def database_gone(statement=None):
    return sa.exc.OperationalError(statement, {}, Exception("server closed the connection unexpectedly"))


def connection_lost(statement=None):
    return sa.exc.DBAPIError(statement, {}, Exception("connection reset by peer"), connection_invalidated=True)


def unexpected(statement=None):
    return RuntimeError("the disk is on fire")


# fault -> (status, body or None for any JSON error, Retry-After expected)
ERRORS = {
    "database-gone": (database_gone, 503, None, True),
    "connection-lost": (connection_lost, 503, None, True),
    "unexpected": (unexpected, 500, {"error": "Internal server error."}, False),
}


def writes_of(f: Faulty, request_name: str):
    """The answer and the write statements (`VERB table`) of a request sent without faults (it commits)."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        match = WRITE.match(statement)
        if match:
            seen.append(f"{match.group(1).split()[0].upper()} {match.group(2).lower()}")

    request, _, _ = REQUESTS[request_name]
    key, url = prepare(f, request_name)
    event.listen(f.engine, "before_cursor_execute", record)
    try:
        response = request(f, key, url)
    finally:
        event.remove(f.engine, "before_cursor_execute", record)
    return response, list(dict.fromkeys(seen))


@contextmanager
def fault_at_statement(engine, target: str, when: str, error):
    """Raise `error` at every statement `VERB table` (`when`: before or after the database runs it)."""
    state = {"raised": 0}

    def maybe_raise(conn, cursor, statement, parameters, context, executemany, *rest):
        match = WRITE.match(statement)
        if match and f"{match.group(1).split()[0].upper()} {match.group(2).lower()}" == target:
            state["raised"] += 1
            raise error(statement)

    name = "before_cursor_execute" if when == "before" else "after_cursor_execute"
    event.listen(engine, name, maybe_raise)
    try:
        yield state
    finally:
        event.remove(engine, name, maybe_raise)


@contextmanager
def fault_at_commit(engine, error):
    """The commit fails as it does in a database: the transaction is gone, then the commit raises.

    A database that goes away takes its connection (and the transaction in it) with it: the connection
    is invalidated. Any other failed COMMIT leaves the database's transaction rolled back. (Raising
    from the `commit` event alone would leave the transaction open on a connection SQLAlchemy believes
    is clean, and the pool would hand it, writes and all, to the next request: nothing a database does.)
    """
    state = {"raised": 0}

    def maybe_raise(conn):
        state["raised"] += 1
        exc = error()
        if isinstance(exc, sa.exc.DBAPIError):
            conn.invalidate(exc)
        else:
            conn.connection.dbapi_connection.rollback()
        raise exc

    event.listen(engine, "commit", maybe_raise)
    try:
        yield state
    finally:
        event.remove(engine, "commit", maybe_raise)


def check_clean_error(response, status: int, body: dict | None, retry_after: bool, where: str):
    assert response.status_int == status, f"{where}: {response.status} {response.body!r}"
    assert response.content_type == "application/json", where
    parsed = json.loads(response.body)
    assert isinstance(parsed.get("error"), str) and parsed["error"], where
    if body is not None:
        assert parsed == body, f"{where}: {parsed}"
    assert b"Traceback" not in response.body and b"fire" not in response.body and b"reset by peer" not in \
        response.body and b"server closed" not in response.body, f"{where}: {response.body!r}"
    if retry_after:
        assert response.headers.get("Retry-After", "").isdigit(), f"{where}: {response.headers}"


def _points():
    return [(request, error) for request in REQUESTS for error in ERRORS]


@pytest.mark.parametrize(("request_name", "error_name"), _points())
def test_a_fault_at_each_statement_is_a_clean_error_and_writes_nothing(faulty, request_name, error_name):
    request, _, ok = REQUESTS[request_name]
    error, status, body, retry_after = ERRORS[error_name]
    response, statements = writes_of(faulty, request_name)
    assert response.status_int == ok, response.body  # without faults, the request works
    assert any(s.startswith("UPDATE tokens") for s in statements), statements
    assert len(statements) >= 2, statements
    for target in statements:
        for when in ("before", "after"):
            where = f"{request_name}, {error_name} {when} {target} (of {statements})"
            key, url = prepare(faulty, request_name)
            before = snapshot(faulty.engine)
            with fault_at_statement(faulty.engine, target, when, error) as state:
                response = request(faulty, key, url)
            assert state["raised"] >= 1, f"{where}: the fault never fired"
            check_clean_error(response, status, body, retry_after, where)
            assert snapshot(faulty.engine) == before, f"{where}: something was written"


@pytest.mark.parametrize(("request_name", "error_name"), _points())
def test_a_fault_at_commit_is_a_clean_error_and_writes_nothing(faulty, request_name, error_name):
    request, _, _ = REQUESTS[request_name]
    error, status, body, retry_after = ERRORS[error_name]
    where = f"{request_name}, {error_name} at commit"
    key, url = prepare(faulty, request_name)
    before = snapshot(faulty.engine)
    with fault_at_commit(faulty.engine, error) as state:
        response = request(faulty, key, url)
    assert state["raised"] >= 1, f"{where}: the fault never fired"
    check_clean_error(response, status, body, retry_after, where)
    assert snapshot(faulty.engine) == before, f"{where}: something was written"


def test_an_error_in_a_view_is_a_500_without_a_traceback(faulty, monkeypatch):
    """Not the database: the code itself fails."""
    from hyperapi.services import parties

    def broken(*args, **kwargs):
        raise KeyError("a bug with a secret in its message")

    monkeypatch.setattr(parties, "create", broken)
    key = fresh_key(faulty.engine)
    before = snapshot(faulty.engine)
    response = post_party(faulty, key, None)
    check_clean_error(response, 500, {"error": "Internal server error."}, False, "a KeyError in the view")
    assert b"secret" not in response.body
    assert snapshot(faulty.engine) == before


def test_after_the_faults_the_app_still_works(faulty):
    """No connection is left broken or inside a transaction: the next requests succeed."""
    for name, (request, _, ok) in REQUESTS.items():
        key, url = prepare(faulty, name)
        response = request(faulty, key, url)
        assert response.status_int == ok, f"{name}: {response.status} {response.body!r}"
