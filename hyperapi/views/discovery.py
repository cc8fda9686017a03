"""Discoverability (SPEC §6): the API root, every collection's `schema/` and `set/`, and the OpenAPI
document. A client that knows only `/api/v1/` finds every top-level collection with its schema
there, and from then on every object and collection carries the links the caller may follow."""

from ..apidocs.describe import Collection, collection_schema
from ..apidocs.openapi import document
from ..auth.rules import Permission
from ..renderers import Answer
from ..representations.links import link, link_objects, openapi_path, path
from ..traversal import ApiRoot, CollectionSchema, OpenAPIDocument, Selection, SetNode
from ..web.exception_views import not_found
from .answers import link_header, set_answer, shape_of

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
    shape_of(request)
    root = request.context
    account = root["account"]
    signed_in = request.has_permission(str(Permission.ACCOUNT), account)
    collections = {}
    for name, segments in TOP_LEVEL.items():
        if name == "tokens" and not signed_in:
            continue
        node = root
        for segment in segments:
            node = node[segment]
        collections[name] = node
    body = {name: {"list_endpoint": path(request, node), "schema": path(request, node["schema"])}
            for name, node in collections.items()}
    body["_links"] = {
        "self": link(path(request, root)),
        **{name: link(path(request, node)) for name, node in collections.items()},
        "service-desc": link(openapi_path(request)),
    }
    if signed_in:
        body["_links"]["account"] = link(path(request, account))
    # Not a link to GET: what to POST to sign in.
    body["actions"] = {"login": {"href": path(request, account["login"]), "method": "POST",
                                 "fields": ["username", "password"]}}
    return Answer(body, headers={"Link": link_header(request, {"service-desc": openapi_path(request)})})


def schema_view(request):
    node = request.context
    container = node.container
    if request.registry.api_views.listing(type(container)) is None:
        raise not_found(request)
    shape_of(request)
    body = collection_schema(Collection(request.registry.api_views, type(container)))
    links = {"self": path(request, node), "up": path(request, container), "service-desc": openapi_path(request)}
    body["_links"] = link_objects(links)
    return Answer(body, headers={"Link": link_header(request, links)})


def openapi_view(request):
    """The same document for every caller: it describes what may be asked, not what is there."""
    return document(request)


def no_such_set(request):
    raise not_found(request)


def includeme(config):
    config.add_api_view(ApiRoot, "GET", api_root, Permission.VIEW)
    config.add_api_view(Selection, "GET", set_answer, Permission.VIEW)
    config.add_api_view(SetNode, "GET", no_such_set, Permission.VIEW)
    config.add_api_view(CollectionSchema, "GET", schema_view, Permission.VIEW)
    config.add_api_view(OpenAPIDocument, "GET", openapi_view, Permission.VIEW, renderer="json")
