"""The resource tree (see `base` for its rules, `tree` for its nodes)."""

from ..security import check_credentials
from .base import Container, Item, Node, Selection, SetNode, describe_path
from .prefetch import prefetch
from .tree import (
    Account,
    AllProjects,
    ApiRoot,
    ApiVersions,
    Login,
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
    # Every request passes here, whatever view it reaches: bad credentials are refused up front.
    check_credentials(request)
    prefetch(request, (request.matchdict or {}).get("traverse", ()))
    return SiteRoot(request)


__all__ = [
    "Account", "AllProjects", "ApiRoot", "ApiVersions", "Container", "Item", "Login", "Node",
    "OrganizationContainer", "OrganizationMemberNode", "OrganizationMembers", "OrganizationNode",
    "PartyContainer", "PartyNode", "ProjectContainer", "ProjectMemberNode", "ProjectMembers",
    "ProjectNode", "Selection", "SetNode", "SiteRoot", "TokenContainer", "TokenNode", "UserContainer", "UserNode",
    "describe_path", "root_factory",
]
