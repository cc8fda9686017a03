"""Resources: upload, attach, list, read, edit, detach, delete, and download the bytes (SPEC §7)."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import quote

from pyramid.response import Response
from sqlalchemy import select

from .. import collections as q
from .. import responses, visibility
from ..authz import Permission
from ..errors import forbidden, invalid
from ..models import ENTITY_TYPES, Organization, Project, Resource, ResourceAttachment, ResourceFile
from ..schemas import attach_schema, resource_schema
from ..services import resources as service
from ..traversal.resources import (
    AllResources,
    FlatResourceNode,
    OrganizationResourceNode,
    OrganizationResources,
    PartyResourceNode,
    PartyResources,
    ProjectResourceNode,
    ProjectResources,
    ResourceContent,
    forget,
)
from .common import (
    CREATE,
    PATCH,
    READONLY,
    REPLACE,
    SELECTABLE,
    Body,
    add_view,
    check_if_match,
    collection_response,
    created_response,
    isoformat,
    json_response,
    link,
    object_response,
    path,
    tracked_fields,
    version_etag,
)
from .errors import not_found

ATTACHMENTS = q.Listing(
    name="attachment",
    fields={
        "entity_type": q.choice(ResourceAttachment.entity_type, ENTITY_TYPES),
        "organization": q.text(Organization.slug, operators=q.CHOICE_OPERATORS),
        "project": q.text(Project.slug, operators=q.CHOICE_OPERATORS, nullable=True),
        "party": q.text(ResourceAttachment.party_id, operators=q.CHOICE_OPERATORS, nullable=True),
    },
)

_URI = {"type": "string", "format": "uri-reference"}
_NULLABLE_URI = {"type": ["string", "null"], "format": "uri-reference"}

LISTING = q.Listing(
    name="resource",
    fields={
        "name": q.text(Resource.name),
        "description": q.text(Resource.description),
        "original_file": q.text(Resource.original_file),
        "mime_type": q.text(Resource.mime_type),
        "entity_type": q.choice(Resource.entity_type, ENTITY_TYPES),
        "size": q.integer(Resource.size),
        "archived": q.boolean(Resource.archived),
        "created": q.moment(Resource.created),
        "last_updated": q.moment(Resource.last_updated),
    },
    search=(Resource.name, Resource.description, Resource.original_file),
    ordering={"name": Resource.name, "created": Resource.created, "last_updated": Resource.last_updated,
              "size": Resource.size},
    default_ordering=("name",),
    tiebreaker=Resource.id,
    relations={
        # `attachments__party=<id>`: only through attachments to entities the caller can see.
        "attachments": q.Relation(lambda: ATTACHMENTS, Resource.id, ResourceAttachment.resource_id,
                                  visibility.attachments),
    },
    output=("id", "resource_uri", "name", "description", "file", "original_file", "mime_type", "size", "sha256",
            "revision", "previous_files", "entity_type", "attachments", "contributor", "archived", "created",
            "last_updated", "version", "_links"),
    described={
        "file": q.Out("uri", "Where to download the bytes (the current revision)."),
        "original_file": q.Out("string", "The file's name as the client gave it, made safe."),
        "mime_type": q.Out("string", "The type detected from the bytes."),
        "size": q.Out("integer", "The size in bytes."),
        "sha256": q.Out("string", "SHA-256 of the bytes, in hex; the download's ETag."),
        "revision": q.Out("integer", "The revision of the file; replacing the file adds one."),
        "previous_files": q.Out("list", "The earlier revisions of the file.", json={"type": "array", "items": {
            "type": "object",
            "properties": {"revision": {"type": "integer"}, "file": _URI, "original_file": {"type": "string"},
                           "mime_type": {"type": "string"}, "size": {"type": "integer"},
                           "sha256": {"type": "string"}, "contributor": _NULLABLE_URI,
                           "created": {"type": "string", "format": "date-time"}}}}),
        "entity_type": q.Out("string", "What the resource was first attached to."),
        "attachments": q.Out("list", "The entities it is attached to that the caller may see.", json={
            "type": "array", "items": {"type": "object", "properties": {
                "entity_type": {"enum": list(ENTITY_TYPES)}, "href": _URI}}}),
        "contributor": q.Out("related", "Who uploaded it (null if the caller may not see that user).",
                             nullable=True, related="user", json=_NULLABLE_URI),
    },
)



def _canonical(request, node):
    """Its URL for this caller: under the first entity it is attached to that the caller can see."""
    for nested in node.attachments():
        if request.has_permission(Permission.VIEW, nested):
            return nested
    return node


def _user_link(request, user) -> str | None:
    """A user's URI, only for a caller who may follow it."""
    if user is None:
        return None
    node = request.root["api"]["v1"]["users"].wrap(user)
    return path(request, node) if request.has_permission(Permission.VIEW, node) else None


def represent(request, node, depth: int = 0) -> dict:
    resource = node.row
    canonical = _canonical(request, node)
    href = path(request, canonical)
    content = href + "content"
    files = node.files()
    uploader = {stored.revision: user for stored, user in files}
    visible = [nested for nested in node.attachments() if request.has_permission(Permission.VIEW, nested)]
    attachments = [{"entity_type": n.__parent__.entity_type, "href": path(request, n.attached_to)} for n in visible]
    links = {
        "self": link(href),
        "up": link(path(request, canonical.__parent__)),
        "content": link(content),
        "attachments": [link(attachment["href"]) for attachment in attachments],
    }
    if "history" in canonical.children:
        links["history"] = link(href + "history/")
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


# --- collections: list, upload, attach ------------------------------------------------------------


def list_resources(request):
    return collection_response(request, request.context, LISTING, represent)


def _attachable(request, resource_id: str, place: dict):
    """The resource a body's `{"id": …}` names: it does not exist for a caller who cannot see it, and
    only one who may edit it may attach it (an attachment gives the rules of its place: a collector
    attaching an organization's document to their project would become its editor)."""
    node = request.root["api"]["v1"]["resources"]
    try:
        flat = node[resource_id]
    except KeyError:
        flat = None
    if flat is None or not request.has_permission(Permission.VIEW, flat):
        raise invalid({"id": "Resource does not exist"})
    if flat.row.organization_id != place["organization_id"]:
        raise invalid({"id": "A resource can only be attached within its own organization."})
    if not request.has_permission(Permission.EDIT, flat):
        raise forbidden("You may only attach a resource you may edit.")
    return flat


def post(request):
    container = request.context
    data = request.validated
    if "id" in data:
        flat = _attachable(request, data["id"], container.place())
        service.attach(request, container.place(), flat.row)
        forget(request, flat.row.id)
        node = container.wrap(flat.row)
        return created_response(request, node, represent)
    resource = service.create(request, container.place(), data)
    return created_response(request, container.wrap(resource), represent)


# --- one resource ---------------------------------------------------------------------------------


def get(request):
    node = request.context
    return object_response(request, node, represent, LISTING, record=node.row)


def put(request):
    node = request.context
    check_if_match(request, node.row)
    service.update(request, node.row, request.validated)
    forget(request, node.row.id)
    return json_response(request, represent(request, node, 0), etag=version_etag(node.row))


def detach(request):
    node = request.context
    check_if_match(request, node.row)
    service.detach(request, node.row, node.__parent__.target)
    return responses.no_content()


def delete(request):
    node = request.context
    check_if_match(request, node.row)
    service.delete(request, node.row)
    return responses.no_content()


def current(request):
    values = represent(request, request.context, 0)
    # A client may send back the links it was given, whichever URL it fetched them from.
    values["resource_uri"] = frozenset({values["resource_uri"], path(request, request.context)})
    return values


# --- the bytes ------------------------------------------------------------------------------------


class StoredBytes:
    """The app_iter of a download: WebOb asks it for a range when the client sends `Range`."""

    def __init__(self, storage, key: str):
        self.storage = storage
        self.key = key

    def __iter__(self):
        return iter(self.storage.read(self.key))

    def app_iter_range(self, start, stop):
        return self.storage.read(self.key, start or 0, stop)


def content_disposition(filename: str) -> str:
    """`attachment` with the name in plain ASCII and, for the rest, RFC 6266's UTF-8 form."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _revision(request, resource):
    errors = {key: "Unknown query parameter." for key in request.GET.keys()
              if key not in ("revision", *q.credentials_in(request.GET))}
    raw = request.GET.getall("revision")
    if len(raw) > 1:
        errors["revision"] = "Give this parameter once."
    elif raw and not (raw[0].isascii() and raw[0].isdigit() and 0 < int(raw[0]) <= resource.revision):
        errors["revision"] = f"Must be a revision of this file, from 1 to {resource.revision}."
    if errors:
        raise invalid(errors)
    if not raw or int(raw[0]) == resource.revision:
        return resource
    return request.db.scalar(select(ResourceFile).where(ResourceFile.resource_id == resource.id,
                                                        ResourceFile.revision == int(raw[0])))


def content(request):
    resource = request.context.__parent__.row
    stored = _revision(request, resource)
    if stored is None:
        raise not_found(request)
    storage = request.registry["hyperapi.storage"]
    # Checked here, while an error can still become our JSON 500: the bytes themselves are sent after
    # the view has returned.
    if not storage.exists(stored.file):
        raise LookupError(f"the bytes of resource {resource.id} revision {stored.revision} are missing")
    response = Response(
        app_iter=StoredBytes(storage, stored.file),
        content_type=stored.mime_type,
        conditional_response=True,
    )
    response.content_length = stored.size
    response.etag = stored.sha256
    response.accept_ranges = "bytes"
    response.content_disposition = content_disposition(stored.original_file)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Vary"] = "Authorization"
    response.cache_control = "no-cache"  # the last-resort tween makes it no-store for a signed-in caller
    return response


# --- registration ---------------------------------------------------------------------------------

READONLY_FIELDS = READONLY | {"file", "original_file", "mime_type", "size", "sha256", "revision", "previous_files",
                              "entity_type", "attachments", "contributor"}

for container in (OrganizationResources, ProjectResources, PartyResources, AllResources):
    add_view(container, "GET", list_resources, Permission.VIEW, listing=LISTING)
    SELECTABLE[container] = (LISTING, represent)
UPLOAD = Body(resource_schema, CREATE, READONLY_FIELDS, files=frozenset({"file"}))
ATTACH = Body(attach_schema, CREATE)

for container in (OrganizationResources, ProjectResources, PartyResources):
    # A POST uploads a new file, or with `{"id": …}` attaches a resource that exists.
    add_view(container, "POST", post, Permission.CREATE,
             replace(UPLOAD, variant=lambda data: ATTACH if "id" in data else UPLOAD))
for item in (OrganizationResourceNode, ProjectResourceNode, PartyResourceNode, FlatResourceNode):
    add_view(item, "GET", get, Permission.VIEW)
    add_view(item, "PATCH", put, Permission.EDIT,
             Body(resource_schema, PATCH, READONLY_FIELDS, current, files=frozenset({"file"})))
for item in (OrganizationResourceNode, ProjectResourceNode, PartyResourceNode):
    add_view(item, "PUT", put, Permission.EDIT,
             Body(resource_schema, REPLACE, READONLY_FIELDS, current, files=frozenset({"file"})))
    add_view(item, "DELETE", detach, Permission.DELETE)
add_view(FlatResourceNode, "DELETE", delete, Permission.DELETE)
add_view(ResourceContent, "GET", content, Permission.VIEW)
