"""The HTTP layer: thin views over `hyperapi.services`, registered per context type on one service.

Each module declares its views when imported; `includeme` puts them on a Cornice service made for
this configuration (so the app factory can be called more than once in a process).
"""

from ..traversal import base, tree
from ..traversal import history as history_nodes
from ..traversal import resources as resource_nodes
from . import history, members, organizations, parties, projects, resources, root, users  # noqa: F401 - they declare views
from .common import make_service, register_fallbacks


def _node_types():
    abstract = (base.Node, base.Item, base.Container, tree.Member, tree.Members, history_nodes.History,
                resource_nodes.ResourceNode, resource_nodes.NestedResourceNode, resource_nodes.ResourceCollection,
                resource_nodes.Resources)
    found = [*vars(tree).values(), *vars(history_nodes).values(), *vars(resource_nodes).values()]
    nodes = [obj for obj in found if isinstance(obj, type) and issubclass(obj, base.Node) and obj not in abstract]
    return list(dict.fromkeys([*nodes, base.SetNode, base.Selection]))


def includeme(config):
    config.add_cornice_service(make_service())
    register_fallbacks(config, _node_types())
    config.include(".errors")
