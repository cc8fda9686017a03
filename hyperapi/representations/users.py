"""People: users, the caller's own account and tokens, and memberships of organizations and projects
(each membership joins a user to an organization or a project, so they are described together)."""

from __future__ import annotations

from pyramid.traversal import find_interface

from ..auth import visibility
from ..listing import Listing, Output, Relation, boolean, choice, moment, text
from ..models import (
    ORGANIZATION_ROLES,
    PROJECT_ROLES,
    Organization,
    OrganizationMember,
    Project,
    ProjectMember,
    Token,
    User,
    isoformat,
)
from ..traversal import ApiRoot, TokenNode, UserNode
from . import organizations, projects
from .links import api_root, inline, link, path, tracked_fields

LISTING = Listing(
    name="user",
    fields={
        "username": text(User.username),
        "full_name": text(User.full_name),
        "is_superuser": boolean(User.is_superuser),
        "created": moment(User.created),
    },
    search=(User.username, User.full_name),
    ordering={"username": User.username, "full_name": User.full_name, "created": User.created},
    default_ordering=("username",),
    tiebreaker=User.id,
    relations={
        # Following a membership reaches only the memberships the caller may see: a stranger learns
        # nothing about who belongs to a private organization.
        "memberships": Relation(lambda: ORGANIZATION_MEMBERSHIPS, User.id, OrganizationMember.user_id,
                                visibility.organization_memberships),
        "project_memberships": Relation(lambda: PROJECT_MEMBERSHIPS, User.id, ProjectMember.user_id,
                                        visibility.project_memberships),
    },
    output=("id", "resource_uri", "username", "full_name", "is_superuser", "email", "created", "last_updated",
            "version", "_links"),
    described={
        "id": Output("string", "The username."),
        "username": Output("string", "Unique; the key in the user's URL."),
        "full_name": Output("string", "The user's full name."),
        "is_superuser": Output("boolean", "A superuser may do everything."),
        "email": Output("string", "Shown only to the user and to superusers.", nullable=True, optional=True),
    },
)


def _membership_listing(membership_model, roles, parent: str, parent_relation: Relation) -> Listing:
    return Listing(
        name=f"{parent}_member",
        fields={
            "username": text(User.username),
            "full_name": text(User.full_name),
            "role": choice(membership_model.role, roles),
            "created": moment(membership_model.created),
        },
        search=(User.username, User.full_name),
        ordering={"username": User.username, "role": membership_model.role, "created": membership_model.created},
        default_ordering=("username",),
        tiebreaker=User.id,
        relations={
            "user": Relation(lambda: LISTING, membership_model.user_id, User.id, visibility.users, key="username"),
            parent: parent_relation,
        },
        output=("id", "resource_uri", parent, "username", "full_name", "user", "role", "created", "last_updated",
                "version", "_links"),
        described={
            "id": Output("string", "The member's username."),
            parent: Output("related", f"The {parent}.", related=parent),
            "full_name": Output("string", "The member's full name."),
            "user": Output("related", "The member's user.", related="user"),
        },
    )


ORGANIZATION_MEMBERSHIPS = _membership_listing(
    OrganizationMember, ORGANIZATION_ROLES, "organization",
    Relation(lambda: organizations.LISTING, OrganizationMember.organization_id, Organization.id,
             visibility.organizations, key="slug"),
)
PROJECT_MEMBERSHIPS = _membership_listing(
    ProjectMember, PROJECT_ROLES, "project",
    Relation(lambda: projects.LISTING, ProjectMember.project_id, Project.id, visibility.projects, key="slug"),
)

TOKEN_LISTING = Listing(
    name="token",
    fields={"name": text(Token.name), "created": moment(Token.created),
            "last_used": moment(Token.last_used, nullable=True), "expires": moment(Token.expires, nullable=True)},
    ordering={"created": Token.created, "name": Token.name, "last_used": Token.last_used},
    default_ordering=("created",),
    tiebreaker=Token.id,
    output=("id", "resource_uri", "name", "created", "last_used", "expires", "_links"),
    described={
        "last_used": Output("datetime", "When it last signed a request in (to the minute).", nullable=True),
        "expires": Output("datetime", "When it stops working; null: never.", nullable=True),
    },
)


def represent_user(request, user: User, href: str, up: str) -> dict:
    identity = request.identity
    body = {
        "id": user.username,
        "resource_uri": href,
        "username": user.username,
        "full_name": user.full_name,
        "is_superuser": user.is_superuser,
        **tracked_fields(user),
        "_links": {"self": link(href), "up": link(up)},
    }
    # An email address is personal: only its owner and superusers see it.
    if identity is not None and (identity.is_superuser or identity.user_id == user.id):
        body["email"] = user.email
    return body


def represent(request, node: UserNode, depth: int = 0) -> dict:
    return represent_user(request, node.row, path(request, node), path(request, node.__parent__))


def represent_member(request, node, depth: int = 0) -> dict:
    membership, user = node.row
    href = path(request, node)
    members = node.__parent__
    parent, field = members.__parent__, members.parent_field
    parent_represent = organizations.represent if field == "organization" else projects.represent
    user_node = find_interface(node, ApiRoot)["users"].wrap(user)
    return {
        "id": user.username,
        "resource_uri": href,
        field: inline(request, parent, parent_represent, depth),
        "username": user.username,
        "full_name": user.full_name,
        "user": inline(request, user_node, represent, depth),
        "role": membership.role,
        **tracked_fields(membership),
        "_links": {"self": link(href), "up": link(path(request, members)),
                   field: link(path(request, parent)), "user": link(path(request, user_node))},
    }


def represent_account(request) -> dict:
    user = request.identity.user
    api = api_root(request)
    account = api["account"]
    body = represent_user(request, user, path(request, account), path(request, api))
    body["_links"].update({"user": link(path(request, api["users"].wrap(user))),
                           "tokens": link(path(request, account["tokens"]))})
    return body


def represent_token(request, node: TokenNode, depth: int = 0, key: str | None = None) -> dict:
    token = node.row
    href = path(request, node)
    body = {
        "id": token.id,
        "resource_uri": href,
        "name": token.name,
        "created": isoformat(token.created),
        "last_used": isoformat(token.last_used),
        "expires": isoformat(token.expires),
        "_links": {"self": link(href), "up": link(path(request, node.__parent__))},
    }
    if key is not None:
        body["key"] = key
    return body
