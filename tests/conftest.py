"""Fixtures of the functional tests: the real WSGI app, the real database (SQLite by default,
PostgreSQL when HYPERAPI_TEST_DATABASE_URL is set), the real security policy. The unit tests
(tests/unit/) use none of them, and so never touch a database.

The schema is built once per pytest process by Alembic, as in production; with parallel workers each
worker has a database of its own (`tests/support/databases.py`). Each test runs inside one outer
transaction that is rolled back at its end; every request (and every factory call) works in a
savepoint of it, so requests commit and roll back exactly as they would, and tests stay isolated.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from contextlib import contextmanager

import hypothesis
import pytest
from hypothesis.database import DirectoryBasedExampleDatabase
from sqlalchemy import event
from sqlalchemy.orm import Session
from webtest import TestApp

import hyperapi
from hyperapi import main
from hyperapi.db import make_engine
from hyperapi.db.migrations import upgrade

from .support.api import Client
from .support.databases import MIGRATIONS, session_database
from .support.examples import DETERMINISTIC, EXPLORE
from .support.factory import Factory

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# --- Hypothesis ----------------------------------------------------------------------------------------
# The default run draws the same examples every time, on every clone: a failure is a failure of the
# code, reproduced by running the tests again, never a roll of the dice, and no example saved by an
# earlier run (.hypothesis/) can make it fail. (Hypothesis derives each test's examples from the test's
# own source: they change when the test, Hypothesis or Python does.)
hypothesis.settings.register_profile(
    DETERMINISTIC,
    derandomize=True,
    database=None,
    deadline=None,  # a request's time depends on the machine and its load; speed is measured in bench/
    print_blob=True,
    suppress_health_check=[hypothesis.HealthCheck.too_slow],
)
# For hunting bugs (`--hypothesis-profile=explore`): new random examples on each run, ten times as many
# (`support.examples`), and failures saved in .hypothesis/ and tried first the next time.
hypothesis.settings.register_profile(
    EXPLORE,
    derandomize=False,
    database=DirectoryBasedExampleDatabase(os.path.join(ROOT, ".hypothesis", "examples")),
    deadline=None,
    print_blob=True,
    suppress_health_check=[hypothesis.HealthCheck.too_slow],
)
# Loaded here, before pytest reads --hypothesis-profile, so it also wins where Hypothesis would load its
# own "ci" profile (the CI variable is set). Hypothesis's "default" profile is left as it is:
# schemathesis reads it as the library's defaults.
hypothesis.settings.load_profile(DETERMINISTIC)
# Hypothesis also draws constants it finds in the code under test, in every module of ours imported so
# far. Import them all now, so that the examples do not depend on which tests were selected, nor on
# which ones this process happened to run first (pytest-xdist hands tests out as workers free up).
for module in pkgutil.walk_packages(hyperapi.__path__, f"{hyperapi.__name__}."):
    if not module.name.endswith(".__main__"):  # `python -m` entry points run when imported
        importlib.import_module(module.name)


@pytest.fixture(scope="session")
def settings(tmp_path_factory):
    tmpdir = tmp_path_factory.mktemp("hyperapi")  # this process's own: one per xdist worker
    with session_database(str(tmpdir)) as url:
        yield {
            "sqlalchemy.url": url,
            "hyperapi.auto_migrate": "false",
            "hyperapi.migrations": MIGRATIONS,
            "hyperapi.storage": "file://" + os.path.join(tmpdir, "files"),
        }


@pytest.fixture(scope="session")
def engine(settings):
    previous = os.environ.pop("HYPERAPI_DATABASE_URL", None)  # tests never touch a configured database
    engine = make_engine(settings)
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


@pytest.fixture
def db(connection, wsgi_app) -> Session:
    """A session for arranging and inspecting data, on the same connection the app uses."""
    wsgi_app.registry["db.session_factory"].configure(bind=connection, join_transaction_mode="create_savepoint")
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    yield session
    session.close()


@pytest.fixture
def client(wsgi_app, db) -> Client:
    return Client(TestApp(wsgi_app))


@pytest.fixture
def factory(db) -> Factory:
    return Factory(db)
