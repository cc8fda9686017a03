"""Alembic is the only source of the schema: these helpers run it from the app and the CLI."""

import os

from alembic.config import Config
from sqlalchemy.engine import Engine

from alembic import command

# The repository's top-level alembic/ folder, three levels above this file.
DEFAULT_MIGRATIONS = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "alembic")


def alembic_config(settings: dict, engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", settings.get("hyperapi.migrations") or DEFAULT_MIGRATIONS)
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(settings: dict, engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(settings, engine), revision)


def include_object_for(dialect_name: str):
    """For Alembic's comparisons: an index declared for one database only (`info={"dialect": ...}`,
    e.g. PostgreSQL's trigram indexes) exists only there."""

    def include_object(obj, name, type_, reflected, compare_to):
        if type_ == "index":
            dialect = obj.info.get("dialect") if not reflected else getattr(compare_to, "info", {}).get("dialect")
            if dialect is not None and dialect != dialect_name:
                return False
        return True

    return include_object
