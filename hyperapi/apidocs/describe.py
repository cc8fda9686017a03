"""What a collection is, in words a client can act on (SPEC §6), from the declarations that run it.

Nothing here is written by hand per collection: the fields come from the Colander schemas of its
bodies (`hyperapi.schemas`, each type giving its own kind and JSON Schema) and from its `Listing`
(the representation's other fields, the filters and operators, search, ordering, relations), as the
views declared them (`request.registry.api_views`). The `schema/` endpoints and the OpenAPI document
(`openapi`) both read them from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import colander

from ..listing import COMMON_OUTPUT, DEFAULT_LIMIT, MAX_DEPTH, MAX_LIMIT, Listing, Output
from ..renderers.negotiation import MEDIA_TYPES
from ..traversal import Container

# JSON Schema of each `kind` of an output field (a related field is a URI, or the inlined object).
KIND_SCHEMAS = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "boolean": {"type": "boolean"},
    "datetime": {"type": "string", "format": "date-time"},
    "uri": {"type": "string", "format": "uri-reference"},
    "list": {"type": "array"},
    "dict": {"type": "object"},
}
# The kinds of the query language's filter fields, as output kinds.
FILTER_KINDS = {"text": "string", "choice": "string", "bool": "boolean", "integer": "integer", "datetime": "datetime"}


def body_fields(body, data: dict | None = None) -> dict[str, colander.SchemaNode]:
    """The fields a body takes, by name (for a body of several kinds, the one `data` picks)."""
    if body is None:
        return {}
    if body.variant is not None and data is not None:
        body = body.variant(data)
    return {child.name: child for child in body.schema().children}


def default_of(node: colander.SchemaNode):
    """(has a default, the default)."""
    if node.missing is colander.required or node.missing is colander.drop:
        return False, None
    return True, node.missing


@dataclass(frozen=True)
class Collection:
    """A collection type with what is declared for it and for its items (its bodies' fields built once)."""

    api_views: object  # the registry's `views.registration.ApiViews`
    container: type[Container]

    @property
    def listing(self) -> Listing:
        return self.api_views.listing(self.container)

    @property
    def item(self) -> type:
        return self.container.item_class

    def list_methods(self) -> list[str]:
        return list(self.api_views.methods(self.container))

    def detail_methods(self) -> list[str]:
        return list(self.api_views.methods(self.item))

    @cached_property
    def create_fields(self) -> dict[str, colander.SchemaNode]:
        post = self.api_views.methods(self.container).get("POST")
        return body_fields(post.body if post else None)

    @cached_property
    def edit_fields(self) -> dict[str, colander.SchemaNode]:
        views = self.api_views.methods(self.item)
        edit = views.get("PUT") or views.get("PATCH")
        return body_fields(edit.body if edit else None)

    def output(self, name: str) -> Output:
        """How output field `name` is described: by the listing, by its body schema, or as common."""
        listing = self.listing
        if name in listing.described:
            return listing.described[name]
        node = self.edit_fields.get(name) or self.create_fields.get(name)
        if node is not None:
            has_default, default = default_of(node)
            return Output(node.typ.kind, getattr(node, "description", "") or "",
                         nullable=has_default and default is None, json=node.typ.json_schema(node, output=True))
        if name in COMMON_OUTPUT:
            return COMMON_OUTPUT[name]
        filter_field = listing.fields.get(name)
        if filter_field is not None:
            return Output(FILTER_KINDS[filter_field.kind], nullable=filter_field.nullable)
        raise LookupError(f"{listing.name}.{name} is not described")


def field_choices(collection: Collection, name: str) -> list | None:
    node = collection.edit_fields.get(name) or collection.create_fields.get(name)
    choices = getattr(node.typ, "choices", None) if node is not None else None
    if choices is None and name in collection.listing.fields and collection.listing.fields[name].choices:
        choices = collection.listing.fields[name].choices
    return list(choices) if choices is not None else None


def field_docs(collection: Collection) -> dict[str, dict]:
    """Per field: type, nullable, blank, readonly, unique, default, help_text, choices, related (§6)."""
    edit, create = collection.edit_fields, collection.create_fields
    docs = {}
    for name in collection.listing.output:
        out = collection.output(name)
        node = edit.get(name) or create.get(name)
        doc = {
            "type": out.kind,
            "nullable": out.nullable,
            "blank": node is not None and out.kind == "string" and getattr(node.typ, "allow_empty", True),
            "readonly": name not in edit,
            "unique": bool(getattr(node, "unique", False)),
            "help_text": out.help or (getattr(node, "description", "") if node is not None else ""),
        }
        if node is not None:
            has_default, default = default_of(node)
            doc["required"] = node.missing is colander.required
            if has_default:
                doc["default"] = default
            if name not in edit:
                doc["create_only"] = True  # set by the POST that creates the object, fixed after
        choices = field_choices(collection, name)
        if choices is not None:
            doc["choices"] = choices
        if out.related:
            doc["related"] = out.related
        if out.optional:
            doc["optional"] = True  # not in every caller's representation
        docs[name] = doc
    for name, node in {**create, **edit}.items():  # what a body takes that is never shown (a password)
        if name not in docs:
            docs[name] = {"type": node.typ.kind, "nullable": False, "blank": False, "readonly": False,
                          "unique": False, "help_text": getattr(node, "description", "") or "",
                          "required": node.missing is colander.required, "write_only": True}
    return docs


def column_name(listing: Listing, column) -> str:
    for name, declared in listing.fields.items():
        if declared.column is column:
            return name
    return column.key


def filtering(listing: Listing) -> dict:
    """Each filter field with its operators; each relation with what it reaches."""
    result: dict = {name: sorted(declared.allowed()) for name, declared in listing.fields.items()}
    for name, relation in listing.relations.items():
        target = relation.listing()
        result[name] = {
            "related": target.name,
            "fields": {field_name: sorted(f.allowed()) for field_name, f in target.fields.items()},
            "types": {field_name: {"type": FILTER_KINDS[f.kind], **({"choices": list(f.choices)} if f.choices else {})}
                      for field_name, f in target.fields.items()},
            "relations": sorted(target.relations),
        }
        if relation.key is not None:
            result[name]["key"] = relation.key  # `organization=x` means `organization__slug=x`
    return result


def collection_schema(collection: Collection) -> dict:
    listing = collection.listing
    return {
        "allowed_list_http_methods": [m.lower() for m in collection.list_methods()],
        "allowed_detail_http_methods": [m.lower() for m in collection.detail_methods()],
        "default_format": "application/json",
        "default_limit": DEFAULT_LIMIT,
        "max_limit": MAX_LIMIT,
        "fields": field_docs(collection),
        "filtering": filtering(listing),
        "ordering": sorted(listing.ordering),
        "default_ordering": list(listing.default_ordering),
        "search_fields": [column_name(listing, column) for column in listing.search],
        "formats": list(MEDIA_TYPES),
        "max_depth": MAX_DEPTH,
    }
