"""An organization, and how its collection may be queried."""

from ..listing import CHOICE_OPERATORS, Listing, boolean, choice, moment, text
from ..models import ACCESS_CHOICES, Organization
from ..traversal import OrganizationNode
from .links import child_links, link, path, tracked_fields

LISTING = Listing(
    name="organization",
    fields={
        "name": text(Organization.name),
        "slug": text(Organization.slug, operators=CHOICE_OPERATORS),
        "access": choice(Organization.access, ACCESS_CHOICES),
        "archived": boolean(Organization.archived),
        "created": moment(Organization.created),
        "last_updated": moment(Organization.last_updated),
    },
    search=(Organization.name, Organization.description),
    ordering={"name": Organization.name, "slug": Organization.slug, "created": Organization.created,
              "last_updated": Organization.last_updated},
    default_ordering=("name",),
    tiebreaker=Organization.id,
    output=("id", "resource_uri", "name", "slug", "description", "urls", "contacts", "access", "archived",
            "created", "last_updated", "version", "_links"),
)


def represent(request, node: OrganizationNode, depth: int = 0) -> dict:
    org = node.row
    href = path(request, node)
    return {
        "id": org.slug,
        "resource_uri": href,
        "name": org.name,
        "slug": org.slug,
        "description": org.description,
        "urls": org.urls,
        "contacts": org.contacts,
        "access": org.access,
        "archived": org.archived,
        **tracked_fields(org),
        "_links": {
            "self": link(href),
            "up": link(path(request, node.__parent__)),
            **child_links(request, node, ("members", "projects", "resources", "history")),
        },
    }


def spellings(request, node: OrganizationNode) -> frozenset:
    """The ways a form may name an organization (Cadasta's clients do): by URL, slug or name."""
    return frozenset({path(request, node), node.row.slug, node.row.name})
