"""Members of an organization or a project: `…/members/[{username}/]`."""

from ..models import ORGANIZATION_ROLES, PROJECT_ROLES
from ..representations import users
from ..schemas import member_update_schema_for, organization_member_schema, project_member_schema
from ..services import members as service
from ..traversal import OrganizationMemberNode, OrganizationMembers, ProjectMemberNode, ProjectMembers
from .viewset import READONLY, ViewSet


def add_to_organization(request, container: OrganizationMembers, data):
    return service.add_to_organization(request.db, container.organization, data)


def add_to_project(request, container: ProjectMembers, data):
    return service.add_to_project(request.db, container.__parent__.organization, container.project, data)


def change_role(request, node, data):
    if "role" in data:  # a PATCH may send nothing to change
        service.change_role(request.db, node.membership, data["role"])


def remove(request, node):
    service.remove(request.db, node.membership)


def includeme(config):
    for container, item, roles, create_schema, add, parent in (
        (OrganizationMembers, OrganizationMemberNode, ORGANIZATION_ROLES, organization_member_schema,
         add_to_organization, "organization"),
        (ProjectMembers, ProjectMemberNode, PROJECT_ROLES, project_member_schema, add_to_project, "project"),
    ):
        ViewSet(
            container=container,
            item=item,
            represent=users.represent_member,
            listing=users.ORGANIZATION_MEMBERSHIPS if parent == "organization" else users.PROJECT_MEMBERSHIPS,
            schema=member_update_schema_for(roles),
            create_schema=create_schema,
            create=add,
            update=change_role,
            delete=remove,
            readonly=READONLY | {"username", "full_name", "user", parent},
            replaceable=False,
        ).register(config)
