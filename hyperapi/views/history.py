from .. import collections as q
from ..authz import Permission
from ..models import ACTIONS, HistoryEntry
from ..services import history as service
from ..traversal.history import (
    History,
    HistoryEntryNode,
    OrganizationHistory,
    PartyHistory,
    ProjectHistory,
    ProjectHistoryEntryNode,
    ResourceHistory,
    Restore,
)
from . import parties
from .common import add_view, api_path, collection_response, created_response, isoformat, link, object_response, path

ENTITY_TYPES = ("organization", "project", "organization_member", "project_member", "party", "resource",
                "resource_attachment")

LISTING = q.Listing(
    name="history_entry",
    fields={
        "entity_type": q.choice(HistoryEntry.entity_type, ENTITY_TYPES),
        "entity_id": q.text(HistoryEntry.entity_label, operators=q.CHOICE_OPERATORS),
        "action": q.choice(HistoryEntry.action, ACTIONS),
        "created": q.moment(HistoryEntry.created),
    },
    ordering={"created": HistoryEntry.created, "id": HistoryEntry.id},
    default_ordering=("-id",),
    tiebreaker=HistoryEntry.id,
    output=("id", "resource_uri", "entity_type", "entity_id", "entity", "action", "user", "created", "changes",
            "_links"),
    described={
        "id": q.Out("integer", "The entry's number."),
        "entity_type": q.Out("string", "What kind of entity changed."),
        "entity_id": q.Out("string", "The key of the entity that changed."),
        "entity": q.Out("uri", "Where the entity lives, or lived: it may since have been deleted.", nullable=True),
        "action": q.Out("string", "What happened to it."),
        "user": q.Out("related", "Who did it (null once that user is deleted).", nullable=True, related="user",
                      json={"type": ["string", "null"], "format": "uri-reference"}),
        "changes": q.Out("dict", "Each changed field's old and new value.", json={
            "type": "object", "additionalProperties": {"type": "object", "properties": {"old": {}, "new": {}}}}),
    },
)


def _entity_path(request, history: History, entry: HistoryEntry) -> str | None:
    """Where the entity lives (or lived), when the history's place in the tree tells it."""
    subject = path(request, history.__parent__)
    if entry.entity_type in ("resource", "resource_attachment"):
        return api_path(request, "resources", entry.entity_label)  # wherever it is attached now
    if isinstance(history, PartyHistory):
        return subject
    if isinstance(history, OrganizationHistory):
        if entry.entity_type == "organization":
            return subject
        if entry.entity_type == "organization_member":
            return f"{subject}members/{entry.entity_label}/"
        return None  # a project, or something in one: see that project's history
    if entry.entity_type == "project":
        return subject
    if entry.entity_type == "project_member":
        return f"{subject}members/{entry.entity_label}/"
    return f"{subject}parties/{entry.entity_label}/"


def represent(request, node: HistoryEntryNode, depth: int = 0) -> dict:
    entry, username = node.row
    href = path(request, node)
    body = {
        "id": entry.id,
        "resource_uri": href,
        "entity_type": entry.entity_type,
        "entity_id": entry.entity_label,
        "entity": _entity_path(request, node.__parent__, entry),
        "action": entry.action,
        "user": api_path(request, "users", username) if username else None,
        "created": isoformat(entry.created),
        "changes": {field: {"old": old, "new": new} for field, (old, new) in entry.changes.items()},
        "_links": {"self": link(href), "up": link(path(request, node.__parent__))},
    }
    if "restore" in node.children and entry.entity_type == "party" and entry.action == "delete":
        body["_links"]["restore"] = link(href + "restore/")
    return body


def list_history(request):
    return collection_response(request, request.context, LISTING, represent)


def get_entry(request):
    return object_response(request, request.context, represent, LISTING)


def restore(request):
    entry_node = request.context.__parent__
    project_node = entry_node.__parent__.__parent__
    party = service.restore_party(request.db, project_node.row, entry_node.record)
    party_node = project_node["parties"].wrap(party)
    return created_response(request, party_node, parties.represent)


def declare():
    # On each concrete type: a view on a base class would lose to the 405 fallback of the subclass.
    for history in (OrganizationHistory, ProjectHistory, PartyHistory, ResourceHistory):
        add_view(history, "GET", list_history, Permission.VIEW, listing=LISTING)
    for entry in (HistoryEntryNode, ProjectHistoryEntryNode):
        add_view(entry, "GET", get_entry, Permission.VIEW)
    add_view(Restore, "POST", restore, Permission.CREATE)


declare()
