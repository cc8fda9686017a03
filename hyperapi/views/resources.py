"""Resources: upload, attach, list, read, edit, detach, delete, and download the bytes (SPEC §7)."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import quote

from pyramid.response import Response
from sqlalchemy import select

from ..auth.rules import Permission
from ..listing import credentials_in
from ..models import ResourceFile
from ..representations import resources
from ..representations.links import api_root, path
from ..schemas import CREATE, PATCH, REPLACE, attach_schema, resource_schema
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
from ..web.errors import forbidden, invalid
from ..web.exception_views import not_found
from .answers import changed, check_if_match, collection_answer, created, deleted, object_answer
from .bodies import Body
from .viewset import READONLY

READONLY_FIELDS = READONLY | {"file", "original_file", "mime_type", "size", "sha256", "revision", "previous_files",
                              "entity_type", "attachments", "contributor"}


def _contributor_id(request) -> int | None:
    identity = request.identity
    return identity.user_id if identity is not None else None


# --- collections: upload, attach ------------------------------------------------------------------


def _attachable(request, resource_id: str, place: dict):
    """The resource a body's `{"id": …}` names: it does not exist for a caller who cannot see it, and
    only one who may edit it may attach it (an attachment gives the rules of its place: a collector
    attaching an organization's document to their project would become its editor)."""
    try:
        flat = api_root(request)["resources"][resource_id]
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
    """A new file (multipart), or with `{"id": …}` a resource that exists, attached here."""
    container = request.context
    data = request.validated
    if "id" in data:
        flat = _attachable(request, data["id"], container.place())
        service.attach(request.db, container.place(), flat.row)
        forget(request, flat.row.id)
        return created(request, container.wrap(flat.row), resources.represent)
    resource = service.create(request.db, request.files, request.upload_policy,
                              container.place(), data, _contributor_id(request))
    return created(request, container.wrap(resource), resources.represent)


# --- one resource ---------------------------------------------------------------------------------


def get(request):
    node = request.context
    return object_answer(request, node, resources.represent, resources.LISTING)


def put(request):
    node = request.context
    check_if_match(request, node, resources.represent)
    service.update(request.db, request.files, request.upload_policy, node.row,
                   request.validated, _contributor_id(request))
    forget(request, node.row.id)
    return changed(request, node, resources.represent)


def detach(request):
    """DELETE under an entity: detach it from there (the last detachment deletes it)."""
    node = request.context
    check_if_match(request, node, resources.represent)
    service.detach(request.db, request.files, node.row, [node.__parent__.target])
    return deleted()


def detach_everywhere_allowed(request):
    """DELETE of `/resources/{id}/`: detach it from every entity the caller may delete it from."""
    node = request.context
    check_if_match(request, node, resources.represent)
    targets = [nested.__parent__.target for nested in node.deletable_attachments()]
    service.detach(request.db, request.files, node.row, targets)
    return deleted()


def current(request):
    values = resources.represent(request, request.context, 0)
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
              if key not in ("revision", *credentials_in(request.GET))}
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

UPLOAD = Body(resource_schema, CREATE, READONLY_FIELDS, files=frozenset({"file"}))
ATTACH = Body(attach_schema, CREATE)
NESTED_COLLECTIONS = (OrganizationResources, ProjectResources, PartyResources)
NESTED_ITEMS = (OrganizationResourceNode, ProjectResourceNode, PartyResourceNode)


def includeme(config):
    for container in (*NESTED_COLLECTIONS, AllResources):
        config.add_api_collection(container, resources.LISTING, resources.represent)
        config.add_api_view(container, "GET", collection_answer, Permission.VIEW)
    for container in NESTED_COLLECTIONS:
        # A POST uploads a new file, or with `{"id": …}` attaches a resource that exists.
        config.add_api_view(container, "POST", post, Permission.CREATE,
                            replace(UPLOAD, variant=lambda data: ATTACH if "id" in data else UPLOAD))
    for item in (*NESTED_ITEMS, FlatResourceNode):
        config.add_api_view(item, "GET", get, Permission.VIEW)
        config.add_api_view(item, "PATCH", put, Permission.EDIT,
                            Body(resource_schema, PATCH, READONLY_FIELDS, current, files=frozenset({"file"})))
    for item in NESTED_ITEMS:
        config.add_api_view(item, "PUT", put, Permission.EDIT,
                            Body(resource_schema, REPLACE, READONLY_FIELDS, current, files=frozenset({"file"})))
        config.add_api_view(item, "DELETE", detach, Permission.DELETE)
    config.add_api_view(FlatResourceNode, "DELETE", detach_everywhere_allowed, Permission.DELETE)
    config.add_api_view(ResourceContent, "GET", content, Permission.VIEW)
