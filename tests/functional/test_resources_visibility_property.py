"""Resources: lists, URLs and the rules of SPEC §3 agree, on random worlds.

Hypothesis draws a small world as tests/functional/test_visibility_property.py does — users (one maybe a superuser),
organizations and projects (public or private, archived or not), parties, organization and project
memberships — and adds resources, each attached to one or more entities of one organization (the
organization itself, its projects, their parties), archived or not. The resources are made directly in the
database (their bytes in the storage, so that their `content` answers). Then, over HTTP as the caller
(anonymous or one of the users):

- a resource is in /resources/ exactly when /resources/{id}/ answers 200, and in each nested collection
  exactly when its URL there answers 200; a collection answers as its parent does; `total_count` agrees;
- `read_write=w` lists exactly the resources the caller may change: a PATCH with an `If-Match` that does
  not match answers 412 where the change is permitted (the precondition is checked only after the
  permission), 403 (401 for an anonymous caller) where the resource is visible but the change is not
  permitted, and 404 where it is hidden — and nothing changes;
- a DELETE (with the same wrong `If-Match`) is permitted at a nested URL by the rules of that
  attachment, and at the flat URL to whoever may delete it at one of its attachments (it detaches it
  from those);
- every 404 has the bytes of a URL whose id never existed;
- every link in every representation (`resource_uri`, `file`, `attachments[].href`, `_links`) answers 200
  to the caller it was given to, and `attachments` names the entities under which the caller can see it;
- all of it as SPEC §3 says, written out here independently of `hyperapi.authz`: a resource is seen where
  it is attached, by whoever sees the entity; archived, only by those who hold a role that edits it there
  (organization: its admins; project or party: org admins, managers, collectors; superusers everywhere).
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session
from webtest import TestApp

from hyperapi.models import Organization, OrganizationMember, Party, Project, ProjectMember, User
from hyperapi.services.users import new_token

from ..support.api import API, Client
from ..support.databases import rolled_back_session
from ..support.examples import examples
from ..support.factory import PASSWORD_HASH
from .resource_helpers import at_organization, at_party, at_project, insert_resource, resource_tables
from .test_visibility_property import (
    ACCESS,
    ORG_ROLES,
    PROJECT_ROLES,
    OrgSpec,
    ProjectSpec,
    spec_org_visible,
    spec_party_visible,
    spec_project_visible,
)

pytestmark = pytest.mark.slow  # hypothesis draws worlds

MISSING_ID = "zzzzzzzzzzzzzzzzzzzzzzzz"
WRONG_VERSION = '"not-a-version"'

# Where a resource is attached, within its organization: ("organization",), ("project", p) or
# ("party", p, k).
Place = tuple


@dataclass(frozen=True)
class ResourceSpec:
    org: int
    places: tuple[Place, ...]  # in the order attached (the first one the caller sees is its canonical URL)
    archived: bool


@dataclass(frozen=True)
class World:
    """As in tests/functional/test_visibility_property.py (so its `spec_*_visible` apply), plus resources."""

    users: int
    superuser: int | None
    orgs: tuple[OrgSpec, ...]
    org_roles: tuple[tuple[int, int, str], ...]  # (user, org, role)
    project_roles: tuple[tuple[int, int, int, str], ...]  # (user, org, project, role)
    resources: tuple[ResourceSpec, ...]
    caller: int | None

    def org_role(self, user, org):
        return next((r for u, o, r in self.org_roles if (u, o) == (user, org)), None)

    def project_role(self, user, org, project):
        return next((r for u, o, p, r in self.project_roles if (u, o, p) == (user, org, project)), None)

    def describe(self) -> str:
        names = (f"u{u}" + (" (superuser)" if u == self.superuser else "") for u in range(self.users))
        lines = [f"users: {', '.join(names)}",
                 f"caller: {'anonymous' if self.caller is None else f'u{self.caller}'}"]
        for o, org in enumerate(self.orgs):
            lines.append(f"o{o}: {org.access}{', archived' if org.archived else ''}")
            for p, prj in enumerate(org.projects):
                lines.append(f"  o{o}/p{p}: {prj.access}{', archived' if prj.archived else ''}, {prj.parties} parties")
        lines += [f"u{u} is {r} of o{o}" for u, o, r in self.org_roles]
        lines += [f"u{u} is {r} of o{o}/p{p}" for u, o, p, r in self.project_roles]
        for i, resource in enumerate(self.resources):
            places = ", ".join(place_name(resource.org, place) for place in resource.places)
            lines.append(f"resource {i}{' (archived)' if resource.archived else ''} attached to {places}")
        return "\n".join(lines)


def place_name(o: int, place: Place) -> str:
    if place[0] == "organization":
        return f"o{o}"
    if place[0] == "project":
        return f"o{o}/p{place[1]}"
    return f"o{o}/p{place[1]}/party{place[2]}"


def places_of(org: OrgSpec) -> list[Place]:
    places: list[Place] = [("organization",)]
    for p, project in enumerate(org.projects):
        places.append(("project", p))
        places.extend(("party", p, k) for k in range(project.parties))
    return places


@st.composite
def worlds(draw) -> World:
    users = draw(st.integers(1, 3))
    superuser = draw(st.none() | st.integers(0, users - 1))
    caller = draw(st.none() | st.integers(0, users - 1))
    project = st.builds(ProjectSpec, st.sampled_from(ACCESS), st.booleans(), st.integers(0, 2))
    orgs = tuple(draw(st.lists(
        st.builds(OrgSpec, st.sampled_from(ACCESS), st.booleans(), st.lists(project, max_size=2).map(tuple)),
        min_size=1, max_size=2)))
    org_roles, project_roles = [], []
    for u in range(users):
        for o, org in enumerate(orgs):
            role = draw(st.sampled_from(ORG_ROLES))
            if role is not None:
                org_roles.append((u, o, role))
            for p in range(len(org.projects)):
                role = draw(st.sampled_from(PROJECT_ROLES))
                if role is not None:
                    project_roles.append((u, o, p, role))
    resources = []
    for _ in range(draw(st.integers(1, 4))):
        o = draw(st.integers(0, len(orgs) - 1))
        places = draw(st.lists(st.sampled_from(places_of(orgs[o])), min_size=1, max_size=3, unique=True))
        resources.append(ResourceSpec(o, tuple(places), draw(st.booleans())))
    return World(users, superuser, orgs, tuple(org_roles), tuple(project_roles), tuple(resources), caller)


@dataclass
class Built:
    key: str | None
    entity_urls: dict[tuple, str]  # (org, *place) -> the URL of the entity
    resource_ids: list[str]  # by resource index


def build(session: Session, world: World, storage) -> Built:
    users = [User(username=f"u{u}", full_name=f"User {u}", password_hash=PASSWORD_HASH,
                  is_superuser=(u == world.superuser)) for u in range(world.users)]
    session.add_all(users)
    orgs = [Organization(slug=f"o{o}", name=f"Org {o}", access=spec.access, archived=spec.archived)
            for o, spec in enumerate(world.orgs)]
    session.add_all(orgs)
    session.flush()
    projects = {}
    for o, spec in enumerate(world.orgs):
        for p, pspec in enumerate(spec.projects):
            projects[o, p] = Project(organization_id=orgs[o].id, slug=f"p{p}", name=f"Project {o}.{p}",
                                     access=pspec.access, archived=pspec.archived)
    session.add_all(projects.values())
    session.flush()
    parties = {}
    for (o, p), project in projects.items():
        for k in range(world.orgs[o].projects[p].parties):
            parties[o, p, k] = Party(project_id=project.id, name=f"Party {o}.{p}.{k}", type="IN")
    session.add_all(parties.values())
    session.add_all(OrganizationMember(organization_id=orgs[o].id, user_id=users[u].id, role=r)
                    for u, o, r in world.org_roles)
    session.add_all(ProjectMember(project_id=projects[o, p].id, user_id=users[u].id, role=r)
                    for u, o, p, r in world.project_roles)
    session.flush()

    entity_urls = {}
    columns = {}
    for o, org in enumerate(orgs):
        entity_urls[o, "organization"] = f"{API}/organizations/{org.slug}/"
        columns[o, "organization"] = at_organization(org)
    for (o, p), project in projects.items():
        entity_urls[o, "project", p] = f"{entity_urls[o, 'organization']}projects/{project.slug}/"
        columns[o, "project", p] = at_project(project)
    for (o, p, k), party in parties.items():
        entity_urls[o, "party", p, k] = f"{entity_urls[o, 'project', p]}parties/{party.id}/"
        columns[o, "party", p, k] = at_party(projects[o, p], party)
    resource_ids = []
    for i, spec in enumerate(world.resources):
        places = [columns[(spec.org, *place)] for place in spec.places]
        row = insert_resource(session, orgs[spec.org].id, places, name=f"Resource {i}", archived=spec.archived,
                              storage=storage)
        resource_ids.append(row.id)
    key = None
    if world.caller is not None:
        _, key = new_token(session, users[world.caller], name="prop")
    session.commit()
    return Built(key, entity_urls, resource_ids)


@contextmanager
def world_in_database(engine, wsgi_app, world: World):
    """The world in an outer transaction rolled back afterwards; its stored files removed afterwards."""
    storage = wsgi_app.registry["hyperapi.storage"]
    before = set(storage.keys())
    try:
        with rolled_back_session(engine, wsgi_app) as session:
            yield session, build(session, world, storage)
    finally:
        for key in set(storage.keys()) - before:
            storage.delete(key)


# --- SPEC §3 for resources, written out here ---------------------------------------------------------


def entity_visible(world: World, o: int, place: Place) -> bool:
    if place[0] == "organization":
        return spec_org_visible(world, o)
    if place[0] == "project":
        return spec_project_visible(world, o, place[1])
    return spec_party_visible(world, o, place[1])


def holds_role(world: World, o: int, place: Place, project_roles: tuple[str, ...]) -> bool:
    """Whether the caller is a superuser, an admin of the organization, or (for a place in a project)
    holds one of `project_roles` there."""
    u = world.caller
    if u is None:
        return False
    if u == world.superuser or world.org_role(u, o) == "admin":
        return True
    return place[0] != "organization" and world.project_role(u, o, place[1]) in project_roles


def writable(world: World, o: int, place: Place) -> bool:
    """Nobody writes into an archived organization or project."""
    org = world.orgs[o]
    return not org.archived and (place[0] == "organization" or not org.projects[place[1]].archived)


def may_edit_role(world, o, place) -> bool:
    return holds_role(world, o, place, ("manager", "collector"))


def may_delete_role(world, o, place) -> bool:
    return holds_role(world, o, place, ("manager",))


def seen_at(world: World, resource: ResourceSpec, place: Place) -> bool:
    """Its nested URL under this entity answers 200."""
    o = resource.org
    return entity_visible(world, o, place) and (not resource.archived or may_edit_role(world, o, place))


def edits_at(world, resource, place) -> bool:
    return seen_at(world, resource, place) and may_edit_role(world, resource.org, place) and writable(
        world, resource.org, place)


def deletes_at(world, resource, place) -> bool:
    return seen_at(world, resource, place) and may_delete_role(world, resource.org, place) and writable(
        world, resource.org, place)


def probe_status(world: World, visible: bool, permitted: bool) -> int:
    """What a write with a wrong If-Match answers: the precondition is checked once the write is allowed."""
    if permitted:
        return 412
    if not visible:
        return 404
    return 401 if world.caller is None else 403


# --- asking the app ----------------------------------------------------------------------------------


class Caller:
    """Requests as the world's caller; GETs once per URL."""

    def __init__(self, wsgi_app, key: str | None, world: World):
        self.client = Client(TestApp(wsgi_app)).as_(key)
        self.world = world
        self.seen: dict[str, tuple[int, bytes]] = {}

    def get(self, url: str) -> tuple[int, bytes]:
        if url not in self.seen:
            response = self.client.get(url)
            self.seen[url] = (response.status_int, response.body)
        return self.seen[url]

    def status(self, url: str) -> int:
        return self.get(url)[0]

    def json(self, url: str):
        return json.loads(self.get(url)[1])

    def probe(self, method: str, url: str) -> int:
        """A PATCH or DELETE that may not take effect: its If-Match never matches."""
        headers = {"If-Match": WRONG_VERSION}
        if method == "PATCH":
            return self.client.patch(url, json={"name": "Probe"}, headers=headers).status_int
        return self.client.delete(url, headers=headers).status_int

    def fail(self, url: str, message: str) -> str:
        return f"{message}\nURL: {url}\n--- world ---\n{self.world.describe()}"

    def list_ids(self, url: str) -> list[str]:
        status, body = self.get(url)
        assert status == 200, self.fail(url, f"list answered {status}")
        data = json.loads(body)
        assert data["meta"]["next"] is None, self.fail(url, "more than one page in a tiny world")
        ids = [obj["id"] for obj in data["objects"]]
        assert data["meta"]["total_count"] == len(ids), self.fail(url, f"total_count {data['meta']} for {ids}")
        assert len(set(ids)) == len(ids), self.fail(url, f"listed twice: {ids}")
        return ids


def check_resources(caller: Caller, built: Built, world: World) -> None:
    flat = f"{API}/resources/"
    missing_flat = caller.get(f"{flat}{MISSING_ID}/")
    assert missing_flat[0] == 404, caller.fail(flat, f"a missing id answers {missing_flat[0]}")
    expected_flat, expected_w = set(), set()
    for i, (rid, resource) in enumerate(zip(built.resource_ids, world.resources, strict=True)):
        url = f"{flat}{rid}/"
        visible = any(seen_at(world, resource, place) for place in resource.places)
        editable = any(edits_at(world, resource, place) for place in resource.places)
        deletable = any(deletes_at(world, resource, place) for place in resource.places)
        status = caller.status(url)
        assert status == (200 if visible else 404), caller.fail(
            url, f"resource {i}: SPEC §3 says {'visible' if visible else 'hidden'}, the app answered {status}")
        if status == 404:
            assert caller.get(url) == missing_flat, caller.fail(url, "a hidden resource answers unlike a missing one")
        content, _ = caller.get(url + "content")
        assert content == status, caller.fail(url + "content", f"content answers {content}, the resource {status}")
        assert caller.probe("PATCH", url) == probe_status(world, visible, editable), caller.fail(
            url, f"resource {i}: PATCH (may change: {editable})")
        assert caller.probe("DELETE", url) == probe_status(world, visible, deletable), caller.fail(
            url, f"resource {i}: DELETE (may delete at an attachment: {deletable})")
        expected_flat |= {rid} if visible else set()
        expected_w |= {rid} if editable else set()
    listed = caller.list_ids(f"{flat}?limit=1000")
    assert set(listed) == expected_flat, caller.fail(flat, f"listed {sorted(listed)}, 200s {sorted(expected_flat)}")
    listed_w = caller.list_ids(f"{flat}?limit=1000&read_write=w")
    assert set(listed_w) == expected_w, caller.fail(
        flat, f"read_write=w listed {sorted(listed_w)}, a PATCH is permitted on {sorted(expected_w)}")
    for rid in listed:
        check_representation(caller, built, world, caller.json(f"{flat}{rid}/"))


def check_nested(caller: Caller, built: Built, world: World) -> None:
    """Each collection of resources under an entity, and each resource's URL there."""
    for entity_key, entity_url in built.entity_urls.items():
        o, place = entity_key[0], entity_key[1:]
        collection = f"{entity_url}resources/"
        entity_status = caller.status(entity_url)
        assert entity_status == (200 if entity_visible(world, o, place) else 404), caller.fail(
            entity_url, f"the entity answers {entity_status}")
        attached = [(i, rid, resource) for i, (rid, resource) in enumerate(
            zip(built.resource_ids, world.resources, strict=True)) if resource.org == o and place in resource.places]
        missing = caller.get(f"{collection}{MISSING_ID}/")
        assert missing[0] == 404, caller.fail(collection, f"a missing id answers {missing[0]}")
        status, _ = caller.get(f"{collection}?limit=1000")
        assert status == entity_status, caller.fail(
            collection, f"collection answers {status}, its entity {entity_status}")
        expected, expected_w = set(), set()
        for i, rid, resource in attached:
            url = f"{collection}{rid}/"
            seen, edits, deletes = (rule(world, resource, place) for rule in (seen_at, edits_at, deletes_at))
            assert caller.status(url) == (200 if seen else 404), caller.fail(
                url, f"resource {i}: SPEC §3 says {'visible' if seen else 'hidden'} here, "
                     f"the app answered {caller.status(url)}")
            if not seen:
                assert caller.get(url) == missing, caller.fail(url, "a hidden resource answers unlike a missing one")
            assert caller.status(url + "content") == caller.status(url), caller.fail(url + "content", "content")
            assert caller.probe("PATCH", url) == probe_status(world, seen, edits), caller.fail(
                url, f"resource {i}: PATCH here (may change: {edits})")
            assert caller.probe("DELETE", url) == probe_status(world, seen, deletes), caller.fail(
                url, f"resource {i}: DELETE (detach) here (may delete: {deletes})")
            expected |= {rid} if seen else set()
            expected_w |= {rid} if edits else set()
        if status != 200:
            continue
        listed = caller.list_ids(f"{collection}?limit=1000")
        assert set(listed) == expected, caller.fail(collection, f"listed {sorted(listed)}, 200s {sorted(expected)}")
        listed_w = caller.list_ids(f"{collection}?limit=1000&read_write=w")
        assert set(listed_w) == expected_w, caller.fail(
            collection, f"read_write=w listed {sorted(listed_w)}, a PATCH is permitted on {sorted(expected_w)}")
        for obj in json.loads(caller.get(f"{collection}?limit=1000")[1])["objects"]:
            check_representation(caller, built, world, obj)
            assert obj == caller.json(f"{collection}{obj['id']}/"), caller.fail(collection, "list and URL differ")


def check_representation(caller: Caller, built: Built, world: World, obj: dict) -> None:
    """Its links answer 200; it names as attachments the entities under which the caller can see it."""
    i = built.resource_ids.index(obj["id"])
    resource = world.resources[i]
    where = [built.entity_urls[(resource.org, *place)] for place in resource.places
             if seen_at(world, resource, place)]
    shown = [attachment["href"] for attachment in obj["attachments"]]
    assert shown == where, caller.fail(obj["resource_uri"], f"resource {i}: attachments {shown}, expected {where}")
    assert [link["href"] for link in obj["_links"]["attachments"]] == where
    assert obj["resource_uri"] == f"{where[0]}resources/{obj['id']}/", caller.fail(
        obj["resource_uri"], f"resource {i}: its canonical URL is under the first entity the caller sees it under")
    links = [obj["resource_uri"], obj["file"], *shown, obj["_links"]["self"]["href"], obj["_links"]["up"]["href"],
             obj["_links"]["content"]["href"]]
    if obj["contributor"] is not None:
        links.append(obj["contributor"])
    for link in links:
        assert caller.status(link) == 200, caller.fail(link, f"a link of resource {i} answers {caller.status(link)}")


# No `explain` phase: on a failure it re-runs the test hundreds of times to annotate the example.
PHASES = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink)
PROPERTY_SETTINGS = settings(max_examples=examples(30), deadline=None, phases=PHASES,
                             suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(world=worlds())
def test_resource_lists_urls_and_rules_agree(engine, wsgi_app, world):
    with world_in_database(engine, wsgi_app, world) as (session, built):
        before = resource_tables(session)
        session.commit()
        caller = Caller(wsgi_app, built.key, world)
        check_resources(caller, built, world)
        check_nested(caller, built, world)
        assert resource_tables(session) == before, caller.fail("", "a refused or failed write changed a resource")
