"""`…/history/` of organizations, projects, parties and resources, and bringing a deleted party back."""

from ..auth.rules import Permission
from ..representations import history, parties
from ..services import history as service
from ..traversal.history import (
    HistoryEntryNode,
    OrganizationHistory,
    PartyHistory,
    ProjectHistory,
    ProjectHistoryEntryNode,
    ResourceHistory,
    Restore,
)
from .answers import collection_answer, created, object_answer


def get_entry(request):
    return object_answer(request, request.context, history.represent, history.LISTING)


def restore(request):
    entry_node = request.context.__parent__
    project_node = entry_node.__parent__.__parent__
    party = service.restore_party(request.db, project_node.row, entry_node.record)
    return created(request, project_node["parties"].wrap(party), parties.represent)


def includeme(config):
    # On each concrete type: a view on a base class would lose to the 405 fallback of the subclass.
    for collection in (OrganizationHistory, ProjectHistory, PartyHistory, ResourceHistory):
        config.add_api_collection(collection, history.LISTING, history.represent, selectable=False)
        config.add_api_view(collection, "GET", collection_answer, Permission.VIEW)
    for entry in (HistoryEntryNode, ProjectHistoryEntryNode):
        config.add_api_view(entry, "GET", get_entry, Permission.VIEW)
    config.add_api_view(Restore, "POST", restore, Permission.CREATE)
