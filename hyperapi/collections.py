"""The query language of collections (SPEC §5), derived from one declaration per collection.

A `Listing` declares which fields may be filtered (and with which operators), searched and ordered
on. Query parameters are validated against it and turned into SQL expressions built from the
declared columns only: client input never names a column, a relation or an ORM keyword. Anything not
declared is a 400 that names the parameter.

Visibility is not applied here: the container's `list_query` already carries the SQL predicate from
`hyperapi.authz`, so filters, counts and pages only ever see what the caller may see.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from urllib.parse import urlencode

from sqlalchemy import and_, func, or_
from sqlalchemy.sql.elements import ColumnElement

DEFAULT_LIMIT = 20
MAX_LIMIT = 1000

TEXT_OPERATORS = frozenset(
    {"exact", "iexact", "contains", "icontains", "startswith", "istartswith", "endswith", "in"}
)
RANGE_OPERATORS = frozenset({"exact", "gt", "gte", "lt", "lte", "in"})
CHOICE_OPERATORS = frozenset({"exact", "in"})
BOOL_OPERATORS = frozenset({"exact"})
ALL_OPERATORS = TEXT_OPERATORS | RANGE_OPERATORS | {"isnull"}

# Query parameters that are not filters.
PAGING = ("limit", "offset")
CONTROL = frozenset({"limit", "offset", "search", "ordering"})
# Credentials may ride in the query string on GET (SPEC §2); they are never echoed into links.
CREDENTIALS = frozenset({"username", "api_key"})


class QueryError(Exception):
    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors


@dataclass(frozen=True)
class Field:
    column: ColumnElement
    kind: str  # text | choice | int | bool | datetime
    operators: frozenset = frozenset({"exact"})
    choices: tuple = ()
    nullable: bool = False

    def allowed(self) -> frozenset:
        return self.operators | ({"isnull"} if self.nullable else frozenset())


def text(column, nullable=False, operators=TEXT_OPERATORS) -> Field:
    return Field(column, "text", operators, nullable=nullable)


def choice(column, choices) -> Field:
    return Field(column, "choice", CHOICE_OPERATORS, tuple(choices))


def boolean(column) -> Field:
    return Field(column, "bool", BOOL_OPERATORS)


def moment(column, nullable=False) -> Field:
    return Field(column, "datetime", RANGE_OPERATORS, nullable=nullable)


@dataclass(frozen=True)
class Listing:
    fields: dict[str, Field] = field(default_factory=dict)
    search: tuple = ()
    ordering: dict[str, ColumnElement] = field(default_factory=dict)
    default_ordering: tuple[str, ...] = ()
    tiebreaker: ColumnElement | None = None


@dataclass
class Query:
    limit: int
    offset: int
    where: list
    order_by: list


def _coerce(field_: Field, value: str):
    if field_.kind in ("text",):
        return value
    if field_.kind == "choice":
        if value not in field_.choices:
            raise ValueError("must be one of " + ", ".join(field_.choices))
        return value
    if field_.kind == "int":
        return int(value)
    if field_.kind == "bool":
        lowered = value.lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise ValueError("must be true or false")
    if field_.kind == "datetime":
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=datetime.UTC)
        return parsed
    raise ValueError("unsupported")


def _condition(field_: Field, op: str, values: list[str]) -> ColumnElement:
    column = field_.column
    if op == "isnull":
        flag = _coerce(Field(column, "bool"), values[-1])
        return column.is_(None) if flag else column.is_not(None)
    if op == "in":
        items = [item for value in values for item in value.split(",") if item != ""]
        if not items:
            raise ValueError("give at least one value")
        return column.in_([_coerce(field_, item) for item in items])
    value = _coerce(field_, values[-1])
    if op == "exact":
        return column == value
    if op == "iexact":
        return func.lower(column) == value.lower()
    if op == "contains":
        return column.contains(value, autoescape=True)
    if op == "icontains":
        return column.icontains(value, autoescape=True)
    if op == "startswith":
        return column.startswith(value, autoescape=True)
    if op == "istartswith":
        return column.istartswith(value, autoescape=True)
    if op == "endswith":
        return column.endswith(value, autoescape=True)
    if op == "gt":
        return column > value
    if op == "gte":
        return column >= value
    if op == "lt":
        return column < value
    if op == "lte":
        return column <= value
    raise ValueError(f"unknown operator {op}")


def _int_param(params, name, default, errors, minimum=0):
    values = params.getall(name)
    if not values:
        return default
    if len(values) > 1:
        errors[name] = "Give this parameter once."
        return default
    try:
        number = int(values[0])
    except ValueError:
        errors[name] = "Must be a whole number."
        return default
    if number < minimum:
        errors[name] = f"Must be at least {minimum}."
        return default
    return number


def parse(params, listing: Listing, extra_allowed: frozenset = frozenset()) -> Query:
    """Validate the query string against the listing; a QueryError names every bad parameter."""
    errors: dict[str, str] = {}
    limit = _int_param(params, "limit", DEFAULT_LIMIT, errors)
    if limit == 0 or limit > MAX_LIMIT:
        if limit > MAX_LIMIT:
            errors.setdefault("limit", f"Must be at most {MAX_LIMIT} (0 means {MAX_LIMIT}).")
        limit = MAX_LIMIT
    offset = _int_param(params, "offset", 0, errors)

    where = []
    search_terms = params.getall("search")
    if search_terms:
        if not listing.search:
            errors["search"] = "This collection cannot be searched."
        elif len(search_terms) > 1:
            errors["search"] = "Give this parameter once."
        elif search_terms[0].strip():
            term = search_terms[0].strip()
            where.append(or_(*(column.icontains(term, autoescape=True) for column in listing.search)))

    order_by = _ordering(params.getall("ordering"), listing, errors)

    grouped: dict[str, list[str]] = {}
    for key, value in params.items():
        grouped.setdefault(key, []).append(value)
    for key, values in grouped.items():
        if key in CONTROL or key in CREDENTIALS or key in extra_allowed:
            continue
        name, _, op = key.partition("__")
        op = op or "exact"
        field_ = listing.fields.get(name)
        if field_ is None or "__" in op:
            errors[key] = "Unknown query parameter."
            continue
        if op not in field_.allowed():
            allowed = ", ".join(sorted(field_.allowed()))
            errors[key] = f"Filtering '{name}' with '{op}' is not allowed (allowed: {allowed})."
            continue
        if op not in ("in",) and len(values) > 1:
            errors[key] = "Give this parameter once (or use __in)."
            continue
        try:
            where.append(_condition(field_, op, values))
        except ValueError as exc:
            errors[key] = f"Invalid value: {exc}."
    if errors:
        raise QueryError(errors)
    return Query(limit=limit, offset=offset, where=where, order_by=order_by)


def _ordering(values: list[str], listing: Listing, errors: dict) -> list:
    if len(values) > 1:
        errors["ordering"] = "Give this parameter once, with fields separated by commas."
        return []
    if values and values[0].strip():
        names = [n.strip() for n in values[0].split(",")]
    else:
        names = list(listing.default_ordering)
    clauses, seen, descending = [], set(), False
    for name in names:
        descending = name.startswith("-")
        bare = name[1:] if descending else name
        column = listing.ordering.get(bare)
        if column is None or bare in seen:
            allowed = ", ".join(sorted(listing.ordering)) or "nothing"
            errors["ordering"] = f"Cannot order by '{name}' (allowed: {allowed})."
            return []
        seen.add(bare)
        clauses.append(column.desc() if descending else column.asc())
    if listing.tiebreaker is not None:
        # Same direction as the last field: `-created` walks the (created, id) index backwards
        # instead of sorting every row.
        clauses.append(listing.tiebreaker.desc() if descending else listing.tiebreaker.asc())
    return clauses


def page_link(request, offset: int, limit: int) -> str:
    params = [(k, v) for k, v in request.GET.items() if k not in PAGING and k not in CREDENTIALS]
    params += [("limit", str(limit)), ("offset", str(offset))]
    return f"{request.path}?{urlencode(params)}"


def run(request, container, listing: Listing, extra_allowed: frozenset = frozenset()):
    """(nodes, meta) of one page of the container, for the caller."""
    query = parse(request.GET, listing, extra_allowed)
    statement = container.list_query(request.identity)
    if query.where:
        statement = statement.where(and_(*query.where))
    total = None if query.where else container.known_total(request.identity)
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
    meta = {
        "limit": query.limit,
        "offset": query.offset,
        "total_count": total,
        "next": page_link(request, query.offset + query.limit, query.limit)
        if query.offset + query.limit < total
        else None,
        "previous": page_link(request, max(query.offset - query.limit, 0), query.limit) if query.offset > 0 else None,
    }
    links = {"first": page_link(request, 0, query.limit)}
    if meta["next"]:
        links["next"] = meta["next"]
    if meta["previous"]:
        links["prev"] = meta["previous"]
    return nodes, meta, links
