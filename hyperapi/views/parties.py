from .. import collections as q
from ..models import PARTY_TYPES, Party, ResourceAttachment
from ..schemas import party_schema
from ..services import parties as service
from ..services import resources
from ..traversal import PartyContainer, PartyNode
from . import projects
from .common import READONLY, Entity, inline, link, path, tracked_fields

LISTING = q.Listing(
    name="party",
    fields={
        "name": q.text(Party.name),
        "type": q.choice(Party.type, PARTY_TYPES),
        "country": q.text(Party.country, operators=q.CHOICE_OPERATORS),
        "archived": q.boolean(Party.archived),
        "created": q.moment(Party.created),
        "last_updated": q.moment(Party.last_updated),
    },
    search=(Party.name,),
    ordering={"name": Party.name, "type": Party.type, "created": Party.created,
              "last_updated": Party.last_updated},
    default_ordering=("name",),
    tiebreaker=Party.id,
    output=("id", "resource_uri", "project", "name", "type", "type_display", "description", "country", "contacts",
            "attributes", "archived", "created", "last_updated", "version", "_links"),
    described={
        "project": q.Out("related", "The party's project.", related="project"),
        "type_display": q.Out("string", "The type in words.", json={"enum": list(PARTY_TYPES.values())}),
    },
)


def represent(request, node: PartyNode, depth: int = 0) -> dict:
    party = node.row
    href = path(request, node)
    project_node = node.__parent__.__parent__
    project_href = path(request, project_node)
    return {
        "id": party.id,
        "resource_uri": href,
        "project": inline(request, project_node, projects.represent, depth),
        "name": party.name,
        "type": party.type,
        "type_display": PARTY_TYPES[party.type],
        "description": party.description,
        "country": party.country,
        "contacts": party.contacts,
        "attributes": party.attributes,
        "archived": party.archived,
        **tracked_fields(party),
        "_links": {
            "self": link(href),
            "up": link(path(request, node.__parent__)),
            "project": link(project_href),
            "resources": link(href + "resources/"),
            "history": link(href + "history/"),
        },
    }


def _project_spellings(request, project_node) -> frozenset:
    """A form may name the party's project (Cadasta's clients do): by URL, slug or name."""
    return frozenset({path(request, project_node), project_node.row.slug, project_node.row.name})


def parent_links(request):
    return {"project": _project_spellings(request, request.context.__parent__)}


def current(request):
    node = request.context
    values = represent(request, node, 0)
    values["project"] = _project_spellings(request, node.__parent__.__parent__)
    # Derived from `type`: a client changing the type may send back the old display name.
    values["type_display"] = frozenset(PARTY_TYPES.values())
    return values


ENTITY = Entity(
    container=PartyContainer,
    item=PartyNode,
    represent=represent,
    listing=LISTING,
    schema=party_schema,
    create=lambda request, container, data: service.create(request.db, container.project, data),
    update=lambda request, node, data: service.update(request.db, node.row, data),
    delete=lambda request, node: (
        # Its resources attached nowhere else go with it (their bytes once this commits).
        resources.release(request, ResourceAttachment.party_id == node.row.id),
        service.delete(request.db, node.row),
    ),
    readonly=READONLY | {"project", "type_display"},
    parent_links=parent_links,
    current_values=current,
)

ENTITY.declare()
