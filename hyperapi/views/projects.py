from .. import collections as q
from .. import visibility
from ..authz import Permission
from ..models import ACCESS_CHOICES, Organization, Project, ResourceAttachment
from ..schemas import project_schema
from ..services import projects as service
from ..services import resources
from ..traversal import AllProjects, ProjectContainer, ProjectNode
from . import organizations
from .common import READONLY, Entity, add_view, collection_response, inline, link, path, tracked_fields

LISTING = q.Listing(
    name="project",
    fields={
        "name": q.text(Project.name),
        "slug": q.text(Project.slug, operators=q.CHOICE_OPERATORS),
        "country": q.text(Project.country, operators=q.CHOICE_OPERATORS),
        "access": q.choice(Project.access, ACCESS_CHOICES),
        "archived": q.boolean(Project.archived),
        "created": q.moment(Project.created),
        "last_updated": q.moment(Project.last_updated),
    },
    search=(Project.name, Project.description),
    ordering={"name": Project.name, "slug": Project.slug, "country": Project.country,
              "created": Project.created, "last_updated": Project.last_updated},
    default_ordering=("name",),
    tiebreaker=Project.id,
    relations={
        "organization": q.Relation(lambda: organizations.LISTING, Project.organization_id, Organization.id,
                                   visibility.organizations, key="slug"),
    },
    output=("id", "resource_uri", "organization", "name", "slug", "description", "country", "urls", "contacts",
            "access", "archived", "created", "last_updated", "version", "_links"),
    described={"organization": q.Out("related", "The project's organization.", related="organization")},
)


def represent(request, node: ProjectNode, depth: int = 0) -> dict:
    project = node.row
    href = path(request, node)
    organization_node = node.__parent__.__parent__
    organization_href = path(request, organization_node)
    return {
        "id": project.slug,
        "resource_uri": href,
        "organization": inline(request, organization_node, organizations.represent, depth),
        "name": project.name,
        "slug": project.slug,
        "description": project.description,
        "country": project.country,
        "urls": project.urls,
        "contacts": project.contacts,
        "access": project.access,
        "archived": project.archived,
        **tracked_fields(project),
        "_links": {
            "self": link(href),
            "up": link(path(request, node.__parent__)),
            "organization": link(organization_href),
            "members": link(href + "members/"),
            "parties": link(href + "parties/"),
            "resources": link(href + "resources/"),
            "history": link(href + "history/"),
        },
    }


def parent_links(request):
    org = request.context.__parent__
    return {"organization": frozenset({path(request, org), org.row.slug, org.row.name})}


ENTITY = Entity(
    container=ProjectContainer,
    item=ProjectNode,
    represent=represent,
    listing=LISTING,
    schema=project_schema,
    create=lambda request, container, data: service.create(request.db, container.organization, data),
    update=lambda request, node, data: service.update(request.db, node.organization, node.row, data),
    delete=lambda request, node: (
        # Its resources attached nowhere else go with it (their bytes once this commits).
        resources.release(request, ResourceAttachment.project_id == node.row.id),
        service.delete(request.db, node.row),
    ),
    readonly=READONLY | {"organization"},
    parent_links=parent_links,
)


def list_all_projects(request):
    return collection_response(request, request.context, LISTING, represent)


def declare():
    ENTITY.declare()
    add_view(AllProjects, "GET", list_all_projects, Permission.VIEW, listing=LISTING)


declare()
