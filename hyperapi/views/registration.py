"""How the API's views are declared: through Pyramid configuration, into one table in the registry.

`config.add_api_view(context, method, view, permission, body=…)` declares that nodes of type
`context` answer `method` with `view`, for callers holding `permission` on the node, validating
`body`; `config.add_api_collection(container, listing, represent)` declares how a collection is
queried and what its items look like. Every part that needs to know the API's views reads them
from `request.registry.api_views`: `Allow` and 405s (`views.allow`), `schema/` and the OpenAPI
document (`hyperapi.apidocs`), and the forms of the browsable pages (`hyperapi.browsable`).

All views hang on one Cornice service over the traversal route `/*traverse`: the tree decides what a
URL is, and the view is chosen by the type of the node it finds (`context`). Cornice runs each
view's validators and turns their errors into our error body; its per-service 405s and exception
handling are not used, because here the methods a URL answers depend on the node, not the route.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from cornice import Service

from ..auth.rules import Permission
from ..listing import Listing
from ..renderers import NEGOTIATED
from ..traversal import root_factory
from .bodies import Body, error_handler, validate_body, validate_write_query

SERVICE_NAME = "hyperapi"


@dataclass(frozen=True)
class Declared:
    """A method of a context type: who may call it, and the body it takes."""

    permission: Permission
    body: Body | None


@dataclass(frozen=True)
class CollectionDeclaration:
    """How a collection type is queried (`listing`), what its items look like (`represent`), and
    whether it answers `set/{ids}/`."""

    listing: Listing
    represent: Callable
    selectable: bool = True


class ApiViews:
    """The API's views, per context type, in the order declared; and its collections."""

    def __init__(self):
        self.service = Service(name=SERVICE_NAME, path="/*traverse", factory=root_factory, description="hyperapi")
        self._methods: dict[type, dict[str, Declared]] = defaultdict(dict)
        self._collections: dict[type, CollectionDeclaration] = {}

    def methods(self, context_type: type) -> dict[str, Declared]:
        return self._methods.get(context_type, {})

    def collection(self, container_type: type) -> CollectionDeclaration | None:
        return self._collections.get(container_type)

    def listing(self, container_type: type) -> Listing | None:
        declared = self._collections.get(container_type)
        return declared.listing if declared is not None else None

    def allowed_methods(self, context_type: type, may: Callable[[Declared], bool] = lambda declared: True) -> list[str]:
        """The methods nodes of this type answer (GET brings HEAD), or those of them `may` lets through."""
        methods = []
        for method, declared in self.methods(context_type).items():
            if may(declared):
                methods += [method, "HEAD"] if method == "GET" else [method]
        return [*methods, "OPTIONS"]

    def context_types(self) -> list[type]:
        return list(self._methods)


def add_api_view(config, context: type, method: str, view, permission: Permission, body: Body | None = None,
                 renderer: str | None = None) -> None:
    """Declare `view` for `method` on nodes of type `context`."""
    api_views: ApiViews = config.registry.api_views
    kwargs = {"context": context, "permission": str(permission), "error_handler": error_handler}
    validators = [] if method in ("GET", "HEAD") else [validate_write_query]
    if body is not None:
        kwargs["schema"] = body
        validators.append(validate_body)
    if validators:
        kwargs["validators"] = tuple(validators)
    if renderer is None:
        renderer = NEGOTIATED if method == "GET" else "json"
    kwargs["renderer"] = renderer
    api_views.service.add_view(method, view, **kwargs)
    api_views._methods[context][method] = Declared(permission, body)
    # Two views for one method of one type is a configuration error, reported at start.
    config.action(("hyperapi.api_view", context, method))


def add_api_collection(config, container: type, listing: Listing, represent: Callable,
                       selectable: bool = True) -> None:
    config.registry.api_views._collections[container] = CollectionDeclaration(listing, represent, selectable)
    config.action(("hyperapi.api_collection", container))


def includeme(config):
    config.registry.api_views = ApiViews()
    config.add_directive("add_api_view", add_api_view)
    config.add_directive("add_api_collection", add_api_collection)


def register_service(config) -> None:
    """Once every view is declared: put them on the route."""
    config.add_cornice_service(config.registry.api_views.service)
