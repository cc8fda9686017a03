"""What every view shares: the one Cornice service, body parsing and validation, JSON responses,
links, conditional requests, and the 405 that knows which methods a node answers."""

from __future__ import annotations

import datetime
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

import colander
from cornice import Service
from pyramid.response import Response

from .. import collections as listing_language
from .. import responses
from ..authz import Permission
from ..errors import APIError, invalid, too_large
from ..limits import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_JSON_DEPTH
from ..schemas import CREATE, PATCH, REPLACE, for_mode
from ..traversal import root_factory
from . import formats
from .errors import not_found

SERVICE_NAME = "hyperapi"

# Every view, declared when its module is imported; `make_service` puts them on one Cornice service
# per configured app (views are told apart by the type of their context).
DECLARATIONS: list[tuple] = []


@dataclass(frozen=True)
class Declared:
    """What a method of a context type needs, and takes: for `Allow`, 405s, `schema/` and OpenAPI."""

    permission: Permission
    body: Body | None


# Per context type, its methods in the order declared (Cornice only knows them per service).
VIEWS: dict[type, dict[str, Declared]] = defaultdict(dict)

# Per collection type, the declaration of its query language and items (`hyperapi.collections`).
LISTINGS: dict[type, listing_language.Listing] = {}

# Fields every representation carries and no body may change.
READONLY = frozenset({"id", "resource_uri", "_links", "created", "last_updated", "version"})

JSON_TYPES = ("application/json",)
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def json_body(body) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def json_response(request, body, status: int = 200, headers: dict | None = None, etag: str | None = None):
    response = Response(body=json_body(body), status=status, content_type="application/json", charset="utf-8")
    if headers:
        response.headers.update(headers)
    if etag is not None:
        response.etag = etag
    response.headers["Vary"] = "Authorization"
    response.cache_control = "no-cache"  # the last-resort tween makes it no-store for a signed-in caller
    if request.method in ("GET", "HEAD"):
        if etag is None:
            response.md5_etag()
        response.conditional_response = True
    return response


def isoformat(moment: datetime.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def path(request, node) -> str:
    return request.resource_path(node)


def api_path(request, *segments: str) -> str:
    """The path of a node known by its place in the tree, without loading it."""
    return request.script_name + "/api/v1/" + "".join(quote(segment, safe="") + "/" for segment in segments)


def link(href: str) -> dict:
    return {"href": href}


def link_objects(links: dict[str, str]) -> dict[str, dict]:
    """`{rel: href}` as a body's `_links`."""
    return {rel: link(href) for rel, href in links.items()}


def inline(request, node, represent, depth: int):
    """A related entity: its URI, or at `depth` > 0 its whole representation — only if the caller may
    view it (inlining is a read like any other)."""
    href = path(request, node)
    if depth > 0 and request.has_permission(Permission.VIEW, node):
        return represent(request, node, depth - 1)
    return href


def tracked_fields(row) -> dict:
    return {"created": isoformat(row.created), "last_updated": isoformat(row.last_updated), "version": row.version}


def version_etag(row) -> str:
    return f'"{row.version}"'


# --- bodies ----------------------------------------------------------------------------------------


def _walk(value):
    """(item, depth) for every value, key and container in parsed JSON (without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        yield item, depth
        if isinstance(item, dict):
            stack.extend((k, depth + 1) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


def json_depth(value) -> int:
    """How deeply lists and objects nest in a parsed JSON value."""
    return max((depth for item, depth in _walk(value) if isinstance(item, (dict, list))), default=0)


def unstorable_fields(data: dict) -> dict[str, str]:
    """For each field holding a string that cannot be stored and sent back as UTF-8 JSON: why."""
    problems = {}
    for key, value in data.items():
        problem = unstorable_text(key) or unstorable_text(value)
        if problem:
            # The key itself may be the culprit: name it in a form that can be sent back.
            problems[key.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\0")] = problem
    return problems


def unstorable_text(value) -> str | None:
    """Why some string in `value` cannot be stored and sent back as UTF-8 JSON, if one cannot."""
    for item, _ in _walk(value):
        if isinstance(item, str):
            if "\x00" in item:
                return "Text must not contain NUL characters."
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return "Text must be valid Unicode (no lone surrogates)."
    return None


def _finite(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise ValueError(f"number out of range: {text}")
    return number


def _no_constants(name: str):
    raise ValueError(f"{name} is not JSON")


def _has_body(request) -> bool:
    # Without reading it: `request.body` would hold a whole upload in memory.
    if request.content_length is not None:
        return request.content_length > 0
    return request.is_body_readable and bool(request.body)


def parse_body(request, files: frozenset = frozenset()) -> dict:
    """The request body as a dict of fields, from JSON, a multipart form or a urlencoded form.

    The fields named in `files` take a file part of a multipart form (and nothing else)."""
    content_type = (request.content_type or "").lower()
    if not _has_body(request) and content_type in ("",) + FORM_TYPES + JSON_TYPES:
        return {}
    if content_type in JSON_TYPES or content_type.endswith("+json"):
        try:
            text = request.body.decode(request.charset or "utf-8")
        except (LookupError, UnicodeDecodeError):
            raise invalid({"body": "The body is not text in the charset it declares (use UTF-8)."}) from None
        try:
            data = json.loads(text, parse_float=_finite, parse_constant=_no_constants)
        except ValueError as exc:
            raise invalid({"body": f"Malformed JSON: {exc}"}) from None
        except RecursionError:
            raise invalid({"body": "The JSON is nested too deeply."}) from None
        if not isinstance(data, dict):
            raise invalid({"body": "Must be a JSON object."})
        max_depth = int(request.registry.settings.get("hyperapi.max_json_depth", DEFAULT_MAX_JSON_DEPTH))
        if json_depth(data) > max_depth:
            raise invalid({"body": f"The JSON is nested more than {max_depth} levels deep."})
        problems = unstorable_fields(data)
        if problems:
            raise invalid(problems)
        return data
    if content_type in FORM_TYPES:
        if not files:
            # Only uploads may use the larger limit a multipart body gets past the limits tween.
            max_body = int(request.registry.settings.get("hyperapi.max_body_bytes", DEFAULT_MAX_BODY_BYTES))
            if (request.content_length or 0) > max_body:
                raise too_large(max_body)
        try:
            form = request.POST
            keys = list(dict.fromkeys(form.keys()))
        except Exception:  # webob/cgi raise assorted errors on a cut-off or malformed body
            raise invalid({"body": "Malformed form body."}) from None
        data, errors = {}, {}
        for key in keys:
            values = form.getall(key)
            if len(values) > 1:
                errors[key] = "Send this field once."
            elif not isinstance(values[0], str) and key not in files:
                errors[key] = "Files are not accepted in this field."
            else:
                data[key] = values[0]
        errors.update(unstorable_fields({k: v for k, v in data.items() if k not in files}))
        if errors:
            raise invalid(errors)
        return data
    raise APIError(415, f"Unsupported media type {content_type!r}: send application/json or a form.")


@dataclass(frozen=True)
class Body:
    """How a view's body is validated: which schema, in which mode, with which read-only fields.

    `current` gives the values read-only fields must keep (for PUT/PATCH, the entity's
    representation; for POST, the links the new entity will have), so a representation fetched with
    GET can be sent back as it is. A frozenset there lists every spelling accepted for the value."""

    schema: Callable[[], colander.SchemaNode]
    mode: str
    readonly: frozenset = frozenset()
    current: Callable | None = None
    files: frozenset = frozenset()  # fields that take an uploaded file (multipart/form-data only)
    # For a body that can be one of several kinds: picks the spec from the fields sent.
    variant: Callable[[dict], Body] | None = None


def _unchanged(sent, current) -> bool:
    """`current` is the value a read-only field has, or a frozenset of the values it may be sent as."""
    if isinstance(current, frozenset):
        return isinstance(sent, str) and sent in current
    if sent == current:
        return True
    # A form body carries every value as text.
    return isinstance(sent, str) and not isinstance(current, str) and sent == json.dumps(current)


def validate_body(request, **kwargs):
    """Cornice validator: fills `request.validated`, or `request.errors` with one message per field."""
    spec: Body = kwargs["schema"]
    data = parse_body(request, spec.files)
    if spec.variant is not None:
        spec = spec.variant(data)
    uploads = {key: data.pop(key) for key in spec.files if key in data and not isinstance(data[key], str)}
    schema = spec.schema()
    known = {child.name for child in schema.children}
    current = spec.current(request) if spec.current else {}
    errors = {}
    for key in list(data):
        if key in known:
            continue
        if key in spec.readonly or key in current:
            if key in current and _unchanged(data[key], current[key]):
                del data[key]
            elif key in spec.files:
                errors[key] = "Send the file's bytes as a file part of a multipart/form-data body."
            else:
                errors[key] = "This field is read-only."
        else:
            errors[key] = "Unknown field."
    data = {key: value for key, value in data.items() if key in known}
    schema = for_mode(schema, spec.mode, set(data))
    try:
        request.validated = {**schema.deserialize(data), **uploads}
    except colander.Invalid as exc:
        for name, message in exc.asdict().items():
            errors.setdefault(name or "body", message)
    for name, message in errors.items():
        request.errors.add("body", name, message)


def error_handler(request):
    errors = {error["name"]: error["description"] for error in request.errors}
    return invalid(errors, status=request.errors.status)


def check_if_match(request, row) -> None:
    """412 unless `If-Match` (when sent) names the entity's current version."""
    if str(row.version) not in request.if_match:  # webob: no header matches anything
        raise APIError(412, "The entity has changed since you fetched it (If-Match does not match).")


# --- registration ----------------------------------------------------------------------------------


def validate_write_query(request, **kwargs):
    """A write takes no query parameters: one sent is a mistake, never silently ignored."""
    for key in request.GET.keys():
        request.errors.add("querystring", key, "Unknown query parameter.")


def add_view(context: type, method: str, view, permission: Permission, body: Body | None = None,
             listing: listing_language.Listing | None = None):
    """Declare `view` for `method` on nodes of type `context`; a collection's GET names its `listing`."""
    kwargs = {"context": context, "permission": str(permission), "error_handler": error_handler}
    validators = [] if method in ("GET", "HEAD") else [validate_write_query]
    if body is not None:
        kwargs["schema"] = body
        validators.append(validate_body)
    if validators:
        kwargs["validators"] = tuple(validators)
    DECLARATIONS.append((method, view, kwargs))
    VIEWS[context][method] = Declared(permission, body)
    if listing is not None:
        LISTINGS[context] = listing


def make_service() -> Service:
    service = Service(name=SERVICE_NAME, path="/*traverse", factory=root_factory, description="hyperapi")
    for method, view, kwargs in DECLARATIONS:
        service.add_view(method, view, **kwargs)
    return service


def allowed_methods(context_type: type, may: Callable[[Declared], bool] = lambda declared: True) -> list[str]:
    """The methods nodes of this type answer (GET brings HEAD), or those of them `may` lets through."""
    methods = []
    for method, declared in VIEWS.get(context_type, {}).items():
        if may(declared):
            methods += [method, "HEAD"] if method == "GET" else [method]
    return [*methods, "OPTIONS"]


def methods_for(request, context) -> list[str]:
    """The methods this caller may use on this node (its own `Allow`)."""
    return allowed_methods(type(context), lambda declared: request.has_permission(str(declared.permission), context))


def method_not_allowed(request):
    allow = ", ".join(allowed_methods(type(request.context)))
    raise APIError(405, f"Method {request.method} is not allowed here.", headers={"Allow": allow})


def register_fallbacks(config, node_types, options_view) -> None:
    """OPTIONS on every node, and a wrong method is a 405 — if the caller may view the node, else the
    usual 404."""
    for node_type in node_types:
        config.add_view(options_view, route_name=SERVICE_NAME, context=node_type, request_method="OPTIONS",
                        permission=str(Permission.VIEW))
        config.add_view(method_not_allowed, route_name=SERVICE_NAME, context=node_type,
                        permission=str(Permission.VIEW))


def select_fields(obj: dict, fields: frozenset | None) -> dict:
    if fields is None:
        return obj
    return {key: value for key, value in obj.items() if key in fields or key in ("id", "resource_uri")}


def render(request, body, *, fmt: str, collection: bool = False, links: dict | None = None,
           etag: str | None = None, headers: dict | None = None, listing=None) -> Response:
    """A GET's answer in the format asked for, with its ETag (304 on If-None-Match)."""
    if fmt == "json":
        response = json_response(request, body, etag=etag, headers=headers)
        response.headers["Vary"] = "Authorization, Accept"  # the format is negotiated
        return response
    if fmt == "html":
        from . import html  # it builds on this module

        return html.page(request, body, collection=collection, links=links, headers=headers, listing=listing)
    data = formats.serialize(fmt, body, collection=collection, links=links, callback=request.GET.get("callback"))
    response = Response(body=data, content_type=formats.MEDIA_TYPES[fmt], charset="utf-8")
    if fmt == "csv":
        response.content_disposition = "inline"
    return negotiated(response, headers)


def negotiated(response: Response, headers: dict | None = None) -> Response:
    """A GET's answer in a negotiated format: its headers, an ETag of its bytes (304 on If-None-Match)."""
    if headers:
        response.headers.update(headers)
    response.headers["Vary"] = "Authorization, Accept"
    response.cache_control = "no-cache"  # the last-resort tween makes it no-store for a signed-in caller
    response.md5_etag()
    response.conditional_response = True
    return response


def request_shape(request, listing=listing_language.Listing()):
    fmt = formats.requested_format(request)
    try:
        return fmt, listing_language.parse_object_params(request.GET, listing)
    except listing_language.QueryError as exc:
        raise invalid(exc.errors) from None


def object_response(request, node, represent, listing, record=None) -> Response:
    fmt, shape = request_shape(request, listing)
    body = select_fields(represent(request, node, shape.depth), shape.fields)
    etag = version_etag(record) if record is not None else None
    return render(request, body, fmt=fmt, etag=etag)


def openapi_path(request) -> str:
    return api_path(request) + "openapi.json"


def link_header(request, links: dict[str, str]) -> str:
    """RFC 8288: `<url>; rel="next", …` (the link to itself goes without saying)."""
    return ", ".join(f'<{request.host_url}{href}>; rel="{rel}"' for rel, href in links.items() if rel != "self")


def collection_links(request, container, page_links: dict[str, str]) -> dict[str, str]:
    """A collection's links: its pages, the object it belongs to, its schema and the API's document."""
    return {**page_links, "up": path(request, container.__parent__),
            "describedby": path(request, container) + "schema/", "service-desc": openapi_path(request)}


def collection_response(request, container, listing, represent) -> Response:
    fmt = formats.requested_format(request)
    try:
        page = listing_language.run(request, container, listing)
    except listing_language.QueryError as exc:
        raise invalid(exc.errors) from None
    objects = [select_fields(represent(request, node, page.shape.depth), page.shape.fields) for node in page.nodes]
    links = collection_links(request, container, page.links)
    body = {"meta": page.meta, "objects": objects, "_links": link_objects(links)}
    return render(request, body, fmt=fmt, collection=True, links=links, headers={"Link": link_header(request, links)},
                  listing=listing)


# Collections that answer `set/`: container type -> (listing, represent).
SELECTABLE: dict[type, tuple] = {}


def set_response(request) -> Response:
    """`<collection>/set/a;b/`: the objects the caller may see, and the ids not found (hidden or not)."""
    selection = request.context
    container = selection.container
    if type(container) not in SELECTABLE:
        raise not_found(request)
    listing, represent = SELECTABLE[type(container)]
    ids = selection.ids
    if not ids or len(ids) > listing_language.MAX_SET_IDS:
        raise invalid({"set": f"Give from 1 to {listing_language.MAX_SET_IDS} ids separated by ';'."})
    fmt = formats.requested_format(request)
    try:
        found, missing, shape = listing_language.select_ids(request, container, listing, ids)
    except listing_language.QueryError as exc:
        raise invalid(exc.errors) from None
    objects = [select_fields(represent(request, node, shape.depth), shape.fields) for node in found]
    links = {"self": path(request, selection), "up": path(request, container),
             "describedby": path(request, container) + "schema/"}
    body = {"objects": objects, "not_found": missing, "_links": link_objects(links)}
    return render(request, body, fmt=fmt, collection=True, links=links)


def created_response(request, node, represent) -> Response:
    href = path(request, node)
    etag = version_etag(node.record) if hasattr(node.record, "version") else None
    return json_response(request, represent(request, node, 0), status=201,
                         headers={"Location": request.host_url + href}, etag=etag)


__all__ = ["CREATE", "PATCH", "REPLACE", "add_view", "Body", "make_service"]


@dataclass(frozen=True)
class Entity:
    """The usual views of an entity type: list and create on its container, read, replace, patch and
    delete on its items — each a thin call into a service function."""

    container: type
    item: type
    represent: Callable
    listing: listing_language.Listing
    schema: Callable[[], colander.SchemaNode]
    create: Callable  # (request, container node, validated) -> row
    update: Callable  # (request, item node, validated) -> None
    delete: Callable  # (request, item node) -> None
    readonly: frozenset = READONLY
    create_schema: Callable | None = None
    parent_links: Callable | None = None  # (request) -> read-only values a POST may repeat
    current_values: Callable | None = None  # (request) -> read-only values a PUT/PATCH may repeat
    replaceable: bool = True  # whether items answer PUT (SPEC §2: members and users do not)

    def list(self, request):
        return collection_response(request, request.context, self.listing, self.represent)

    def post(self, request):
        row = self.create(request, request.context, request.validated)
        return created_response(request, request.context.wrap(row), self.represent)

    def get(self, request):
        node = request.context
        return object_response(request, node, self.represent, self.listing, record=node.record)

    def put(self, request):
        node = request.context
        check_if_match(request, node.record)
        self.update(request, node, request.validated)
        fresh = node.__parent__.wrap(node.row)  # its key may have changed
        return json_response(request, self.represent(request, fresh, 0), etag=version_etag(node.record))


    def remove(self, request):
        check_if_match(request, request.context.record)
        self.delete(request, request.context)
        return responses.no_content()

    def current(self, request):
        if self.current_values is not None:
            return self.current_values(request)
        return self.represent(request, request.context, 0)

    def declare(self):
        add_view(self.container, "GET", self.list, Permission.VIEW, listing=self.listing)
        SELECTABLE[self.container] = (self.listing, self.represent)
        add_view(self.container, "POST", self.post, Permission.CREATE,
                 Body(self.create_schema or self.schema, CREATE, self.readonly, self.parent_links))
        add_view(self.item, "GET", self.get, Permission.VIEW)
        if self.replaceable:
            add_view(self.item, "PUT", self.put, Permission.EDIT,
                     Body(self.schema, REPLACE, self.readonly, self.current))
        add_view(self.item, "PATCH", self.put, Permission.EDIT, Body(self.schema, PATCH, self.readonly, self.current))
        add_view(self.item, "DELETE", self.remove, Permission.DELETE)
