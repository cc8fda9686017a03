"""The query language of collections (SPEC §5): what each collection declares (`declaration`), how
a query string is checked against it and turned into SQL (`parser`), and a page of results
(`pages`)."""

from .declaration import (
    BOOL_OPERATORS,
    CHOICE_OPERATORS,
    COMMON_OUTPUT,
    DEFAULT_LIMIT,
    LINKS,
    MAX_DEPTH,
    MAX_LIMIT,
    MAX_SET_IDS,
    RANGE_OPERATORS,
    TEXT_OPERATORS,
    Field,
    Listing,
    Output,
    Relation,
    boolean,
    choice,
    integer,
    moment,
    text,
)
from .pages import Page, page_link, run, select_ids
from .query import INT64_MAX, INT64_MIN, QueryError, Shape, credentials_in, parse, parse_object_params

__all__ = [
    "BOOL_OPERATORS", "CHOICE_OPERATORS", "COMMON_OUTPUT", "DEFAULT_LIMIT", "INT64_MAX", "INT64_MIN", "LINKS",
    "MAX_DEPTH", "MAX_LIMIT", "MAX_SET_IDS", "RANGE_OPERATORS", "TEXT_OPERATORS", "Field", "Listing", "Output",
    "Page", "QueryError", "Relation", "Shape", "boolean", "choice", "credentials_in", "integer", "moment",
    "page_link", "parse", "parse_object_params", "run", "select_ids", "text",
]
