"""A project, and how its collections (an organization's, and the flat `/projects/`) may be queried."""

from ..auth import visibility
from ..listing import CHOICE_OPERATORS, Listing, Output, Relation, boolean, choice, moment, text
from ..models import ACCESS_CHOICES, Organization, Project
from ..traversal import ProjectNode
from . import organizations
from .links import child_links, inline, link, path, tracked_fields

LISTING = Listing(
    name="project",
    fields={
        "name": text(Project.name),
        "slug": text(Project.slug, operators=CHOICE_OPERATORS),
        "country": text(Project.country, operators=CHOICE_OPERATORS),
        "access": choice(Project.access, ACCESS_CHOICES),
        "archived": boolean(Project.archived),
        "created": moment(Project.created),
        "last_updated": moment(Project.last_updated),
    },
    search=(Project.name, Project.description),
    ordering={"name": Project.name, "slug": Project.slug, "country": Project.country,
              "created": Project.created, "last_updated": Project.last_updated},
    default_ordering=("name",),
    tiebreaker=Project.id,
    relations={
        "organization": Relation(lambda: organizations.LISTING, Project.organization_id, Organization.id,
                                 visibility.organizations, key="slug"),
    },
    output=("id", "resource_uri", "organization", "name", "slug", "description", "country", "urls", "contacts",
            "access", "archived", "created", "last_updated", "version", "_links"),
    described={"organization": Output("related", "The project's organization.", related="organization")},
)


def represent(request, node: ProjectNode, depth: int = 0) -> dict:
    project = node.row
    href = path(request, node)
    organization_node = node.__parent__.__parent__
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
            "organization": link(path(request, organization_node)),
            **child_links(request, node, ("members", "parties", "resources", "history")),
        },
    }


def spellings(request, node: ProjectNode) -> frozenset:
    """The ways a form may name a project (Cadasta's clients do): by URL, slug or name."""
    return frozenset({path(request, node), node.row.slug, node.row.name})
