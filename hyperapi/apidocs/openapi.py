"""`/api/v1/openapi.json`: the OpenAPI 3.1 document of the whole API, generated, never written by hand.

Its paths are the URL shapes of the traversal tree (`traversal.url_templates`), its operations the
views declared on each node type (`request.registry.api_views`), its query parameters each collection's `Listing`,
its request bodies the Colander schemas those views validate with, and its response bodies the
representations as `describe` knows them. A test keeps it in step with the registered views, and
schemathesis checks the live app against it.
"""

from __future__ import annotations

import copy

import colander

from ..listing import DEFAULT_LIMIT, INT64_MAX, INT64_MIN, LINKS, MAX_DEPTH, MAX_LIMIT, Listing, Output
from ..renderers.negotiation import CALLBACK, MEDIA_TYPES
from ..schemas import CREATE, PATCH
from ..schemas.fieldtypes import form_schema
from ..traversal import (
    Account,
    ApiRoot,
    CollectionSchema,
    Container,
    Item,
    Login,
    OpenAPIDocument,
    PartyContainer,
    Selection,
    SetNode,
    SiteRoot,
    TokenContainer,
    UserContainer,
    url_templates,
)
from ..traversal.history import Restore
from ..traversal.resources import NestedResourceNode, ResourceContent
from .describe import KIND_SCHEMAS, Collection, body_fields

VERSION = "1.0.0"
REF = "#/components/schemas/"

# What the query language's filter kinds take, as query-string values.
FILTER_VALUES = {
    "text": {"type": "string"},
    "integer": {"type": "integer", "minimum": INT64_MIN, "maximum": INT64_MAX},
    "datetime": {"type": "string", "description": "ISO 8601: a date, or a date and time (UTC if no offset)."},
    "bool": {"type": "string", "enum": ["true", "false", "1", "0"]},
}
FLAG = {"type": "string", "enum": ["true", "false", "1", "0"]}

ERRORS = {
    "400": "Invalid data: an unknown or malformed query parameter or body field (see `errors`).",
    "401": "Please sign in (a bad, expired or revoked token, or an action that needs one).",
    "403": "Signed in, but not allowed to do this here.",
    "404": "Not found, or hidden from the caller: the two answers are the same.",
    "406": "None of the formats asked for (Accept, or format=) is available.",
    "413": "The body is over the size limit.",
    "414": "The query string is too long.",
    "500": "Internal server error (never with a traceback).",
    "503": "The database is unavailable: try again (see Retry-After).",
}
WRITE_ERRORS = {
    "405": "This method is not allowed here.",
    "409": "A conflict: a duplicate slug or username, or a concurrent change.",
    "412": "If-Match does not name the current version.",
    "415": "The body's media type (or an uploaded file's type) is not accepted.",
}

VERBS = {"GET": "Read", "PUT": "Replace", "PATCH": "Change", "DELETE": "Delete", "POST": "Create"}


def _ref(name: str) -> dict:
    return {"$ref": REF + name}


def component_name(listing_name: str) -> str:
    return "".join(part.title() for part in listing_name.split("_"))


def nullable(schema: dict) -> dict:
    if "$ref" in schema or "anyOf" in schema or "enum" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    schema = dict(schema)
    schema["type"] = [schema["type"], "null"] if isinstance(schema["type"], str) else schema["type"]
    return schema


def _allows_null(schema: dict) -> bool:
    types = schema.get("type")
    return types == "null" or (isinstance(types, list) and "null" in types) or any(
        _allows_null(option) for option in schema.get("anyOf", ()))


def output_schema(out: Output) -> dict:
    if out.json is not None:
        schema = copy.deepcopy(out.json)
    elif out.kind == "related":  # its URI, or (with depth) the object itself
        schema = {"anyOf": [KIND_SCHEMAS["uri"], _ref(component_name(out.related))]}
    else:
        schema = dict(KIND_SCHEMAS[out.kind])
    if out.help:
        schema["description"] = out.help
    return nullable(schema) if out.nullable and not _allows_null(schema) else schema


def item_schema(collection: Collection) -> dict:
    listing = collection.listing
    properties = {name: output_schema(collection.output(name)) for name in listing.output}
    return {"type": "object", "properties": properties, "required": ["id", "resource_uri"],
            "additionalProperties": False}


def body_schema(body, mode: str, form: bool = False, data: dict | None = None) -> dict:
    """The JSON Schema of a request body: every field of the Colander schema, required as it says on
    create and replace, none on PATCH. In a form, every value is text (lists and objects as JSON)."""
    fields = body_fields(body, data)
    properties, required = {}, []
    for name, node in fields.items():
        schema = form_schema(node) if form else node.typ.json_schema(node, output=False)
        if node.missing is not colander.required and not form:
            schema = nullable(schema)  # null is "not given": the field's default, or no change
        if getattr(node, "description", ""):
            schema["description"] = node.description
        properties[name] = schema
        if mode != PATCH and node.missing is colander.required:
            required.append(name)
    if form and body.files:
        for name in body.files:
            properties[name] = {"type": "string", "format": "binary", "description": "The file's bytes."}
            if mode == CREATE:
                required.append(name)
    schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = required
    return schema


def request_body(builder: Builder, body, name: str) -> dict:
    """The body's schemas, as components named after what they make or change (`PartyCreate`)."""
    if body.variant is not None:  # resources: an upload (multipart), or `{"id": …}` to attach one
        attach = body.variant({"id": ""})
        upload = body.variant({})
        return {"required": True, "content": {
            "multipart/form-data": {"schema": builder.component(f"{name}Upload", body_schema(upload, upload.mode,
                                                                                             form=True))},
            "application/json": {"schema": builder.component("Attach", body_schema(attach, attach.mode))},
        }}
    mode = body.mode.title()
    json_schema = body_schema(body, body.mode)
    content = {"application/json": {"schema": builder.component(f"{name}{mode}", json_schema)}}
    form = builder.component(f"{name}{mode}Form", body_schema(body, body.mode, form=True))
    if not body.files:
        content["application/x-www-form-urlencoded"] = {"schema": form}
    content["multipart/form-data"] = {"schema": form}
    # No body at all is an empty one: needed only where some field is.
    return {"required": bool(json_schema.get("required")), "content": content}


# --- query parameters ------------------------------------------------------------------------------


def _query(name: str, schema: dict, description: str = "", explode: bool = False) -> dict:
    parameter = {"name": name, "in": "query", "required": False, "schema": schema}
    if description:
        parameter["description"] = description
    if explode:
        parameter["style"] = "form"
        parameter["explode"] = True
    return parameter


def filter_parameters(listing: Listing, prefix: str = "") -> list[dict]:
    parameters = []
    for name, declared in listing.fields.items():
        value = ({"type": "string", "enum": list(declared.choices)} if declared.kind == "choice"
                 else FILTER_VALUES[declared.kind])
        for op in sorted(declared.allowed()):
            key = f"{prefix}{name}" if op == "exact" else f"{prefix}{name}__{op}"
            if op == "in":
                parameters.append(_query(key, {"type": "array", "items": value}, f"{name} is one of these "
                                         "(repeat the parameter, or separate values with commas).", explode=True))
            elif op == "isnull":
                parameters.append(_query(key, FLAG, f"{name} is (or is not) empty."))
            else:
                parameters.append(_query(key, value, f"Filter on {name} ({op})."))
                if op == "exact":
                    parameters.append(_query(f"{prefix}{name}__exact", value, f"Filter on {name} (exact)."))
    return parameters


def relation_parameters(listing: Listing) -> list[dict]:
    """One hop along each declared relation (the language follows chains of them, `a__b__field`)."""
    parameters = []
    for name, relation in listing.relations.items():
        target = relation.listing()
        if relation.key is not None:
            parameters.append(_query(name, {"type": "string"}, f"Short for {name}__{relation.key}."))
        parameters += filter_parameters(target, prefix=f"{name}__")
    return parameters


def shape_parameters() -> list[dict]:
    return [
        _query("fields", {"type": "string"}, "Only these fields (comma-separated), and id and resource_uri."),
        _query("depth", {"type": "integer", "minimum": 0, "maximum": MAX_DEPTH},
               "Inline related objects this many levels deep (those the caller may see)."),
        _query("full", FLAG, "Inline related objects one level deep."),
    ]


def format_parameters() -> list[dict]:
    return [
        _query("format", {"type": "string", "enum": list(MEDIA_TYPES)}, "The format of the answer."),
        _query("callback", {"type": "string", "pattern": CALLBACK.pattern},
               "With format=jsonp: the function to call (only what anonymous callers may see is served)."),
    ]


def list_parameters(listing: Listing) -> list[dict]:
    parameters = [
        _query("limit", {"type": "integer", "minimum": 0, "maximum": MAX_LIMIT},
               f"Page size (default {DEFAULT_LIMIT}; 0 means {MAX_LIMIT})."),
        _query("offset", {"type": "integer", "minimum": 0}, "Where the page starts."),
        _query("ordering", {"type": "string"},
               f"Fields to order by, comma-separated, '-' for descending: {', '.join(sorted(listing.ordering))}."),
        _query("read_write", {"type": "string", "enum": ["r", "w"]}, "w: only what the caller may change."),
    ]
    if listing.search:
        parameters.append(_query("search", {"type": "string"}, "Case-insensitive text to look for."))
    return [*parameters, *shape_parameters(), *format_parameters(), *filter_parameters(listing),
            *relation_parameters(listing)]


# --- responses -------------------------------------------------------------------------------------


def _content(schema: dict, negotiated: bool = True) -> dict:
    content = {"application/json": {"schema": schema}}
    if negotiated:
        content["application/hal+json"] = {"schema": {"type": "object"}}
        for fmt in ("csv", "xml", "jsonp", "html"):
            content[MEDIA_TYPES[fmt]] = {"schema": {"type": "string"}}
    return content


ALL_ERRORS = {**ERRORS, **WRITE_ERRORS, "429": "Too many sign-in attempts (see Retry-After)."}


def _errors(codes: dict) -> dict:
    return {code: {"$ref": f"#/components/responses/Error{code}"} for code in codes}


# A browser that asked for a page (Accept: text/html, or format=html) gets its error as a page.
ERROR_RESPONSES = {f"Error{code}": {"description": text, "content": {"application/json": {"schema": _ref("Error")},
                                                                    "text/html": {"schema": {"type": "string"}}}}
                   for code, text in ALL_ERRORS.items()}


class Builder:
    def __init__(self, api_views):
        self.api_views = api_views
        self.components: dict[str, dict] = {}
        self.parameters: dict[str, dict] = {}
        self.paths: dict[str, dict] = {}
        self.operation_ids: set[str] = set()

    def component(self, name: str, schema: dict) -> dict:
        """A named schema; one name is one schema (two views taking the same body share it)."""
        if self.components.setdefault(name, schema) != schema:
            raise ValueError(f"two different schemas would be named {name}")
        return _ref(name)

    def parameter(self, scope: str, parameter: dict) -> dict:
        name = f"{scope}.{parameter['name']}"
        if self.parameters.setdefault(name, parameter) != parameter:
            raise ValueError(f"two different parameters would be named {name}")
        return {"$ref": f"#/components/parameters/{name}"}

    def item_component(self, container: type[Container]) -> dict:
        collection = Collection(self.api_views, container)
        name = component_name(collection.listing.name)
        if name not in self.components:
            self.components[name] = {}  # a placeholder first: related items refer to each other
            self.components[name] = item_schema(collection)
        return _ref(name)

    def page_component(self, container: type[Container]) -> dict:
        item = self.item_component(container)
        name = item["$ref"].removeprefix(REF) + "Page"
        self.components[name] = {"type": "object", "required": ["meta", "objects"], "properties": {
            "meta": _ref("Meta"), "objects": {"type": "array", "items": item}, "_links": LINKS.json},
            "additionalProperties": False}
        return _ref(name)

    def operation_id(self, method: str, template: str) -> str:
        words = [w.strip("{}") for w in template.removeprefix("/api/v1/").split("/") if w]
        base = "_".join([method.lower(), *words]) or method.lower()
        candidate, n = base, 1
        while candidate in self.operation_ids:
            n += 1
            candidate = f"{base}_{n}"
        self.operation_ids.add(candidate)
        return candidate


def _container_of(t) -> type[Container] | None:
    """The collection a URL's node belongs to (itself, its parent for an item, the set's collection)."""
    node_class = t.node_class
    if issubclass(node_class, Container):
        return node_class
    if issubclass(node_class, Item) and t.parent is not None and issubclass(t.parent.node_class, Container):
        return t.parent.node_class
    if node_class in (Selection, CollectionSchema) and t.parent is not None:
        parent = t.parent.parent if node_class is Selection else t.parent
        return parent.node_class if parent is not None else None
    return None


def _documented(api_views, t) -> bool:
    node_class = t.node_class
    if node_class is SetNode or not api_views.methods(node_class):
        return False
    container = _container_of(t)
    if node_class is Selection:
        declared = api_views.collection(container)
        return declared is not None and declared.selectable
    if node_class is CollectionSchema:
        return api_views.listing(container) is not None
    return True


def _success(builder: Builder, t, method: str, container) -> dict:
    node_class = t.node_class
    if node_class is ResourceContent:
        return {"200": {"description": "The file's bytes, with its stored type.",
                        "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}},
                "206": {"description": "The range asked for (Range: bytes=…)."},
                "304": {"description": "Not modified (If-None-Match)."},
                "416": {"description": "The range asked for is outside the file."}}
    if method == "DELETE":
        return {"204": {"description": "Deleted (or, under an entity, detached from it)."}}
    if node_class in (Login, TokenContainer) and method == "POST":
        name = "SignedIn" if node_class is Login else "NewToken"
        return {"201": {"description": "A new token: its key is shown this once.",
                        "content": {"application/json": {"schema": _ref(name)}}}}
    if node_class is Restore:
        return {"201": {"description": "The party, restored.",
                        "content": {"application/json": {"schema": builder.item_component(PartyContainer)}}}}
    if node_class is OpenAPIDocument:
        return {"200": {"description": "This document.", "content": {"application/json": {
            "schema": {"type": "object", "required": ["openapi", "paths"]}}}}}
    if node_class is ApiRoot:
        schema = _ref("Root")
    elif node_class is CollectionSchema:
        schema = _ref("CollectionSchema")
    elif node_class is Account:
        schema = builder.item_component(UserContainer)
    elif node_class is Selection:
        schema = {"type": "object", "required": ["objects", "not_found"], "additionalProperties": False,
                  "properties": {"objects": {"type": "array", "items": builder.item_component(container)},
                                 "not_found": {"type": "array", "items": {"type": "string"}},
                                 "_links": LINKS.json}}
    elif issubclass(node_class, Container) and method == "GET":
        schema = builder.page_component(node_class)
    else:
        schema = builder.item_component(container)
    if method == "POST":
        return {"201": {"description": "Created; its URL is in Location.", "content": {"application/json": {
            "schema": schema}}, "headers": {"Location": {"schema": {"type": "string", "format": "uri"}}}}}
    answers = {"200": {"description": "OK", "content": _content(schema, negotiated=method == "GET")}}
    if method == "GET":
        answers["304"] = {"description": "Not modified (If-None-Match)."}
    return answers


def _body_name(api_views, t, container) -> str:
    """What a body makes or changes, for the name of its schema."""
    listing = api_views.listing(container)
    if listing is not None:
        return component_name(listing.name)
    return component_name(t.node_class.__name__.lower())


def _summary(t, method: str) -> str:
    node_class = t.node_class
    if issubclass(node_class, Container) and method == "GET":
        return f"List {node_class.plural}"
    if issubclass(node_class, Container) and method == "POST":
        return f"Add to {node_class.plural}"
    if node_class is Selection:
        return "Some items, by key"
    if node_class is CollectionSchema:
        return "What the collection's items are, and how it may be queried"
    if method == "DELETE" and issubclass(node_class, NestedResourceNode):
        return "Detach resource from this entity (the last detachment deletes it)"
    return f"{VERBS[method]} {getattr(node_class, 'label', 'it').lower()}"


def _parameters(builder: Builder, t, method: str, container) -> list[dict]:
    parameters = []
    for name in t.params:
        schema = {"type": "string"}
        if name == "entry":
            schema = {"type": "string", "pattern": r"^[0-9]{1,18}$"}
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    node_class = t.node_class
    if method != "GET":
        return parameters
    if issubclass(node_class, Container):
        listing = builder.api_views.listing(node_class)
        return [*parameters, *(builder.parameter(listing.name, p) for p in list_parameters(listing))]
    if node_class is ResourceContent:
        return [*parameters, _query("revision", {"type": "integer", "minimum": 1}, "An earlier revision.")]
    common = [builder.parameter("common", p) for p in format_parameters()]
    if issubclass(node_class, Item) or node_class is Selection:
        return [*parameters, *(builder.parameter("common", p) for p in shape_parameters()), *common]
    if node_class is OpenAPIDocument:
        return parameters
    return [*parameters, *common]


def build(api_views, prefix: str = "/") -> dict:
    """The document of the views declared in `api_views` (the registry's `views.registration.ApiViews`)."""
    builder = Builder(api_views)
    for t in url_templates(SiteRoot, prefix):
        if not _documented(api_views, t):
            continue
        container = _container_of(t)
        listing = api_views.listing(container)
        operations = {}
        for method, declared in api_views.methods(t.node_class).items():
            operation = {
                "operationId": builder.operation_id(method, t.template),
                "summary": _summary(t, method),
                "tags": [listing.name if listing is not None else "api"],
                "parameters": _parameters(builder, t, method, container),
                "responses": {**_success(builder, t, method, container), **_errors(ERRORS)},
                "x-permission": str(declared.permission),
            }
            if method != "GET":
                operation["responses"].update(_errors(WRITE_ERRORS))
            if t.node_class is Login:
                operation["responses"].update(_errors({"429": ""}))
            if declared.body is not None:
                operation["requestBody"] = request_body(builder, declared.body, _body_name(api_views, t, container))
            operations[method.lower()] = operation
        builder.paths[t.template] = operations
    return {
        "openapi": "3.1.0",
        "info": {"title": "hyperapi", "version": VERSION,
                 "description": "A hypermedia REST API for land and project records: organizations → "
                                "projects → parties and resources. Entities the caller may not see answer "
                                "404, exactly as if they did not exist."},
        "servers": [{"url": "/"}],
        "paths": builder.paths,
        "components": {"schemas": {**builder.components, **COMMON_COMPONENTS},
                       "parameters": builder.parameters, "responses": ERROR_RESPONSES,
                       "securitySchemes": SECURITY_SCHEMES},
        "security": [{}, {"token": []}, {"username": [], "api_key": []}],
    }


SECURITY_SCHEMES = {
    "token": {"type": "apiKey", "in": "header", "name": "Authorization",
              "description": "`Authorization: Token <key>` (a key from POST /api/v1/account/login/)."},
    "username": {"type": "apiKey", "in": "query", "name": "username", "description": "With api_key, on GET."},
    "api_key": {"type": "apiKey", "in": "query", "name": "api_key", "description": "With username, on GET."},
}

COMMON_COMPONENTS = {
    "Error": {"type": "object", "required": ["error"], "properties": {
        "error": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "string"},
                   "description": "Each offending field or query parameter, with what is wrong."}}},
    "Link": {"type": "object", "required": ["href"], "properties": {"href": {"type": "string"}}},
    "Meta": {"type": "object", "required": ["limit", "offset", "total_count", "next", "previous"], "properties": {
        "limit": {"type": "integer"}, "offset": {"type": "integer"}, "total_count": {"type": "integer"},
        "next": {"type": ["string", "null"]}, "previous": {"type": ["string", "null"]}}},
    "Root": {"type": "object", "additionalProperties": {"anyOf": [
        {"type": "object", "required": ["list_endpoint", "schema"],
         "properties": {"list_endpoint": {"type": "string"}, "schema": {"type": "string"}}},
        LINKS.json]}},
    "CollectionSchema": {"type": "object", "required": [
        "allowed_list_http_methods", "allowed_detail_http_methods", "default_format", "default_limit",
        "max_limit", "fields", "filtering", "ordering", "search_fields", "formats"], "properties": {
        "fields": {"type": "object", "additionalProperties": {"type": "object", "required": ["type"]}}}},
}
_TOKEN = {"id": {"type": "string"}, "resource_uri": {"type": "string"}, "name": {"type": "string"},
          "created": {"type": "string", "format": "date-time"},
          "last_used": {"type": ["string", "null"], "format": "date-time"},
          "expires": {"type": ["string", "null"], "format": "date-time"}, "_links": LINKS.json}
COMMON_COMPONENTS["NewToken"] = {"type": "object", "required": ["id", "key"], "additionalProperties": False,
                                 "properties": {**_TOKEN, "key": {"type": "string", "description": "Shown once."}}}
COMMON_COMPONENTS["SignedIn"] = {"type": "object", "required": ["id", "token", "username"],
                                 "additionalProperties": False, "properties": {
                                     **_TOKEN, "token": {"type": "string", "description": "The key, shown once."},
                                     "username": {"type": "string"}}}


def document(request) -> dict:
    """The document, built once per application (it depends on the declarations alone)."""
    registry = request.registry
    if "hyperapi.openapi" not in registry:
        registry["hyperapi.openapi"] = build(registry.api_views)
    return registry["hyperapi.openapi"]
