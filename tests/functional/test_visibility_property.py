"""Lists and URLs agree on what a caller may see (SPEC §3, §4, §5), on random worlds.

Hypothesis draws a small world — users (one maybe a superuser), organizations and projects (public or
private, archived or not), organization and project memberships, parties — and a caller (anonymous or
one of the users). Then, over HTTP as that caller:

- every collection lists an entity exactly when the entity's own URL (its `resource_uri`) answers 200,
  and lists nothing else; a collection answers 200 exactly when its parent does, and under a hidden
  parent every child URL is a 404 too;
- every 404 (detail or collection) has the same bytes as a URL that never existed: a sibling, and the
  same path under an organization that never existed — nothing tells hidden from missing, nor which
  level exists;
- a second test holds the detail URLs of organizations, projects and parties to the rules of §3, written
  here independently of `hyperapi.authz`.

The function-scoped fixtures do not mix with @given, so each example opens its own connection and outer
transaction (as the `db` fixture does), binds the app's session factory to it, and rolls it back.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote

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

pytestmark = pytest.mark.slow  # hypothesis draws hundreds of worlds

ACCESS = ("public", "private")
ORG_ROLES = (None, "admin", "member")
PROJECT_ROLES = (None, "manager", "collector", "viewer")

# Keys that never exist in any drawn world (valid in shape, so only existence differs).
MISSING = {
    "organization": "no-such-org",
    "project": "no-such-project",
    "party": "zzzzzzzzzzzzzzzzzzzzzzzz",
    "member": "nobody-at-all",
    "user": "nobody-at-all",
}


# --- the world ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectSpec:
    access: str
    archived: bool
    parties: int


@dataclass(frozen=True)
class OrgSpec:
    access: str
    archived: bool
    projects: tuple[ProjectSpec, ...]


@dataclass(frozen=True)
class World:
    """Users are u0, u1…; organizations o0, o1…; the projects of each organization p0, p1… (the same
    slugs recur in every organization, so a project found under the wrong organization would show)."""

    users: int
    superuser: int | None
    orgs: tuple[OrgSpec, ...]
    org_roles: tuple[tuple[int, int, str], ...]  # (user, org, role)
    project_roles: tuple[tuple[int, int, int, str], ...]  # (user, org, project, role)
    caller: int | None  # a user index, or None for anonymous

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
        return "\n".join(lines)


@st.composite
def worlds(draw) -> World:
    users = draw(st.integers(1, 3))
    superuser = draw(st.none() | st.integers(0, users - 1))
    caller = draw(st.none() | st.integers(0, users - 1))
    project = st.builds(ProjectSpec, st.sampled_from(ACCESS), st.booleans(), st.integers(0, 2))
    orgs = tuple(draw(st.lists(
        st.builds(OrgSpec, st.sampled_from(ACCESS), st.booleans(), st.lists(project, max_size=3).map(tuple)),
        min_size=1, max_size=3)))
    # A role (or none) for every pair, so that worlds are dense with memberships; shrinking turns them to None.
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
    return World(users, superuser, orgs, tuple(org_roles), tuple(project_roles), caller)


@dataclass
class Built:
    """The URLs of everything in the world, and the collections that should hold them."""

    key: str | None
    users: list[str]  # user URLs
    orgs: list[str]  # org URLs, by org index
    projects: dict[tuple[int, int], str]  # (org, project) -> URL
    parties: dict[tuple[int, int], list[str]]  # (org, project) -> party URLs
    org_members: dict[int, list[str]]
    project_members: dict[tuple[int, int], list[str]]
    # collection URL -> (parent URL or None, URLs of the entities that belong in it)
    collections: dict[str, tuple[str | None, list[str]]]


def build(session: Session, world: World) -> Built:
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
    for o, spec in enumerate(world.orgs):
        for p, pspec in enumerate(spec.projects):
            parties[o, p] = [Party(project_id=projects[o, p].id, name=f"Party {o}.{p}.{k}", type="IN")
                             for k in range(pspec.parties)]
            session.add_all(parties[o, p])
    session.add_all(OrganizationMember(organization_id=orgs[o].id, user_id=users[u].id, role=r)
                    for u, o, r in world.org_roles)
    session.add_all(ProjectMember(project_id=projects[o, p].id, user_id=users[u].id, role=r)
                    for u, o, p, r in world.project_roles)
    session.flush()
    key = None
    if world.caller is not None:
        _, key = new_token(session, users[world.caller], name="prop")
    session.commit()

    user_urls = [f"{API}/users/{quote(u.username)}/" for u in users]
    org_urls = [f"{API}/organizations/{org.slug}/" for org in orgs]
    project_urls = {(o, p): f"{org_urls[o]}projects/{prj.slug}/" for (o, p), prj in projects.items()}
    party_urls = {op: [f"{project_urls[op]}parties/{party.id}/" for party in rows] for op, rows in parties.items()}
    org_members = {o: [f"{org_urls[o]}members/u{u}/" for u, oo, _ in world.org_roles if oo == o]
                   for o in range(len(orgs))}
    project_members = {op: [f"{project_urls[op]}members/u{u}/" for u, o, p, _ in world.project_roles if (o, p) == op]
                       for op in projects}

    collections: dict[str, tuple[str | None, list[str]]] = {
        f"{API}/users/": (None, user_urls),
        f"{API}/organizations/": (None, org_urls),
        f"{API}/projects/": (None, list(project_urls.values())),
    }
    for o, url in enumerate(org_urls):
        collections[f"{url}projects/"] = (url, [u for (oo, _), u in project_urls.items() if oo == o])
        collections[f"{url}members/"] = (url, org_members[o])
    for op, url in project_urls.items():
        collections[f"{url}parties/"] = (url, party_urls[op])
        collections[f"{url}members/"] = (url, project_members[op])
    return Built(key, user_urls, org_urls, project_urls, party_urls, org_members, project_members, collections)


@contextmanager
def world_in_database(engine, wsgi_app, world: World):
    """Build the world in an outer transaction that is rolled back afterwards, whatever happens."""
    with rolled_back_session(engine, wsgi_app) as session:
        built = build(session, world)
        session.close()  # the checks go through the app only
        yield built


# --- asking the app ----------------------------------------------------------------------------------


class Caller:
    """GETs as the world's caller, each URL once."""

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

    def fail(self, url: str, message: str) -> str:
        return f"{message}\nURL: {url}\n--- world ---\n{self.world.describe()}"

    def list_all(self, url: str) -> list[dict]:
        """Every object of a collection, following `next` through all pages."""
        objects, page, pages = [], f"{url}?limit=1000", 0
        while page is not None:
            response = self.client.get(page)
            assert response.status_int == 200, self.fail(page, f"next page answered {response.status_int}")
            body = response.json
            objects += body["objects"]
            assert body["meta"]["total_count"] >= len(objects), self.fail(page, f"total_count too small: {body}")
            page, pages = body["meta"]["next"], pages + 1
            assert pages < 50, self.fail(url, "pagination does not end")
        return objects


def missing_sibling(url: str, kind: str) -> str:
    """The same URL with its last segment replaced by a key that never existed."""
    parent = url.rstrip("/").rsplit("/", 1)[0]
    return f"{parent}/{MISSING[kind]}/"


def under_missing_org(url: str) -> str | None:
    prefix = f"{API}/organizations/"
    if not url.startswith(prefix) or url == prefix:
        return None
    rest = url[len(prefix):].split("/", 1)[1]
    return f"{prefix}{MISSING['organization']}/{rest}"


def kind_of(url: str) -> str:
    segments = url.rstrip("/").split("/")
    return {"users": "user", "organizations": "organization", "projects": "project", "parties": "party",
            "members": "member"}[segments[-2]]


def check_lists_match_urls(caller: Caller, built: Built) -> None:
    for collection, (parent, members) in built.collections.items():
        status, body = caller.get(f"{collection}?limit=1000")
        expected_status = 200 if parent is None else caller.status(parent)
        assert status == expected_status, caller.fail(
            collection, f"collection answered {status}, its parent {parent} answered {expected_status}")
        visible = {url for url in members if caller.status(url) == 200}
        for url in members:
            assert caller.status(url) in (200, 404), caller.fail(url, f"detail GET answered {caller.status(url)}")
        if status != 200:
            assert not visible, caller.fail(collection, f"collection is {status} but these answer 200: {visible}")
            continue
        listed = [obj["resource_uri"] for obj in caller.list_all(collection)]
        assert len(listed) == len(set(listed)), caller.fail(collection, f"listed twice: {listed}")
        total = json.loads(body)["meta"]["total_count"]
        assert total == len(listed), caller.fail(collection, f"total_count {total} but {len(listed)} objects")
        hidden_but_listed = set(listed) - visible
        visible_not_listed = visible - set(listed)
        assert not hidden_but_listed, caller.fail(
            collection, "listed, but the URL is not 200 (or not in the world): "
            + ", ".join(f"{u} -> {caller.status(u) if u in members else 'not in this collection'}"
                        for u in sorted(hidden_but_listed)))
        assert not visible_not_listed, caller.fail(
            collection, f"URL answers 200 but missing from the list: {sorted(visible_not_listed)}")


def check_404s_reveal_nothing(caller: Caller, built: Built) -> None:
    details = built.users + built.orgs + list(built.projects.values())
    details += [u for urls in built.parties.values() for u in urls]
    details += [u for urls in built.org_members.values() for u in urls]
    details += [u for urls in built.project_members.values() for u in urls]
    for url in details:
        status, body = caller.get(url)
        if status != 404:
            continue
        for other in (missing_sibling(url, kind_of(url)), under_missing_org(url)):
            if other is None:
                continue
            other_status, other_body = caller.get(other)
            assert (other_status, other_body) == (404, body), caller.fail(
                url, f"hidden answers 404 {body!r}, never-existing {other} answers {other_status} {other_body!r}")
    for collection in built.collections:
        status, body = caller.get(f"{collection}?limit=1000")
        other = under_missing_org(collection)
        if status != 404 or other is None:
            continue
        other_status, other_body = caller.get(f"{other}?limit=1000")
        assert (other_status, other_body) == (404, body), caller.fail(
            collection, f"hidden answers 404 {body!r}, never-existing {other} answers {other_status} {other_body!r}")


# No `explain` phase: on a failure it re-runs the test hundreds of times (~30 s) to annotate the example.
PHASES = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink)
PROPERTY_SETTINGS = settings(max_examples=examples(60), deadline=None, phases=PHASES,
                             suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(world=worlds())
def test_lists_show_exactly_what_urls_show(engine, wsgi_app, world):
    with world_in_database(engine, wsgi_app, world) as built:
        caller = Caller(wsgi_app, built.key, world)
        check_lists_match_urls(caller, built)
        check_404s_reveal_nothing(caller, built)


# --- the same URLs against SPEC §3, written out independently of hyperapi.authz ---------------------


def spec_org_visible(world: World, o: int) -> bool:
    org, u = world.orgs[o], world.caller
    if org.access == "public" and not org.archived:
        return True
    return u is not None and (u == world.superuser or world.org_role(u, o) is not None)


def spec_project_visible(world: World, o: int, p: int) -> bool:
    if not spec_org_visible(world, o):
        return False
    project, u = world.orgs[o].projects[p], world.caller
    if not project.archived and project.access == "public":
        return True
    if u is None:
        return False
    if u == world.superuser:
        return True
    org_role, project_role = world.org_role(u, o), world.project_role(u, o, p)
    if project.archived:
        return org_role == "admin" or project_role == "manager"
    return org_role is not None or project_role is not None


def spec_party_visible(world: World, o: int, p: int) -> bool:
    u = world.caller
    if not spec_project_visible(world, o, p) or u is None:
        return False
    return u == world.superuser or world.org_role(u, o) is not None or world.project_role(u, o, p) is not None


@settings(PROPERTY_SETTINGS, max_examples=examples(150))
@given(world=worlds())
def test_detail_urls_follow_the_spec(engine, wsgi_app, world):
    with world_in_database(engine, wsgi_app, world) as built:
        caller = Caller(wsgi_app, built.key, world)
        expected = {url: spec_org_visible(world, o) for o, url in enumerate(built.orgs)}
        expected.update({url: spec_project_visible(world, *op) for op, url in built.projects.items()})
        expected.update({url: spec_party_visible(world, *op) for op, urls in built.parties.items() for url in urls})
        for url, visible in expected.items():
            assert caller.status(url) == (200 if visible else 404), caller.fail(
                url, f"SPEC §3 says {'visible' if visible else 'hidden'}, the app answered {caller.status(url)}")
