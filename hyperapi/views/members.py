from .. import collections as q
from ..models import ORGANIZATION_ROLES, PROJECT_ROLES, OrganizationMember, ProjectMember, User
from ..schemas import member_update_schema_for, organization_member_schema, project_member_schema
from ..services import members as service
from ..traversal import OrganizationMemberNode, OrganizationMembers, ProjectMemberNode, ProjectMembers
from .common import READONLY, Entity, api_path, link, path, tracked_fields


def _listing(membership_model, roles):
    return q.Listing(
        fields={
            "username": q.text(User.username),
            "role": q.choice(membership_model.role, roles),
            "created": q.moment(membership_model.created),
        },
        search=(User.username, User.full_name),
        ordering={"username": User.username, "role": membership_model.role, "created": membership_model.created},
        default_ordering=("username",),
        tiebreaker=User.id,
    )


def represent(request, node) -> dict:
    membership, user = node.row
    href = path(request, node)
    parent = node.__parent__.__parent__
    parent_href = path(request, parent)
    user_href = api_path(request, "users", user.username)
    return {
        "id": user.username,
        "resource_uri": href,
        parent.kind: parent_href,
        "username": user.username,
        "full_name": user.full_name,
        "user": user_href,
        "role": membership.role,
        **tracked_fields(membership),
        "_links": {"self": link(href), "up": link(path(request, node.__parent__)), parent.kind: link(parent_href),
                   "user": link(user_href)},
    }


def _update(request, node, data):
    service.change_role(request.db, node.membership, data["role"])


def _delete(request, node):
    service.remove(request.db, node.membership)


ORGANIZATION_MEMBERS = Entity(
    container=OrganizationMembers,
    item=OrganizationMemberNode,
    represent=represent,
    listing=_listing(OrganizationMember, ORGANIZATION_ROLES),
    schema=member_update_schema_for(ORGANIZATION_ROLES),
    create_schema=organization_member_schema,
    create=lambda request, container, data: service.add_to_organization(request.db, container.organization, data),
    update=_update,
    delete=_delete,
    readonly=READONLY | {"username", "full_name", "user", "organization"},
    replaceable=False,
)

PROJECT_MEMBERS = Entity(
    container=ProjectMembers,
    item=ProjectMemberNode,
    represent=represent,
    listing=_listing(ProjectMember, PROJECT_ROLES),
    schema=member_update_schema_for(PROJECT_ROLES),
    create_schema=project_member_schema,
    create=lambda request, container, data: service.add_to_project(
        request.db, container.__parent__.organization, container.project, data
    ),
    update=_update,
    delete=_delete,
    readonly=READONLY | {"username", "full_name", "user", "project"},
    replaceable=False,
)

ORGANIZATION_MEMBERS.declare()
PROJECT_MEMBERS.declare()
