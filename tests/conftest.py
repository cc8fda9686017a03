"""Test setup: the real WSGI app, the real database (SQLite by default, PostgreSQL when
HYPERAPI_TEST_DATABASE_URL is set), the real security policy.

The schema is built once per session by Alembic, as in production. Each test runs inside one outer
transaction that is rolled back at its end; every request (and every factory call) works in a
savepoint of it, so requests commit and roll back exactly as they would, and tests stay isolated.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from pyramid.config import Configurator
from sqlalchemy import event
from sqlalchemy.orm import Session
from webtest import TestApp

from hyperapi import main
from hyperapi.auth.passwords import hash_password
from hyperapi.db import make_engine
from hyperapi.db.migrations import upgrade
from hyperapi.models import (
    Organization,
    OrganizationMember,
    Party,
    Project,
    ProjectMember,
    User,
)
from hyperapi.services.users import new_token

TEST_DATABASE_ENV = "HYPERAPI_TEST_DATABASE_URL"
API = "/api/v1"
PASSWORD = "correct horse battery"
# Hashing with argon2's defaults costs ~50 ms; factories share one hash.
PASSWORD_HASH = hash_password(PASSWORD)


def declared_views():
    """The API's views as the app declares them, without an app or a database (for what a test module
    builds when it is imported, such as its parameters)."""
    config = Configurator(settings={})
    config.include("cornice")
    config.include("hyperapi.views")
    return config.registry.api_views


def _database_url(tmpdir: str) -> str:
    return os.environ.get(TEST_DATABASE_ENV) or f"sqlite:///{tmpdir}/test.sqlite"


def _wipe_postgresql(engine) -> None:
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))


@pytest.fixture(scope="session")
def settings():
    tmpdir = tempfile.mkdtemp(prefix="hyperapi-test-")
    return {
        "sqlalchemy.url": _database_url(tmpdir),
        "hyperapi.auto_migrate": "false",
        "hyperapi.migrations": os.path.join(os.path.dirname(os.path.dirname(__file__)), "alembic"),
        "hyperapi.storage": "file://" + os.path.join(tmpdir, "files"),
    }


@pytest.fixture(scope="session")
def engine(settings):
    previous = os.environ.pop("HYPERAPI_DATABASE_URL", None)  # tests never touch a configured database
    engine = make_engine(settings)
    if engine.dialect.name == "postgresql":
        _wipe_postgresql(engine)
    upgrade(settings, engine)
    yield engine
    engine.dispose()
    if previous is not None:
        os.environ["HYPERAPI_DATABASE_URL"] = previous


class QueryRecorder:
    """Counts the SQL statements the app sends (savepoint bookkeeping of the test harness excluded)."""

    IGNORED = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "BEGIN", "COMMIT", "ROLLBACK")

    def __init__(self, engine):
        self.statements: list[str] = []
        self.active = False
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, conn, cursor, statement, parameters, context, executemany):
        if self.active and not statement.lstrip().upper().startswith(self.IGNORED):
            self.statements.append(statement)

    @contextmanager
    def __call__(self):
        self.statements = []
        self.active = True
        try:
            yield self
        finally:
            self.active = False

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture(scope="session")
def query_recorder(engine):
    return QueryRecorder(engine)


@pytest.fixture(scope="session")
def wsgi_app(settings, engine, query_recorder):
    return main({}, **{**settings, "hyperapi.engine": engine})


@pytest.fixture
def connection(engine):
    connection = engine.connect()
    outer = connection.begin()
    yield connection
    outer.rollback()
    connection.close()


@contextmanager
def rolled_back_session(engine, wsgi_app):
    """For tests that build many worlds in one test function (hypothesis examples): a session on a
    connection of its own, the app bound to the same connection, everything rolled back afterwards."""
    connection = engine.connect()
    outer = connection.begin()
    try:
        wsgi_app.registry["db.session_factory"].configure(bind=connection, join_transaction_mode="create_savepoint")
        session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            yield session
        finally:
            session.close()
    finally:
        outer.rollback()
        connection.close()


@pytest.fixture
def db(connection, wsgi_app) -> Session:
    """A session for arranging and inspecting data, on the same connection the app uses."""
    wsgi_app.registry["db.session_factory"].configure(bind=connection, join_transaction_mode="create_savepoint")
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    yield session
    session.close()


class Client:
    """WebTest with a caller: `client.as_(user).get(url)`; statuses are asserted by the tests."""

    def __init__(self, app: TestApp, key: str | None = None):
        self.app = app
        self.key = key

    def as_(self, key: str | None) -> Client:
        return Client(self.app, key)

    def _headers(self, headers):
        headers = dict(headers or {})
        if self.key is not None:
            headers.setdefault("Authorization", f"Token {self.key}")
        return headers

    def request(self, method: str, url: str, json=None, headers=None, **kw):
        kw.setdefault("status", "*")
        kw.setdefault("expect_errors", True)
        headers = self._headers(headers)
        if json is not None:
            kw["body"] = _dumps(json).encode()
            kw["content_type"] = "application/json"
        return self.app.request(url, method=method.upper(), headers=headers, **kw)

    def get(self, url, **kw):
        kw.setdefault("status", "*")
        kw.setdefault("expect_errors", True)
        return self.app.get(url, headers=self._headers(kw.pop("headers", None)), **kw)

    def post(self, url, json=None, **kw):
        return self.request("POST", url, json=json if json is not None else {}, **kw)

    def put(self, url, json=None, **kw):
        return self.request("PUT", url, json=json if json is not None else {}, **kw)

    def patch(self, url, json=None, **kw):
        return self.request("PATCH", url, json=json if json is not None else {}, **kw)

    def delete(self, url, **kw):
        return self.request("DELETE", url, **kw)


def _dumps(value) -> str:
    import json

    return json.dumps(value)


@pytest.fixture
def client(wsgi_app, db) -> Client:
    return Client(TestApp(wsgi_app))


class Factory:
    """Makes rows directly in the database (committed to the test's savepoint)."""

    def __init__(self, db: Session):
        self.db = db
        self.keys: dict[str, str] = {}

    def _save(self, *rows):
        self.db.add_all(rows)
        self.db.flush()
        self.db.commit()
        return rows[0] if len(rows) == 1 else rows

    def user(self, username: str, superuser: bool = False, **kw) -> User:
        user = self._save(User(username=username, is_superuser=superuser, password_hash=PASSWORD_HASH,
                               full_name=kw.pop("full_name", username.title()), **kw))
        return user

    def key(self, user: User) -> str:
        """An API key for the user (one per user, made on first use)."""
        if user.username not in self.keys:
            _, key = new_token(self.db, user, name="test")
            self.db.commit()
            self.keys[user.username] = key
        return self.keys[user.username]

    def org(self, slug: str, access: str = "public", archived: bool = False, **kw) -> Organization:
        return self._save(Organization(slug=slug, name=kw.pop("name", slug.replace("-", " ").title()),
                                       access=access, archived=archived, **kw))

    def project(self, org: Organization, slug: str, access: str = "public", archived: bool = False,
                **kw) -> Project:
        return self._save(Project(organization_id=org.id, slug=slug, name=kw.pop("name", slug.title()),
                                  access=access, archived=archived, **kw))

    def org_member(self, org: Organization, user: User, role: str) -> OrganizationMember:
        return self._save(OrganizationMember(organization_id=org.id, user_id=user.id, role=role))

    def project_member(self, project: Project, user: User, role: str) -> ProjectMember:
        return self._save(ProjectMember(project_id=project.id, user_id=user.id, role=role))

    def party(self, project: Project, name: str = "Barnabas Mughongo", type: str = "IN", **kw) -> Party:
        return self._save(Party(project_id=project.id, name=name, type=type, **kw))


@pytest.fixture
def factory(db) -> Factory:
    return Factory(db)


def org_url(org) -> str:
    return f"{API}/organizations/{org.slug}/"


def project_url(org, project) -> str:
    return f"{org_url(org)}projects/{project.slug}/"


def party_url(org, project, party) -> str:
    return f"{project_url(org, project)}parties/{party.id}/"
