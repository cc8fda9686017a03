"""The HTTP layer: thin views — validate, call a service, present — declared through configuration
(`registration`), one module per kind of entity, on the nodes of the traversal tree."""

from .registration import register_service

ENTITY_VIEWS = (".discovery", ".organizations", ".projects", ".parties", ".members", ".users", ".resources",
                ".history")


def includeme(config):
    config.include(".registration")
    for module in ENTITY_VIEWS:
        config.include(module)
    register_service(config)
    config.include(".allow")
