"""The query language of collections (SPEC §5), derived from one declaration per collection.

A `Listing` declares which fields may be filtered (and with which operators), searched and ordered
on, which relations a filter may follow, and which fields the representation has. Query parameters
are validated against it and turned into SQL built from the declared columns only: client input
never names a column, a relation or an ORM keyword. Anything not declared is a 400 naming the
parameter.

Visibility is not applied here but below: the container's `list_query` carries the SQL predicate
from `hyperapi.auth.rules`, and a filter that follows a relation only ever reaches the target rows the
caller may see (`Relation.rows`), so no filter, count, order or page can reveal a hidden row.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, or_
from sqlalchemy.sql.elements import ColumnElement

from .declaration import DEFAULT_LIMIT, MAX_DEPTH, MAX_LIMIT, Field, Listing

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

PAGING = ("limit", "offset")
# Parameters of how an answer is shaped, allowed on every GET.
SHAPE = frozenset({"fields", "depth", "full", "format", "callback"})
# Parameters of a collection that are not filters.
CONTROL = frozenset({"limit", "offset", "search", "ordering", "read_write"}) | SHAPE
# Credentials may ride in the query string on GET (SPEC §2); they are never echoed into links.
# `username` is one only beside `api_key`; alone, it is an ordinary filter (/users/?username=…).
CREDENTIALS = frozenset({"username", "api_key"})


def credentials_in(params) -> frozenset:
    return CREDENTIALS if "api_key" in params else frozenset()


class QueryError(Exception):
    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors


@dataclass
class Shape:
    """How each object is drawn: inlined relations to `depth`, only `fields` (None: all), in `format`."""

    depth: int = 0
    fields: frozenset | None = None
    format: str | None = None


@dataclass
class Query:
    limit: int
    offset: int
    where: list
    order_by: list
    writable: bool
    shape: Shape


# --- values and conditions -------------------------------------------------------------------------


def _coerce(field_: Field, value: str):
    if field_.kind == "text":
        return value
    if field_.kind == "choice":
        if value not in field_.choices:
            raise ValueError("must be one of " + ", ".join(field_.choices))
        return value
    if field_.kind == "bool":
        lowered = value.lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise ValueError("must be true or false")
    if field_.kind == "integer":
        try:
            number = int(value)
        except ValueError:
            raise ValueError("must be a whole number") from None
        if not INT64_MIN <= number <= INT64_MAX:  # what a database column holds
            raise ValueError("out of range")
        return number
    if field_.kind == "datetime":
        try:
            parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("must be an ISO 8601 date or date and time") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=datetime.UTC)
        try:
            return parsed.astimezone(datetime.UTC)
        except OverflowError:
            raise ValueError("out of the range of dates") from None
    raise ValueError("unsupported")


_LIKE_SPECIALS = re.compile(r"([\\%_])")


def _like(column, pattern_of: Callable[[str], str], value: str, insensitive: bool):
    escaped = _LIKE_SPECIALS.sub(r"\\\1", value)
    pattern = pattern_of(escaped)
    # ILIKE on PostgreSQL, so the trigram indexes of migration 0003 serve it.
    return column.ilike(pattern, escape="\\") if insensitive else column.like(pattern, escape="\\")


def contains_text(column, value: str, insensitive: bool = True):
    return _like(column, lambda v: f"%{v}%", value, insensitive)


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
    if op in ("contains", "icontains"):
        return contains_text(column, value, insensitive=op == "icontains")
    if op in ("startswith", "istartswith"):
        return _like(column, lambda v: f"{v}%", value, insensitive=op == "istartswith")
    if op == "endswith":
        return _like(column, lambda v: f"%{v}", value, insensitive=False)
    comparisons = {"gt": column.__gt__, "gte": column.__ge__, "lt": column.__lt__, "lte": column.__le__}
    return comparisons[op](value)


def _filter(listing: Listing, parts: list[str], values: list[str], identity) -> ColumnElement:
    """`parts` is a filter key split on `__`: relations, then a field, then perhaps an operator."""
    head, rest = parts[0], parts[1:]
    relation = listing.relations.get(head)
    if relation is not None and relation.key is not None and len(rest) <= 1:
        target = relation.listing()
        if not rest or (rest[0] not in target.fields and rest[0] not in target.relations):
            rest = [relation.key, *rest]  # `organization=terra` is `organization__slug=terra`
    if relation is not None and rest:
        inner_condition = _filter(relation.listing(), rest, values, identity)
        target = relation.rows(identity).with_only_columns(relation.inner, maintain_column_froms=True)
        # Never correlated with the outer query: the subquery stands on its own visibility rules.
        return relation.outer.in_(target.where(inner_condition).correlate(None))
    field_ = listing.fields.get(head)
    if field_ is None or len(rest) > 1:
        raise LookupError("Unknown query parameter.")
    op = rest[0] if rest else "exact"
    if op not in field_.allowed():
        allowed = ", ".join(sorted(field_.allowed()))
        raise LookupError(f"Filtering '{head}' with '{op}' is not allowed (allowed: {allowed}).")
    if op != "in" and len(values) > 1:
        raise LookupError("Give this parameter once (or use __in).")
    return _condition(field_, op, values)


# --- parameters ------------------------------------------------------------------------------------


def _single(params, name, errors) -> str | None:
    values = params.getall(name)
    if len(values) > 1:
        errors[name] = "Give this parameter once."
        return None
    return values[0] if values else None


def _int_param(params, name, default, errors, minimum=0, maximum=None):
    value = _single(params, name, errors)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        errors[name] = "Must be a whole number."
        return default
    if number < minimum or (maximum is not None and number > maximum):
        bounds = f"from {minimum} to {maximum}" if maximum is not None else f"at least {minimum}"
        errors[name] = f"Must be {bounds}."
        return default
    return number


def _bool_param(params, name, errors) -> bool | None:
    value = _single(params, name, errors)
    if value is None:
        return None
    try:
        return _coerce(Field(None, "bool"), value)
    except ValueError:
        errors[name] = "Must be true or false."
        return None


def parse_shape(params, listing: Listing, errors: dict) -> Shape:
    depth = _int_param(params, "depth", None, errors, maximum=MAX_DEPTH)
    full = _bool_param(params, "full", errors)
    if depth is None:
        depth = 1 if full else 0
    fields = None
    raw = _single(params, "fields", errors)
    if raw is not None:
        names = {name.strip() for name in raw.split(",") if name.strip()}
        unknown = sorted(names - set(listing.output))
        if unknown:
            errors["fields"] = f"Unknown field '{unknown[0]}' (fields: {', '.join(listing.output)})."
        fields = frozenset(names)
    fmt = _single(params, "format", errors)
    callback = _single(params, "callback", errors)
    if callback is not None and fmt != "jsonp":
        errors["callback"] = "Only with format=jsonp."
    return Shape(depth=depth, fields=fields, format=fmt)


def parse_object_params(params, listing: Listing) -> Shape:
    """The parameters of a single object's GET: only its shape (and credentials)."""
    errors: dict[str, str] = {}
    shape = parse_shape(params, listing, errors)
    credentials = credentials_in(params)
    for key in params.keys():
        if key not in SHAPE and key not in credentials:
            errors[key] = "Unknown query parameter."
    if errors:
        raise QueryError(errors)
    return shape


def parse(params, listing: Listing, identity=None) -> Query:
    """Validate a collection's query string; a QueryError names every bad parameter."""
    errors: dict[str, str] = {}
    limit = _int_param(params, "limit", DEFAULT_LIMIT, errors)
    if limit > MAX_LIMIT:
        errors["limit"] = f"Must be at most {MAX_LIMIT} (0 means {MAX_LIMIT})."
    if limit == 0 or limit > MAX_LIMIT:
        limit = MAX_LIMIT
    offset = _int_param(params, "offset", 0, errors)
    shape = parse_shape(params, listing, errors)

    read_write = _single(params, "read_write", errors)
    if read_write not in (None, "r", "w"):
        errors["read_write"] = 'Must be "r" (what you may read) or "w" (what you may change).'

    where = []
    search = _single(params, "search", errors)
    if search is not None:
        if not listing.search:
            errors["search"] = "This collection cannot be searched."
        elif search.strip():
            term = search.strip()
            where.append(or_(*(contains_text(column, term) for column in listing.search)))

    order_by = _ordering(params.getall("ordering"), listing, errors)

    grouped: dict[str, list[str]] = {}
    for key, value in params.items():
        grouped.setdefault(key, []).append(value)
    credentials = credentials_in(params)
    for key, values in grouped.items():
        if key in CONTROL or key in credentials:
            continue
        try:
            where.append(_filter(listing, key.split("__"), values, identity))
        except LookupError as exc:
            errors[key] = exc.args[0]
        except ValueError as exc:
            errors[key] = f"Invalid value: {exc}."
    if errors:
        raise QueryError(errors)
    return Query(limit=limit, offset=offset, where=where, order_by=order_by, writable=read_write == "w",
                 shape=shape)


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
