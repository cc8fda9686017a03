"""The databases the tests run on, all migrated with Alembic as in production.

- The test database, one per pytest process. On SQLite a file in the process's own temporary
  directory. On PostgreSQL (HYPERAPI_TEST_DATABASE_URL): in a single process, the database that names
  (wiped first); with parallel workers (pytest-xdist), one database per worker on the same server,
  named after it — `hyperapi_test_gw0`, `hyperapi_test_gw1` — made afresh and dropped at the end, so
  no worker ever sees another's rows, locks or sequences.
- `fresh_database`, a database of its own for tests whose requests must commit for real (a server in
  a thread, faults at commit): the rest of the suite works inside one rolled-back transaction of the
  test database, so these tests never touch it. On PostgreSQL it is named after the test database too
  (`hyperapi_test_gw0_browser_1a2b3c4d`), so whatever a killed run leaves behind is found by that name.

PostgreSQL databases are created and dropped through an AUTOCOMMIT connection to the server's
`postgres` database.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session

from hyperapi.db import DATABASE_URL_ENV, make_engine
from hyperapi.db.migrations import upgrade

TEST_DATABASE_ENV = "HYPERAPI_TEST_DATABASE_URL"
MAINTENANCE_DATABASE = "postgres"
MIGRATIONS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "alembic")
MAX_NAME = 63  # PostgreSQL's longest identifier


def worker() -> str | None:
    """This process's pytest-xdist worker (`gw0`, `gw1`…), or None when pytest runs in one process."""
    return os.environ.get("PYTEST_XDIST_WORKER")


def _database_name(*parts: str) -> str:
    name = "_".join(parts)
    if len(name) > MAX_NAME:
        raise ValueError(f"database name {name!r} is longer than PostgreSQL's {MAX_NAME} characters: "
                         f"shorten the database name in {TEST_DATABASE_ENV}")
    return name


@contextmanager
def postgresql_database(url: URL, name: str) -> Iterator[str]:
    """A new, empty database `name` on the server of `url` (one left by a killed run is dropped first);
    yields its URL, and drops it, connections and all, afterwards."""
    admin = sa.create_engine(url.set(database=MAINTENANCE_DATABASE), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def _wipe_postgresql(url: URL) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


@contextmanager
def session_database(tmpdir: str) -> Iterator[str]:
    """The URL of this process's test database, empty; see the module's docstring."""
    configured = os.environ.get(TEST_DATABASE_ENV)
    if not configured:
        yield f"sqlite:///{tmpdir}/test.sqlite"
        return
    url = make_url(configured)
    if url.get_backend_name() != "postgresql":  # a SQLite file of one's choosing: one per worker beside it
        if worker() is not None and url.database:
            stem, extension = os.path.splitext(url.database)
            url = url.set(database=f"{stem}_{worker()}{extension}")
        yield url.render_as_string(hide_password=False)
    elif worker() is None:
        _wipe_postgresql(url)
        yield configured
    else:
        with postgresql_database(url, _database_name(url.database, worker())) as own:
            yield own


@contextmanager
def fresh_database(settings: dict, prefix: str, **engine_settings):
    """Yields (settings for the app, engine) of a new, migrated database; drops it afterwards."""
    url = make_url(settings["sqlalchemy.url"])
    previous = os.environ.pop(DATABASE_URL_ENV, None)  # never a configured database
    try:
        with _fresh_url(url, prefix) as own_url:
            own = {**settings, "sqlalchemy.url": own_url, **engine_settings}
            engine = make_engine(own)
            try:
                upgrade(own, engine)
                yield own, engine
            finally:
                engine.dispose()
    finally:
        if previous is not None:
            os.environ[DATABASE_URL_ENV] = previous


@contextmanager
def _fresh_url(url: URL, prefix: str) -> Iterator[str]:
    if url.get_backend_name() == "postgresql":
        with postgresql_database(url, _database_name(url.database, prefix, secrets.token_hex(4))) as own:
            yield own
        return
    directory = tempfile.mkdtemp(prefix=f"hyperapi-{prefix}-")
    try:
        yield f"sqlite:///{os.path.join(directory, 'db.sqlite')}"
    finally:
        shutil.rmtree(directory, ignore_errors=True)


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
