"""schemathesis against the app, from its own OpenAPI document (issue 5; the fuzzing of issue 6).

For every operation of the document and for callers of different reach (anonymous, an org member, a
superuser), schemathesis generates requests — valid and invalid bodies, query strings, headers — and
every check of its stateless run must pass: no 5xx, every status, content type, header and body as
the document says. Path parameters are drawn from the crawl world's real keys (visible and hidden
alike) as often as from schemathesis' own strings, so the requests reach real entities; each request
runs in a savepoint rolled back after it, so every one meets the same world. No answer to a caller
may name a party that caller cannot see.
"""

from __future__ import annotations

import io

import hypothesis
import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from sqlalchemy import select

from hyperapi.models import HistoryEntry, Party, Resource, Token, User
from hyperapi.views.openapi import build

from .crawl_world import crawl_world

ROLES = ("anon", "member", "su")
# The world's real keys, by path parameter name (filled by the `world` fixture before any case is drawn).
KEYS: dict[str, list[str]] = {}
EXAMPLES = 12
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
    """What OpenAPI cannot say: `callback` goes with format=jsonp, and format=jsonp needs one."""
    query = case.query
    if not isinstance(query, dict):
        return
    if query.get("format") == "jsonp":
        query.setdefault("callback", "handle")
    else:
        query.pop("callback", None)


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
        # Parties are never public; an org member of acme and dusty sees neither hush's nor an archived
        # project's (see the role matrix's world).
        every_party = [f"Party-{slug}" for slug in KEYS["project"]] + ["Resident 00"]
        hidden_from = {"anon": every_party, "member": ["Party-inner", "Party-old"], "su": []}
        yield {"world": made, "keys": made.keys, "hidden": hidden_from, "storage": storage, "files": files}
    KEYS.clear()


# The document is built from the declarations alone; the app answers it at /api/v1/openapi.json (and a
# test in test_openapi.py checks that the two are the same).
schema = schemathesis.openapi.from_dict(build(), config=CONFIG)


def run(case, role, world, wsgi_app) -> None:
    key = world["keys"][role]
    headers = {"Authorization": f"Token {key}"} if key else {}
    world["world"].bind(wsgi_app)
    savepoint = world["world"].connection.begin_nested()
    try:
        response = case.call_and_validate(app=wsgi_app, headers=headers)
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
@hypothesis.settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                     suppress_health_check=list(hypothesis.HealthCheck), database=None)
def test_every_operation_answers_as_the_document_says(case, role, world, wsgi_app):
    run(case, role, world, wsgi_app)
