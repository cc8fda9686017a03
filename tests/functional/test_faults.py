"""A transient database failure (serialization failure, deadlock) is retried in a fresh transaction;
a database error that persists is a clean JSON error with nothing written."""

import pytest
from sqlalchemy import event
from transaction.interfaces import TransientError

from ..support.api import party_url


@pytest.fixture
def world(factory):
    admin = factory.user("amara")
    org = factory.org("terra")
    factory.org_member(org, admin, "admin")
    project = factory.project(org, "kampala")
    party = factory.party(project, "Before")
    return factory.key(admin), party_url(org, project, party)


def fail_updates(engine, times: int, error: Exception):
    state = {"left": times, "seen": 0}

    def before(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE PARTIES"):
            state["seen"] += 1
            if state["left"] > 0:
                state["left"] -= 1
                raise error

    event.listen(engine, "before_cursor_execute", before)
    return state, lambda: event.remove(engine, "before_cursor_execute", before)


def test_a_transient_failure_is_retried(client, engine, world):
    key, url = world
    state, stop = fail_updates(engine, 1, TransientError("serialization failure"))
    try:
        r = client.as_(key).patch(url, {"name": "After"})
    finally:
        stop()
    assert r.status_int == 200, r.text
    assert state["seen"] == 2  # the failed attempt, then the retry
    body = client.as_(key).get(url).json
    assert body["name"] == "After" and body["version"] == 2


def test_a_failure_that_persists_is_a_clean_error_and_writes_nothing(client, engine, world):
    key, url = world
    state, stop = fail_updates(engine, 10, RuntimeError("the disk is on fire"))
    try:
        r = client.as_(key).patch(url, {"name": "After"})
    finally:
        stop()
    assert r.status_int == 500
    assert r.json == {"error": "Internal server error."}
    assert state["seen"] == 1  # not a transient error: not retried
    assert client.as_(key).get(url).json["name"] == "Before"
