"""The HTTP layer: thin views over `hyperapi.services`, registered per context type on one service."""

from ..traversal import base, tree
from . import members, organizations, parties, projects, root, users
from .common import api, register_fallbacks


def _node_types():
    abstract = (base.Node, base.Item, base.Container)
    return [obj for obj in vars(tree).values()
            if isinstance(obj, type) and issubclass(obj, base.Node) and obj not in abstract]


def includeme(config):
    root.register()
    users.register()
    organizations.ENTITY.register()
    members.ORGANIZATION_MEMBERS.register()
    members.PROJECT_MEMBERS.register()
    projects.register()
    parties.ENTITY.register()
    config.add_cornice_service(api)
    register_fallbacks(config, _node_types())
    config.include(".errors")
