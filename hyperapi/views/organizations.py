from .. import collections as q
from ..models import Organization, ResourceAttachment
from ..schemas import organization_schema
from ..services import organizations as service
from ..services import resources
from ..traversal import OrganizationContainer, OrganizationNode
from .common import Entity, link, path, tracked_fields

LISTING = q.Listing(
    name="organization",
    fields={
        "name": q.text(Organization.name),
        "slug": q.text(Organization.slug, operators=q.CHOICE_OPERATORS),
        "access": q.choice(Organization.access, ("public", "private")),
        "archived": q.boolean(Organization.archived),
        "created": q.moment(Organization.created),
        "last_updated": q.moment(Organization.last_updated),
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
            "members": link(href + "members/"),
            "projects": link(href + "projects/"),
            "resources": link(href + "resources/"),
            "history": link(href + "history/"),
        },
    }


ENTITY = Entity(
    container=OrganizationContainer,
    item=OrganizationNode,
    represent=represent,
    listing=LISTING,
    schema=organization_schema,
    create=lambda request, container, data: service.create(request.db, request.identity.user, data),
    update=lambda request, node, data: service.update(request.db, node.row, data),
    delete=lambda request, node: (
        # Its resources attached nowhere else go with it (their bytes once this commits).
        resources.release(request, ResourceAttachment.organization_id == node.row.id),
        service.delete(request.db, node.row),
    ),
)

ENTITY.declare()
