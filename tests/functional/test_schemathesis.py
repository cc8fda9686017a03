"""schemathesis against the app, from its own OpenAPI document (issue 5; the fuzzing of issue 6).

For every operation of the document and as every role of the role matrix (anonymous, a stranger,
org member and admin, project viewer, collector and manager, superuser), schemathesis generates
requests — valid and invalid bodies, query strings, headers — and every check of its stateless run
must pass: no 5xx, every status, content type, header and body as the document says. Path parameters
are drawn from the crawl world's real keys (visible and hidden alike) as often as from schemathesis'
own strings, so the requests reach real entities; each request runs in a savepoint rolled back after
it, so every one meets the same world. No answer to a caller may name a party whose own URL is a 404
to that caller.
"""

from __future__ import annotations

import io
import json

import hypothesis
import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import AcceptedNegativeData, FailureGroup
from sqlalchemy import select
from webtest import TestApp

from hyperapi.apidocs.openapi import build
from hyperapi.auth import ratelimit
from hyperapi.models import HistoryEntry, Organization, Party, Project, Resource, Token, User

from ..support.api import API, Client, declared_views
from ..support.examples import examples
from .crawl_world import ROLES, crawl_world

pytestmark = pytest.mark.slow  # thousands of generated requests

# The world's real keys, by path parameter name (filled by the `world` fixture before any case is drawn).
KEYS: dict[str, list[str]] = {}
FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
EXAMPLES = 5  # per operation and caller: 8 callers × 110 operations
# Every check of schemathesis' stateless run, but for two that do not fit this API:
# - OPTIONS answers `Allow` for this caller on this entity (issue 5; RFC 9110 lets the origin decide it per
#   request), not every method of the URL: test_discovery proves it names exactly what the caller may do.
# - "Schema-valid data is accepted" cannot hold for an API that validates more than a schema can say (the
#   user a member must be, the current password, a project slug free in its organization, an ISO date in
#   a query string, JSON text in a form field): those answers are 400s the document declares. What must
#   hold, and is checked, is the converse: whatever the document calls invalid is refused — where a body
#   or query string over the size limits (413, 414) is a refusal too.
CONFIG = SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}, "checks": {
    "allow_header_conformance": {"enabled": False},
    "positive_data_acceptance": {"enabled": False},
    "negative_data_rejection": {"expected-statuses": [
        "400", "401", "403", "404", "405", "406", "409", "413", "414", "415", "422", "428", "429", "5xx"]},
}})


@schemathesis.hook
def flatmap_path_parameters(context, path_parameters):
    """Half the time, every path parameter is a key of the world (that may be hidden from the caller)."""
    real = {name: st.sampled_from(KEYS[name]) for name in path_parameters or () if KEYS.get(name)}
    if not real:
        return st.just(path_parameters)
    return st.booleans().flatmap(
        lambda use_real: st.fixed_dictionaries(real).map(lambda keys: {**path_parameters, **keys})
        if use_real else st.just(path_parameters))


@schemathesis.hook
def before_call(context, case, kwargs):
    """What OpenAPI cannot say: `callback` goes with format=jsonp, and format=jsonp needs one. And what
    a form carries: an object in a form field travels as JSON text (Werkzeug, which schemathesis sends
    WSGI requests with, would take it for a file and drop it from a urlencoded body unseen)."""
    query = case.query
    if isinstance(query, dict):
        if query.get("format") == "jsonp":
            query.setdefault("callback", "handle")
        else:
            query.pop("callback", None)
    if case.media_type in FORMS and isinstance(case.body, dict):
        case.body = {key: json.dumps(value) if isinstance(value, (dict, tuple)) else value
                     for key, value in case.body.items()}


@pytest.fixture(scope="module")
def world(engine, wsgi_app):
    storage = wsgi_app.registry["hyperapi.storage"]
    with crawl_world(engine, wsgi_app) as made:
        with made.session() as session:
            parties = list(session.scalars(select(Party.id)))
            KEYS.update({
                "organization": ["acme", "hush", "dusty", "no-such-org"],
                "project": ["open", "team", "secret", "old", "inner", "relic"],
                "party": parties[:8],
                "username": list(session.scalars(select(User.username))),
                "token": list(session.scalars(select(Token.id)))[:4],
                "resource": list(session.scalars(select(Resource.id))),
                "entry": [str(i) for i in session.scalars(select(HistoryEntry.id)).all()[:4]] or ["1"],
                "ids": [";".join(parties[:3])],
            })
            files = {key: b"".join(storage.read(key)) for key in session.scalars(select(Resource.file))}
            party_urls = {party.name: f"{API}/organizations/{org}/projects/{project}/parties/{party.id}/"
                          for party, project, org in session.execute(
                              select(Party, Project.slug, Organization.slug)
                              .join(Project, Party.project_id == Project.id)
                              .join(Organization, Project.organization_id == Organization.id))}
        # A party is hidden from a caller when its own URL is a 404 to them: its name must then appear
        # in no answer to them.
        client = Client(TestApp(wsgi_app))
        hidden_from = {role: [name for name, url in party_urls.items()
                              if client.as_(key).get(url).status_int == 404]
                       for role, key in made.keys.items()}
        assert hidden_from["anon"] == list(party_urls) and hidden_from["su"] == []
        yield {"world": made, "keys": made.keys, "hidden": hidden_from, "storage": storage, "files": files}
    KEYS.clear()
    # Thousands of sign-ins with made-up passwords, all from one client address: forget them, or the
    # next module's sign-in would be a 429.
    wsgi_app.registry[ratelimit.REGISTRY_KEY] = ratelimit.make_limiter(wsgi_app.registry.settings)


# The document is built from the declarations alone; the app answers it at /api/v1/openapi.json (and a
# test in test_openapi.py checks that the two are the same).
schema = schemathesis.openapi.from_dict(build(declared_views()), config=CONFIG)


def upload_artifact(case, failure) -> bool:
    """A "schema-violating" upload that arrived valid: the WSGI transport turns whatever value
    schemathesis put in a multipart body's `file` into a file part, so a mutation of that part never
    reaches the app (schemathesis itself then reports the case as "positive"). The uploads' own
    refusals are tested in test_resources.py and test_storage_backends.py."""
    return (isinstance(failure, AcceptedNegativeData) and (case.media_type or "").startswith("multipart/")
            and isinstance(case.body, dict) and "file" in case.body)


def empty_form_artifact(case, failure) -> bool:
    """A form body "mutated" into null that arrived as a valid, empty form: a form has no null, so the
    WSGI transport sends a form without fields, the same request on the wire as `{}` — which is accepted
    wherever every field is optional (a new token, say). The app never saw a null."""
    return isinstance(failure, AcceptedNegativeData) and case.media_type in FORMS and case.body is None


def transport_artifact(case, failure) -> bool:
    return upload_artifact(case, failure) or empty_form_artifact(case, failure)


def run(case, role, world, wsgi_app) -> None:
    key = world["keys"][role]
    headers = {"Authorization": f"Token {key}"} if key else {}
    world["world"].bind(wsgi_app)
    savepoint = world["world"].connection.begin_nested()
    try:
        response = case.call(app=wsgi_app, headers=headers)
        try:
            case.validate_response(response, headers=headers, transport_kwargs={"app": wsgi_app, "headers": headers})
        except FailureGroup as group:
            kept = [failure for failure in group.exceptions if not transport_artifact(case, failure)]
            if kept:
                raise FailureGroup(kept) from None
    finally:
        if savepoint.is_active:
            savepoint.rollback()
        # The rollback brings back rows a DELETE removed, but not their bytes (gone once it committed).
        for stored, data in world["files"].items():
            if not world["storage"].exists(stored):
                world["storage"].write(stored, io.BytesIO(data))
    for name in world["hidden"][role]:
        assert name not in response.text, f"{role} was shown {name}"


@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
# Deterministic, with no example database, from the default profile (tests/conftest.py).
@hypothesis.settings(max_examples=examples(EXAMPLES), deadline=None, suppress_health_check=list(hypothesis.HealthCheck))
def test_every_operation_answers_as_the_document_says(case, role, world, wsgi_app):
    run(case, role, world, wsgi_app)
