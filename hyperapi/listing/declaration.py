"""What a collection declares (SPEC §5): its filterable fields with their operators, its search, its
orderings and relations, and the fields of its representation. The query language (`parser`) and
the descriptions of `schema/` and OpenAPI (`hyperapi.apidocs`) are both derived from it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.sql.elements import ColumnElement

DEFAULT_LIMIT = 20
MAX_LIMIT = 1000
MAX_DEPTH = 3
MAX_SET_IDS = 100

TEXT_OPERATORS = frozenset(
    {"exact", "iexact", "contains", "icontains", "startswith", "istartswith", "endswith", "in"}
)
RANGE_OPERATORS = frozenset({"exact", "gt", "gte", "lt", "lte", "in"})
CHOICE_OPERATORS = frozenset({"exact", "in"})
BOOL_OPERATORS = frozenset({"exact"})

@dataclass(frozen=True)
class Field:
    column: ColumnElement
    kind: str  # text | choice | bool | integer | datetime
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


def integer(column) -> Field:
    return Field(column, "integer", RANGE_OPERATORS)


def moment(column, nullable=False) -> Field:
    return Field(column, "datetime", RANGE_OPERATORS, nullable=nullable)


@dataclass(frozen=True)
class Relation:
    """A filter may follow `name__field=…` into the target collection: `outer IN (SELECT inner FROM
    <target rows the caller may see> WHERE <condition on the target>)`."""

    listing: Callable[[], Listing]  # the target's declaration (a function: relations may be mutual)
    outer: ColumnElement  # this collection's column
    inner: ColumnElement  # the target's column it matches
    rows: Callable  # (identity) -> Select of the target rows visible to the caller
    key: str | None = None  # the target field named by the relation alone: `organization=terra`


@dataclass(frozen=True)
class Output:
    """A field of the representation that no request body writes, as `schema/` and the OpenAPI
    document describe it. `kind` is one of string integer boolean datetime uri list dict related;
    a `related` field names the item (a listing's `name`) whose URI it holds, or whose representation
    it inlines at `depth` > 0. `json` gives the exact JSON Schema when `kind` alone says too little."""

    kind: str
    help: str = ""
    nullable: bool = False
    related: str | None = None
    json: dict | None = None
    optional: bool = False  # not in every representation (shown to some callers only)


@dataclass(frozen=True)
class Listing:
    name: str = ""  # of the items, singular: "party"
    fields: dict[str, Field] = field(default_factory=dict)
    search: tuple = ()
    ordering: dict[str, ColumnElement] = field(default_factory=dict)
    default_ordering: tuple[str, ...] = ()
    tiebreaker: ColumnElement | None = None
    relations: dict[str, Relation] = field(default_factory=dict)
    output: tuple[str, ...] = ()  # the representation's fields, for `fields=`
    # Output fields that no body writes and `COMMON_OUTPUT` does not describe.
    described: dict[str, Output] = field(default_factory=dict)


LINKS = Output("dict", "Links to follow: self, up, and one per sub-collection (only those the caller may follow).",
             json={"type": "object", "additionalProperties": {
                 "anyOf": [{"$ref": "#/components/schemas/Link"},
                           {"type": "array", "items": {"$ref": "#/components/schemas/Link"}}]}})

# What every representation's fields of these names are, unless its listing says otherwise.
COMMON_OUTPUT = {
    "id": Output("string", "The key of the object in its URL."),
    "resource_uri": Output("uri", "The object's canonical URL (its path)."),
    "created": Output("datetime", "When it was created (UTC)."),
    "last_updated": Output("datetime", "When it last changed (UTC)."),
    "version": Output("integer", "Grows by one with every change; the ETag."),
    "_links": LINKS,
}
