"""hyperapi: a hypermedia REST API for land and project records."""

import datetime
import os

from pyramid.config import Configurator
from pyramid.settings import asbool

from .security import SecurityPolicy


def _coerce_settings(settings: dict) -> dict:
    settings = dict(settings)
    settings["hyperapi.auto_migrate"] = asbool(settings.get("hyperapi.auto_migrate", False))
    settings["hyperapi.login_token_ttl"] = datetime.timedelta(
        seconds=int(settings.get("hyperapi.login_token_ttl", 30 * 24 * 3600))
    )
    settings.setdefault("handle_exceptions", "false")  # Cornice must not replace our error bodies
    return settings


def _prepare_database_dir(engine) -> None:
    """An SQLite file's folder (var/ by default) is made on first start."""
    if engine.dialect.name == "sqlite" and engine.url.database and engine.url.database != ":memory:":
        os.makedirs(os.path.dirname(os.path.abspath(engine.url.database)), exist_ok=True)


def _prepare_database(config) -> None:
    from .migrations import upgrade

    settings = config.get_settings()
    engine = config.registry["db.engine"]
    _prepare_database_dir(engine)
    if settings["hyperapi.auto_migrate"]:
        upgrade(settings, engine)


def main(global_config, **settings):
    """The WSGI application."""
    settings = _coerce_settings(settings)
    with Configurator(settings=settings) as config:
        config.set_security_policy(SecurityPolicy())
        config.include("cornice")
        config.include(".db")
        config.include(".history")
        config.include(".storage")
        config.include(".tweens")
        config.include(".limits")
        config.include(".ratelimit")
        config.include(".traversal.urls")  # resource URLs without Pyramid's never-emptied cache
        config.include(".views")
        _prepare_database(config)
    return config.make_wsgi_app()
