"""Organizations: `/organizations/` and `/organizations/{org}/`."""

from ..representations import organizations
from ..schemas import organization_schema
from ..services import organizations as service
from ..traversal import OrganizationContainer, OrganizationNode
from .viewset import ViewSet


def create(request, container: OrganizationContainer, data):
    return service.create(request.db, request.identity.user, data)


def update(request, node: OrganizationNode, data):
    service.update(request.db, node.row, data)


def delete(request, node: OrganizationNode):
    service.delete(request.db, request.files, node.row)


def includeme(config):
    ViewSet(
        container=OrganizationContainer,
        item=OrganizationNode,
        represent=organizations.represent,
        listing=organizations.LISTING,
        schema=organization_schema,
        create=create,
        update=update,
        delete=delete,
    ).register(config)
