"""The rules of the tree.

- Nodes are context objects, not ORM rows. An item node wraps the row it loaded; a container knows
  how to load one child (`load`) and how to list the children a caller may see (`list_query`).
- Loading a child is one indexed query scoped to the parent's primary key, so an id that belongs to
  another project is simply not found (`KeyError`).
- Every node's `__acl__` comes from `hyperapi.auth.rules.RULES` and ends in a deny-all: nothing is
  inherited. The security policy requires `view` on every ancestor before it asks the node itself,
  so a hidden parent hides all that is under it.
- `label` names what a URL addresses, for the 404 message, which is the same whether the entity, or
  any of its ancestors, is missing or hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..auth.rules import Permission, acl, sql_allows


class Node:
    rules: ClassVar[str]  # the name of its entry in `auth.rules.RULES`
    label: ClassVar[str] = "Resource"
    # Whether the node's URL ends in a slash (every node's does, but a file's `content`).
    trailing_slash: ClassVar[bool] = True
    # How a 403 names what was refused: "You are not allowed to create new {plural}."
    plural: ClassVar[str] = "resources"
    children: ClassVar[dict[str, type[Node]]] = {}

    def __init__(self, request, name: str, parent: Node | None):
        self.request = request
        self.__name__ = name
        self.__parent__ = parent
        self._acl = None

    def facts(self) -> dict:
        return {}

    def __acl__(self):
        # A method, never a property: Pyramid swallows an AttributeError raised inside a property.
        if self._acl is None:
            self._acl = acl(self.rules, self.facts())
        return self._acl

    def __getitem__(self, name: str) -> Node:
        child = self.children.get(name)
        if child is None:
            raise KeyError(name)
        return child(self.request, name, self)

    @classmethod
    def child_class(cls, name: str) -> type[Node] | None:
        return cls.children.get(name)

    def __repr__(self):
        return f"<{type(self).__name__} {self.__name__!r}>"


class Item(Node):
    """A node wrapping one row."""

    # How the OpenAPI document names this item's key in its URL template (`{party}`).
    param: ClassVar[str] = ""

    def __init__(self, request, name, parent, row):
        super().__init__(request, name, parent)
        self.row = row

    @property
    def record(self):
        """The row that carries this entity's `version` (its ETag)."""
        return self.row


class Container(Node):
    """A collection: `load(key)` fetches one row, `list_query(identity)` the visible ones."""

    item_class: ClassVar[type[Item]]
    # Whether `<collection>/{key}/` finds an item (a flat list may only point to items elsewhere).
    addressable_items: ClassVar[bool] = True

    def __getitem__(self, key: str) -> Node:
        if key in self.children:
            return super().__getitem__(key)
        row = self.load(key)
        if row is None:
            raise KeyError(key)
        return self.wrap(row)

    def load(self, key: str):
        """The row under `key` (within this collection's own scope), or None."""
        return self.request.db.scalar(self.base_query().where(type(self).key_column == key))

    def base_query(self):
        """All the rows of this collection, before anyone's permissions."""
        raise NotImplementedError

    def rule_columns(self) -> dict:
        """The facts of `hyperapi.auth.rules` as columns of `base_query` (or constants known here)."""
        raise NotImplementedError

    @property
    def item_rules(self) -> str:
        return self.item_class.rules

    def allows(self, identity, permission):
        """SQL: the rows on which `identity` holds `permission`, by the same rules as the ACLs."""
        return sql_allows(self.item_rules, permission, identity, self.rule_columns())

    def list_query(self, identity, writable: bool = False):
        """The rows the caller may see (and with `writable`, may also change)."""
        query = self.base_query().where(self.allows(identity, Permission.VIEW))
        if writable:
            query = query.where(self.allows(identity, Permission.EDIT))
        return query

    def key_of(self, row) -> str:
        raise NotImplementedError

    def wrap(self, row) -> Item:
        return self.item_class(self.request, self.key_of(row), self, row)

    def known_total(self, identity) -> int | None:
        """The number of rows `list_query` would give, when known without counting them."""
        return None

    def prepare(self, nodes: list[Item]) -> None:
        """Load, for a whole page at once, what the representations of `nodes` will need."""

    def wrap_result(self, result_row) -> Item:
        """Wrap one row of `list_query`'s result (by default, a single entity)."""
        return self.wrap(result_row[0])

    @classmethod
    def child_class(cls, name):
        return cls.children.get(name) or cls.item_class


class Selection(Node):
    """`<collection>/set/a;b;c/`: some items of a collection, by key."""

    rules = "open"

    def __init__(self, request, name, parent):
        super().__init__(request, name, parent)
        self.ids = [key for key in name.split(";") if key]

    @property
    def container(self) -> Container:
        return self.__parent__.__parent__


class SetNode(Node):
    rules = "open"

    def __getitem__(self, name):
        return Selection(self.request, name, self)

    @classmethod
    def child_class(cls, name):
        return Selection


class CollectionSchema(Node):
    """`<collection>/schema/`: what the collection's items are and how it may be queried (SPEC §6)."""

    rules = "open"

    @property
    def container(self) -> Container:
        return self.__parent__


Container.children = {"set": SetNode, "schema": CollectionSchema}


def param_name(item_class: type[Item]) -> str:
    return item_class.param or item_class.label.lower().replace(" ", "_")


@dataclass(frozen=True)
class UrlTemplate:
    """One URL shape of the tree: `/api/v1/organizations/{organization}/` is an OrganizationNode."""

    template: str
    node_class: type[Node]
    params: tuple[str, ...]
    parent: UrlTemplate | None


def url_templates(root_class: type[Node], prefix: str = "/") -> list[UrlTemplate]:
    """Every URL shape of the tree, from its classes alone (no database), sorted by template."""
    found, stack = [], [UrlTemplate(prefix, root_class, (), None)]
    while stack:
        here = stack.pop()
        found.append(here)
        below = dict(here.node_class.children)
        if issubclass(here.node_class, Container) and here.node_class.addressable_items:
            below[None] = here.node_class.item_class
        elif here.node_class is SetNode:
            below[None] = Selection
        for name, child in below.items():
            params = here.params
            if name is None:
                key = param_name(child) if issubclass(child, Item) else "ids"
                while key in params:  # keep every parameter name unique within one template
                    key = f"{child.rules}_{key}"
                segment, params = "{" + key + "}", (*params, key)
            else:
                segment = name
            template = here.template + segment + ("/" if child.trailing_slash else "")
            stack.append(UrlTemplate(template, child, params, here))
    return sorted(found, key=lambda entry: entry.template)


def describe_path(root_class: type[Node], segments: list[str]) -> str:
    """What a URL addresses, from the shape of its path alone (no database): the 404 message.

    `/organizations/x/projects/y/parties/z/` addresses a Party whatever exists; a collection addresses
    its parent (`/organizations/x/projects/` is about Organization x). An unknown shape is "Not found."
    """
    current, label = root_class, "Resource"
    for segment in segments:
        if segment == "":
            continue
        current = current.child_class(segment)
        if current is None:
            return "Not found."
        if issubclass(current, Item):
            label = current.label
    # A collection (or a selection of one) addresses the item it belongs to.
    return f"{label} does not exist"
