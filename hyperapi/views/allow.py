"""Which methods a URL answers: `OPTIONS` on every node (what this caller may do here), and a 405 for
a method the node does not answer — both only for a caller who may view the node; to anyone else the
node is the usual 404."""

from __future__ import annotations

from ..auth.rules import Permission
from ..renderers import Answer
from ..representations.links import link_objects, openapi_path, path
from ..traversal import Container, Selection, SiteRoot, url_templates
from ..web.errors import APIError
from .answers import link_header
from .registration import SERVICE_NAME


def methods_for(request, context) -> list[str]:
    """The methods this caller may use on this node (its own `Allow`)."""
    return request.registry.api_views.allowed_methods(
        type(context), lambda declared: request.has_permission(str(declared.permission), context))


def schema_of(request, context) -> str | None:
    """The `schema/` that describes this node: its own as a collection, its collection's as an item."""
    api_views = request.registry.api_views
    for node in (context, getattr(context, "__parent__", None)):
        if isinstance(node, Container) and api_views.listing(type(node)) is not None:
            return path(request, node["schema"])
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
    return Answer({"allow": allow, "_links": link_objects(links)},
                  headers={"Allow": ", ".join(allow), "Link": link_header(request, links)})


def method_not_allowed(request):
    allow = ", ".join(request.registry.api_views.allowed_methods(type(request.context)))
    raise APIError(405, f"Method {request.method} is not allowed here.", headers={"Allow": allow})


def node_types() -> list[type]:
    """Every type of node the tree has."""
    return list(dict.fromkeys(t.node_class for t in url_templates(SiteRoot)))


def includeme(config):
    """OPTIONS on every node, and a wrong method is a 405 — if the caller may view the node."""
    for node_type in node_types():
        config.add_view(options_view, route_name=SERVICE_NAME, context=node_type, request_method="OPTIONS",
                        permission=str(Permission.VIEW), renderer="json")
        config.add_view(method_not_allowed, route_name=SERVICE_NAME, context=node_type,
                        permission=str(Permission.VIEW))
