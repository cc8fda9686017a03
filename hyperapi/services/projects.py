"""Projects of an organization: create, change, delete with their parties and memberships."""

from ..db.recording import record_cascade
from ..models import Organization, Party, Project, ProjectMember, ResourceAttachment
from . import resources
from .editing import assign, ensure_writable
from .exceptions import Conflict
from .slugs import slug_taken, unique_slug

EDITABLE = ("name", "description", "country", "urls", "contacts", "access", "archived")


def _check_slug(db, org: Organization, slug: str, exclude_id=None) -> None:
    exclude = Project.id != exclude_id if exclude_id is not None else None
    if slug_taken(db, Project.slug, slug, scope=Project.organization_id == org.id, exclude=exclude):
        raise Conflict("A project with this slug already exists in this organization.",
                       {"slug": "This slug is taken."})


def create(db, org: Organization, data: dict) -> Project:
    if "slug" in data:
        _check_slug(db, org, data["slug"])
        slug = data["slug"]
    else:
        slug = unique_slug(db, Project.slug, data["name"], scope=Project.organization_id == org.id,
                           fallback="project")
    project = Project(organization_id=org.id, slug=slug, **{k: data[k] for k in EDITABLE})
    db.add(project)
    db.flush()
    return project


def update(db, org: Organization, project: Project, data: dict) -> None:
    ensure_writable(project, data, "project")
    if "slug" in data and data["slug"] != project.slug:
        _check_slug(db, org, data["slug"], exclude_id=project.id)
        project.slug = data["slug"]
    assign(project, data, EDITABLE)
    db.flush()


def delete(db, files, project: Project) -> None:
    """Delete a project with its parties and memberships — each recorded in history first. Its
    resources attached nowhere else go with it (their bytes once this commits)."""
    resources.release(db, files, ResourceAttachment.project_id == project.id)
    scope = (project.organization_id, project.id)
    record_cascade(db, Party, Party.project_id == project.id, *scope)
    record_cascade(db, ProjectMember, ProjectMember.project_id == project.id, *scope)
    db.delete(project)
    db.flush()
