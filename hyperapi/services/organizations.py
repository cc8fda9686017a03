"""Organizations: create (the creator becomes its admin), change, delete with all they hold."""

from sqlalchemy import select

from ..db.recording import record_cascade
from ..models import Organization, OrganizationMember, Party, Project, ProjectMember, ResourceAttachment, User
from . import resources
from .editing import assign, ensure_writable
from .exceptions import Conflict
from .slugs import slug_taken, unique_slug

EDITABLE = ("name", "description", "urls", "contacts", "access", "archived")


def _check_name(db, name: str, exclude_id=None) -> None:
    query = select(Organization.id).where(Organization.name == name)
    if exclude_id is not None:
        query = query.where(Organization.id != exclude_id)
    if db.scalar(query) is not None:
        raise Conflict("An organization with this name already exists.", {"name": "This name is taken."})


def _check_slug(db, slug: str, exclude_id=None) -> None:
    exclude = Organization.id != exclude_id if exclude_id is not None else None
    if slug_taken(db, Organization.slug, slug, exclude=exclude):
        raise Conflict("An organization with this slug already exists.", {"slug": "This slug is taken."})


def create(db, creator: User, data: dict) -> Organization:
    """A new organization; its creator becomes its admin."""
    _check_name(db, data["name"])
    if "slug" in data:
        _check_slug(db, data["slug"])
        slug = data["slug"]
    else:
        slug = unique_slug(db, Organization.slug, data["name"], fallback="organization")
    org = Organization(slug=slug, **{k: data[k] for k in EDITABLE})
    db.add(org)
    db.flush()
    db.add(OrganizationMember(organization_id=org.id, user_id=creator.id, role="admin"))
    db.flush()
    return org


def update(db, org: Organization, data: dict) -> None:
    ensure_writable(org, data, "organization")
    if "name" in data and data["name"] != org.name:
        _check_name(db, data["name"], exclude_id=org.id)
    if "slug" in data and data["slug"] != org.slug:
        _check_slug(db, data["slug"], exclude_id=org.id)
        org.slug = data["slug"]
    assign(org, data, EDITABLE)
    db.flush()


def delete(db, files, org: Organization) -> None:
    """Delete an organization and, by cascade, all it holds — each recorded in history first. Its
    resources attached nowhere else go with it (their bytes once this commits)."""
    resources.release(db, files, ResourceAttachment.organization_id == org.id)
    in_org = Project.organization_id == org.id
    record_cascade(db, Party, in_org, Project.organization_id, Party.project_id,
                   join=(Project, Party.project_id == Project.id))
    record_cascade(db, ProjectMember, in_org, Project.organization_id, ProjectMember.project_id,
                   join=(Project, ProjectMember.project_id == Project.id))
    record_cascade(db, Project, in_org, org.id, Project.id)
    record_cascade(db, OrganizationMember, OrganizationMember.organization_id == org.id, org.id, None)
    db.delete(org)
    db.flush()
