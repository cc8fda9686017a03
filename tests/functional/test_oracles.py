"""Oracle tests: the query language reveals nothing about what a caller may not see (SPEC §3, §4, §5).

The classic leak of tastypie-style APIs (seeds/README.md) is a filter that reaches data the caller may
not read — `?user__password__startswith=a`, or a related filter into a private organization — and
answers *differently* depending on it: a count, an order, a page, a 200 instead of a 400.

Method: one world with hidden data (a private organization with projects, parties and members; an
archived public organization; a private and an archived project in a public organization; parties in
public projects — parties are never public) next to visible data. For each caller — anonymous, a
signed-in stranger with no roles, and a viewer of another project (who also holds roles in projects
that stay hidden from them) — a battery of a few hundred requests (filters and related filters aimed at
the hidden values, search, ordering and paging, depth/full, fields, set/ with hidden, visible and
missing ids, read_write, every format, OPTIONS, detail URLs) is recorded. Then everything the caller
may not view is deleted in the same test transaction and the battery is run again: every answer must
be byte-identical. What is hidden comes from SPEC §3 for organizations, projects and parties (checked
against the recorded detail URLs: each answers 404, and each visible one 200); for memberships and
users, which §3 leaves to the implementation, a row counts as hidden when its own URL answers 404 to
the caller ("an object appears in a list exactly when its own URL answers 200").

Direct assertions as well: set/ reports a hidden id exactly like a never-existing one; a hidden slug in
a related filter answers exactly like a nonexistent slug; jsonp serves only the anonymous view; and
filter keys that reach undeclared fields or relations are a 400 naming the parameter, never a 200.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from hyperapi.models import Organization, OrganizationMember, Party, Project, ProjectMember, User

from ..support.api import API

CALLERS = ("anonymous", "stranger", "viewer")
T0 = datetime.datetime(2021, 1, 1, tzinfo=datetime.UTC)
MISSING_PARTY = "zzzzzzzzzzzzzzzzzzzzzzzz"


def at(days: int) -> datetime.datetime:
    return T0 + datetime.timedelta(days=days)


def iso(moment: datetime.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


# --- the world ---------------------------------------------------------------------------------------

# slug: (name, access, archived, created day). Hidden ones sort between visible ones by every key.
ORGS = {
    "alpha-commons": ("Alpha Commons", "public", False, 10),
    "secret-org": ("Secret Holdings", "private", False, 20),
    "open-acres": ("Open Acres", "public", False, 30),
    "old-org": ("Old Ventures", "public", True, 40),
    "zulu-fields": ("Zulu Fields", "public", False, 50),
}
VISIBLE_ORGS = {"alpha-commons", "open-acres", "zulu-fields"}

# (org, slug): (name, access, archived, country, created day)
PROJECTS = {
    ("alpha-commons", "shared"): ("Shared Plots", "public", False, "KE", 11),
    ("secret-org", "shared"): ("Shared Plots", "public", False, "UG", 21),
    ("secret-org", "secret-p"): ("Secret Parcels", "private", False, "UG", 22),
    ("open-acres", "open-p"): ("Open Parcels", "public", False, "KE", 31),
    ("open-acres", "private-p"): ("Private Plots", "private", False, "UG", 32),
    ("open-acres", "archived-p"): ("Archived Plots", "public", True, "TZ", 33),
    ("open-acres", "zeta-p"): ("Zeta Parcels", "public", False, "KE", 34),
    ("old-org", "old-p"): ("Old Parcels", "public", False, "TZ", 41),
}
VISIBLE_PROJECTS = {("alpha-commons", "shared"), ("open-acres", "open-p"), ("open-acres", "zeta-p")}

# name: (org, project, type, country, archived, created day)
PARTIES = {
    "Paula Public": ("alpha-commons", "shared", "IN", "KE", False, 12),
    "Sasha Shadow": ("secret-org", "shared", "IN", "UG", False, 23),
    "Silas Secret": ("secret-org", "secret-p", "CO", "UG", False, 24),
    "Amara Okafor": ("open-acres", "open-p", "IN", "KE", False, 35),
    "Halima Group": ("open-acres", "open-p", "GR", "KE", False, 36),
    "Zed Corp": ("open-acres", "open-p", "CO", "TZ", True, 37),
    "Harriet Hidden": ("open-acres", "private-p", "IN", "UG", False, 38),
    "Archie Archived": ("open-acres", "archived-p", "GR", "TZ", False, 39),
    "Zoe Zeta": ("open-acres", "zeta-p", "IN", "KE", False, 45),
    "Olga Old": ("old-org", "old-p", "IN", "TZ", False, 42),
}

# username: (full name, superuser, created day)
USERS = {
    "stranger": ("Sam Stranger", False, 1),
    "viewer": ("Vic Viewer", False, 2),
    "alice": ("Alice Admin", False, 3),
    "bob": ("Bob Collector", False, 4),
    "carol": ("Carol Secret", False, 5),
    "dave": ("Dave Hidden", False, 6),
    "erin": ("Erin Old", False, 7),
    "olly": ("Olly Root", True, 8),
}

ORG_MEMBERS = [
    ("open-acres", "alice", "admin"), ("open-acres", "bob", "member"), ("alpha-commons", "alice", "member"),
    ("secret-org", "carol", "admin"), ("secret-org", "dave", "member"), ("old-org", "erin", "admin"),
]
PROJECT_MEMBERS = [
    ("open-acres", "open-p", "viewer", "viewer"), ("open-acres", "open-p", "bob", "collector"),
    ("open-acres", "private-p", "dave", "manager"),
    ("open-acres", "archived-p", "viewer", "viewer"), ("open-acres", "archived-p", "erin", "manager"),
    ("secret-org", "secret-p", "viewer", "viewer"), ("secret-org", "secret-p", "carol", "manager"),
    ("secret-org", "shared", "carol", "collector"),
    ("alpha-commons", "shared", "bob", "viewer"),
    ("old-org", "old-p", "erin", "collector"),
    ("open-acres", "zeta-p", "erin", "viewer"),
]


def visible_parties(caller: str) -> set[str]:
    """SPEC §3: parties are never public; the viewer of open-p sees that project's parties."""
    if caller == "viewer":
        return {name for name, spec in PARTIES.items() if spec[:2] == ("open-acres", "open-p")}
    return set()


@dataclass
class World:
    users: dict = field(default_factory=dict)
    orgs: dict = field(default_factory=dict)
    projects: dict = field(default_factory=dict)
    parties: dict = field(default_factory=dict)  # name -> Party

    def party_url(self, name: str) -> str:
        org, project = PARTIES[name][:2]
        return f"{API}/organizations/{org}/projects/{project}/parties/{self.parties[name].id}/"


def build_world(factory) -> World:
    world = World()
    for username, (full_name, superuser, day) in USERS.items():
        world.users[username] = factory.user(username, superuser=superuser, full_name=full_name,
                                             email=f"{username}@example.org", created=at(day),
                                             last_updated=at(day))
    for slug, (name, access, archived, day) in ORGS.items():
        world.orgs[slug] = factory.org(slug, access=access, archived=archived, name=name,
                                       description=f"About {name}", created=at(day), last_updated=at(day))
    for (org, slug), (name, access, archived, country, day) in PROJECTS.items():
        world.projects[org, slug] = factory.project(world.orgs[org], slug, access=access, archived=archived,
                                                    name=name, country=country, description=f"About {name}",
                                                    created=at(day), last_updated=at(day))
    for name, (org, project, type_, country, archived, day) in PARTIES.items():
        world.parties[name] = factory.party(world.projects[org, project], name=name, type=type_, country=country,
                                            archived=archived, created=at(day), last_updated=at(day))
    for org, username, role in ORG_MEMBERS:
        factory.org_member(world.orgs[org], world.users[username], role)
    for org, project, username, role in PROJECT_MEMBERS:
        factory.project_member(world.projects[org, project], world.users[username], role)
    return world


def caller_client(client, factory, world, caller):
    if caller == "anonymous":
        return client.as_(None)
    return client.as_(factory.key(world.users[caller]))


# --- the battery -------------------------------------------------------------------------------------


def qs(*pairs) -> str:
    return "?" + urlencode(pairs)


FORMATS = [qs(("format", "csv"), ("depth", "3")), qs(("format", "xml"), ("full", "true")),
           qs(("format", "hal"), ("depth", "3")), qs(("format", "jsonp"), ("callback", "cb"))]

SHAPES = ["", qs(("depth", "3")), qs(("full", "true"), ("limit", "1"), ("offset", "1")), qs(("read_write", "w")),
          qs(("limit", "0"), ("read_write", "r")), qs(("limit", "1"), ("offset", "2")), qs(("offset", "5")),
          qs(("search", "%")), qs(("search", "_")), qs(("search", "secret")), qs(("search", "Secret Holdings")),
          qs(("search", "hidden")), qs(("search", "old")), qs(("search", "private"), ("limit", "1"), ("offset", "1"))]


def dated(prefix: str, hidden_day: int) -> list[str]:
    """Date filters aimed at one hidden row's timestamp (and around it)."""
    moment = at(hidden_day)
    before, after = iso(moment - datetime.timedelta(hours=1)), iso(moment + datetime.timedelta(hours=1))
    return [
        qs((f"{prefix}created", iso(moment))),
        qs((f"{prefix}created__gte", before), (f"{prefix}created__lte", after)),
        qs((f"{prefix}created__gt", before), (f"{prefix}created__lt", after), ("ordering", "-created")),
        qs((f"{prefix}created__lt", iso(at(hidden_day + 1)))),
        qs((f"{prefix}created__in", f"{iso(moment)},{iso(at(10))}"), (f"{prefix}created__isnull", "true")),
    ]


def text_filters(name: str, hidden: str) -> list[str]:
    """Every text operator aimed at a hidden value."""
    return [
        qs((name, hidden)), qs((f"{name}__iexact", hidden.upper())), qs((f"{name}__startswith", hidden[:1])),
        qs((f"{name}__startswith", hidden[:3]), ("ordering", "-created")),
        qs((f"{name}__istartswith", hidden[:2].lower())),
        qs((f"{name}__contains", hidden[2:6])), qs((f"{name}__icontains", hidden[1:5].upper())),
        qs((f"{name}__endswith", hidden[-3:])), qs((f"{name}__in", f"{hidden},nothing-like-it"), (f"{name}__in", "x")),
        qs((f"{name}__isnull", "false")),
    ]


def ordered(*names: str) -> list[str]:
    out = []
    for name in names:
        out += [qs(("ordering", name)), qs(("ordering", f"-{name}"), ("limit", "1"), ("offset", "1"))]
    return out


def organization_queries() -> list[str]:
    return [
        *SHAPES, *text_filters("name", "Secret Holdings"), *dated("", 20), *dated("", 40),
        *ordered("name", "slug", "created", "last_updated"), qs(("ordering", "-last_updated,name")),
        qs(("slug", "secret-org")), qs(("slug", "old-org")), qs(("slug__in", "secret-org,open-acres,old-org")),
        qs(("slug__startswith", "sec")), qs(("name__startswith", "O")), qs(("name__startswith", "Ol")),
        qs(("access", "private")), qs(("access", "public")), qs(("access__in", "private,public")),
        qs(("archived", "true")), qs(("archived", "false")), qs(("archived", "true"), ("access", "public")),
        qs(("last_updated__lt", iso(at(25)))), qs(("access", "private"), ("ordering", "-created"), ("limit", "1")),
        qs(("fields", "name,slug")), qs(("fields", "access,archived"), ("ordering", "created")),
        qs(("name", "Secret Holdings"), ("format", "csv")), qs(("access", "private"), ("format", "xml")),
        qs(("archived", "true"), ("format", "hal")),
        qs(("slug", "secret-org"), ("format", "jsonp"), ("callback", "cb")),
        *FORMATS,
    ]


def project_queries(flat: bool) -> list[str]:
    queries = [
        *SHAPES, *text_filters("name", "Private Plots"), *dated("", 32), *dated("", 22),
        *ordered("name", "slug", "country", "created", "last_updated"),
        qs(("slug", "private-p")), qs(("slug", "archived-p")), qs(("slug", "secret-p")), qs(("slug", "shared")),
        qs(("slug__in", "private-p,archived-p,open-p,secret-p,old-p")), qs(("country", "UG")),
        qs(("country__in", "UG,TZ")), qs(("name__startswith", "S")), qs(("name__startswith", "A")),
        qs(("name", "Shared Plots")), qs(("access", "private")), qs(("archived", "true")),
        qs(("access", "private"), ("ordering", "-created"), ("limit", "1")), qs(("ordering", "country,-name")),
        qs(("organization__slug", "secret-org")), qs(("organization__slug", "old-org")),
        qs(("organization__slug", "open-acres")), qs(("organization__slug__in", "secret-org,old-org,alpha-commons")),
        qs(("organization__name__startswith", "Sec")), qs(("organization__name__icontains", "holdings")),
        qs(("organization__name__startswith", "O")), qs(("organization__access", "private")),
        qs(("organization__archived", "true")), qs(("organization__created__lt", iso(at(25)))),
        qs(("organization__created", iso(at(20)))), qs(("organization__last_updated__gte", iso(at(39)))),
        qs(("organization__slug", "secret-org"), ("slug", "shared")),
        qs(("fields", "name,slug,organization")), qs(("fields", "organization"), ("depth", "3")),
        qs(("country", "UG"), ("format", "csv")), qs(("access", "private"), ("format", "xml"), ("depth", "2")),
        qs(("organization__slug", "secret-org"), ("format", "hal"), ("full", "true")),
        qs(("archived", "true"), ("format", "jsonp"), ("callback", "cb")),
        *FORMATS,
    ]
    if not flat:
        queries.append(qs(("organization__slug", "secret-org"), ("organization__slug__in", "open-acres")))
    return queries


def member_queries(parent: str) -> list[str]:
    return [
        *SHAPES, *text_filters("full_name", "Carol Secret"), qs(("username__startswith", "c")), *dated("", 5),
        *ordered("username", "role", "created"),
        qs(("role", "admin")), qs(("role", "manager")), qs(("role__in", "admin,member,manager,collector,viewer")),
        qs(("created__gte", "2000-01-01T00:00:00Z")), qs(("search", "carol")), qs(("search", "dave")),
        qs(("user__username", "carol")), qs(("user__username", "dave")), qs(("user__username__startswith", "e")),
        qs(("user__full_name__startswith", "Carol")), qs(("user__full_name__icontains", "hidden")),
        qs(("user__is_superuser", "true")), qs(("user__created__lt", iso(at(6)))),
        qs(("user__memberships__organization__slug", "secret-org")),
        qs(("user__project_memberships__project__slug", "private-p")),
        qs(("user__project_memberships__project__organization__slug", "secret-org")),
        qs((f"{parent}__slug", "secret-org" if parent == "organization" else "private-p")),
        qs((f"{parent}__name__startswith", "S" if parent == "organization" else "P")),
        qs((f"{parent}__access", "private")), qs((f"{parent}__archived", "true")),
        qs(("fields", f"username,role,{parent},user"), ("depth", "3")),
        qs(("role", "admin"), ("format", "csv"), ("depth", "3")), qs(("user__username", "carol"), ("format", "xml")),
        *FORMATS,
    ] + ([qs(("project__organization__slug", "secret-org")), qs(("project__organization__access", "private"))]
         if parent == "project" else [])


def party_queries() -> list[str]:
    return [
        *SHAPES, *text_filters("name", "Harriet Hidden"), qs(("name__startswith", "Ha")),
        *dated("", 38), *dated("", 36), *ordered("name", "type", "created", "last_updated"),
        qs(("type", "GR")), qs(("type", "CO")), qs(("type__in", "IN,GR,CO")), qs(("country", "UG")),
        qs(("country", "KE")), qs(("country__in", "UG,TZ,KE")), qs(("archived", "true")), qs(("archived", "false")),
        qs(("search", "harriet")), qs(("search", "zed")), qs(("search", "a"), ("ordering", "-name")),
        qs(("fields", "name,type,project"), ("depth", "3")), qs(("fields", "attributes,contacts")),
        qs(("type", "GR"), ("format", "csv")), qs(("archived", "true"), ("format", "xml"), ("depth", "3")),
        qs(("name__startswith", "H"), ("format", "hal")),
        qs(("country", "KE"), ("format", "jsonp"), ("callback", "cb")),
        *FORMATS,
    ]


def user_queries() -> list[str]:
    return [
        *SHAPES, *text_filters("full_name", "Dave Hidden"), qs(("username__startswith", "c")), *dated("", 6),
        *ordered("username", "full_name", "created"), qs(("is_superuser", "true")), qs(("is_superuser", "false")),
        qs(("memberships__organization__slug", "secret-org")), qs(("memberships__organization__slug", "old-org")),
        qs(("memberships__organization__slug", "open-acres")),
        qs(("memberships__organization__slug__in", "secret-org,open-acres,alpha-commons,old-org")),
        qs(("memberships__organization__name__startswith", "Secret")),
        qs(("memberships__organization__name__startswith", "O")),
        qs(("memberships__organization__access", "private")), qs(("memberships__organization__archived", "true")),
        qs(("memberships__organization__created__lt", iso(at(25)))),
        qs(("memberships__role", "admin")), qs(("memberships__role__in", "admin,member")),
        qs(("memberships__username", "carol")), qs(("memberships__full_name__startswith", "D")),
        qs(("memberships__user__username", "carol")), qs(("memberships__created__gte", "2000-01-01T00:00:00Z")),
        qs(("memberships__user__memberships__organization__slug", "secret-org")),
        qs(("project_memberships__project__slug", "private-p")),
        qs(("project_memberships__project__slug", "secret-p")),
        qs(("project_memberships__project__slug", "archived-p")),
        qs(("project_memberships__project__slug", "open-p")),
        qs(("project_memberships__project__slug", "shared")),
        qs(("project_memberships__project__slug__in", "private-p,secret-p,archived-p,open-p,old-p")),
        qs(("project_memberships__project__name__startswith", "P")),
        qs(("project_memberships__project__access", "private")),
        qs(("project_memberships__project__archived", "true")),
        qs(("project_memberships__project__country", "UG")),
        qs(("project_memberships__project__organization__slug", "secret-org")),
        qs(("project_memberships__project__organization__access", "private")),
        qs(("project_memberships__project__organization__archived", "true")),
        qs(("project_memberships__role", "manager")), qs(("project_memberships__role__in", "viewer,collector")),
        qs(("project_memberships__role", "viewer"), ("ordering", "-created")),
        qs(("project_memberships__project__slug", "secret-p"), ("memberships__organization__slug", "secret-org")),
        qs(("memberships__organization__slug", "secret-org"), ("format", "csv")),
        qs(("project_memberships__project__slug", "private-p"), ("format", "xml"), ("depth", "3")),
        qs(("fields", "username,full_name,email")), qs(("fields", "email"), ("ordering", "-created")),
        *FORMATS,
    ]


def battery(world: World) -> list[tuple[str, str, dict | None]]:
    """(method, url, headers): the same list, built once, before and after the hidden rows go."""
    urls: list[str] = []
    collections = {
        f"{API}/organizations/": organization_queries(),
        f"{API}/projects/": project_queries(flat=True),
        f"{API}/organizations/open-acres/projects/": project_queries(flat=False),
        f"{API}/users/": user_queries(),
        f"{API}/organizations/open-acres/members/": member_queries("organization"),
        f"{API}/organizations/open-acres/projects/open-p/members/": member_queries("project"),
        f"{API}/organizations/open-acres/projects/open-p/parties/": party_queries(),
    }
    small = ["", qs(("depth", "3")), qs(("format", "csv")), qs(("name__startswith", "S"))]
    for base, queries in collections.items():
        urls += [base + query for query in queries]
    for base in (f"{API}/organizations/alpha-commons/projects/", f"{API}/organizations/zulu-fields/projects/",
                 f"{API}/organizations/alpha-commons/members/",
                 f"{API}/organizations/alpha-commons/projects/shared/members/",
                 f"{API}/organizations/open-acres/projects/zeta-p/members/",
                 f"{API}/organizations/alpha-commons/projects/shared/parties/",
                 f"{API}/organizations/open-acres/projects/zeta-p/parties/",
                 f"{API}/organizations/secret-org/projects/", f"{API}/organizations/old-org/projects/",
                 f"{API}/organizations/secret-org/members/", f"{API}/organizations/old-org/members/",
                 f"{API}/organizations/secret-org/projects/secret-p/parties/",
                 f"{API}/organizations/open-acres/projects/private-p/parties/",
                 f"{API}/organizations/open-acres/projects/archived-p/parties/",
                 f"{API}/organizations/open-acres/projects/private-p/members/",
                 f"{API}/organizations/open-acres/projects/archived-p/members/"):
        urls += [base + query for query in small]

    # Detail URLs of everything, in a few shapes.
    details = [f"{API}/organizations/{slug}/" for slug in ORGS]
    details += [f"{API}/organizations/{org}/projects/{slug}/" for org, slug in PROJECTS]
    details += [world.party_url(name) for name in PARTIES]
    details += [f"{API}/organizations/open-acres/projects/open-p/parties/{world.parties[name].id}/"
                for name in ("Harriet Hidden", "Sasha Shadow", "Zoe Zeta")]  # under the wrong project
    details += [f"{API}/users/{username}/" for username in USERS]
    details += [f"{API}/organizations/{org}/members/{username}/" for org, username, _ in ORG_MEMBERS]
    details += [f"{API}/organizations/{org}/projects/{project}/members/{username}/"
                for org, project, username, _ in PROJECT_MEMBERS]
    for url in details:
        urls += [url, url + qs(("depth", "3"), ("format", "hal"))]

    ids = {name: world.parties[name].id for name in PARTIES}
    party_set = ";".join([ids["Amara Okafor"], ids["Harriet Hidden"], MISSING_PARTY, ids["Zed Corp"],
                          ids["Sasha Shadow"], ids["Halima Group"], ids["Zoe Zeta"]])
    sets = [
        f"{API}/organizations/set/open-acres;secret-org;no-such-org;old-org;alpha-commons/",
        f"{API}/organizations/set/secret-org;old-org/",
        f"{API}/organizations/open-acres/projects/set/open-p;private-p;archived-p;no-such-project;zeta-p/",
        f"{API}/organizations/open-acres/projects/set/private-p/",
        f"{API}/organizations/secret-org/projects/set/shared;secret-p/",
        f"{API}/organizations/open-acres/projects/open-p/parties/set/{party_set}/",
        f"{API}/organizations/open-acres/projects/open-p/parties/set/{ids['Harriet Hidden']};{MISSING_PARTY}/",
        f"{API}/organizations/open-acres/projects/private-p/parties/set/{ids['Harriet Hidden']}/",
        f"{API}/users/set/carol;dave;stranger;viewer;nobody-at-all/",
        f"{API}/organizations/open-acres/members/set/alice;bob;carol;viewer;nobody-at-all/",
        f"{API}/organizations/secret-org/members/set/carol;dave/",
        f"{API}/organizations/open-acres/projects/open-p/members/set/viewer;bob;dave;nobody-at-all/",
        f"{API}/organizations/open-acres/projects/private-p/members/set/dave/",
        f"{API}/projects/set/open-p;private-p/",
    ]
    for url in sets:
        urls += [url, url + qs(("depth", "3")), url + qs(("format", "csv"), ("fields", "name")),
                 url + qs(("format", "jsonp"), ("callback", "cb"))]

    urls += [f"{API}/", f"{API}/account/", f"{API}/organizations/schema/", f"{API}/projects/schema/"]

    requests = [("GET", url, None) for url in urls]
    requests += [("GET", f"{API}/organizations/open-acres/projects/open-p/parties/", {"Accept": "text/csv"}),
                 ("GET", f"{API}/projects/?organization__slug=secret-org", {"Accept": "application/xml"}),
                 ("GET", f"{API}/users/?memberships__organization__slug=secret-org",
                  {"Accept": "application/hal+json"})]
    requests += [("OPTIONS", url, None) for url in details[: len(ORGS) + len(PROJECTS) + len(PARTIES)]]
    return requests


def record(client, requests) -> list[tuple]:
    answers = []
    for method, url, headers in requests:
        response = client.request(method, url, headers=headers)
        answers.append((response.status_int, response.headers.get("Content-Type"), response.headers.get("Link"),
                        response.headers.get("Allow"), response.body))
    return answers


# --- what the caller may not view ------------------------------------------------------------------


def spec_hidden_urls(world: World, caller: str) -> tuple[list[str], list[str]]:
    """(hidden, visible) detail URLs of organizations, projects and parties, from SPEC §3 alone."""
    hidden, visible = [], []
    for slug in ORGS:
        (visible if slug in VISIBLE_ORGS else hidden).append(f"{API}/organizations/{slug}/")
    for org, slug in PROJECTS:
        (visible if (org, slug) in VISIBLE_PROJECTS else hidden).append(f"{API}/organizations/{org}/projects/{slug}/")
    for name in PARTIES:
        (visible if name in visible_parties(caller) else hidden).append(world.party_url(name))
    return hidden, visible


def remove_hidden(db, world: World, caller: str, answers: dict[str, int]) -> None:
    """Delete every row the caller may not view, and commit (the test's outer transaction still rolls
    everything back at the end)."""
    hidden_orgs = [world.orgs[slug].id for slug in ORGS if slug not in VISIBLE_ORGS]
    hidden_projects = [world.projects[key].id for key in PROJECTS if key not in VISIBLE_PROJECTS]
    hidden_parties = [world.parties[name].id for name in PARTIES if name not in visible_parties(caller)]
    hidden_org_members = [(world.orgs[org].id, world.users[username].id) for org, username, _ in ORG_MEMBERS
                          if answers[f"{API}/organizations/{org}/members/{username}/"] == 404]
    hidden_project_members = [
        (world.projects[org, project].id, world.users[username].id) for org, project, username, _ in PROJECT_MEMBERS
        if answers[f"{API}/organizations/{org}/projects/{project}/members/{username}/"] == 404
    ]
    # A user goes only if their own URL is hidden and so is every membership they hold.
    kept = {username for org, username, _ in ORG_MEMBERS
            if answers[f"{API}/organizations/{org}/members/{username}/"] != 404}
    kept |= {username for org, project, username, _ in PROJECT_MEMBERS
             if answers[f"{API}/organizations/{org}/projects/{project}/members/{username}/"] != 404}
    if caller != "anonymous":
        kept.add(caller)
    hidden_users = [world.users[u].id for u in USERS if answers[f"{API}/users/{u}/"] == 404 and u not in kept]

    db.execute(sa.delete(Party).where(Party.id.in_(hidden_parties)))
    for org_id, user_id in hidden_org_members:
        db.execute(sa.delete(OrganizationMember).where(OrganizationMember.organization_id == org_id,
                                                       OrganizationMember.user_id == user_id))
    for project_id, user_id in hidden_project_members:
        db.execute(sa.delete(ProjectMember).where(ProjectMember.project_id == project_id,
                                                  ProjectMember.user_id == user_id))
    db.execute(sa.delete(Project).where(Project.id.in_(hidden_projects)))
    db.execute(sa.delete(Organization).where(Organization.id.in_(hidden_orgs)))
    if hidden_users:
        db.execute(sa.delete(User).where(User.id.in_(hidden_users)))
    db.commit()
    db.expire_all()
    # Nothing hidden is left behind (the database cascades agree with what was meant).
    assert db.scalar(sa.select(sa.func.count()).select_from(Party).where(Party.id.in_(hidden_parties))) == 0
    assert db.scalar(sa.select(sa.func.count()).select_from(Project).where(Project.id.in_(hidden_projects))) == 0


def describe(answer: tuple) -> str:
    status, content_type, link, allow, body = answer
    return f"{status} {content_type} Link={link!r} Allow={allow!r} {body[:600]!r}"


# --- the tests ---------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("caller", CALLERS)
def test_hidden_rows_change_no_answer(client, factory, db, caller):
    """Every answer of the battery is byte-identical with and without the rows the caller may not view."""
    world = build_world(factory)
    as_caller = caller_client(client, factory, world, caller)
    requests = battery(world)
    before = record(as_caller, requests)

    errors = [(req, ans) for req, ans in zip(requests, before, strict=True) if ans[0] >= 500]
    assert not errors, "\n".join(f"{req[0]} {req[1]} -> {describe(ans)}" for req, ans in errors[:10])

    statuses = {url: ans[0] for (method, url, headers), ans in zip(requests, before, strict=True)
                if method == "GET" and headers is None}
    hidden, visible = spec_hidden_urls(world, caller)
    leaks = [url for url in hidden if statuses[url] != 404]
    assert not leaks, f"{caller} can open entities SPEC §3 hides: {leaks}"
    missing = [url for url in visible if statuses[url] != 200]
    assert not missing, f"{caller} cannot open entities SPEC §3 shows (the world is not as meant): {missing}"
    # The battery is not vacuous: the visible data is listed.
    listed = json.loads(before[requests.index(("GET", f"{API}/projects/", None))][4])
    assert {obj["slug"] for obj in listed["objects"]} == {"shared", "open-p", "zeta-p"}

    remove_hidden(db, world, caller, statuses)
    after = record(as_caller, requests)

    differences = [(req, old, new) for req, old, new in zip(requests, before, after, strict=True) if old != new]
    report = "\n".join(
        f"{method} {url} {headers or ''}\n  with hidden rows:    {describe(old)}\n"
        f"  without hidden rows: {describe(new)}"
        for (method, url, headers), old, new in differences[:15]
    )
    assert not differences, f"{len(differences)} of {len(requests)} answers to {caller} reveal hidden rows:\n{report}"


def _set_cases(world: World, caller: str) -> list[tuple[str, list[str], str, str]]:
    """(collection URL, ids around the hidden one, hidden id, never-existing id): every hidden id is of an
    entity that exists and whose own URL answers 404 to the caller."""
    harriet, amara = world.parties["Harriet Hidden"].id, world.parties["Amara Okafor"].id
    open_acres = f"{API}/organizations/open-acres/"
    cases = [
        (f"{API}/organizations/", ["open-acres"], "secret-org", "nope-org"),
        (f"{API}/organizations/", ["alpha-commons", "zulu-fields"], "old-org", "nope-org"),
        (f"{open_acres}projects/", ["open-p"], "private-p", "nope-p"),
        (f"{open_acres}projects/", ["zeta-p", "nope-q"], "archived-p", "nope-p"),
        (f"{API}/organizations/secret-org/projects/", [], "secret-p", "nope-p"),
        # A party of a hidden project, asked for under a visible one.
        (f"{open_acres}projects/open-p/parties/", [amara], harriet, MISSING_PARTY),
        (f"{open_acres}projects/private-p/parties/", [], harriet, MISSING_PARTY),
        (f"{open_acres}members/", ["nobody-else"], "alice", "nobody"),  # no org role: no org member is visible
        (f"{API}/organizations/alpha-commons/projects/shared/members/", [], "bob", "nobody"),
        (f"{open_acres}projects/zeta-p/members/", [], "erin", "nobody"),
        (f"{API}/organizations/secret-org/members/", [], "carol", "nobody"),
    ]
    if caller != "viewer":  # parties are never public: the viewer of open-p is the only one to see its parties
        cases.append((f"{open_acres}projects/open-p/parties/", [MISSING_PARTY[:-1] + "y"], amara, MISSING_PARTY))
        cases.append((f"{open_acres}projects/open-p/members/", ["nobody-else"], "bob", "nobody"))
    if caller == "anonymous":  # users are visible to signed-in callers only
        cases.append((f"{API}/users/", ["nobody-else"], "carol", "nobody"))
    return cases


RELATED_PAIRS = [
    # (URL template, hidden value, never-existing value)
    (f"{API}/projects/?organization__slug={{}}", "secret-org", "nope-org"),
    (f"{API}/projects/?organization__slug={{}}", "old-org", "nope-org"),
    (f"{API}/projects/?organization__slug__in={{}},alpha-commons", "secret-org", "nope-org"),
    (f"{API}/projects/?organization__name={{}}", "Secret+Holdings", "Secret+Holdingz"),
    (f"{API}/projects/?organization__name__startswith={{}}", "Secr", "Secx"),
    (f"{API}/organizations/open-acres/projects/?organization__slug={{}}", "secret-org", "nope-org"),
    (f"{API}/users/?memberships__organization__slug={{}}", "secret-org", "nope-org"),
    (f"{API}/users/?memberships__organization__slug={{}}", "old-org", "nope-org"),
    (f"{API}/users/?memberships__organization__name__istartswith={{}}", "secret", "secrex"),
    (f"{API}/users/?project_memberships__project__slug={{}}", "secret-p", "nope-p"),
    (f"{API}/users/?project_memberships__project__slug={{}}", "private-p", "nope-p"),
    (f"{API}/users/?project_memberships__project__slug={{}}", "archived-p", "nope-p"),
    (f"{API}/users/?project_memberships__project__organization__slug={{}}", "secret-org", "nope-org"),
    (f"{API}/organizations/open-acres/members/?organization__slug={{}}", "secret-org", "nope-org"),
    (f"{API}/organizations/open-acres/members/?user__memberships__organization__slug={{}}", "secret-org",
     "nope-org"),
    (f"{API}/organizations/open-acres/projects/open-p/members/?project__slug={{}}", "private-p", "nope-p"),
    (f"{API}/organizations/open-acres/projects/open-p/members/?project__organization__slug={{}}", "secret-org",
     "nope-org"),
    (f"{API}/organizations/open-acres/projects/open-p/members/?user__project_memberships__project__slug={{}}",
     "secret-p", "nope-p"),
]

UNDECLARED = [
    # (collection, filter key): each reaches a field or relation the collection does not declare.
    ("/users/", "user__password__startswith"),
    ("/users/", "password"),
    ("/users/", "password__startswith"),
    ("/users/", "password_hash"),
    ("/users/", "password_hash__startswith"),
    ("/users/", "email"),
    ("/users/", "email__startswith"),
    ("/users/", "email__isnull"),
    ("/users/", "tokens__key_hash__startswith"),
    ("/users/", "memberships__user__password__startswith"),
    ("/users/", "memberships__user__email"),
    ("/users/", "memberships__organization__members__user__password"),
    ("/users/", "project_memberships__project__parties__name"),
    ("/organizations/", "owner__password"),
    ("/organizations/", "members__user__password"),
    ("/organizations/", "projects__parties__name__startswith"),
    ("/organizations/", "description"),
    ("/organizations/", "id"),
    ("/projects/", "organization__members__user__password"),
    ("/projects/", "organization__members__role"),
    ("/projects/", "parties__name__startswith"),
    ("/projects/", "party_count__gt"),
    ("/projects/", "organization__description__startswith"),
    ("/organizations/open-acres/projects/", "organization__members__user__password"),
    ("/organizations/open-acres/members/", "user__password__startswith"),
    ("/organizations/open-acres/members/", "user__password_hash"),
    ("/organizations/open-acres/members/", "user__email__startswith"),
    ("/organizations/open-acres/members/", "user__tokens__key_hash"),
    ("/organizations/open-acres/members/", "organization__members__user__password"),
    ("/organizations/open-acres/projects/open-p/members/", "user__password__startswith"),
    ("/organizations/open-acres/projects/open-p/members/", "project__parties__name"),
    ("/organizations/open-acres/projects/open-p/parties/", "project__organization__members__user__password"),
    ("/organizations/open-acres/projects/open-p/parties/", "project__access"),
    ("/organizations/open-acres/projects/open-p/parties/", "attributes__secret"),
    ("/organizations/open-acres/projects/open-p/parties/", "contacts__icontains"),
    ("/organizations/open-acres/projects/open-p/parties/", "description__startswith"),
]
TOKEN_UNDECLARED = [("/account/tokens/", "key_hash__startswith"), ("/account/tokens/", "user__password__startswith"),
                    ("/account/tokens/", "user__username")]
UNDECLARED_SHAPE = [
    # (collection, parameter, value): ordering and fields= over what is not declared.
    ("/users/", "ordering", "password_hash"),
    ("/users/", "ordering", "email"),
    ("/users/", "ordering", "-email"),
    ("/users/", "fields", "password_hash"),
    ("/users/", "fields", "username,password"),
    ("/organizations/open-acres/members/", "ordering", "user__password"),
    ("/projects/", "ordering", "organization__name"),
    ("/projects/", "ordering", "party_count"),
    ("/organizations/open-acres/projects/open-p/parties/", "ordering", "description"),
    ("/organizations/open-acres/projects/open-p/parties/", "ordering", "attributes"),
]


@pytest.mark.parametrize("caller", CALLERS)
def test_hidden_is_answered_like_missing(client, factory, caller):
    """set/ and related filters answer a hidden id or slug exactly as one that never existed."""
    world = build_world(factory)
    as_caller = caller_client(client, factory, world, caller)
    problems = []
    for collection, others, hidden_id, missing_id in _set_cases(world, caller):
        own = as_caller.get(f"{collection}{hidden_id}/")
        if own.status_int != 404:
            problems.append(f"{collection}{hidden_id}/ answers {own.status_int} (meant to be hidden)")
        hidden_url = f"{collection}set/{';'.join([*others, hidden_id])}/"
        missing_url = f"{collection}set/{';'.join([*others, missing_id])}/"
        hidden, missing = as_caller.get(hidden_url), as_caller.get(missing_url)
        if collection.endswith(("/secret-org/projects/", "/private-p/parties/", "/secret-org/members/")):
            # Under a hidden parent: the very same 404 as under a parent that never existed.
            if (hidden.status_int, hidden.body) != (missing.status_int, missing.body) or hidden.status_int != 404:
                problems.append(f"{hidden_url}: {hidden.status_int} {hidden.text} vs {missing_url}: {missing.text}")
            continue
        if hidden.status_int != 200 or missing.status_int != 200:
            problems.append(f"{hidden_url}: {hidden.status_int} vs {missing_url}: {missing.status_int}")
            continue
        if hidden_id not in hidden.json["not_found"]:
            problems.append(f"{hidden_url}: {hidden_id} is not reported in not_found: {hidden.text}")
        if hidden.body.replace(hidden_id.encode(), missing_id.encode()) != missing.body:
            problems.append(f"{hidden_url}\n  {hidden.text}\n  differs from {missing_url}\n  {missing.text}")
    for template, hidden_value, missing_value in RELATED_PAIRS:
        hidden, missing = as_caller.get(template.format(hidden_value)), as_caller.get(template.format(missing_value))
        # The page's own links (the Link header, the body's `_links`) repeat the query the client sent.
        link = (hidden.headers.get("Link") or "").replace(hidden_value, missing_value)
        missing_link = missing.headers.get("Link") or ""
        body = hidden.body.replace(hidden_value.encode(), missing_value.encode())
        if (hidden.status_int, body, link) != (missing.status_int, missing.body, missing_link):
            problems.append(f"{template.format(hidden_value)}: {hidden.status_int} {hidden.text}\n"
                            f"  differs from {template.format(missing_value)}: {missing.status_int} {missing.text}")
        elif hidden.status_int != 200 or ("__in=" not in template and hidden.json["meta"]["total_count"] != 0):
            problems.append(f"{template.format(hidden_value)}: {hidden.status_int} {hidden.text}")
    assert not problems, f"as {caller}:\n" + "\n".join(problems)


@pytest.mark.parametrize("caller", CALLERS)
def test_jsonp_serves_only_the_anonymous_view(client, factory, caller):
    world = build_world(factory)
    as_caller, anonymous = caller_client(client, factory, world, caller), client.as_(None)
    for url in (f"{API}/organizations/open-acres/projects/open-p/parties/", f"{API}/users/",
                f"{API}/organizations/open-acres/projects/open-p/members/", f"{API}/projects/?depth=3",
                f"{API}/organizations/open-acres/projects/open-p/parties/set/{world.parties['Amara Okafor'].id}/",
                f"{API}/users/viewer/", f"{API}/account/"):
        url += ("&" if "?" in url else "?") + "format=jsonp&callback=cb"
        mine, theirs = as_caller.get(url), anonymous.get(url)
        assert (mine.status_int, mine.body) == (theirs.status_int, theirs.body), url
        assert mine.status_int < 500, url


@pytest.mark.parametrize("caller", CALLERS)
def test_undeclared_fields_and_relations_are_400(client, factory, caller):
    """`?user__password__startswith=a` and its kind: 400 naming the parameter, whatever the value, never 200."""
    world = build_world(factory)
    as_caller = caller_client(client, factory, world, caller)
    cases = [(collection, key, value) for collection, key in UNDECLARED for value in ("a", "$argon2", "")]
    if caller != "anonymous":
        cases += [(collection, key, "a") for collection, key in TOKEN_UNDECLARED]
    cases += UNDECLARED_SHAPE
    problems = []
    for collection, key, value in cases:
        url = f"{API}{collection}?{urlencode([(key, value)])}"
        response = as_caller.get(url)
        body = response.json if response.content_type == "application/json" else {}
        if response.status_int != 400 or body.get("error") != "Invalid data." or key not in body.get("errors", {}):
            problems.append(f"{url}: {response.status_int} {response.text[:300]}")
    assert not problems, f"as {caller}, undeclared filters not refused:\n" + "\n".join(problems)


MEMBERSHIP_FIELD_FILTERS = [
    # (caller, query on /users/, the usernames it must select): the fields of a membership listing (its
    # user's username and full name) must be matched against *that membership's* user, and only among the
    # memberships the caller may see — not against any row of the users table.
    ("alice", "memberships__username=bob", ["bob"]),
    ("alice", "memberships__username=carol", []),  # carol's only membership is in the private organization
    ("alice", "memberships__full_name__startswith=Bob", ["bob"]),
    ("alice", "project_memberships__username=dave", ["dave"]),
    ("alice", "project_memberships__username=carol", []),
    ("viewer", "project_memberships__username=bob", ["bob"]),
    ("viewer", "project_memberships__username=carol", []),  # all of carol's roles are hidden from the viewer
    ("viewer", "project_memberships__full_name__istartswith=carol", []),
    ("stranger", "memberships__username=alice", []),
]


def test_membership_fields_in_related_filters_match_that_membership(client, factory):
    """`/users/?memberships__username=x` follows the memberships relation: it selects the users with a
    visible membership whose user is x. The same filter spelled through the user relation is the oracle."""
    world = build_world(factory)
    problems = []
    for caller, query, expected in MEMBERSHIP_FIELD_FILTERS:
        response = client.as_(factory.key(world.users[caller])).get(f"{API}/users/?{query}")
        got = [obj["username"] for obj in response.json.get("objects", [])] if response.status_int == 200 else None
        spelled_through_user = query.replace("__username", "__user__username").replace("__full_name",
                                                                                       "__user__full_name")
        oracle = client.as_(factory.key(world.users[caller])).get(f"{API}/users/?{spelled_through_user}")
        oracle_got = [obj["username"] for obj in oracle.json.get("objects", [])]
        if got != expected or oracle_got != expected:
            problems.append(f"as {caller}: /users/?{query} -> {response.status_int} {got}, "
                            f"?{spelled_through_user} -> {oracle_got}; expected {expected}")
    assert not problems, "\n".join(problems)
