"""The resource tree (see `base` for its rules, `tree` for its nodes)."""

from .base import CollectionSchema, Container, Item, Node, Selection, SetNode, describe_path, url_templates
from .prefetch import prefetch
from .tree import (
    Account,
    AllProjects,
    ApiRoot,
    ApiVersions,
    Login,
    OpenAPIDocument,
    OrganizationContainer,
    OrganizationMemberNode,
    OrganizationMembers,
    OrganizationNode,
    PartyContainer,
    PartyNode,
    ProjectContainer,
    ProjectMemberNode,
    ProjectMembers,
    ProjectNode,
    SiteRoot,
    TokenContainer,
    TokenNode,
    UserContainer,
    UserNode,
)


def root_factory(request):
    # Credentials were checked by a tween before any of this (hyperapi.web.tweens.credentials_factory).
    prefetch(request, (request.matchdict or {}).get("traverse", ()))
    return SiteRoot(request)


__all__ = [
    "Account", "AllProjects", "CollectionSchema", "ApiRoot", "ApiVersions", "Container", "Item", "Login", "Node",
    "OrganizationContainer", "OrganizationMemberNode", "OpenAPIDocument", "OrganizationMembers", "OrganizationNode",
    "PartyContainer", "PartyNode", "ProjectContainer", "ProjectMemberNode", "ProjectMembers",
    "ProjectNode", "Selection", "SetNode", "SiteRoot", "TokenContainer", "TokenNode", "UserContainer", "UserNode",
    "describe_path", "root_factory", "url_templates",
]


def includeme(config):
    config.include(".urls")  # resource URLs without Pyramid's never-emptied cache
