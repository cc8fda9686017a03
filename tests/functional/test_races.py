"""Rules that span rows hold under concurrent requests (PostgreSQL only; security review, issue 11 item 8).

Under READ COMMITTED, two requests that each check "another admin remains" (or "the resource is attached
elsewhere") can both see the other and both commit: write skew. On SQLite the single writer happens to
serialize them, so these run against PostgreSQL, through a real server, with two clients released at
once by a barrier, many rounds each:

- two admins demoting each other, or both leaving, leave the organization with an admin;
- two detachments of a resource from its last two entities leave it attached somewhere or deleted,
  never existing with no attachment — and so do a detachment racing the deletion of the other entity.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from hyperapi import main
from hyperapi.models import (
    Organization,
    OrganizationMember,
    Party,
    Project,
    Resource,
    ResourceAttachment,
    User,
)
from hyperapi.services.users import new_token

from ..support.api import API
from ..support.databases import fresh_database
from ..support.factory import PASSWORD_HASH
from ..support.serving import served
from .resource_helpers import at_party, at_project, insert_resource

ROUNDS = 25


@pytest.fixture(scope="module")
def database(settings):
    if make_url(settings["sqlalchemy.url"]).get_backend_name() != "postgresql":
        pytest.skip("races are run on PostgreSQL (set HYPERAPI_TEST_DATABASE_URL)")
    with fresh_database(settings, "hyperapi_races", **{"sqlalchemy.pool_size": "8",
                                                      "sqlalchemy.max_overflow": "0"}) as database:
        yield database


@pytest.fixture(scope="module")
def server(database):
    own, engine = database
    with served(main({}, **{**own, "hyperapi.engine": engine}), threads=4) as url:
        yield url


@pytest.fixture(scope="module")
def people(database):
    """Two admins of organization `race` (project `track`), with their API keys."""
    _, engine = database
    with Session(engine, expire_on_commit=False) as session:
        ada, bo = (User(username=name, full_name=name.title(), password_hash=PASSWORD_HASH) for name in ("ada", "bo"))
        org = Organization(slug="race", name="Race", access="private")
        session.add_all([ada, bo, org])
        session.flush()
        session.add(Project(organization_id=org.id, slug="track", name="Track"))
        keys = {user.username: new_token(session, user, name="race")[1] for user in (ada, bo)}
        session.commit()
        return {"keys": keys, "org_id": org.id, "ids": {"ada": ada.id, "bo": bo.id}}


def call(base: str, method: str, path: str, key: str, body: dict | None = None) -> int:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Authorization", f"Token {key}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def at_once(*requests) -> list[int]:
    """Send the requests from as many threads, released together; their statuses, in order."""
    barrier = threading.Barrier(len(requests))
    statuses: list[int | None] = [None] * len(requests)

    def send(i, request):
        barrier.wait()
        statuses[i] = call(*request)

    threads = [threading.Thread(target=send, args=(i, request)) for i, request in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def set_admins(engine, people) -> None:
    with engine.begin() as connection:
        connection.execute(sa.delete(OrganizationMember).where(OrganizationMember.organization_id == people["org_id"]))
        connection.execute(sa.insert(OrganizationMember), [
            {"organization_id": people["org_id"], "user_id": user_id, "role": "admin", "version": 1}
            for user_id in people["ids"].values()])


def admins(engine, people) -> int:
    with engine.connect() as connection:
        return connection.scalar(sa.select(sa.func.count()).where(
            OrganizationMember.organization_id == people["org_id"], OrganizationMember.role == "admin"))


MEMBERS = f"{API}/organizations/race/members/"


def test_two_admins_demoting_each_other_leave_an_admin(database, server, people):
    _, engine = database
    keys = people["keys"]
    for _ in range(ROUNDS):
        set_admins(engine, people)
        statuses = at_once((server, "PATCH", f"{MEMBERS}bo/", keys["ada"], {"role": "member"}),
                           (server, "PATCH", f"{MEMBERS}ada/", keys["bo"], {"role": "member"}))
        assert admins(engine, people) >= 1, f"no admin left (answers {statuses})"
        assert sorted(statuses) in ([200, 409], [200, 403]), statuses


def test_two_admins_leaving_at_once_leave_an_admin(database, server, people):
    _, engine = database
    keys = people["keys"]
    for _ in range(ROUNDS):
        set_admins(engine, people)
        statuses = at_once((server, "DELETE", f"{MEMBERS}ada/", keys["ada"]),
                           (server, "DELETE", f"{MEMBERS}bo/", keys["bo"]))
        assert admins(engine, people) >= 1, f"no admin left (answers {statuses})"
        assert sorted(statuses) == [204, 409], statuses


def _resource_between(engine, people, second: str) -> tuple[str, str, str]:
    """A resource attached to a party of `track` and to the project itself (or a second party)."""
    with Session(engine, expire_on_commit=False) as session:
        project = session.scalar(sa.select(Project).where(Project.slug == "track"))
        one = Party(project_id=project.id, name="One", type="IN")
        two = Party(project_id=project.id, name="Two", type="IN")
        session.add_all([one, two])
        session.flush()
        places = [at_party(project, one), at_project(project) if second == "project" else at_party(project, two)]
        resource = insert_resource(session, people["org_id"], places, "deed")
        session.commit()
        return resource.id, one.id, two.id


def orphaned(engine, resource_id: str) -> bool:
    """Whether the resource exists with no attachment at all (the rule: the last detachment deletes it)."""
    with engine.connect() as connection:
        exists = connection.scalar(sa.select(sa.func.count()).where(Resource.id == resource_id))
        attached = connection.scalar(sa.select(sa.func.count()).where(ResourceAttachment.resource_id == resource_id))
        return bool(exists) and not attached


PROJECT = f"{API}/organizations/race/projects/track/"


def test_two_last_detachments_at_once_never_leave_a_resource_attached_nowhere(database, server, people):
    _, engine = database
    key = people["keys"]["ada"]
    set_admins(engine, people)
    for _ in range(ROUNDS):
        resource, one, two = _resource_between(engine, people, "party")
        statuses = at_once((server, "DELETE", f"{PROJECT}parties/{one}/resources/{resource}/", key),
                           (server, "DELETE", f"{PROJECT}parties/{two}/resources/{resource}/", key))
        assert not orphaned(engine, resource), f"a resource is attached to nothing (answers {statuses})"
        assert statuses == [204, 204], statuses  # one detaches, the other detaches the last and deletes


def test_a_detachment_racing_the_deletion_of_the_other_entity_leaves_no_orphan(database, server, people):
    _, engine = database
    key = people["keys"]["ada"]
    set_admins(engine, people)
    for _ in range(ROUNDS):
        resource, one, _ = _resource_between(engine, people, "project")
        statuses = at_once((server, "DELETE", f"{PROJECT}parties/{one}/", key),
                           (server, "DELETE", f"{PROJECT}resources/{resource}/", key))
        assert not orphaned(engine, resource), f"a resource is attached to nothing (answers {statuses})"
        assert statuses == [204, 204], statuses
