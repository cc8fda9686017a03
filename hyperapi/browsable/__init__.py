"""The browsable API (SPEC §6): the same URLs drawn as HTML pages for a browser (`pages`), from
Jinja2 templates and the app's own static files."""


def includeme(config):
    config.include(".pages")
