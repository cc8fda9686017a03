"""Talking to the API as a caller, through WebTest."""

from __future__ import annotations

import json

from pyramid.config import Configurator
from webtest import TestApp

API = "/api/v1"


def declared_views():
    """The API's views as the app declares them, without an app or a database (for what a test module
    builds when it is imported, such as its parameters)."""
    config = Configurator(settings={})
    config.include("cornice")
    config.include("hyperapi.views")
    return config.registry.api_views


class Client:
    """WebTest with a caller: `client.as_(user).get(url)`; statuses are asserted by the tests."""

    def __init__(self, app: TestApp, key: str | None = None):
        self.app = app
        self.key = key

    def as_(self, key: str | None) -> Client:
        return Client(self.app, key)

    def _headers(self, headers):
        headers = dict(headers or {})
        if self.key is not None:
            headers.setdefault("Authorization", f"Token {self.key}")
        return headers

    def request(self, method: str, url: str, json=None, headers=None, **kw):
        kw.setdefault("status", "*")
        kw.setdefault("expect_errors", True)
        headers = self._headers(headers)
        if json is not None:
            kw["body"] = _dumps(json).encode()
            kw["content_type"] = "application/json"
        return self.app.request(url, method=method.upper(), headers=headers, **kw)

    def get(self, url, **kw):
        kw.setdefault("status", "*")
        kw.setdefault("expect_errors", True)
        return self.app.get(url, headers=self._headers(kw.pop("headers", None)), **kw)

    def post(self, url, json=None, **kw):
        return self.request("POST", url, json=json if json is not None else {}, **kw)

    def put(self, url, json=None, **kw):
        return self.request("PUT", url, json=json if json is not None else {}, **kw)

    def patch(self, url, json=None, **kw):
        return self.request("PATCH", url, json=json if json is not None else {}, **kw)

    def delete(self, url, **kw):
        return self.request("DELETE", url, **kw)


def _dumps(value) -> str:
    return json.dumps(value)


def org_url(org) -> str:
    return f"{API}/organizations/{org.slug}/"


def project_url(org, project) -> str:
    return f"{org_url(org)}projects/{project.slug}/"


def party_url(org, project, party) -> str:
    return f"{project_url(org, project)}parties/{party.id}/"
