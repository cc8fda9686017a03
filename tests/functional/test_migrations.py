"""Alembic is the only source of the schema (SPEC §8): the migrations must build exactly what the
models describe, and must go down to nothing and back up again."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from alembic import command
from hyperapi.db import DATABASE_URL_ENV, make_engine
from hyperapi.db.migrations import alembic_config, include_object_for, upgrade
from hyperapi.models import metadata


def differences(engine) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True,
            "compare_server_default": True,
            "include_object": include_object_for(connection.dialect.name),
        })
        return compare_metadata(context, metadata)


def current_revision(engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head(settings, engine) -> str:
    return ScriptDirectory.from_config(alembic_config(settings, engine)).get_current_head()


def tables(engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def test_migrated_test_database_matches_the_models(engine):
    assert differences(engine) == []


def test_the_comparison_would_see_a_drift(engine):
    """Guards the test above: a model the migrations do not know of is reported."""
    drifted = sa.MetaData()
    for table in metadata.tables.values():
        table.to_metadata(drifted)
    sa.Table("parties", drifted, sa.Column("nickname", sa.String(50)), extend_existing=True)
    sa.Table("not_migrated", drifted, sa.Column("id", sa.Integer, primary_key=True))
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, drifted)
    added = [d for d in diff if isinstance(d, tuple)]
    assert any(d[0] == "add_table" and d[1].name == "not_migrated" for d in added), diff
    assert any(d[0] == "add_column" and d[2] == "parties" and d[3].name == "nickname" for d in added), diff


def test_test_database_is_at_the_single_head(settings, engine):
    script = ScriptDirectory.from_config(alembic_config(settings, engine))
    assert len(script.get_heads()) == 1
    assert current_revision(engine) == script.get_current_head()


def test_every_model_table_is_created_by_the_migrations(engine):
    assert set(metadata.tables) <= tables(engine)


@pytest.fixture
def fresh(tmp_path, settings, monkeypatch):
    """A new, empty SQLite file (never the configured database)."""
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    fresh_settings = {"sqlalchemy.url": f"sqlite:///{tmp_path}/fresh.sqlite",
                      "hyperapi.migrations": settings["hyperapi.migrations"]}
    engine = make_engine(fresh_settings)
    yield fresh_settings, engine
    engine.dispose()


def test_upgrade_downgrade_upgrade_on_a_fresh_database(fresh):
    settings, engine = fresh
    assert tables(engine) == set()
    upgrade(settings, engine)
    assert set(metadata.tables) <= tables(engine)
    assert current_revision(engine) == head(settings, engine)
    assert differences(engine) == []

    command.downgrade(alembic_config(settings, engine), "base")
    assert tables(engine) - {"alembic_version"} == set()
    assert current_revision(engine) is None

    upgrade(settings, engine)
    assert current_revision(engine) == head(settings, engine)
    assert differences(engine) == []


def test_upgrade_is_idempotent(fresh):
    settings, engine = fresh
    upgrade(settings, engine)
    upgrade(settings, engine)
    assert current_revision(engine) == head(settings, engine)
    assert differences(engine) == []


def test_each_revision_downgrades_and_upgrades_one_step(fresh):
    """Walk the history one revision at a time, down and up again, from the head."""
    settings, engine = fresh
    config = alembic_config(settings, engine)
    script = ScriptDirectory.from_config(config)
    revisions = [r.revision for r in script.walk_revisions("base", "heads")]  # newest first
    upgrade(settings, engine)
    for revision in revisions:
        command.downgrade(config, "-1")
        assert current_revision(engine) != revision
    assert current_revision(engine) is None
    for revision in reversed(revisions):
        command.upgrade(config, "+1")
        assert current_revision(engine) == revision
    assert differences(engine) == []
