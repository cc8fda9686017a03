"""Parties of a project: `…/projects/{prj}/parties/[{id}/]`."""

from ..models import PARTY_TYPES
from ..representations import parties, projects
from ..schemas import party_schema
from ..services import parties as service
from ..traversal import PartyContainer, PartyNode
from .viewset import READONLY, ViewSet


def create(request, container: PartyContainer, data):
    return service.create(request.db, container.project, data)


def update(request, node: PartyNode, data):
    service.update(request.db, node.row, data)


def delete(request, node: PartyNode):
    service.delete(request.db, request.files, node.row)


def project_spellings(request):
    """A form may name the new party's project (Cadasta's clients do): it can only be this one."""
    return {"project": projects.spellings(request, request.context.__parent__)}


def current_values(request):
    """What a PUT/PATCH may send back unchanged: the representation, the project in any spelling, and
    the old display name of a type it changes."""
    node = request.context
    values = parties.represent(request, node, 0)
    values["project"] = projects.spellings(request, node.__parent__.__parent__)
    values["type_display"] = frozenset(PARTY_TYPES.values())
    return values


def includeme(config):
    ViewSet(
        container=PartyContainer,
        item=PartyNode,
        represent=parties.represent,
        listing=parties.LISTING,
        schema=party_schema,
        create=create,
        update=update,
        delete=delete,
        readonly=READONLY | {"project", "type_display"},
        create_readonly_values=project_spellings,
        readonly_values=current_values,
    ).register(config)
