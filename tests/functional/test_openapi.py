"""`/api/v1/openapi.json`: a valid OpenAPI 3.1 document, generated, and in step with the app.

"In step" is checked against what Pyramid itself has registered (its introspector), not against the
declarations the document is generated from: every view a URL can reach is an operation of the
document, and every operation of the document is a registered view of the node its path leads to.
"""

from __future__ import annotations

from openapi_spec_validator import validate

from hyperapi.apidocs.openapi import build
from hyperapi.traversal import SiteRoot

from ..support.api import API

# Registered, but never an answer: `<collection>/set/` without ids is always a 404.
NEVER_ANSWERED = {("SetNode", "GET")}


def served(client) -> dict:
    r = client.get(f"{API}/openapi.json")
    assert r.status_int == 200 and r.content_type == "application/json"
    return r.json


def node_class_of(template: str):
    """The class of the node a path leads to, walking the tree's classes segment by segment."""
    node_class = SiteRoot
    for segment in template.strip("/").split("/"):
        node_class = node_class.child_class(segment if not segment.startswith("{") else "x")
        assert node_class is not None, template
    return node_class


def registered_views(wsgi_app) -> set[tuple[str, str]]:
    views = set()
    for entry in wsgi_app.registry.introspector.get_category("views"):
        view = entry["introspectable"]
        methods = view["request_methods"]
        if view["route_name"] == "hyperapi" and view["context"] is not None and isinstance(methods, str):
            views.add((view["context"].__name__, methods))
    return views


def test_the_document_is_valid_openapi(client):
    document = served(client)
    validate(document)  # raises on any violation of the OpenAPI 3.1 schema
    assert document["openapi"].startswith("3.1")


def test_the_served_document_is_the_generated_one(client, wsgi_app):
    assert served(client) == build(wsgi_app.registry.api_views)


def test_every_registered_view_is_an_operation_and_every_operation_a_view(client, wsgi_app):
    document = served(client)
    documented = set()
    for template, operations in document["paths"].items():
        node_class = node_class_of(template)
        for method in operations:
            documented.add((node_class.__name__, method.upper()))
    views = registered_views(wsgi_app)
    # What the tree can reach: the classes of the URL shapes.
    undocumented = {(name, method) for name, method in views
                    if method not in ("OPTIONS", "HEAD")} - documented - NEVER_ANSWERED
    assert not undocumented, f"registered views missing from the document: {sorted(undocumented)}"
    phantom = documented - views
    assert not phantom, f"operations of the document that no view answers: {sorted(phantom)}"


def test_every_operation_has_its_errors_and_a_unique_id(client):
    document = served(client)
    ids = [op["operationId"] for operations in document["paths"].values() for op in operations.values()]
    assert len(ids) == len(set(ids))
    for template, operations in document["paths"].items():
        for method, operation in operations.items():
            for status in ("400", "401", "404", "500", "503"):
                assert status in operation["responses"], (method, template, status)
            if method in ("post", "put", "patch"):
                assert {"409", "412", "413", "415"} <= set(operation["responses"]), (method, template)


def test_list_parameters_are_the_declared_query_language(client):
    document = served(client)
    parameters = document["components"]["parameters"]
    parties = document["paths"][f"{API}/organizations/{{organization}}/projects/{{project}}/parties/"]["get"]
    names = {parameters[p["$ref"].rsplit("/", 1)[-1]]["name"] for p in parties["parameters"] if "$ref" in p}
    assert {"limit", "offset", "search", "ordering", "read_write", "depth", "full", "fields", "format",
            "name__icontains", "type__in", "archived", "created__gte"} <= names
    assert not any("password" in name for name in names)


def test_request_bodies_come_from_the_colander_schemas(client):
    document = served(client)
    schemas = document["components"]["schemas"]
    create = schemas["PartyCreate"]
    assert create["required"] == ["name"]
    assert create["properties"]["type"]["anyOf"][0]["enum"] == ["IN", "GR", "CO"]
    assert create["properties"]["name"]["maxLength"] == 200
    assert "required" not in schemas["PartyPatch"]
    assert create["additionalProperties"] is False
    upload = schemas["ResourceUpload"]
    assert upload["properties"]["file"]["format"] == "binary" and "file" in upload["required"]
    # A password is written, never shown.
    assert "password" in schemas["UserCreate"]["properties"] and "password" not in schemas["User"]["properties"]
