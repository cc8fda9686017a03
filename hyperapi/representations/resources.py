"""A resource (a file and what it is attached to), and how collections of resources may be queried."""

from __future__ import annotations

from ..auth import visibility
from ..auth.rules import Permission
from ..listing import CHOICE_OPERATORS, Listing, Output, Relation, boolean, choice, integer, moment, text
from ..models import ENTITY_TYPES, Organization, Project, Resource, ResourceAttachment, isoformat
from .links import api_root, link, path, tracked_fields

ATTACHMENTS = Listing(
    name="attachment",
    fields={
        "entity_type": choice(ResourceAttachment.entity_type, ENTITY_TYPES),
        "organization": text(Organization.slug, operators=CHOICE_OPERATORS),
        "project": text(Project.slug, operators=CHOICE_OPERATORS, nullable=True),
        "party": text(ResourceAttachment.party_id, operators=CHOICE_OPERATORS, nullable=True),
    },
)

_URI = {"type": "string", "format": "uri-reference"}
_NULLABLE_URI = {"type": ["string", "null"], "format": "uri-reference"}

LISTING = Listing(
    name="resource",
    fields={
        "name": text(Resource.name),
        "description": text(Resource.description),
        "original_file": text(Resource.original_file),
        "mime_type": text(Resource.mime_type),
        "entity_type": choice(Resource.entity_type, ENTITY_TYPES),
        "size": integer(Resource.size),
        "archived": boolean(Resource.archived),
        "created": moment(Resource.created),
        "last_updated": moment(Resource.last_updated),
    },
    search=(Resource.name, Resource.description, Resource.original_file),
    ordering={"name": Resource.name, "created": Resource.created, "last_updated": Resource.last_updated,
              "size": Resource.size},
    default_ordering=("name",),
    tiebreaker=Resource.id,
    relations={
        # `attachments__party=<id>`: only through attachments to entities the caller can see.
        "attachments": Relation(lambda: ATTACHMENTS, Resource.id, ResourceAttachment.resource_id,
                                visibility.attachments),
    },
    output=("id", "resource_uri", "name", "description", "file", "original_file", "mime_type", "size", "sha256",
            "revision", "previous_files", "entity_type", "attachments", "contributor", "archived", "created",
            "last_updated", "version", "_links"),
    described={
        "file": Output("uri", "Where to download the bytes (the current revision)."),
        "original_file": Output("string", "The file's name as the client gave it, made safe."),
        "mime_type": Output("string", "The type detected from the bytes."),
        "size": Output("integer", "The size in bytes."),
        "sha256": Output("string", "SHA-256 of the bytes, in hex; the download's ETag."),
        "revision": Output("integer", "The revision of the file; replacing the file adds one."),
        "previous_files": Output("list", "The earlier revisions of the file.", json={"type": "array", "items": {
            "type": "object",
            "properties": {"revision": {"type": "integer"}, "file": _URI, "original_file": {"type": "string"},
                           "mime_type": {"type": "string"}, "size": {"type": "integer"},
                           "sha256": {"type": "string"}, "contributor": _NULLABLE_URI,
                           "created": {"type": "string", "format": "date-time"}}}}),
        "entity_type": Output("string", "What the resource was first attached to."),
        "attachments": Output("list", "The entities it is attached to that the caller may see.", json={
            "type": "array", "items": {"type": "object", "properties": {
                "entity_type": {"enum": list(ENTITY_TYPES)}, "href": _URI}}}),
        "contributor": Output("related", "Who uploaded it (null if the caller may not see that user).",
                              nullable=True, related="user", json=_NULLABLE_URI),
    },
)


def canonical(request, node):
    """Its URL for this caller: under the first entity it is attached to that the caller can see."""
    for nested in node.attachments():
        if request.has_permission(Permission.VIEW, nested):
            return nested
    return node


def _user_link(request, user) -> str | None:
    """A user's URI, only for a caller who may follow it."""
    if user is None:
        return None
    node = api_root(request)["users"].wrap(user)
    return path(request, node) if request.has_permission(Permission.VIEW, node) else None


def represent(request, node, depth: int = 0) -> dict:
    resource = node.row
    canonical_node = canonical(request, node)
    href = path(request, canonical_node)
    content = path(request, canonical_node["content"])
    files = node.files()
    uploader = {stored.revision: user for stored, user in files}
    visible = [nested for nested in node.attachments() if request.has_permission(Permission.VIEW, nested)]
    attachments = [{"entity_type": n.__parent__.entity_type, "href": path(request, n.attached_to)} for n in visible]
    links = {
        "self": link(href),
        "up": link(path(request, canonical_node.__parent__)),
        "content": link(content),
        "attachments": [link(attachment["href"]) for attachment in attachments],
    }
    if "history" in canonical_node.children:
        links["history"] = link(path(request, canonical_node["history"]))
    return {
        "id": resource.id,
        "resource_uri": href,
        "name": resource.name,
        "description": resource.description,
        "file": content,
        "original_file": resource.original_file,
        "mime_type": resource.mime_type,
        "size": resource.size,
        "sha256": resource.sha256,
        "revision": resource.revision,
        "previous_files": [
            {
                "revision": stored.revision,
                "file": f"{content}?revision={stored.revision}",
                "original_file": stored.original_file,
                "mime_type": stored.mime_type,
                "size": stored.size,
                "sha256": stored.sha256,
                "contributor": _user_link(request, uploader[stored.revision]),
                "created": isoformat(stored.created),
            }
            for stored, _ in files
            if stored.revision < resource.revision
        ],
        "entity_type": resource.entity_type,
        "attachments": attachments,
        "contributor": _user_link(request, uploader.get(1)),
        "archived": resource.archived,
        **tracked_fields(resource),
        "_links": links,
    }
