"""hyperapi: a hypermedia REST API for land and project records."""

from .config import configure


def main(global_config, **settings):
    """The WSGI application."""
    return configure(settings).make_wsgi_app()
