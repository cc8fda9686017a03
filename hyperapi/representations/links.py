"""What every representation shares: its path and links, built by the tree (`request.resource_path`),
related entities inlined at `depth`, and the bookkeeping fields of SPEC §1."""

from __future__ import annotations

from ..auth.rules import Permission
from ..models import isoformat


def path(request, node) -> str:
    return request.resource_path(node)


def link(href: str) -> dict:
    return {"href": href}


def link_objects(links: dict[str, str]) -> dict[str, dict]:
    """`{rel: href}` as a body's `_links`."""
    return {rel: link(href) for rel, href in links.items()}


def child_links(request, node, names) -> dict[str, dict]:
    """A link to each of these sub-collections of `node`."""
    return {name: link(path(request, node[name])) for name in names}


def api_root(request):
    """`/api/v1/`, the node every top-level collection hangs from."""
    return request.root["api"]["v1"]


def openapi_path(request) -> str:
    return path(request, api_root(request)["openapi.json"])


def inline(request, node, represent, depth: int):
    """A related entity: its URI, or at `depth` > 0 its whole representation — only if the caller may
    view it (inlining is a read like any other)."""
    href = path(request, node)
    if depth > 0 and request.has_permission(Permission.VIEW, node):
        return represent(request, node, depth - 1)
    return href


def tracked_fields(row) -> dict:
    return {"created": isoformat(row.created), "last_updated": isoformat(row.last_updated), "version": row.version}
