"""A party, and how a project's parties may be queried."""

from ..listing import CHOICE_OPERATORS, Listing, Output, boolean, choice, moment, text
from ..models import PARTY_TYPES, Party
from ..traversal import PartyNode
from . import projects
from .links import child_links, inline, link, path, tracked_fields

LISTING = Listing(
    name="party",
    fields={
        "name": text(Party.name),
        "type": choice(Party.type, PARTY_TYPES),
        "country": text(Party.country, operators=CHOICE_OPERATORS),
        "archived": boolean(Party.archived),
        "created": moment(Party.created),
        "last_updated": moment(Party.last_updated),
    },
    search=(Party.name,),
    ordering={"name": Party.name, "type": Party.type, "created": Party.created,
              "last_updated": Party.last_updated},
    default_ordering=("name",),
    tiebreaker=Party.id,
    output=("id", "resource_uri", "project", "name", "type", "type_display", "description", "country", "contacts",
            "attributes", "archived", "created", "last_updated", "version", "_links"),
    described={
        "project": Output("related", "The party's project.", related="project"),
        "type_display": Output("string", "The type in words.", json={"enum": list(PARTY_TYPES.values())}),
    },
)


def represent(request, node: PartyNode, depth: int = 0) -> dict:
    party = node.row
    href = path(request, node)
    project_node = node.__parent__.__parent__
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
            "project": link(path(request, project_node)),
            **child_links(request, node, ("resources", "history")),
        },
    }
