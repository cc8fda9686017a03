from pyramid.traversal import find_interface

from .. import collections as q
from .. import visibility
from ..models import ORGANIZATION_ROLES, PROJECT_ROLES, Organization, OrganizationMember, Project, ProjectMember, User
from ..schemas import member_update_schema_for, organization_member_schema, project_member_schema
from ..services import members as service
from ..traversal import ApiRoot, OrganizationMemberNode, OrganizationMembers, ProjectMemberNode, ProjectMembers
from . import organizations, projects, users
from .common import READONLY, Entity, inline, link, path, tracked_fields


def _listing(membership_model, roles, parent: str, parent_relation: q.Relation):
    return q.Listing(
        name=f"{parent}_member",
        fields={
            "username": q.text(User.username),
            "full_name": q.text(User.full_name),
            "role": q.choice(membership_model.role, roles),
            "created": q.moment(membership_model.created),
        },
        search=(User.username, User.full_name),
        ordering={"username": User.username, "role": membership_model.role, "created": membership_model.created},
        default_ordering=("username",),
        tiebreaker=User.id,
        relations={
            "user": q.Relation(lambda: users.LISTING, membership_model.user_id, User.id, visibility.users,
                               key="username"),
            parent: parent_relation,
        },
        output=("id", "resource_uri", parent, "username", "full_name", "user", "role", "created", "last_updated",
                "version", "_links"),
        described={
            "id": q.Out("string", "The member's username."),
            parent: q.Out("related", f"The {parent}.", related=parent),
            "full_name": q.Out("string", "The member's full name."),
            "user": q.Out("related", "The member's user.", related="user"),
        },
    )


ORGANIZATION_MEMBERSHIPS = _listing(
    OrganizationMember, ORGANIZATION_ROLES, "organization",
    q.Relation(lambda: organizations.LISTING, OrganizationMember.organization_id, Organization.id,
               visibility.organizations, key="slug"),
)
PROJECT_MEMBERSHIPS = _listing(
    ProjectMember, PROJECT_ROLES, "project",
    q.Relation(lambda: projects.LISTING, ProjectMember.project_id, Project.id, visibility.projects, key="slug"),
)


def represent(request, node, depth: int = 0) -> dict:
    membership, user = node.row
    href = path(request, node)
    parent = node.__parent__.__parent__
    parent_href = path(request, parent)
    parent_represent = organizations.represent if parent.kind == "organization" else projects.represent
    user_node = find_interface(node, ApiRoot)["users"].wrap(user)
    user_href = path(request, user_node)
    return {
        "id": user.username,
        "resource_uri": href,
        parent.kind: inline(request, parent, parent_represent, depth),
        "username": user.username,
        "full_name": user.full_name,
        "user": inline(request, user_node, users.represent, depth),
        "role": membership.role,
        **tracked_fields(membership),
        "_links": {"self": link(href), "up": link(path(request, node.__parent__)), parent.kind: link(parent_href),
                   "user": link(user_href)},
    }


def _update(request, node, data):
    if "role" in data:  # a PATCH may send nothing to change
        service.change_role(request.db, node.membership, data["role"])


def _delete(request, node):
    service.remove(request.db, node.membership)


ORGANIZATION_MEMBERS = Entity(
    container=OrganizationMembers,
    item=OrganizationMemberNode,
    represent=represent,
    listing=ORGANIZATION_MEMBERSHIPS,
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
    listing=PROJECT_MEMBERSHIPS,
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
