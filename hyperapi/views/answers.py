"""What the views answer: an object, a page of a collection, a `set/`, a new object — as `Answer`s the
renderers draw in the format asked for — and the conditional checks of writes."""

from __future__ import annotations

from ..listing import MAX_SET_IDS, Listing, QueryError, parse_object_params, run, select_ids
from ..renderers import Answer, etag_of
from ..renderers.formats import to_json
from ..representations.links import link_objects, openapi_path, path
from ..web.errors import APIError, invalid
from ..web.exception_views import not_found
from ..web.responses import no_content


def check_if_match(request, node, represent) -> None:
    """412 unless `If-Match` (when sent) names the entity as it is now: the ETag of its representation
    for this caller (what a GET of it answers), or its `version` (quoted)."""
    if_match = request.if_match
    if "*" in if_match:  # webob: no header (or `*`) matches anything
        return
    current = (etag_of(to_json(represent(request, node, 0)), "application/json"), str(node.record.version))
    if not any(tag in if_match for tag in current):
        raise APIError(412, "The entity has changed since you fetched it (If-Match does not match).")


def select_fields(obj: dict, fields: frozenset | None) -> dict:
    if fields is None:
        return obj
    return {key: value for key, value in obj.items() if key in fields or key in ("id", "resource_uri")}


def shape_of(request, listing: Listing = Listing()):
    """How a single object is to be drawn (`fields`, `depth`), once its format is known to be acceptable."""
    request.answer_format  # noqa: B018 - a 406 before anything else
    try:
        return parse_object_params(request.GET, listing)
    except QueryError as exc:
        raise invalid(exc.errors) from None


def link_header(request, links: dict[str, str]) -> str:
    """RFC 8288: `<url>; rel="next", …` (the link to itself goes without saying)."""
    return ", ".join(f'<{request.host_url}{href}>; rel="{rel}"' for rel, href in links.items() if rel != "self")


def schema_path(request, container) -> str:
    return path(request, container["schema"])


def collection_links(request, container, page_links: dict[str, str]) -> dict[str, str]:
    """A collection's links: its pages, the object it belongs to, its schema and the API's document."""
    return {**page_links, "up": path(request, container.__parent__),
            "describedby": schema_path(request, container), "service-desc": openapi_path(request)}


def object_answer(request, node, represent, listing: Listing) -> Answer:
    shape = shape_of(request, listing)
    return Answer(select_fields(represent(request, node, shape.depth), shape.fields))


def collection_answer(request) -> Answer:
    """A page of the collection the request is on, for the caller."""
    container = request.context
    declared = request.registry.api_views.collection(type(container))
    request.answer_format  # noqa: B018 - a 406 before anything else
    try:
        page = run(request, container, declared.listing)
    except QueryError as exc:
        raise invalid(exc.errors) from None
    objects = [select_fields(declared.represent(request, node, page.shape.depth), page.shape.fields)
               for node in page.nodes]
    links = collection_links(request, container, page.links)
    body = {"meta": page.meta, "objects": objects, "_links": link_objects(links)}
    return Answer(body, collection=True, links=links, listing=declared.listing,
                  headers={"Link": link_header(request, links)})


def set_answer(request) -> Answer:
    """`<collection>/set/a;b/`: the objects the caller may see, and the ids not found (hidden or not)."""
    selection = request.context
    container = selection.container
    declared = request.registry.api_views.collection(type(container))
    if declared is None or not declared.selectable:
        raise not_found(request)
    ids = selection.ids
    if not ids or len(ids) > MAX_SET_IDS:
        raise invalid({"set": f"Give from 1 to {MAX_SET_IDS} ids separated by ';'."})
    request.answer_format  # noqa: B018 - a 406 before anything else
    try:
        found, missing, shape = select_ids(request, container, declared.listing, ids)
    except QueryError as exc:
        raise invalid(exc.errors) from None
    objects = [select_fields(declared.represent(request, node, shape.depth), shape.fields) for node in found]
    links = {"self": path(request, selection), "up": path(request, container),
             "describedby": schema_path(request, container)}
    body = {"objects": objects, "not_found": missing, "_links": link_objects(links)}
    return Answer(body, collection=True, links=links)


def created(request, node, represent) -> Answer:
    """201, with the new object's URL in `Location`."""
    request.response.status_code = 201
    return Answer(represent(request, node, 0), headers={"Location": request.host_url + path(request, node)})


def changed(request, node, represent) -> Answer:
    """The object as a write left it."""
    return Answer(represent(request, node, 0))


def deleted():
    return no_content()
