"""Limits (413, 414, JSON depth) and headers (nosniff, no-store, CORS) on every request."""

import pytest
from webtest import TestApp

from hyperapi import main
from hyperapi.models import Organization

from ..support.api import API


@pytest.fixture
def admin_key(factory):
    return factory.key(factory.user("amara"))


def organization_count(db) -> int:
    db.expire_all()
    return db.query(Organization).count()


def test_a_body_over_the_limit_is_413_and_writes_nothing(client, db, admin_key):
    body = {"name": "Big", "description": "x" * (1024 * 1024)}
    r = client.as_(admin_key).post(f"{API}/organizations/", body)
    assert r.status_int == 413
    assert r.json["error"].startswith("The request body is larger")
    assert organization_count(db) == 0


def test_a_long_query_string_is_414(client):
    r = client.get(f"{API}/organizations/?search={'a' * 5000}")
    assert r.status_int == 414 and "error" in r.json


def test_deeply_nested_json_is_400(client, db, admin_key):
    nested = {"k": 1}
    for _ in range(40):
        nested = {"k": nested}
    r = client.as_(admin_key).post(f"{API}/organizations/", {"name": "Deep", "contacts": [], "urls": [],
                                                              "description": "", "x": nested})
    assert r.status_int == 400 and "nested" in r.json["errors"]["body"]
    very_deep = "[" * 100000 + "]" * 100000
    r = client.as_(admin_key).request("POST", f"{API}/organizations/", headers={"Content-Type": "application/json"},
                                      body=very_deep.encode())
    assert r.status_int == 400
    assert organization_count(db) == 0


def test_every_answer_says_nosniff_and_credentialed_ones_no_store(client, admin_key):
    for r in (client.get(f"{API}/"), client.get(f"{API}/nowhere/"), client.as_(admin_key).get(f"{API}/account/"),
              client.as_("bad-key").get(f"{API}/")):
        assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert client.as_(admin_key).get(f"{API}/account/").headers["Cache-Control"] == "no-store"
    assert client.as_("bad-key").get(f"{API}/").headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get(f"{API}/").headers.get("Cache-Control", "")


@pytest.fixture
def cors_app(settings, engine, db):
    app = main({}, **{**settings, "hyperapi.engine": engine, "hyperapi.cors_origins": "https://maps.example.org"})
    app.registry["db.session_factory"].configure(bind=db.bind, join_transaction_mode="create_savepoint")
    return TestApp(app)


def test_cors_answers_only_the_configured_origins(cors_app):
    preflight = {"Origin": "https://maps.example.org", "Access-Control-Request-Method": "PATCH"}
    r = cors_app.options(f"{API}/organizations/", headers=preflight, status="*")
    assert r.status_int == 204
    assert r.headers["Access-Control-Allow-Origin"] == "https://maps.example.org"
    assert "Authorization" in r.headers["Access-Control-Allow-Headers"]
    r = cors_app.get(f"{API}/organizations/", headers={"Origin": "https://maps.example.org"})
    assert r.headers["Access-Control-Allow-Origin"] == "https://maps.example.org"
    assert "Origin" in r.headers["Vary"]
    r = cors_app.get(f"{API}/organizations/", headers={"Origin": "https://evil.example.com"})
    assert "Access-Control-Allow-Origin" not in r.headers
    r = cors_app.options(f"{API}/organizations/", status="*",
                         headers={"Origin": "https://evil.example.com", "Access-Control-Request-Method": "GET"})
    # Not a CORS answer: the plain OPTIONS of the API, which names the methods and nothing else.
    assert r.status_int == 200 and "Access-Control-Allow-Origin" not in r.headers
    assert "GET" in r.headers["Allow"]
