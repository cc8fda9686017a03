"""What a caller may see, as SQL over whole tables — for flat lists and for filters that follow a
relation. Each query applies the rule of every level above the entity too (a project is only
visible under a visible organization), all from `hyperapi.auth.rules.RULES`."""

from __future__ import annotations

from sqlalchemy import and_, or_, select

from ..models import (
    Organization,
    OrganizationMember,
    Party,
    Project,
    ProjectMember,
    Resource,
    ResourceAttachment,
    User,
)
from .rules import Permission, sql_allows

VIEW = Permission.VIEW


def organization_columns() -> dict:
    return {"organization_id": Organization.id, "access": Organization.access, "archived": Organization.archived}


def project_columns(organization_id, org_archived) -> dict:
    return {
        "organization_id": organization_id,
        "project_id": Project.id,
        "access": Project.access,
        "archived": Project.archived,
        "org_archived": org_archived,
    }


def organizations(identity, *entities):
    return select(*(entities or (Organization,))).where(
        sql_allows("organization", VIEW, identity, organization_columns())
    )


def projects_in_visible_organizations(identity, *entities):
    """Every project under an organization the caller may see, whatever the project's own rules."""
    return (
        select(*(entities or (Project,)))
        .join(Organization, Project.organization_id == Organization.id)
        .where(sql_allows("organization", VIEW, identity, organization_columns()))
    )


def projects(identity, *entities):
    return projects_in_visible_organizations(identity, *entities).where(
        sql_allows("project", VIEW, identity, project_columns(Project.organization_id, Organization.archived)))


def organization_memberships(identity):
    columns = {"organization_id": OrganizationMember.organization_id, "org_archived": Organization.archived,
               "user_id": OrganizationMember.user_id}
    # The user is joined in: a filter on a membership's username means that membership's user.
    return (
        select(OrganizationMember)
        .join(User, OrganizationMember.user_id == User.id)
        .join(Organization, OrganizationMember.organization_id == Organization.id)
        .where(sql_allows("organization", VIEW, identity, organization_columns()))
        .where(sql_allows("organization_member", VIEW, identity, columns))
    )


def project_memberships(identity):
    columns = {"organization_id": Project.organization_id, "project_id": ProjectMember.project_id,
               "org_archived": Organization.archived, "project_archived": Project.archived,
               "user_id": ProjectMember.user_id}
    return (
        select(ProjectMember)
        .join(User, ProjectMember.user_id == User.id)
        .join(Project, ProjectMember.project_id == Project.id)
        .join(Organization, Project.organization_id == Organization.id)
        .where(sql_allows("organization", VIEW, identity, organization_columns()))
        .where(sql_allows("project", VIEW, identity, project_columns(Project.organization_id, Organization.archived)))
        .where(sql_allows("project_member", VIEW, identity, columns))
    )


def users(identity):
    return select(User).where(sql_allows("user", VIEW, identity, {"user_id": User.id}))


def attachments(identity):
    """The attachments of resources whose entity the caller can see (whatever the resource's state)."""
    attached = ResourceAttachment
    party_columns = {"organization_id": Project.organization_id, "project_id": Party.project_id,
                     "org_archived": Organization.archived, "project_archived": Project.archived,
                     "archived": Party.archived}
    project_visible = sql_allows("project", VIEW, identity,
                                 project_columns(Project.organization_id, Organization.archived))
    return (
        select(attached)
        .join(Organization, Organization.id == attached.organization_id)
        .outerjoin(Project, Project.id == attached.project_id)
        .outerjoin(Party, Party.id == attached.party_id)
        .where(sql_allows("organization", VIEW, identity, organization_columns()))
        .where(or_(
            attached.entity_type == "organization",
            and_(attached.entity_type == "project", project_visible),
            and_(attached.entity_type == "party", project_visible, sql_allows("party", VIEW, identity, party_columns)),
        ))
    )


def resource_ids(identity, permission: Permission):
    """Ids of the resources that some attachment, on an entity the caller can see, grants `permission`
    (the flat node's ACL is the union of its nested nodes' ACLs: `traversal.resources`)."""
    attached = ResourceAttachment
    on_organization = sql_allows("organization_resource", permission, identity, {
        "organization_id": attached.organization_id, "org_archived": Organization.archived,
        "archived": Resource.archived,
    })
    in_project = sql_allows("project_resource", permission, identity, {
        "organization_id": attached.organization_id, "project_id": attached.project_id,
        "org_archived": Organization.archived, "project_archived": Project.archived, "archived": Resource.archived,
    })
    return (
        attachments(identity)
        .with_only_columns(attached.resource_id, maintain_column_froms=True)
        .join(Resource, Resource.id == attached.resource_id)
        .where(or_(and_(attached.entity_type == "organization", on_organization),
                   and_(attached.entity_type != "organization", in_project)))
    )
