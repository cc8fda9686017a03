from ..errors import conflict
from ..history import record_cascade
from ..models import Organization, Party, Project, ProjectMember
from .organizations import ensure_writable
from .slugs import slug_taken, unique_slug

EDITABLE = ("name", "description", "country", "urls", "contacts", "access", "archived")


def _check_slug(db, org: Organization, slug: str, exclude_id=None) -> None:
    exclude = Project.id != exclude_id if exclude_id is not None else None
    if slug_taken(db, Project.slug, slug, scope=Project.organization_id == org.id, exclude=exclude):
        raise conflict("A project with this slug already exists in this organization.",
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
    for key in EDITABLE:
        if key in data:
            setattr(project, key, data[key])
    db.flush()


def delete(db, project: Project) -> None:
    """Delete a project with its parties and memberships — each recorded in history first."""
    scope = (project.organization_id, project.id)
    record_cascade(db, Party, Party.project_id == project.id, *scope)
    record_cascade(db, ProjectMember, ProjectMember.project_id == project.id, *scope)
    db.delete(project)
    db.flush()
