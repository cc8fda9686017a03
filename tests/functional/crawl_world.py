"""A world to discover: the role matrix's world (every role, public, private and archived
organizations and projects), with a page and more of parties in one project, resources attached at
every level with their bytes in storage, and some history — and a crawler that starts at `/api/v1/`
and follows every link the API hands out.

Shared by the discoverability tests and the schemathesis run."""

from __future__ import annotations

import re
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from hyperapi.models import (
    Organization,
    OrganizationMember,
    Party,
    Project,
    ProjectMember,
    Resource,
    Token,
    User,
)

from ..support.api import API, Client
from ..support.factory import Factory
from .resource_helpers import at_organization, at_party, at_project, insert_resource
from .test_role_matrix import ROLES, build_world

# Keys whose values are links the API hands out (besides every href of `_links` and `Link` headers).
LINK_KEYS = frozenset({"resource_uri", "project", "organization", "user", "contributor", "file", "href",
                       "list_endpoint", "schema", "next", "previous"})
# Values that are data, not links to follow: user data, history's record of where an entity lived, and a
# schema's description of fields, and the root's actions (what to POST where, not links to GET).
DATA_KEYS = frozenset({"attributes", "changes", "contacts", "urls", "entity", "fields", "filtering", "actions"})
LINK_HEADER = re.compile(r'<([^>]*)>\s*;\s*rel="([^"]*)"')
MAX_URLS = 4000


def build_crawl_world(session: Session, storage) -> tuple[dict, dict]:
    """(keys by role, placeholders) of the role matrix's world, and more to find."""
    factory = Factory(session)
    keys, placeholders, _ = build_world(factory)
    projects = {p.slug: p for p in session.scalars(select(Project))}
    orgs = {o.slug: o for o in session.scalars(select(Organization))}
    # More than a page (20) of parties in one project: the crawler must follow `next`.
    parties = [factory.party(projects["open"], name=f"Resident {n:02d}") for n in range(24)]
    session.commit()
    resources = [
        ("deed", orgs["acme"].id, [at_organization(orgs["acme"])]),
        ("survey", orgs["acme"].id, [at_project(projects["open"])]),
        ("plan", orgs["acme"].id, [at_project(projects["team"])]),
        ("consent", orgs["acme"].id, [at_party(projects["open"], parties[0]), at_project(projects["team"])]),
        ("secret-map", orgs["hush"].id, [at_project(projects["inner"])]),
        ("old-map", orgs["acme"].id, [at_project(projects["open"])]),
    ]
    for name, organization_id, places in resources:
        insert_resource(session, organization_id, places, name, archived=name == "old-map", storage=storage)
    session.commit()
    return keys, placeholders


@dataclass
class World:
    connection: object
    keys: dict  # role -> API key (None for anonymous)
    placeholders: dict

    def session(self) -> Session:
        """A session to look at the world with (close it: a session kept open across tests breaks their
        savepoints)."""
        return Session(bind=self.connection, join_transaction_mode="create_savepoint", expire_on_commit=False)

    def bind(self, wsgi_app) -> None:
        """Make the app work on the world's connection (other modules' fixtures bind it elsewhere)."""
        wsgi_app.registry["db.session_factory"].configure(bind=self.connection,
                                                          join_transaction_mode="create_savepoint")


@contextmanager
def crawl_world(engine, wsgi_app):
    """The world, on a connection of its own in an outer transaction rolled back at the end."""
    connection = engine.connect()
    outer = connection.begin()
    try:
        world = World(connection, {}, {})
        world.bind(wsgi_app)
        with world.session() as session:
            world.keys, world.placeholders = build_crawl_world(session, wsgi_app.registry["hyperapi.storage"])
        yield world
    finally:
        outer.rollback()
        connection.close()


@dataclass
class Crawl:
    """What a caller reached from `/api/v1/` by following links: each URL's answer."""

    answers: dict = field(default_factory=dict)  # url -> webtest response

    @property
    def reached(self) -> set[str]:
        """The paths of every object reached (its resource_uri) and the ids of the resources."""
        found = set()
        for response in self.answers.values():
            if not response.content_type.endswith("json"):
                continue
            body = response.json
            for obj in [body, *(body.get("objects", []) if isinstance(body, dict) else [])]:
                if isinstance(obj, dict) and "resource_uri" in obj:
                    found.add(obj["resource_uri"])
                    if "sha256" in obj:
                        found.add("resource:" + obj["id"])
        return found


def links_in(value, key: str | None = None):
    """Every link in a JSON body (not inside user data)."""
    if key in DATA_KEYS:
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "_links":
                for link in v.values():
                    for item in link if isinstance(link, list) else [link]:
                        yield item["href"]
            else:
                yield from links_in(v, k)
    elif isinstance(value, list):
        for item in value:
            yield from links_in(item, key)
    elif isinstance(value, str) and key in LINK_KEYS and value.startswith(API + "/"):
        yield value


def links_of(response) -> list[str]:
    found = [href for href, _ in LINK_HEADER.findall(response.headers.get("Link", ""))]
    if response.content_type.endswith("json") and "openapi" not in response.request.path:
        found += list(links_in(response.json))
    return found


def local(href: str) -> str:
    parts = urlsplit(href)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def crawl(client: Client) -> Crawl:
    result = Crawl()
    queue, seen = deque([f"{API}/"]), {f"{API}/"}
    while queue and len(seen) < MAX_URLS:
        url = queue.popleft()
        response = client.get(url)
        result.answers[url] = response
        if response.status_int != 200:
            continue
        for href in links_of(response):
            target = local(href)
            if target not in seen:
                seen.add(target)
                queue.append(target)
    assert not queue, f"more than {MAX_URLS} URLs: the crawl does not end"
    return result


def every_entity(session: Session) -> dict[str, str]:
    """Every entity in the database: its URL (for a resource, its flat URL) -> what the crawl must
    have reached if the caller may see it."""
    entities = {}
    orgs = {o.id: o for o in session.scalars(select(Organization))}
    projects = {p.id: p for p in session.scalars(select(Project))}
    for org in orgs.values():
        entities[f"{API}/organizations/{org.slug}/"] = None
    for project in projects.values():
        entities[f"{API}/organizations/{orgs[project.organization_id].slug}/projects/{project.slug}/"] = None
    for party in session.scalars(select(Party)):
        project = projects[party.project_id]
        entities[f"{API}/organizations/{orgs[project.organization_id].slug}/projects/{project.slug}/parties/"
                 f"{party.id}/"] = None
    users = {u.id: u for u in session.scalars(select(User))}
    for user in users.values():
        entities[f"{API}/users/{user.username}/"] = None
    for member in session.scalars(select(OrganizationMember)):
        entities[f"{API}/organizations/{orgs[member.organization_id].slug}/members/"
                 f"{users[member.user_id].username}/"] = None
    for member in session.scalars(select(ProjectMember)):
        project = projects[member.project_id]
        entities[f"{API}/organizations/{orgs[project.organization_id].slug}/projects/{project.slug}/members/"
                 f"{users[member.user_id].username}/"] = None
    for token_id in session.scalars(select(Token.id)):
        entities[f"{API}/account/tokens/{token_id}/"] = None
    for resource_id in session.scalars(select(Resource.id)):
        entities[f"{API}/resources/{resource_id}/"] = "resource:" + resource_id
    return {url: marker or url for url, marker in entities.items()}


__all__ = ["ROLES", "Crawl", "World", "crawl", "crawl_world", "every_entity", "links_of", "local"]
