"""Discoverability (SPEC §6): the API root, every collection's `schema/`, and OPTIONS on any URL.

A client that knows only `/api/v1/` finds every top-level collection with its schema there, and
from then on every object and collection carries the links the caller may follow.
"""

from ..authz import Permission
from ..traversal import ApiRoot, CollectionSchema, Container, OpenAPIDocument, Selection, SetNode
from .common import (
    LISTINGS,
    add_view,
    api_path,
    json_response,
    link,
    link_header,
    link_objects,
    methods_for,
    openapi_path,
    path,
    render,
    request_shape,
    set_response,
)
from .describe import Collection, collection_schema
from .errors import not_found
from .openapi import document

# The collections a client finds at the root, by the names it finds them under.
TOP_LEVEL = {
    "organizations": ("organizations",),
    "projects": ("projects",),
    "resources": ("resources",),
    "users": ("users",),
    "tokens": ("account", "tokens"),
}


def api_root(request):
    """Every top-level collection the caller may follow, with its schema; how to sign in."""
    fmt, _ = request_shape(request)
    account = request.context["account"]
    signed_in = request.has_permission(str(Permission.ACCOUNT), account)
    collections = {name: segments for name, segments in TOP_LEVEL.items() if signed_in or name != "tokens"}
    body = {
        name: {"list_endpoint": api_path(request, *segments), "schema": api_path(request, *segments, "schema")}
        for name, segments in collections.items()
    }
    body["_links"] = {
        "self": link(api_path(request)),
        **{name: link(api_path(request, *segments)) for name, segments in collections.items()},
        "service-desc": link(openapi_path(request)),
    }
    if signed_in:
        body["_links"]["account"] = link(api_path(request, "account"))
    # Not a link to GET: what to POST to sign in.
    body["actions"] = {"login": {"href": api_path(request, "account", "login"), "method": "POST",
                                 "fields": ["username", "password"]}}
    return render(request, body, fmt=fmt,
                  headers={"Link": link_header(request, {"service-desc": openapi_path(request)})})


def schema_view(request):
    node = request.context
    container = node.container
    if type(container) not in LISTINGS:
        raise not_found(request)
    fmt, _ = request_shape(request)
    body = collection_schema(Collection(type(container)))
    links = {"self": path(request, node), "up": path(request, container), "service-desc": openapi_path(request)}
    body["_links"] = link_objects(links)
    return render(request, body, fmt=fmt, headers={"Link": link_header(request, links)})


def schema_of(request, context) -> str | None:
    """The `schema/` that describes this node: its own as a collection, its collection's as an item."""
    for node in (context, getattr(context, "__parent__", None)):
        if isinstance(node, Container) and type(node) in LISTINGS:
            return path(request, node) + "schema/"
    if isinstance(context, Selection):
        return schema_of(request, context.container)
    return None


def options_view(request):
    """`Allow`: what this caller may do here (the node is visible, or this would be a 404)."""
    context = request.context
    allow = methods_for(request, context)
    links = {"service-desc": openapi_path(request)}
    schema = schema_of(request, context)
    if schema is not None:
        links["describedby"] = schema
    return json_response(request, {"allow": allow, "_links": link_objects(links)},
                         headers={"Allow": ", ".join(allow), "Link": link_header(request, links)})


def openapi_view(request):
    """The same document for every caller: it describes what may be asked, not what is there."""
    return json_response(request, document(request))


def no_such_set(request):
    raise not_found(request)


def declare():
    add_view(ApiRoot, "GET", api_root, Permission.VIEW)
    add_view(Selection, "GET", set_response, Permission.VIEW)
    add_view(SetNode, "GET", no_such_set, Permission.VIEW)
    add_view(CollectionSchema, "GET", schema_view, Permission.VIEW)
    add_view(OpenAPIDocument, "GET", openapi_view, Permission.VIEW)


declare()
