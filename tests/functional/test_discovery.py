"""Discoverable (SPEC §6): a client that knows only `/api/v1/` finds, understands and uses everything.

- The crawl: from `/api/v1/`, as each role, follow every link the API hands out (`_links`, `Link`
  headers, `resource_uri`, related URIs, pages). Every one answers 200 to that caller, every entity
  the caller may see is reached, and every JSON answer is what the OpenAPI document says it is.
- OPTIONS: `Allow` names exactly the methods this caller may use here — each method it names is not
  refused (401/403) and each it leaves out is.
- `schema/`: what it says is what the collection does — every filter and operator it lists is
  accepted and none it leaves out is, every ordering and search works, its fields are the
  representation's fields, and the read-only ones are refused in a body.
"""

from __future__ import annotations

import json
import re

import pytest
from jsonschema import Draft202012Validator
from webtest import TestApp

from ..support.api import API, Client
from ..support.factory import PASSWORD
from .crawl_world import ROLES, crawl, crawl_world, every_entity

pytestmark = pytest.mark.slow  # crawls the API as every role

# --- the world, made once for the module ---------------------------------------------------------------


@pytest.fixture(scope="module")
def world(engine, wsgi_app):
    with crawl_world(engine, wsgi_app) as made:
        yield {"world": made, "keys": made.keys, "client": Client(TestApp(wsgi_app)), "crawls": {}}


@pytest.fixture
def bound(world, wsgi_app):
    """The app bound to the world's connection, each test in a savepoint rolled back after it."""
    world["world"].bind(wsgi_app)
    savepoint = world["world"].connection.begin_nested()
    yield world
    if savepoint.is_active:
        savepoint.rollback()


def caller(world, role) -> Client:
    return world["client"].as_(world["keys"][role])


def crawl_as(world, role):
    """The crawl of a role, made once (crawls only read)."""
    if role not in world["crawls"]:
        world["crawls"][role] = crawl(caller(world, role))
    return world["crawls"][role]


# --- the OpenAPI document, as a validator of answers ---------------------------------------------------


class Document:
    def __init__(self, doc: dict):
        self.doc = doc
        templates = sorted(doc["paths"], key=lambda t: (t.count("{"), t))  # literal segments first
        self.routes = [(re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", re.escape(t).replace(r"\{", "{")
                                                .replace(r"\}", "}")) + "$"), t) for t in templates]

    def template(self, path: str) -> str | None:
        for pattern, template in self.routes:
            if pattern.match(path):
                return template
        return None

    def errors(self, method: str, path: str, status: int, body) -> list[str]:
        template = self.template(path)
        if template is None:
            return [f"{path} matches no path of the document"]
        operation = self.doc["paths"][template].get(method.lower())
        if operation is None:
            return [f"{method} {template} is not in the document"]
        response = operation["responses"].get(str(status))
        if response is None:
            return [f"{method} {template} does not document {status}"]
        response = self.resolve(response)
        schema = response.get("content", {}).get("application/json", {}).get("schema")
        if schema is None:
            return []
        validator = Draft202012Validator({**schema, "components": self.doc["components"]})
        return [f"{method} {path} ({template}): {e.json_path}: {e.message}" for e in validator.iter_errors(body)]

    def resolve(self, node: dict) -> dict:
        while "$ref" in node:
            target = self.doc
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node


@pytest.fixture(scope="module")
def document(world) -> Document:
    return Document(world["client"].get(f"{API}/openapi.json").json)


# --- the root ----------------------------------------------------------------------------------------


def test_the_root_lists_every_top_level_collection_with_its_schema(bound):
    client = bound["client"]
    r = client.get(f"{API}/")
    assert r.status_int == 200
    assert '/api/v1/openapi.json>; rel="service-desc"' in r.headers["Link"]
    body = r.json
    collections = {name: entry for name, entry in body.items() if name not in ("_links", "actions")}
    assert set(collections) == {"organizations", "projects", "resources", "users"}  # tokens: signed-in callers
    for name, entry in collections.items():
        assert client.get(entry["schema"]).status_int == 200, name
        assert body["_links"][name] == {"href": entry["list_endpoint"]}
    assert body["_links"]["service-desc"] == {"href": f"{API}/openapi.json"}
    login = body["actions"]["login"]
    assert login["method"] == "POST"
    assert client.post(login["href"], {"username": "stranger", "password": PASSWORD}).status_int == 201
    signed_in = caller(bound, "stranger").get(f"{API}/").json
    assert signed_in["tokens"]["list_endpoint"] == f"{API}/account/tokens/"
    assert caller(bound, "stranger").get(signed_in["_links"]["account"]["href"]).status_int == 200


# --- the crawl ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_link_answers_and_every_visible_entity_is_reached(bound, document, role):
    result = crawl_as(bound, role)
    broken = {url: r.status_int for url, r in result.answers.items() if r.status_int != 200}
    assert not broken, f"links handed out to {role} that do not answer 200: {broken}"
    reached = result.reached
    client = caller(bound, role)
    with bound["world"].session() as session:
        entities = every_entity(session)
    missed = [url for url, marker in entities.items() if marker not in reached and client.get(url).status_int == 200]
    assert not missed, f"{role} may see these, but no link leads there: {missed}"
    # A party is never reached by someone who may not see it (the crawl found only what answers 200).
    if role in ("anon", "stranger"):
        assert not any("/parties/" in url and "/resources/" not in url for url in reached)


@pytest.mark.parametrize("role", ROLES)
def test_every_answer_is_what_the_document_says(bound, document, role):
    problems = []
    for url, response in crawl_as(bound, role).answers.items():
        path = url.split("?")[0]
        body = response.json if response.content_type.endswith("json") else None
        problems += document.errors("GET", path, response.status_int, body)
    assert not problems, "\n".join(problems[:20])


@pytest.mark.parametrize("role", ("member", "su"))
def test_inlined_objects_are_what_the_document_says(bound, document, role):
    client = caller(bound, role)
    urls = [u for u in crawl_as(bound, role).answers if "?" not in u and not u.endswith(("content", ".json"))]
    problems = []
    for url in urls:
        response = client.get(url + "?depth=2")
        assert response.status_int == 200, url
        problems += document.errors("GET", url, 200, response.json)
    assert not problems, "\n".join(problems[:20])


# --- OPTIONS ----------------------------------------------------------------------------------------------

# A write that can change nothing: a body no view accepts, or (DELETE) a version that never matches.
PROBES = {
    "POST": {"json": {"__no_such_field__": 1}},
    "PUT": {"json": {"__no_such_field__": 1}},
    "PATCH": {"json": {"__no_such_field__": 1}},
    "DELETE": {"headers": {"If-Match": '"no-such-version"'}},
}


def one_url_per_shape(document: Document, urls) -> list[str]:
    chosen = {}
    for url in urls:
        if "?" in url:
            continue
        chosen.setdefault(document.template(url), url)
    return sorted(chosen.values())


@pytest.mark.parametrize("role", ROLES)
def test_allow_names_exactly_what_the_caller_may_do(bound, document, role):
    client = caller(bound, role)
    for url in one_url_per_shape(document, crawl_as(bound, role).answers):
        r = client.request("OPTIONS", url)
        assert r.status_int == 200, url
        allow = [m.strip() for m in r.headers["Allow"].split(",")]
        assert r.json["allow"] == allow
        assert "GET" in allow and "OPTIONS" in allow, url
        template = document.template(url)
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            if url.endswith("/account/tokens/" + url.rstrip("/").rsplit("/", 1)[-1] + "/") and method == "DELETE":
                continue  # deleting one's own token (no version to test against) would sign the caller out
            if method.lower() not in document.doc["paths"][template]:
                assert method not in allow, f"{method} {url}"
                continue
            answer = client.request(method, url, **PROBES[method])
            refused = answer.status_int in (401, 403)
            assert refused == (method not in allow), (
                f"{role}: {method} {url} answered {answer.status_int}, Allow: {allow}")


def test_options_on_a_hidden_entity_is_the_404_of_a_missing_one(bound):
    stranger = caller(bound, "stranger")
    hidden = stranger.request("OPTIONS", f"{API}/organizations/hush/")
    missing = stranger.request("OPTIONS", f"{API}/organizations/no-such-org/")
    assert hidden.status_int == missing.status_int == 404
    assert hidden.body == missing.body
    assert "Allow" not in hidden.headers


def test_options_links_to_the_schema_and_the_document(bound):
    r = caller(bound, "admin").request("OPTIONS", f"{API}/organizations/acme/projects/open/")
    assert r.json["_links"]["describedby"] == {"href": f"{API}/organizations/acme/projects/schema/"}
    assert f'{API}/organizations/acme/projects/schema/>; rel="describedby"' in r.headers["Link"]
    assert f'{API}/openapi.json>; rel="service-desc"' in r.headers["Link"]
    assert r.headers["Allow"] == "GET, HEAD, PUT, PATCH, DELETE, OPTIONS"
    r = caller(bound, "viewer").request("OPTIONS", f"{API}/organizations/acme/projects/open/")
    assert r.headers["Allow"] == "GET, HEAD, OPTIONS"


# --- links on collections ----------------------------------------------------------------------------------


def test_a_collection_links_its_pages_its_parent_and_its_schema(bound):
    url = f"{API}/organizations/acme/projects/open/parties/"
    r = caller(bound, "member").get(url + "?limit=10&offset=10")
    links = r.json["_links"]
    assert links["self"] == {"href": url + "?limit=10&offset=10"}
    assert links["up"] == {"href": f"{API}/organizations/acme/projects/open/"}
    assert links["describedby"] == {"href": url + "schema/"}
    assert links["next"] == {"href": url + "?limit=10&offset=20"}
    assert links["prev"] == {"href": url + "?limit=10&offset=0"}
    assert links["first"] == {"href": url + "?limit=10&offset=0"}
    header = r.headers["Link"]
    for rel in ("next", "prev", "first", "up", "describedby", "service-desc"):
        assert f'rel="{rel}"' in header
    hal = caller(bound, "member").get(url, headers={"Accept": "application/hal+json"})
    assert hal.content_type == "application/hal+json" and hal.json["_links"]["up"] == links["up"]


def test_objects_link_every_sub_collection(bound):
    r = caller(bound, "member").get(f"{API}/organizations/acme/projects/open/")
    assert set(r.json["_links"]) == {"self", "up", "organization", "members", "parties", "resources", "history"}
    hal = caller(bound, "member").get(f"{API}/organizations/acme/projects/open/?format=hal&depth=1")
    assert hal.json["_embedded"]["organization"]["resource_uri"] == f"{API}/organizations/acme/"


# --- schema/ says what the collection does -------------------------------------------------------------------

SAMPLE_VALUES = {"string": "a", "integer": "1", "boolean": "true", "datetime": "2020-01-02T03:04:05Z"}


def value_for(kind: str, choices, op: str) -> str:
    if op == "isnull":
        return "true"
    value = choices[0] if choices else SAMPLE_VALUES.get(kind, "a")
    return f"{value},{value}" if op == "in" else value


def collection_urls(document: Document, urls) -> list[str]:
    """One URL of every collection shape (not a set, not a schema)."""
    return [url for url in one_url_per_shape(document, urls)
            if url.endswith("/") and bound_is_collection(document, url)]


def bound_is_collection(document: Document, url: str) -> bool:
    template = document.template(url)
    get = document.doc["paths"][template].get("get", {})
    schema = get.get("responses", {}).get("200", {}).get("content", {}).get("application/json", {}).get("schema", {})
    return schema.get("$ref", "").endswith("Page")


def test_every_collection_answers_what_its_schema_says(bound, document):
    su = caller(bound, "su")
    urls = collection_urls(document, crawl_as(bound, "su").answers)
    assert len(urls) >= 15, urls  # every kind of collection, nested and flat
    for url in urls:
        r = su.get(url + "schema/")
        assert r.status_int == 200, url
        schema = r.json
        assert schema["_links"]["up"] == {"href": url}
        fields = schema["fields"]
        kinds = {name: doc["type"] for name, doc in fields.items()}
        for name, ops in schema["filtering"].items():
            if isinstance(ops, dict):  # a relation: each of its target's fields, one hop away
                for target_field, target_ops in ops["fields"].items():
                    kind = ops["types"][target_field]
                    for op in target_ops:
                        key = f"{name}__{target_field}__{op}"
                        answer = su.get(url, params={key: value_for(kind["type"], kind.get("choices"), op)})
                        assert answer.status_int == 200, (url, key, answer.text)
                continue
            for op in ops:
                value = value_for(kinds.get(name, "string"), fields.get(name, {}).get("choices"), op)
                answer = su.get(url, params={f"{name}__{op}": value})
                assert answer.status_int == 200, (url, name, op, answer.text)
            for op in {"exact", "icontains", "gt", "isnull", "in"} - set(ops):
                answer = su.get(url, params={f"{name}__{op}": "1"})
                assert answer.status_int == 400 and f"{name}__{op}" in answer.json["errors"], (url, name, op)
        for name in schema["ordering"]:
            for spelled in (name, "-" + name):
                assert su.get(url, params={"ordering": spelled}).status_int == 200, (url, spelled)
        assert su.get(url, params={"ordering": "no_such_field"}).status_int == 400
        search = su.get(url, params={"search": "a"})
        assert search.status_int == (200 if schema["search_fields"] else 400), url
        page = su.get(url, params={"limit": schema["max_limit"]})
        assert page.json["meta"]["limit"] == schema["max_limit"]
        assert su.get(url, params={"limit": schema["max_limit"] + 1}).status_int == 400
        assert su.get(url).json["meta"]["limit"] == schema["default_limit"]
        shown = {name for name, doc in fields.items() if not doc.get("write_only")}
        for obj in page.json["objects"]:
            assert set(obj) <= shown, (url, set(obj) - shown)
            always = {name for name in shown if not fields[name].get("optional")}
            assert always <= set(obj), (url, always - set(obj))
        for fmt in schema["formats"]:
            params = {"format": fmt, **({"callback": "cb"} if fmt == "jsonp" else {})}
            # JSONP serves only what an anonymous caller may see (the caller's tokens: nothing).
            expected = caller(bound, "anon").get(url).status_int if fmt == "jsonp" else 200
            assert su.get(url, params=params).status_int == expected, (url, fmt)


def test_read_only_fields_are_refused_and_writable_ones_accepted(bound):
    su = caller(bound, "su")
    for url in (f"{API}/organizations/acme/", f"{API}/organizations/acme/projects/open/",
                f"{API}/organizations/acme/projects/open/members/viewer/"):
        collection = url.rstrip("/").rsplit("/", 1)[0] + "/"
        fields = su.get(collection + "schema/").json["fields"]
        current = su.get(url).json
        for name, doc in fields.items():
            if doc.get("write_only") or name not in current:
                continue
            if doc["readonly"]:
                changed = "changed" if not isinstance(current[name], int) or isinstance(current[name], bool) else -1
                r = su.patch(url, {name: changed})
                assert r.status_int == 400 and name in r.json["errors"], (url, name, r.text)
            else:
                r = su.patch(url, {name: current[name]})
                assert r.status_int == 200, (url, name, r.text)


def test_a_hidden_collection_has_no_schema(bound):
    stranger = caller(bound, "stranger")
    hidden = stranger.get(f"{API}/organizations/acme/projects/secret/parties/schema/")
    missing = stranger.get(f"{API}/organizations/acme/projects/no-such/parties/schema/")
    assert hidden.status_int == missing.status_int == 404 and hidden.body == missing.body
    assert caller(bound, "su").get(f"{API}/organizations/acme/projects/secret/parties/schema/").status_int == 200


def test_the_document_is_the_same_for_everyone(bound):
    answers = {role: caller(bound, role).get(f"{API}/openapi.json") for role in ("anon", "stranger", "su")}
    assert len({json.dumps(a.json, sort_keys=True) for a in answers.values()}) == 1


@pytest.mark.parametrize("username", ["schema", "set"])
def test_a_username_cannot_hide_a_collection_s_own_urls(bound, username):
    r = caller(bound, "su").post(f"{API}/users/", {"username": username, "password": "long enough password"})
    assert r.status_int == 400 and "username" in r.json["errors"], r.text
    assert caller(bound, "su").get(f"{API}/users/schema/").json["fields"]["username"]["unique"] is True
