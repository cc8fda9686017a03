"""Alembic is the only source of the schema: these helpers run it from the app and the CLI."""

import os

from alembic.config import Config
from sqlalchemy.engine import Engine

from alembic import command

DEFAULT_MIGRATIONS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "alembic")


def alembic_config(settings: dict, engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", settings.get("hyperapi.migrations") or DEFAULT_MIGRATIONS)
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(settings: dict, engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(settings, engine), revision)
