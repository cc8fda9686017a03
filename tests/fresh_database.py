"""A database of its own for tests whose requests must commit for real (a server in a thread, faults
at commit): the rest of the suite works inside one rolled-back transaction of the test database, so
these tests never touch it.

On PostgreSQL (HYPERAPI_TEST_DATABASE_URL), a new database on the same server, created through an
AUTOCOMMIT connection to the `postgres` database and dropped afterwards; on SQLite, a new file.
Either way migrated with Alembic, as in production.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from hyperapi.db import DATABASE_URL_ENV, make_engine
from hyperapi.db.migrations import upgrade


@contextmanager
def fresh_database(settings: dict, prefix: str, **engine_settings):
    """Yields (settings for the app, engine) of a new, migrated database; drops it afterwards."""
    url = make_url(settings["sqlalchemy.url"])
    previous = os.environ.pop(DATABASE_URL_ENV, None)  # never a configured database
    admin = None
    if url.get_backend_name() == "postgresql":
        name = f"{prefix}_{secrets.token_hex(4)}"
        admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        own_url = url.set(database=name).render_as_string(hide_password=False)
    else:
        name = os.path.join(tempfile.mkdtemp(prefix=f"{prefix}-"), "db.sqlite")
        own_url = f"sqlite:///{name}"
    own = {**settings, "sqlalchemy.url": own_url, **engine_settings}
    engine = make_engine(own)
    try:
        upgrade(own, engine)
        yield own, engine
    finally:
        engine.dispose()
        if admin is not None:
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
        else:
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(name + suffix):
                    os.remove(name + suffix)
            os.rmdir(os.path.dirname(name))
        if previous is not None:
            os.environ[DATABASE_URL_ENV] = previous
