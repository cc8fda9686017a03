"""The query language on its own (`hyperapi.listing`): a query string and a `Listing` in, a `Query` (or a `QueryError`
naming every bad parameter) out. The listing here is declared over plain table columns, so no model,
app or database is involved; SQL is only compiled, never run.
"""

from __future__ import annotations

import datetime
from types import SimpleNamespace
from urllib.parse import parse_qsl

import pytest
import sqlalchemy as sa
from webob.multidict import MultiDict

from hyperapi import listing as q
from hyperapi.listing import (
    CHOICE_OPERATORS,
    DEFAULT_LIMIT,
    MAX_LIMIT,
    RANGE_OPERATORS,
    TEXT_OPERATORS,
    Field,
    QueryError,
    page_link,
    parse,
    parse_object_params,
)
from hyperapi.listing.query import _coerce, parse_shape

owners = sa.table("owners", sa.column("id", sa.Integer), sa.column("slug", sa.String), sa.column("name", sa.String))
things = sa.table("things", sa.column("id", sa.String), sa.column("name", sa.String), sa.column("kind", sa.String),
                  sa.column("done", sa.Boolean), sa.column("size", sa.Integer), sa.column("created", sa.DateTime),
                  sa.column("note", sa.String), sa.column("owner_id", sa.Integer))

OWNERS = q.Listing(name="owner", fields={"slug": q.text(owners.c.slug), "name": q.text(owners.c.name)})
THINGS = q.Listing(
    name="thing",
    fields={
        "name": q.text(things.c.name),
        "kind": q.choice(things.c.kind, ("big", "small")),
        "done": q.boolean(things.c.done),
        "size": q.integer(things.c.size),
        "created": q.moment(things.c.created),
        "note": q.text(things.c.note, nullable=True),
    },
    search=(things.c.name, things.c.note),
    ordering={"name": things.c.name, "size": things.c.size, "created": things.c.created},
    default_ordering=("name",),
    tiebreaker=things.c.id,
    relations={"owner": q.Relation(lambda: OWNERS, things.c.owner_id, owners.c.id,
                                   rows=lambda identity: sa.select(owners), key="slug")},
    output=("id", "name", "kind", "owner"),
)
UNSEARCHABLE = q.Listing(name="plain", fields={"name": q.text(things.c.name)})


def params(query: str) -> MultiDict:
    return MultiDict(parse_qsl(query, keep_blank_values=True))


def errors_of(query: str, listing=THINGS) -> dict:
    with pytest.raises(QueryError) as caught:
        parse(params(query), listing)
    return caught.value.errors


def compiled(clause) -> tuple[str, dict]:
    result = clause.compile()  # SQLAlchemy's generic SQL, with named parameters
    return " ".join(str(result).split()), result.params


def the_condition(query: str):
    (condition,) = parse(params(query), THINGS).where
    return compiled(condition)


# --- what a valid query string gives ---------------------------------------------------------------


def test_no_parameters_give_the_defaults():
    query = parse(params(""), THINGS)
    assert (query.limit, query.offset, query.where, query.writable) == (DEFAULT_LIMIT, 0, [], False)
    assert [compiled(c)[0] for c in query.order_by] == ["things.name ASC", "things.id ASC"]
    assert (query.shape.depth, query.shape.fields, query.shape.format) == (0, None, None)


def test_limit_zero_means_the_largest_page():
    assert parse(params("limit=0&offset=40"), THINGS).limit == MAX_LIMIT
    assert parse(params("limit=0&offset=40"), THINGS).offset == 40
    assert parse(params(f"limit={MAX_LIMIT}"), THINGS).limit == MAX_LIMIT


def test_read_write_w_asks_for_what_the_caller_may_change():
    assert parse(params("read_write=w"), THINGS).writable is True
    assert parse(params("read_write=r"), THINGS).writable is False


@pytest.mark.parametrize("ordering,expected", [
    ("-size", ["things.size DESC", "things.id DESC"]),  # the tiebreaker follows the last field's direction
    ("-size,name", ["things.size DESC", "things.name ASC", "things.id ASC"]),
    (" created , -name ", ["things.created ASC", "things.name DESC", "things.id DESC"]),
    ("", ["things.name ASC", "things.id ASC"]),  # blank: the default
])
def test_ordering(ordering, expected):
    query = parse(params(f"ordering={ordering}"), THINGS)
    assert [compiled(c)[0] for c in query.order_by] == expected


@pytest.mark.parametrize("query,sql,values", [
    ("name=Amina", "things.name = :name_1", {"name_1": "Amina"}),
    ("name__iexact=AMINA", "lower(things.name) = :lower_1", {"lower_1": "amina"}),
    ("name__contains=50%_off", "things.name LIKE :name_1 ESCAPE '\\'", {"name_1": "%50\\%\\_off%"}),
    ("name__icontains=am", "lower(things.name) LIKE lower(:name_1) ESCAPE '\\'", {"name_1": "%am%"}),
    ("name__startswith=A", "things.name LIKE :name_1 ESCAPE '\\'", {"name_1": "A%"}),
    ("name__istartswith=a", "lower(things.name) LIKE lower(:name_1) ESCAPE '\\'", {"name_1": "a%"}),
    ("name__endswith=na", "things.name LIKE :name_1 ESCAPE '\\'", {"name_1": "%na"}),
    ("name__in=a,,b", "things.name IN (__[POSTCOMPILE_name_1])", {"name_1": ["a", "b"]}),
    ("size__in=1,2&size__in=3", "things.size IN (__[POSTCOMPILE_size_1])", {"size_1": [1, 2, 3]}),
    ("size__gt=3", "things.size > :size_1", {"size_1": 3}),
    ("size__lte=-3", "things.size <= :size_1", {"size_1": -3}),
    ("kind=big", "things.kind = :kind_1", {"kind_1": "big"}),
    ("done=TRUE", "things.done = true", {}),
    ("done=0", "things.done = false", {}),
    ("note__isnull=true", "things.note IS NULL", {}),
    ("note__isnull=false", "things.note IS NOT NULL", {}),
    ("created__gte=2026-01-01T03:00:00%2B03:00", "things.created >= :created_1",
     {"created_1": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)}),
])
def test_each_operator_gives_its_condition(query, sql, values):
    assert the_condition(query) == (sql, values)


def test_a_relation_is_followed_through_the_rows_the_caller_may_see():
    sql, values = the_condition("owner__name__icontains=terra")
    assert sql == ("things.owner_id IN (SELECT owners.id FROM owners "
                   "WHERE lower(owners.name) LIKE lower(:name_1) ESCAPE '\\')")
    assert values == {"name_1": "%terra%"}


def test_a_relation_alone_means_its_key():
    assert the_condition("owner=terra") == the_condition("owner__slug=terra")
    assert the_condition("owner__in=a,b") == the_condition("owner__slug__in=a,b")


def test_search_looks_in_every_searched_column():
    sql, values = the_condition("search=%20am%20")
    assert sql == ("lower(things.name) LIKE lower(:name_1) ESCAPE '\\' "
                   "OR lower(things.note) LIKE lower(:note_1) ESCAPE '\\'")
    assert values == {"name_1": "%am%", "note_1": "%am%"}
    assert parse(params("search=%20%20"), THINGS).where == []  # a blank search is no search


def test_credentials_in_the_query_string_are_not_filters():
    assert parse(params("api_key=k&username=amara"), THINGS).where == []
    # Without api_key, `username` is an ordinary parameter: here an undeclared one.
    assert errors_of("username=amara") == {"username": "Unknown query parameter."}


@pytest.mark.parametrize("query,depth,fields", [
    ("", 0, None),
    ("full=true", 1, None),
    ("full=true&depth=2", 2, None),
    ("depth=3&full=false", 3, None),
    ("fields=%20name%20,kind,", 0, frozenset({"name", "kind"})),
])
def test_shape(query, depth, fields):
    errors = {}
    shape = parse_shape(params(query), THINGS, errors)
    assert errors == {}
    assert (shape.depth, shape.fields) == (depth, fields)


# --- what an invalid one gives: a 400 naming each bad parameter ------------------------------------


@pytest.mark.parametrize("query,errors", [
    ("limit=ten", {"limit": "Must be a whole number."}),
    ("limit=-1", {"limit": "Must be at least 0."}),
    ("limit=1001", {"limit": "Must be at most 1000 (0 means 1000)."}),
    ("offset=-5", {"offset": "Must be at least 0."}),
    ("limit=1&limit=2", {"limit": "Give this parameter once."}),
    ("depth=4", {"depth": "Must be from 0 to 3."}),
    ("full=maybe", {"full": "Must be true or false."}),
    ("fields=name,colour", {"fields": "Unknown field 'colour' (fields: id, name, kind, owner)."}),
    ("callback=handle", {"callback": "Only with format=jsonp."}),
    ("read_write=rw", {"read_write": 'Must be "r" (what you may read) or "w" (what you may change).'}),
    ("search=a&search=b", {"search": "Give this parameter once."}),
    ("colour=red", {"colour": "Unknown query parameter."}),
    ("name__exact__again=a", {"name__exact__again": "Unknown query parameter."}),
    ("name__gt=a", {"name__gt": "Filtering 'name' with 'gt' is not allowed (allowed: contains, endswith, exact, "
                                "icontains, iexact, in, istartswith, startswith)."}),
    ("name__isnull=true", {"name__isnull": "Filtering 'name' with 'isnull' is not allowed (allowed: contains, "
                                           "endswith, exact, icontains, iexact, in, istartswith, startswith)."}),
    ("kind__contains=b", {"kind__contains": "Filtering 'kind' with 'contains' is not allowed (allowed: exact, in)."}),
    ("name=a&name=b", {"name": "Give this parameter once (or use __in)."}),
    ("kind=huge", {"kind": "Invalid value: must be one of big, small."}),
    ("kind__in=big,huge", {"kind__in": "Invalid value: must be one of big, small."}),
    ("done=yes", {"done": "Invalid value: must be true or false."}),
    ("note__isnull=perhaps", {"note__isnull": "Invalid value: must be true or false."}),
    ("size=1.5", {"size": "Invalid value: must be a whole number."}),
    ("size=9223372036854775808", {"size": "Invalid value: out of range."}),
    ("size__in=,", {"size__in": "Invalid value: give at least one value."}),
    ("created__lt=yesterday", {"created__lt": "Invalid value: must be an ISO 8601 date or date and time."}),
    ("owner__colour=red", {"owner__colour": "Filtering 'slug' with 'colour' is not allowed (allowed: contains, "
                                            "endswith, exact, icontains, iexact, in, istartswith, startswith)."}),
    ("ordering=colour", {"ordering": "Cannot order by 'colour' (allowed: created, name, size)."}),
    ("ordering=name,-name", {"ordering": "Cannot order by '-name' (allowed: created, name, size)."}),
    ("ordering=name&ordering=size", {"ordering": "Give this parameter once, with fields separated by commas."}),
])
def test_a_bad_parameter_is_named_with_what_is_wrong(query, errors):
    assert errors_of(query) == errors


def test_every_bad_parameter_is_named_at_once():
    assert errors_of("limit=ten&colour=red&ordering=colour&size=big&fields=nope").keys() == {
        "limit", "colour", "ordering", "size", "fields"}


def test_a_collection_without_search_fields_refuses_search():
    assert errors_of("search=a", UNSEARCHABLE) == {"search": "This collection cannot be searched."}
    assert errors_of("ordering=name", UNSEARCHABLE) == {"ordering": "Cannot order by 'name' (allowed: nothing)."}


def test_an_object_takes_only_shape_parameters_and_credentials():
    assert parse_object_params(params("fields=name&depth=1&api_key=k&username=amara"), THINGS).depth == 1
    with pytest.raises(QueryError) as caught:
        parse_object_params(params("limit=5&name=a&fields=colour"), THINGS)
    assert caught.value.errors == {"limit": "Unknown query parameter.", "name": "Unknown query parameter.",
                                   "fields": "Unknown field 'colour' (fields: id, name, kind, owner)."}


# --- values and operators --------------------------------------------------------------------------


@pytest.mark.parametrize("kind,value,expected", [
    ("text", " as given ", " as given "),
    ("bool", "True", True),
    ("bool", "1", True),
    ("bool", "FALSE", False),
    ("bool", "0", False),
    ("integer", "-42", -42),
    ("integer", str(2**63 - 1), 2**63 - 1),
    ("integer", str(-(2**63)), -(2**63)),
    ("datetime", "2026-03-04", datetime.datetime(2026, 3, 4, tzinfo=datetime.UTC)),
    ("datetime", "2026-03-04T05:06:07Z", datetime.datetime(2026, 3, 4, 5, 6, 7, tzinfo=datetime.UTC)),
    ("datetime", "2026-03-04T05:06:07-02:00", datetime.datetime(2026, 3, 4, 7, 6, 7, tzinfo=datetime.UTC)),
])
def test_coerce_accepts(kind, value, expected):
    assert _coerce(Field(None, kind), value) == expected


@pytest.mark.parametrize("kind,value,message", [
    ("bool", "yes", "must be true or false"),
    ("integer", "12abc", "must be a whole number"),
    ("integer", str(2**63), "out of range"),
    ("integer", str(-(2**63) - 1), "out of range"),
    ("datetime", "04/03/2026", "must be an ISO 8601 date or date and time"),
    ("datetime", "0001-01-01T00:00:00+01:00", "out of the range of dates"),
    ("geometry", "POINT(1 2)", "unsupported"),
])
def test_coerce_refuses(kind, value, message):
    with pytest.raises(ValueError, match=f"^{message}$"):
        _coerce(Field(None, kind), value)


def test_coerce_a_choice():
    field = q.choice(things.c.kind, ("big", "small"))
    assert _coerce(field, "small") == "small"
    with pytest.raises(ValueError, match="^must be one of big, small$"):
        _coerce(field, "Small")


def test_which_operators_each_kind_of_field_takes():
    assert q.text(things.c.name).allowed() == TEXT_OPERATORS
    assert q.text(things.c.note, nullable=True).allowed() == TEXT_OPERATORS | {"isnull"}
    assert q.choice(things.c.kind, ("big",)).allowed() == CHOICE_OPERATORS == {"exact", "in"}
    assert q.boolean(things.c.done).allowed() == {"exact"}
    assert q.integer(things.c.size).allowed() == RANGE_OPERATORS == {"exact", "gt", "gte", "lt", "lte", "in"}
    assert q.moment(things.c.created, nullable=True).allowed() == RANGE_OPERATORS | {"isnull"}


def test_page_links_keep_the_query_but_never_the_credentials():
    request = SimpleNamespace(path="/api/v1/things/",
                              GET=params("name=a&api_key=secret&username=amara&limit=5&offset=10"))
    assert page_link(request) == "/api/v1/things/?name=a&limit=5&offset=10"
    assert page_link(request, offset=15, limit=5) == "/api/v1/things/?name=a&limit=5&offset=15"
    assert page_link(SimpleNamespace(path="/api/v1/things/", GET=params(""))) == "/api/v1/things/"
    # Without api_key, `username` is a filter like any other, and stays.
    assert page_link(SimpleNamespace(path="/u/", GET=params("username=amara"))) == "/u/?username=amara"
