"""A history entry (one change of one entity), and how a history may be queried."""

from __future__ import annotations

from ..listing import CHOICE_OPERATORS, Listing, Output, choice, moment, text
from ..models import ACTIONS, HistoryEntry, isoformat
from ..traversal.history import History, HistoryEntryNode, OrganizationHistory, PartyHistory
from .links import api_root, link, path

ENTITY_TYPES = ("organization", "project", "organization_member", "project_member", "party", "resource",
                "resource_attachment")

LISTING = Listing(
    name="history_entry",
    fields={
        "entity_type": choice(HistoryEntry.entity_type, ENTITY_TYPES),
        "entity_id": text(HistoryEntry.entity_label, operators=CHOICE_OPERATORS),
        "action": choice(HistoryEntry.action, ACTIONS),
        "created": moment(HistoryEntry.created),
    },
    ordering={"created": HistoryEntry.created, "id": HistoryEntry.id},
    default_ordering=("-id",),
    tiebreaker=HistoryEntry.id,
    output=("id", "resource_uri", "entity_type", "entity_id", "entity", "action", "user", "created", "changes",
            "_links"),
    described={
        "id": Output("integer", "The entry's number."),
        "entity_type": Output("string", "What kind of entity changed."),
        "entity_id": Output("string", "The key of the entity that changed."),
        "entity": Output("uri", "Where the entity lives, or lived: it may since have been deleted.", nullable=True),
        "action": Output("string", "What happened to it."),
        "user": Output("related", "Who did it (null once that user is deleted).", nullable=True, related="user",
                       json={"type": ["string", "null"], "format": "uri-reference"}),
        "changes": Output("dict", "Each changed field's old and new value.", json={
            "type": "object", "additionalProperties": {"type": "object", "properties": {"old": {}, "new": {}}}}),
    },
)


def _below(request, node, key: str) -> str:
    """The path of the item `key` of the collection `node`, whether or not it still exists."""
    return request.resource_path(node, key, "")


def _entity_path(request, history: History, entry: HistoryEntry) -> str | None:
    """Where the entity lives (or lived), when the history's place in the tree tells it."""
    subject = history.__parent__
    if entry.entity_type in ("resource", "resource_attachment"):
        return _below(request, api_root(request)["resources"], entry.entity_label)  # wherever it is attached now
    if isinstance(history, PartyHistory):
        return path(request, subject)
    if isinstance(history, OrganizationHistory):
        if entry.entity_type == "organization":
            return path(request, subject)
        if entry.entity_type == "organization_member":
            return _below(request, subject["members"], entry.entity_label)
        return None  # a project, or something in one: see that project's history
    if entry.entity_type == "project":
        return path(request, subject)
    if entry.entity_type == "project_member":
        return _below(request, subject["members"], entry.entity_label)
    return _below(request, subject["parties"], entry.entity_label)


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
        "user": _below(request, api_root(request)["users"], username) if username else None,
        "created": isoformat(entry.created),
        "changes": {field: {"old": old, "new": new} for field, (old, new) in entry.changes.items()},
        "_links": {"self": link(href), "up": link(path(request, node.__parent__))},
    }
    if "restore" in node.children and entry.entity_type == "party" and entry.action == "delete":
        body["_links"]["restore"] = link(path(request, node["restore"]))
    return body
