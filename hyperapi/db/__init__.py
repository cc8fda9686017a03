"""The database: one engine per process, one session per request, joined to the request's transaction.

`request.db` is created lazily, registered with zope.sqlalchemy against `request.tm`, so pyramid_tm
commits it when the request succeeds and aborts it otherwise. No code calls `commit()`. Alembic is the
only source of the schema (`migrations`); every change is recorded in history by a session hook
(`recording`).
"""

import os

import zope.sqlalchemy
from sqlalchemy import engine_from_config, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

DATABASE_URL_ENV = "HYPERAPI_DATABASE_URL"


def database_url(settings: dict) -> str:
    return os.environ.get(DATABASE_URL_ENV) or settings["sqlalchemy.url"]


def make_engine(settings: dict) -> Engine:
    settings = dict(settings)
    settings["sqlalchemy.url"] = database_url(settings)
    if settings["sqlalchemy.url"].startswith("sqlite"):
        # Pool sizing options mean nothing to SQLite's file pool.
        for key in ("sqlalchemy.pool_size", "sqlalchemy.max_overflow"):
            settings.pop(key, None)
    engine = engine_from_config(settings, "sqlalchemy.")
    if engine.dialect.name == "sqlite":
        _make_sqlite_transactional(engine)
    return engine


def _make_sqlite_transactional(engine: Engine) -> None:
    """pysqlite's own transaction handling breaks SAVEPOINT and defers BEGIN; take it over.

    Foreign keys are off by default in SQLite; the model relies on ON DELETE CASCADE.
    """

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, connection_record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        # `contains`, `startswith`… are case-sensitive, as on PostgreSQL; the i-variants use lower().
        cursor.execute("PRAGMA case_sensitive_like = ON")
        cursor.execute("PRAGMA busy_timeout = 5000")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        connection.exec_driver_sql("BEGIN")


def make_session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, expire_on_commit=False)


def session_for_transaction(session_factory: sessionmaker, transaction_manager) -> Session:
    session = session_factory()
    zope.sqlalchemy.register(session, transaction_manager=transaction_manager)
    return session


def includeme(config):
    settings = config.get_settings()
    settings["tm.manager_hook"] = "pyramid_tm.explicit_manager"
    # Any 4xx/5xx response aborts the transaction, even one a view returned rather than raised.
    settings["tm.commit_veto"] = "pyramid_tm.default_commit_veto"
    config.include("pyramid_tm")
    # Serialization failures and deadlocks (PostgreSQL) are retried in a fresh transaction.
    settings.setdefault("retry.attempts", "3")
    settings.setdefault("retry.activate_hook", "hyperapi.web.limits.retry_attempts")
    config.include("pyramid_retry")

    engine = settings.get("hyperapi.engine") or make_engine(settings)
    session_factory = make_session_factory(engine)
    config.registry["db.engine"] = engine
    config.registry["db.session_factory"] = session_factory

    def db(request):
        session = session_for_transaction(request.registry["db.session_factory"], request.tm)
        session.info["actor"] = lambda: request.identity  # who made a change, for its history
        return session

    config.add_request_method(db, "db", reify=True)
    config.include(".recording")
    _prepare_database(config)


def prepare_database_dir(engine) -> None:
    """An SQLite file's folder (var/ by default) is made on first start."""
    if engine.dialect.name == "sqlite" and engine.url.database and engine.url.database != ":memory:":
        os.makedirs(os.path.dirname(os.path.abspath(engine.url.database)), exist_ok=True)


def _prepare_database(config) -> None:
    from .migrations import upgrade

    settings = config.get_settings()
    engine = config.registry["db.engine"]
    prepare_database_dir(engine)
    if settings["hyperapi.auto_migrate"]:
        upgrade(settings, engine)
