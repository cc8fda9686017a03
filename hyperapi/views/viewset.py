"""The usual views of an entity type, as one declaration (as Kinto's `ViewSet` or DRF's
`ModelViewSet`): list and create on its collection; read, replace, change and delete on its items.
Each view validates (Cornice, before it runs), calls the entity's service, and presents the result."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import colander

from ..auth.rules import Permission
from ..listing import Listing
from ..schemas import CREATE, PATCH, REPLACE
from .answers import changed, check_if_match, collection_answer, created, deleted, object_answer
from .bodies import Body

# Fields every representation carries and no body may change.
READONLY = frozenset({"id", "resource_uri", "_links", "created", "last_updated", "version"})


@dataclass(frozen=True)
class ViewSet:
    container: type
    item: type
    represent: Callable  # (request, item node, depth) -> dict
    listing: Listing
    schema: Callable[[], colander.SchemaNode]
    create: Callable  # (request, container node, validated) -> the new row
    update: Callable  # (request, item node, validated) -> None
    delete: Callable  # (request, item node) -> None
    readonly: frozenset = READONLY
    create_schema: Callable | None = None
    # (request) -> the read-only values a POST may repeat (how a form names the parent, say)
    create_readonly_values: Callable | None = None
    # (request) -> the read-only values a PUT/PATCH may repeat; by default the item's representation
    readonly_values: Callable | None = None
    replaceable: bool = True  # whether items answer PUT (SPEC §2: members and users do not)

    def list(self, request):
        return collection_answer(request)

    def post(self, request):
        row = self.create(request, request.context, request.validated)
        return created(request, request.context.wrap(row), self.represent)

    def get(self, request):
        node = request.context
        return object_answer(request, node, self.represent, self.listing)

    def put(self, request):
        node = request.context
        check_if_match(request, node, self.represent)
        self.update(request, node, request.validated)
        return changed(request, node.__parent__.wrap(node.row), self.represent)  # its key may have changed

    def remove(self, request):
        check_if_match(request, request.context, self.represent)
        self.delete(request, request.context)
        return deleted()

    def current(self, request):
        if self.readonly_values is not None:
            return self.readonly_values(request)
        return self.represent(request, request.context, 0)

    def register(self, config) -> None:
        config.add_api_collection(self.container, self.listing, self.represent)
        config.add_api_view(self.container, "GET", self.list, Permission.VIEW)
        config.add_api_view(self.container, "POST", self.post, Permission.CREATE,
                            Body(self.create_schema or self.schema, CREATE, self.readonly,
                                 self.create_readonly_values))
        config.add_api_view(self.item, "GET", self.get, Permission.VIEW)
        if self.replaceable:
            config.add_api_view(self.item, "PUT", self.put, Permission.EDIT,
                                Body(self.schema, REPLACE, self.readonly, self.current))
        config.add_api_view(self.item, "PATCH", self.put, Permission.EDIT,
                            Body(self.schema, PATCH, self.readonly, self.current))
        config.add_api_view(self.item, "DELETE", self.remove, Permission.DELETE)
