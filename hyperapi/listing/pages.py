"""One page of a collection, or a `set/` of it, for the caller: the query language's parameters
applied to the container's `list_query` (which already holds the caller's visibility)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from sqlalchemy import and_, func

from .declaration import Listing
from .query import PAGING, Shape, credentials_in, parse, parse_object_params


def page_link(request, offset: int | None = None, limit: int | None = None) -> str:
    """This URL with another page (credentials in the query string are never copied into links)."""
    credentials = credentials_in(request.GET)
    params = [(k, v) for k, v in request.GET.items()
              if k not in credentials and (offset is None or k not in PAGING)]
    if offset is not None:
        params += [("limit", str(limit)), ("offset", str(offset))]
    return f"{request.path}?{urlencode(params)}" if params else request.path


@dataclass
class Page:
    nodes: list
    meta: dict
    links: dict
    shape: Shape


def run(request, container, listing: Listing) -> Page:
    """One page of the container, for the caller."""
    identity = request.identity
    query = parse(request.GET, listing, identity)
    statement = container.list_query(identity, writable=query.writable)
    if query.where:
        statement = statement.where(and_(*query.where))
    total = None if (query.where or query.writable) else container.known_total(identity)
    if total is None:
        total = request.db.scalar(
            statement.with_only_columns(func.count(), maintain_column_froms=True).order_by(None)
        )
    rows = []
    if query.offset < total:
        rows = request.db.execute(
            statement.order_by(*query.order_by).limit(query.limit).offset(query.offset)
        ).all()
    nodes = [container.wrap_result(row) for row in rows]
    container.prepare(nodes)
    end = query.offset + query.limit
    meta = {
        "limit": query.limit,
        "offset": query.offset,
        "total_count": total,
        "next": page_link(request, end, query.limit) if end < total else None,
        "previous": page_link(request, max(query.offset - query.limit, 0), query.limit) if query.offset > 0 else None,
    }
    links = {"self": page_link(request), "first": page_link(request, 0, query.limit)}
    if meta["next"]:
        links["next"] = meta["next"]
    if meta["previous"]:
        links["prev"] = meta["previous"]
    return Page(nodes=nodes, meta=meta, links=links, shape=query.shape)


def select_ids(request, container, listing: Listing, ids: list[str]):
    """The objects of `ids` the caller may see, in the order asked, and the ids that are not found
    (missing and hidden alike)."""
    shape = parse_object_params(request.GET, listing)
    # Read from the class: a mapped attribute read through an instance would look for a mapped row.
    key_column = type(container).key_column
    statement = container.list_query(request.identity).where(key_column.in_(ids))
    nodes = {node.__name__: node for node in map(container.wrap_result, request.db.execute(statement).all())}
    container.prepare(list(nodes.values()))
    found = [nodes[i] for i in dict.fromkeys(ids) if i in nodes]
    not_found = [i for i in dict.fromkeys(ids) if i not in nodes]
    return found, not_found, shape
