"""The application, put together: settings read once, then each part of the package wiring itself in
its own `includeme`, in the order a request meets them."""

from __future__ import annotations

import datetime

from pyramid.config import Configurator
from pyramid.settings import asbool


def coerce_settings(settings: dict) -> dict:
    settings = dict(settings)
    settings["hyperapi.auto_migrate"] = asbool(settings.get("hyperapi.auto_migrate", False))
    settings["hyperapi.login_token_ttl"] = datetime.timedelta(
        seconds=int(settings.get("hyperapi.login_token_ttl", 30 * 24 * 3600))
    )
    settings.setdefault("handle_exceptions", "false")  # Cornice must not replace our error bodies
    return settings


def configure(settings: dict) -> Configurator:
    config = Configurator(settings=coerce_settings(settings))
    config.include("cornice")
    config.include(".db")  # the engine, a session per request in its transaction, history recording
    config.include(".auth")  # the security policy and the sign-in rate limiter
    config.include(".files")  # where uploaded bytes go
    config.include(".web")  # limits, CORS, the credential check, every error as an answer
    config.include(".traversal")  # the URL tree and its URLs
    config.include(".renderers")  # json, hal, csv, xml, jsonp, and the negotiation among them
    config.include(".browsable")  # html pages, and errors drawn as pages for a browser
    config.include(".views")  # what each node answers
    return config
