"""The query language of collections (SPEC §5) against a model of it in Python, on random worlds.

Hypothesis draws a small world — users (one maybe a superuser), organizations, projects and parties with
drawn names, slugs, descriptions, countries, types, access, archived flags and `created`/`last_updated`
timestamps (few distinct ones, so that ties are common), and dense organization and project memberships
— and a caller (anonymous or one of the users). Then it draws queries on the collections whose parent the
caller can see: filters on the declared fields with the declared operators (values taken from the world,
hidden entities included, changed in case, cut to substrings, timestamps written with other offsets, or
random), filters that follow the declared relations (`organization__slug`, `memberships__organization__…`,
`project_memberships__project__…`, `user__username`, up to three hops), `search`, `ordering` (several
fields, with `-`), `limit` (walking every page through `next`), `offset`, `depth`/`full`, `fields` and
`read_write` — and now and then a mistake (an undeclared field, operator or ordering, a malformed value).

Over HTTP as that caller:

1. every object listed is an entity of that collection whose own `resource_uri` answers 200 — no leak,
   whatever the query;
2. the union of all pages is exactly the set computed here in Python: the entities the caller may view
   (known by fetching each one's URL as that caller) that satisfy every filter and the search, with the
   operators' semantics written out below; a related filter matches only through targets whose own URL
   answers 200 to the caller;
3. `total_count` is that set's size on every page, pages don't overlap, a page at any `offset` is the
   matching slice, and the order is the requested one (declared default without `ordering`), ties broken
   by the row's id: the primary key (for parties, their public id; for the others the public `id` is a
   slug or username, the tie-breaker the row's integer key) in one direction throughout;
4. at `depth` > 0 a related entity is inlined exactly when its own URL answers 200, and then equals the
   representation at that URL (at the remaining depth); each listed object equals its own URL's
   representation at the same depth, restricted to `fields` (plus `id`, `resource_uri`) when asked;
5. `read_write=w` lists a subset of `read_write=r` — exactly the objects the caller may change, probed
   without changing anything: a PATCH with a stale `If-Match` answers 412 only past the permission check
   (403, or 401 to an anonymous caller, otherwise);
6. a query the declarations reject is a 400 naming the offending parameter, and a query they accept is
   never one.

Names, slugs, usernames and descriptions are drawn from lowercase ASCII letters and digits only (a tiny
alphabet, so that values collide and prefix one another): on such strings Python's `str.lower()` and
code-point order agree with SQLite's (binary collation, ASCII `lower()`) and PostgreSQL's (any collation:
digits sort before letters, no case or punctuation to weigh). Query *values* may still be upper-case,
to tell `exact`/`contains` from `iexact`/`icontains`.

As in test_visibility_property.py, each example opens its own connection and outer transaction, binds
the app's session factory to it, and rolls it back.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
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

UTC = datetime.UTC
BASE = datetime.datetime(2024, 1, 1, tzinfo=UTC)
ACCESS = ("public", "private")
ORG_ROLES = (None, "admin", "member")
PROJECT_ROLES = (None, "manager", "collector", "viewer")
PARTY_TYPES = ("IN", "GR", "CO")
COUNTRIES = ("", "KE", "UG")

# lowercase ASCII letters and digits only: see the module's docstring.
WORD = st.text(alphabet="ab1", min_size=1, max_size=3)
DESCRIPTION = st.just("") | st.text(alphabet="ab1", min_size=1, max_size=4)
# Archived organizations and projects hide what is under them from most callers: a third are.
ARCHIVED = st.sampled_from((False, False, True))
# Few distinct moments (ties are common), some a microsecond apart.
MOMENTS = st.builds(lambda hours, micro: BASE + datetime.timedelta(hours=hours, microseconds=micro),
                    st.integers(0, 3), st.sampled_from((0, 1, 500_000)))


# --- the declarations (SPEC §5: each collection declares its filtering, ordering, search) -------------


TEXT_OPS = ("exact", "iexact", "contains", "icontains", "startswith", "istartswith", "endswith", "in")
RANGE_OPS = ("exact", "gt", "gte", "lt", "lte", "in")
CHOICE_OPS = ("exact", "in")
BOOL_OPS = ("exact",)
ALL_OPS = tuple(dict.fromkeys(TEXT_OPS + RANGE_OPS + ("isnull",)))


@dataclass(frozen=True)
class FieldSpec:
    type: str  # text | choice | bool | datetime
    ops: tuple[str, ...]
    choices: tuple[str, ...] = ()


def text(ops=TEXT_OPS) -> FieldSpec:
    return FieldSpec("text", ops)


def choice(choices) -> FieldSpec:
    return FieldSpec("choice", CHOICE_OPS, tuple(choices))


BOOL = FieldSpec("bool", BOOL_OPS)
MOMENT = FieldSpec("datetime", RANGE_OPS)


@dataclass(frozen=True)
class Kind:
    fields: dict[str, FieldSpec]
    search: tuple[str, ...]
    ordering: tuple[str, ...]
    default_ordering: tuple[str, ...]
    output: tuple[str, ...]
    relations: dict[str, str] = field(default_factory=dict)  # filter relation -> target kind
    inlined: dict[str, str] = field(default_factory=dict)  # representation field inlined at depth > 0 -> kind


def _membership(parent: str, roles) -> Kind:
    return Kind(
        fields={"username": text(), "full_name": text(), "role": choice(roles), "created": MOMENT},
        search=("username", "full_name"),
        ordering=("username", "role", "created"),
        default_ordering=("username",),
        output=("id", "resource_uri", parent, "username", "full_name", "user", "role", "created", "last_updated",
                "version", "_links"),
        relations={"user": "user", parent: parent},
        inlined={parent: parent, "user": "user"},
    )


KINDS: dict[str, Kind] = {
    "user": Kind(
        fields={"username": text(), "full_name": text(), "is_superuser": BOOL, "created": MOMENT},
        search=("username", "full_name"),
        ordering=("username", "full_name", "created"),
        default_ordering=("username",),
        output=("id", "resource_uri", "username", "full_name", "is_superuser", "email", "created", "last_updated",
                "version", "_links"),
        relations={"memberships": "org_membership", "project_memberships": "project_membership"},
    ),
    "organization": Kind(
        fields={"name": text(), "slug": text(CHOICE_OPS), "access": choice(ACCESS), "archived": BOOL,
                "created": MOMENT, "last_updated": MOMENT},
        search=("name", "description"),
        ordering=("name", "slug", "created", "last_updated"),
        default_ordering=("name",),
        output=("id", "resource_uri", "name", "slug", "description", "urls", "contacts", "access", "archived",
                "created", "last_updated", "version", "_links"),
    ),
    "project": Kind(
        fields={"name": text(), "slug": text(CHOICE_OPS), "country": text(CHOICE_OPS), "access": choice(ACCESS),
                "archived": BOOL, "created": MOMENT, "last_updated": MOMENT},
        search=("name", "description"),
        ordering=("name", "slug", "country", "created", "last_updated"),
        default_ordering=("name",),
        output=("id", "resource_uri", "organization", "name", "slug", "description", "country", "urls", "contacts",
                "access", "archived", "created", "last_updated", "version", "_links"),
        relations={"organization": "organization"},
        inlined={"organization": "organization"},
    ),
    "party": Kind(
        fields={"name": text(), "type": choice(PARTY_TYPES), "country": text(CHOICE_OPS), "archived": BOOL,
                "created": MOMENT, "last_updated": MOMENT},
        search=("name",),
        ordering=("name", "type", "created", "last_updated"),
        default_ordering=("name",),
        output=("id", "resource_uri", "project", "name", "type", "type_display", "description", "country",
                "contacts", "attributes", "archived", "created", "last_updated", "version", "_links"),
        inlined={"project": "project"},
    ),
    "org_membership": _membership("organization", ORG_ROLES[1:]),
    "project_membership": _membership("project", PROJECT_ROLES[1:]),
}

# Names a filter or an ordering may try that no collection declares (some are columns, never output).
UNDECLARED = ("description", "email", "password_hash", "party_count", "version", "id", "user_id", "urls")


# --- the world ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserSpec:
    username: str
    full_name: str
    created: datetime.datetime


@dataclass(frozen=True)
class PartySpec:
    name: str
    type: str
    country: str
    archived: bool
    created: datetime.datetime
    last_updated: datetime.datetime


@dataclass(frozen=True)
class ProjectSpec:
    slug: str
    name: str
    description: str
    country: str
    access: str
    archived: bool
    created: datetime.datetime
    last_updated: datetime.datetime
    parties: tuple[PartySpec, ...]


@dataclass(frozen=True)
class OrgSpec:
    slug: str
    name: str
    description: str
    access: str
    archived: bool
    created: datetime.datetime
    last_updated: datetime.datetime
    projects: tuple[ProjectSpec, ...]


@dataclass(frozen=True)
class World:
    users: tuple[UserSpec, ...]
    superuser: int | None
    orgs: tuple[OrgSpec, ...]
    org_roles: tuple[tuple[int, int, str, datetime.datetime], ...]  # (user, org, role, created)
    project_roles: tuple[tuple[int, int, int, str, datetime.datetime], ...]  # (user, org, project, role, created)
    caller: int | None  # a user index, or None for anonymous

    def describe(self) -> str:
        def when(moment):
            return (moment - BASE).total_seconds()

        lines = [f"caller: {'anonymous' if self.caller is None else self.users[self.caller].username}"]
        for u, user in enumerate(self.users):
            flag = " superuser" if u == self.superuser else ""
            lines.append(f"user {user.username!r} full_name={user.full_name!r} created=+{when(user.created)}s{flag}")
        for org in self.orgs:
            lines.append(f"org {org.slug!r} name={org.name!r} description={org.description!r} {org.access}"
                         f"{' archived' if org.archived else ''} created=+{when(org.created)}s "
                         f"last_updated=+{when(org.last_updated)}s")
            for prj in org.projects:
                lines.append(f"  project {org.slug}/{prj.slug} name={prj.name!r} description={prj.description!r} "
                             f"country={prj.country!r} {prj.access}{' archived' if prj.archived else ''} "
                             f"created=+{when(prj.created)}s last_updated=+{when(prj.last_updated)}s")
                for party in prj.parties:
                    lines.append(f"    party name={party.name!r} {party.type} country={party.country!r}"
                                 f"{' archived' if party.archived else ''} created=+{when(party.created)}s "
                                 f"last_updated=+{when(party.last_updated)}s")
        for u, o, role, created in self.org_roles:
            lines.append(f"{self.users[u].username!r} is {role} of {self.orgs[o].slug!r} (+{when(created)}s)")
        for u, o, p, role, created in self.project_roles:
            org = self.orgs[o]
            lines.append(f"{self.users[u].username!r} is {role} of {org.slug}/{org.projects[p].slug} "
                         f"(+{when(created)}s)")
        return "\n".join(lines)


@st.composite
def worlds(draw) -> World:
    usernames = draw(st.lists(WORD, min_size=1, max_size=3, unique=True))
    users = tuple(UserSpec(name, draw(st.just("") | WORD), draw(MOMENTS)) for name in usernames)
    superuser = draw(st.none() | st.integers(0, len(users) - 1))
    caller = draw(st.sampled_from((None, *range(len(users)))))
    party = st.builds(PartySpec, WORD, st.sampled_from(PARTY_TYPES), st.sampled_from(COUNTRIES), st.booleans(),
                      MOMENTS, MOMENTS)
    slugs = draw(st.lists(WORD, min_size=1, max_size=3, unique=True))
    names = draw(st.lists(WORD, min_size=len(slugs), max_size=len(slugs), unique=True))
    orgs = []
    for slug, name in zip(slugs, names, strict=True):
        projects = tuple(
            ProjectSpec(project_slug, draw(WORD), draw(DESCRIPTION), draw(st.sampled_from(COUNTRIES)),
                        draw(st.sampled_from(ACCESS)), draw(ARCHIVED), draw(MOMENTS), draw(MOMENTS),
                        tuple(draw(st.lists(party, max_size=3))))
            for project_slug in draw(st.lists(WORD, max_size=2, unique=True))
        )
        orgs.append(OrgSpec(slug, name, draw(DESCRIPTION), draw(st.sampled_from(ACCESS)), draw(ARCHIVED),
                            draw(MOMENTS), draw(MOMENTS), projects))
    org_roles, project_roles = [], []
    for u in range(len(users)):
        for o, org in enumerate(orgs):
            role = draw(st.sampled_from(ORG_ROLES))
            if role is not None:
                org_roles.append((u, o, role, draw(MOMENTS)))
            for p in range(len(org.projects)):
                role = draw(st.sampled_from(PROJECT_ROLES))
                if role is not None:
                    project_roles.append((u, o, p, role, draw(MOMENTS)))
    return World(users, superuser, tuple(orgs), tuple(org_roles), tuple(project_roles), caller)


@dataclass(eq=False)
class Rec:
    """One entity as the model sees it: its URL, the values of its declared fields (and of its search
    fields), its tie-breaker, and the entities each filter relation leads to."""

    kind: str
    url: str
    values: dict
    tiebreak: int | str
    relations: dict[str, list[Rec]] = field(default_factory=dict)

    def __repr__(self):  # relations are cyclic and long; the URL says which entity it is
        return f"<{self.kind} {self.url}>"


@dataclass
class Coll:
    url: str
    parent: str | None
    kind: str
    recs: list[Rec]

    def __repr__(self):
        return f"<{self.kind} collection {self.url}>"


@dataclass
class Model:
    key: str | None
    recs: list[Rec]
    collections: list[Coll]

    def values(self, kind: str, name: str) -> list:
        found = {rec.values[name] for rec in self.recs if rec.kind == kind}
        return sorted(found, key=repr)


def build(session: Session, world: World) -> Model:
    users = [User(username=u.username, full_name=u.full_name, password_hash=PASSWORD_HASH,
                  is_superuser=(i == world.superuser), created=u.created, last_updated=u.created)
             for i, u in enumerate(world.users)]
    session.add_all(users)
    orgs = [Organization(slug=o.slug, name=o.name, description=o.description, access=o.access, archived=o.archived,
                         created=o.created, last_updated=o.last_updated) for o in world.orgs]
    session.add_all(orgs)
    session.flush()
    projects, parties = {}, {}
    for o, spec in enumerate(world.orgs):
        for p, ps in enumerate(spec.projects):
            projects[o, p] = Project(organization_id=orgs[o].id, slug=ps.slug, name=ps.name,
                                     description=ps.description, country=ps.country, access=ps.access,
                                     archived=ps.archived, created=ps.created, last_updated=ps.last_updated)
    session.add_all(projects.values())
    session.flush()
    for (o, p), project in projects.items():
        parties[o, p] = [Party(project_id=project.id, name=s.name, type=s.type, country=s.country,
                               archived=s.archived, created=s.created, last_updated=s.last_updated)
                         for s in world.orgs[o].projects[p].parties]
        session.add_all(parties[o, p])
    session.add_all(OrganizationMember(organization_id=orgs[o].id, user_id=users[u].id, role=r, created=c,
                                       last_updated=c) for u, o, r, c in world.org_roles)
    session.add_all(ProjectMember(project_id=projects[o, p].id, user_id=users[u].id, role=r, created=c,
                                  last_updated=c) for u, o, p, r, c in world.project_roles)
    session.flush()
    key = None
    if world.caller is not None:
        _, key = new_token(session, users[world.caller], name="query-property")
    session.commit()

    user_recs = [Rec("user", f"{API}/users/{quote(row.username)}/",
                     {"username": row.username, "full_name": row.full_name, "is_superuser": row.is_superuser,
                      "created": spec.created}, row.id, {"memberships": [], "project_memberships": []})
                 for row, spec in zip(users, world.users, strict=True)]
    org_recs = [Rec("organization", f"{API}/organizations/{row.slug}/",
                    {"name": s.name, "slug": s.slug, "description": s.description, "access": s.access,
                     "archived": s.archived, "created": s.created, "last_updated": s.last_updated}, row.id)
                for row, s in zip(orgs, world.orgs, strict=True)]
    project_recs = {}
    for (o, p), row in projects.items():
        s = world.orgs[o].projects[p]
        project_recs[o, p] = Rec(
            "project", f"{org_recs[o].url}projects/{s.slug}/",
            {"name": s.name, "slug": s.slug, "description": s.description, "country": s.country, "access": s.access,
             "archived": s.archived, "created": s.created, "last_updated": s.last_updated},
            row.id, {"organization": [org_recs[o]]})
    party_recs = {
        op: [Rec("party", f"{project_recs[op].url}parties/{row.id}/",
                 {"name": s.name, "type": s.type, "country": s.country, "archived": s.archived,
                  "created": s.created, "last_updated": s.last_updated}, row.id)
             for row, s in zip(rows, world.orgs[op[0]].projects[op[1]].parties, strict=True)]
        for op, rows in parties.items()
    }

    def membership(kind, parent_name, parent, u, role, created):
        user = user_recs[u]
        return Rec(kind, f"{parent.url}members/{quote(user.values['username'])}/",
                   {"username": user.values["username"], "full_name": user.values["full_name"], "role": role,
                    "created": created}, users[u].id, {"user": [user], parent_name: [parent]})

    org_members = {o: [] for o in range(len(orgs))}
    for u, o, role, created in world.org_roles:
        rec = membership("org_membership", "organization", org_recs[o], u, role, created)
        org_members[o].append(rec)
        user_recs[u].relations["memberships"].append(rec)
    project_members = {op: [] for op in projects}
    for u, o, p, role, created in world.project_roles:
        rec = membership("project_membership", "project", project_recs[o, p], u, role, created)
        project_members[o, p].append(rec)
        user_recs[u].relations["project_memberships"].append(rec)

    collections = [
        Coll(f"{API}/users/", None, "user", user_recs),
        Coll(f"{API}/organizations/", None, "organization", org_recs),
        Coll(f"{API}/projects/", None, "project", list(project_recs.values())),
    ]
    for o, org in enumerate(org_recs):
        collections.append(Coll(f"{org.url}projects/", org.url, "project",
                                [rec for (oo, _), rec in project_recs.items() if oo == o]))
        collections.append(Coll(f"{org.url}members/", org.url, "org_membership", org_members[o]))
    for op, project in project_recs.items():
        collections.append(Coll(f"{project.url}parties/", project.url, "party", party_recs[op]))
        collections.append(Coll(f"{project.url}members/", project.url, "project_membership", project_members[op]))
    recs = [rec for coll in collections for rec in coll.recs]
    return Model(key, list({id(rec): rec for rec in recs}.values()), collections)


@contextmanager
def world_in_database(engine, wsgi_app, world: World):
    """Build the world in an outer transaction that is rolled back afterwards, whatever happens."""
    with rolled_back_session(engine, wsgi_app) as session:
        built = build(session, world)
        session.close()  # the checks go through the app only
        yield built


# --- queries -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filter:
    relations: tuple[str, ...]
    field: str
    op: str | None  # None: the bare `field=value`
    values: tuple[str, ...]  # more than one: the parameter repeated

    @property
    def key(self) -> str:
        return "__".join(self.relations + (self.field,) + ((self.op,) if self.op else ()))


@dataclass(frozen=True)
class Query:
    """Raw parameter values (None: not sent), so that malformed ones can be drawn too."""

    filters: tuple[Filter, ...] = ()
    search: str | None = None
    ordering: str | None = None
    limit: str | None = None
    offset: int = 0  # of one extra page, checked against the walk
    depth: str | None = None
    full: bool = False
    fields: str | None = None
    read_write: str | None = None

    def params(self, read_write: str | None = "same") -> list[tuple[str, str]]:
        params = [(f.key, value) for f in self.filters for value in f.values]
        read_write = self.read_write if read_write == "same" else read_write
        for name, value in (("search", self.search), ("ordering", self.ordering), ("depth", self.depth),
                            ("full", "true" if self.full else None), ("fields", self.fields),
                            ("read_write", read_write)):
            if value is not None:
                params.append((name, value))
        return params

    def shape(self) -> list[tuple[str, str]]:
        """The parameters that shape each object, also valid on its own URL."""
        return [(k, v) for k, v in self.params() if k in ("depth", "full")]


def one_in(draw, n: int) -> bool:
    """True once in `n` draws (the last choice, so that shrinking goes to the common case)."""
    return draw(st.sampled_from(range(n))) == n - 1


def swap_case(draw, value: str) -> str:
    how = draw(st.sampled_from(("same", "same", "upper", "swap")))
    return {"same": value, "upper": value.upper(), "swap": value.swapcase()}[how]


# Random query text: upper-case letters, LIKE's wildcards and escape character, commas, spaces.
RANDOM_TEXT = st.text(alphabet="ab1AB%_\\, ", max_size=4)


def text_value(draw, actual: list, op: str) -> str:
    if actual and not one_in(draw, 5):
        value = draw(st.sampled_from(actual))
        if op in ("contains", "icontains", "startswith", "istartswith", "endswith"):
            i = draw(st.integers(0, len(value)))
            j = draw(st.integers(i, len(value)))
            value = {"startswith": value[:j], "istartswith": value[:j], "endswith": value[i:]}.get(op, value[i:j])
        return swap_case(draw, value)
    return draw(RANDOM_TEXT)


def moment_text(draw, moments: list) -> str:
    if one_in(draw, 20):
        return draw(st.sampled_from(("", "yesterday", "2024-13-01", "2024-01-01T25:00", "1704067200")))
    if moments and not one_in(draw, 4):
        moment = draw(st.sampled_from(moments))
    else:
        moment = draw(MOMENTS)
    moment += datetime.timedelta(microseconds=draw(st.sampled_from((0, 0, 0, 1, -1))))
    form = draw(st.sampled_from(("Z", "Z", "+00:00", "naive", "space", "date", "+02:00", "-05:30")))
    if form == "date":
        return moment.date().isoformat()
    if form in ("+02:00", "-05:30"):
        hours, minutes = int(form[:3]), int(form[0] + form[4:])
        return moment.astimezone(datetime.timezone(datetime.timedelta(hours=hours, minutes=minutes))).isoformat()
    naive = moment.replace(tzinfo=None).isoformat(sep=" " if form == "space" else "T")
    return naive + {"Z": "Z", "+00:00": "+00:00"}.get(form, "")


def one_value(draw, spec: FieldSpec, actual: list, op: str) -> str:
    if op == "isnull":
        return draw(st.sampled_from(("true", "false")))
    mistake = one_in(draw, 20)
    if spec.type == "bool":
        return draw(st.sampled_from(("yes", "") if mistake else ("true", "false", "1", "0", "True", "FALSE")))
    if spec.type == "choice":  # choices are case-sensitive: `in` is not a party type, `IN` is
        return draw(RANDOM_TEXT if mistake else st.sampled_from(spec.choices + tuple(c.lower() for c in spec.choices)))
    if spec.type == "datetime":
        return moment_text(draw, actual)
    return text_value(draw, [str(v) for v in actual], op)


@st.composite
def filters(draw, model: Model, kind: str) -> Filter:
    relations = []
    # Relations are the point of the users' and members' filters; a third of the projects' filters follow one.
    hop = not one_in(draw, 3) if kind in ("user", "org_membership", "project_membership") else one_in(draw, 3)
    while KINDS[kind].relations and hop and len(relations) < 3:
        name = draw(st.sampled_from(sorted(KINDS[kind].relations)))
        relations.append(name)
        kind = KINDS[kind].relations[name]
        hop = one_in(draw, 3)
    declared = KINDS[kind].fields
    if one_in(draw, 25):
        name = draw(st.sampled_from([n for n in UNDECLARED if n not in declared]))
        spec = FieldSpec("text", TEXT_OPS)
    else:
        name = draw(st.sampled_from(sorted(declared)))
        spec = declared[name]
    if one_in(draw, 25):
        op = draw(st.sampled_from([o for o in ALL_OPS if o not in spec.ops] or ["isnull"]))
    else:
        op = draw(st.sampled_from((None,) + spec.ops))
    actual = model.values(kind, name) if name in declared else []
    if op != "in":
        return Filter(tuple(relations), name, op, (one_value(draw, spec, actual, op or "exact"),))
    items = [one_value(draw, spec, actual, "exact") for _ in range(draw(st.integers(1, 3)))]
    if one_in(draw, 10):
        items.append("")  # an empty item (`a,,b`) is dropped
    # Repeated parameters, comma lists, or both.
    values = [items[0]]
    for item in items[1:]:
        if draw(st.booleans()):
            values.append(item)
        else:
            values[-1] = f"{values[-1]},{item}"
    return Filter(tuple(relations), name, "in", tuple(values))


@st.composite
def queries(draw, model: Model, kind: str) -> Query:
    declared = KINDS[kind]
    chosen = draw(st.lists(filters(model, kind), max_size=3, unique_by=lambda f: f.key))
    if chosen and chosen[0].op != "in" and one_in(draw, 25):
        # A parameter given twice, other than `__in`, is a mistake.
        chosen[0] = Filter(chosen[0].relations, chosen[0].field, chosen[0].op, chosen[0].values * 2)
    search = None
    if one_in(draw, 3):
        words = [v for name in declared.search for v in model.values(kind, name) if v]
        if words and draw(st.booleans()):
            word = draw(st.sampled_from(words))
            i = draw(st.integers(0, len(word)))
            search = swap_case(draw, word[i:draw(st.integers(i, len(word)))])
        else:
            search = draw(RANDOM_TEXT)
    ordering = None
    if not one_in(draw, 4):
        names = draw(st.lists(st.sampled_from(declared.ordering), min_size=1, max_size=3, unique=True))
        names = [draw(st.sampled_from(("", "-"))) + name for name in names]
        if one_in(draw, 15):
            names.append(draw(st.sampled_from(UNDECLARED + ("-" + names[0].lstrip("-"),))))
        ordering = ",".join(names)
    limit = draw(st.sampled_from(("-1", "1001", "x")) if one_in(draw, 20) else
                 st.sampled_from((None, "0", "1", "2", "3", "5", "1000")))
    depth = draw(st.sampled_from(("4", "-1", "x")) if one_in(draw, 20) else st.sampled_from((None, "0", "1", "2", "3")))
    full = depth is None and one_in(draw, 5)
    fields = None
    if one_in(draw, 4):
        names = draw(st.lists(st.sampled_from(declared.output), min_size=1, max_size=4, unique=True))
        if one_in(draw, 10):
            names.append(draw(st.sampled_from(("password_hash", "party_count", "nope"))))
        fields = ",".join(names)
    read_write = draw(st.sampled_from(("rw", "W", "")) if one_in(draw, 20) else st.sampled_from((None, "r", "w", "w")))
    return Query(tuple(chosen), search, ordering, limit, draw(st.integers(0, 8)), depth, full, fields, read_write)


# --- the model of the query language (SPEC §5), written out independently of hyperapi.collections -----


class Invalid(Exception):
    """The query is one the declarations reject: the app must answer 400 naming `args[0]`."""


def parse_value(spec: FieldSpec, raw: str):
    if spec.type == "choice" and raw not in spec.choices:
        raise ValueError(raw)
    if spec.type == "bool":
        return {"true": True, "1": True, "false": False, "0": False}[raw.lower()]
    if spec.type == "datetime":
        moment = datetime.datetime.fromisoformat(raw)  # ISO 8601; without an offset, UTC
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return raw


def operator(spec: FieldSpec, op: str, values: tuple[str, ...]) -> Callable[[object], bool]:
    if op == "isnull":
        flag = parse_value(BOOL, values[-1])
        return lambda v: (v is None) == flag
    if op == "in":
        items = [parse_value(spec, item) for value in values for item in value.split(",") if item != ""]
        if not items:
            raise ValueError("no items")
        return lambda v: v in items
    q = parse_value(spec, values[-1])
    return {
        "exact": lambda v: v == q,
        "iexact": lambda v: v.lower() == q.lower(),
        "contains": lambda v: q in v,
        "icontains": lambda v: q.lower() in v.lower(),
        "startswith": lambda v: v.startswith(q),
        "istartswith": lambda v: v.lower().startswith(q.lower()),
        "endswith": lambda v: v.endswith(q),
        "gt": lambda v: v > q,
        "gte": lambda v: v >= q,
        "lt": lambda v: v < q,
        "lte": lambda v: v <= q,
    }[op]


def compile_filter(kind: str, f: Filter) -> Callable[[Caller, Rec], bool]:
    target = kind
    for name in f.relations:
        if name not in KINDS[target].relations:
            raise Invalid(f.key)
        target = KINDS[target].relations[name]
    spec = KINDS[target].fields.get(f.field)
    op = f.op or "exact"
    if spec is None or op not in spec.ops or (op != "in" and len(f.values) > 1):
        raise Invalid(f.key)
    try:
        test = operator(spec, op, f.values)
    except (ValueError, KeyError):
        raise Invalid(f.key) from None

    def matches(caller: Caller, rec: Rec, relations=f.relations) -> bool:
        if not relations:
            return test(rec.values[f.field])
        # A relation leads only to targets the caller may view.
        return any(caller.visible(t.url) and matches(caller, t, relations[1:]) for t in rec.relations[relations[0]])

    return matches


@dataclass
class Plan:
    """What the model expects of a valid query."""

    predicates: list[Callable[[Caller, Rec], bool]]
    order: list[tuple[str, bool]]  # (field, descending)
    limit: int
    depth: int
    fields: frozenset | None
    writable: bool


def plan(kind: str, query: Query) -> Plan:
    """The model's reading of a query, or Invalid naming a parameter the declarations reject."""
    declared = KINDS[kind]
    predicates = [compile_filter(kind, f) for f in query.filters]
    if query.search is not None and query.search.strip():
        term = query.search.strip().lower()
        predicates.append(lambda caller, rec: any(term in rec.values[name].lower() for name in declared.search))
    order, seen = [], set()
    names = [n.strip() for n in query.ordering.split(",")] if query.ordering else list(declared.default_ordering)
    for name in names:
        bare = name.removeprefix("-")
        if bare not in declared.ordering or bare in seen:
            raise Invalid("ordering")
        seen.add(bare)
        order.append((bare, name.startswith("-")))
    limit = 20
    if query.limit is not None:
        if not query.limit.isdigit() or int(query.limit) > 1000:
            raise Invalid("limit")
        limit = int(query.limit) or 1000
    depth = 1 if query.full else 0
    if query.depth is not None:
        if query.depth not in ("0", "1", "2", "3"):
            raise Invalid("depth")
        depth = int(query.depth)
    fields = None
    if query.fields is not None:
        fields = frozenset(n.strip() for n in query.fields.split(",") if n.strip())
        if not fields <= set(declared.output):
            raise Invalid("fields")
    if query.read_write not in (None, "r", "w"):
        raise Invalid("read_write")
    return Plan(predicates, order, limit, depth, fields, query.read_write == "w")


def sort(recs: list[Rec], order: list[tuple[str, bool]], tiebreak_descending: bool) -> list[Rec]:
    def compare(a: Rec, b: Rec) -> int:
        for name, descending in order:
            x, y = a.values[name], b.values[name]
            if x != y:
                return (1 if x > y else -1) * (-1 if descending else 1)
        x, y = a.tiebreak, b.tiebreak
        return (x > y) - (x < y) if not tiebreak_descending else (x < y) - (x > y)

    return sorted(recs, key=functools.cmp_to_key(compare))


# --- asking the app ----------------------------------------------------------------------------------


class Caller:
    """Requests as the world's caller; each detail URL is asked once."""

    def __init__(self, wsgi_app, key: str | None, world: World):
        self.client = Client(TestApp(wsgi_app)).as_(key)
        self.world = world
        self.statuses: dict[str, int] = {}
        self.details: dict[tuple, dict] = {}
        self.writable: dict[str, bool] = {}
        self.context = ""

    def fail(self, message: str) -> str:
        return f"{message}\n{self.context}\n--- world ---\n{self.world.describe()}"

    def status(self, url: str) -> int:
        if url not in self.statuses:
            self.statuses[url] = self.client.get(url).status_int
        return self.statuses[url]

    def visible(self, url: str) -> bool:
        status = self.status(url)
        assert status in (200, 404), self.fail(f"GET {url} answered {status}")
        return status == 200

    def detail(self, url: str, params: tuple) -> dict:
        if (url, params) not in self.details:
            full = f"{url}?{urlencode(params)}" if params else url
            response = self.client.get(full)
            assert response.status_int == 200, self.fail(f"GET {full} answered {response.status_int}")
            self.details[url, params] = response.json
        return self.details[url, params]

    def may_change(self, url: str) -> bool:
        """A PATCH with a stale If-Match: 412 past the permission check, 403 (401 if anonymous) before it.
        Changes nothing."""
        if url not in self.writable:
            response = self.client.request("PATCH", url, json={}, headers={"If-Match": '"-1"'})
            assert response.status_int in (401, 403, 412), self.fail(
                f"PATCH {url} with a stale If-Match answered {response.status_int} {response.body[:200]!r}")
            self.writable[url] = response.status_int == 412
        return self.writable[url]

    def walk(self, url: str, params: list[tuple[str, str]], limit: int) -> tuple[list[dict], list[dict]]:
        """Every object of every page, following `next`; and the pages' `meta`."""
        objects, metas = [], []
        page = f"{url}?{urlencode(params)}" if params else url
        while page is not None:
            response = self.client.get(page)
            assert response.status_int == 200, self.fail(f"GET {page} answered {response.status_int}: "
                                                         f"{response.body[:300]!r}")
            body = response.json
            meta = body["meta"]
            assert meta["limit"] == limit and meta["offset"] == len(objects), self.fail(
                f"page {page} has meta {meta}; expected limit {limit}, offset {len(objects)}")
            assert len(body["objects"]) <= limit, self.fail(f"page {page} has more than {limit} objects")
            assert body["objects"] or meta["next"] is None, self.fail(f"empty page {page} has a next page")
            objects += body["objects"]
            metas.append(meta)
            page = meta["next"]
            assert len(metas) <= 60, self.fail(f"pagination of {url} does not end")
        return objects, metas


# --- the properties ----------------------------------------------------------------------------------


def check_inlined(caller: Caller, obj: dict, kind: str, depth: int) -> None:
    """(4) A related entity is inlined (at depth > 0) exactly when its URL answers 200, and then equals it."""
    for name, target in KINDS[kind].inlined.items():
        if name not in obj:
            continue
        value = obj[name]
        uri = value.get("resource_uri") if isinstance(value, dict) else value
        assert isinstance(uri, str), caller.fail(f"{obj['resource_uri']}: {name} is {value!r}")
        if depth > 0 and caller.visible(uri):
            assert isinstance(value, dict), caller.fail(
                f"{obj['resource_uri']} at depth {depth}: {name} is {value!r}, not inlined, but its URL answers 200")
            own = caller.detail(uri, (("depth", str(depth - 1)),))
            assert value == own, caller.fail(
                f"{obj['resource_uri']} at depth {depth} inlines {name}\n{value}\nbut {uri}?depth={depth - 1} is\n"
                f"{own}")
            check_inlined(caller, value, target, depth - 1)
        else:
            assert value == uri, caller.fail(
                f"{obj['resource_uri']} at depth {depth}: {name} is inlined as {value!r}, but "
                + ("depth is 0" if depth == 0 else f"{uri} answers {caller.status(uri)}"))


def check_query(caller: Caller, coll: Coll, query: Query) -> None:
    params = query.params()
    paging = [("limit", query.limit)] if query.limit is not None else []
    url = f"{coll.url}?{urlencode(params + paging)}" if params + paging else coll.url
    caller.context = f"collection: {coll.url}\nquery: {params}\nURL: {url}"
    try:
        expected_plan = plan(coll.kind, query)
    except Invalid as exc:
        event(f"query rejected ({exc.args[0].split('__')[-1]})")
        response = caller.client.get(url)
        # (6) rejected by the declarations: a 400 naming the parameter.
        assert response.status_int == 400, caller.fail(
            f"the declarations reject {exc.args[0]!r}, the app answered {response.status_int}")
        assert exc.args[0] in response.json.get("errors", {}), caller.fail(
            f"400 without naming {exc.args[0]!r}: {response.json}")
        return

    event(f"query on {coll.kind}" + (" following a relation" if any(f.relations for f in query.filters) else ""))
    limit, depth = expected_plan.limit, expected_plan.depth
    objects, metas = caller.walk(coll.url, params + paging, limit)
    listed = [obj["resource_uri"] for obj in objects]

    # (1) No leak: every object is an entity of this collection whose own URL answers 200.
    members = {rec.url: rec for rec in coll.recs}
    for uri in listed:
        assert uri in members and caller.visible(uri), caller.fail(
            f"listed {uri}, which " + ("is not in this collection" if uri not in members
                                        else f"answers {caller.status(uri)} to the same caller"))

    # (2) The union of the pages is the set computed from the world.
    visible = [rec for rec in coll.recs if caller.visible(rec.url)]
    matching = [rec for rec in visible if all(p(caller, rec) for p in expected_plan.predicates)]
    if expected_plan.writable:
        matching = [rec for rec in matching if caller.may_change(rec.url)]
    expected = {rec.url for rec in matching}
    assert len(listed) == len(set(listed)), caller.fail(f"pages overlap: {listed}")  # (3)
    assert set(listed) == expected, caller.fail(
        f"listed but not expected: {sorted(set(listed) - expected)}\n"
        f"expected but not listed: {sorted(expected - set(listed))}")

    # (3) total_count, order (ties broken by the row's id, in one direction), and any page is a slice.
    totals = {meta["total_count"] for meta in metas}
    assert totals == {len(expected)}, caller.fail(f"total_count {sorted(totals)}, but {len(expected)} objects")
    orders = [[rec.url for rec in sort(matching, expected_plan.order, descending)] for descending in (False, True)]
    assert listed in orders, caller.fail(
        f"order {expected_plan.order}: listed {listed}\nexpected {orders[0]}\nor (ties the other way) {orders[1]}")
    page_params = params + [("limit", str(limit)), ("offset", str(query.offset))]
    response = caller.client.get(f"{coll.url}?{urlencode(page_params)}")
    assert response.status_int == 200, caller.fail(f"the page at offset {query.offset} answered {response.status_int}")
    page = [obj["resource_uri"] for obj in response.json["objects"]]
    assert page == listed[query.offset:query.offset + limit], caller.fail(
        f"the page at offset {query.offset} is {page}, the walk gave {listed}")

    # (4) Each object is its own URL's representation at the same depth (restricted to `fields`).
    shape = tuple(query.shape())
    keep = None if expected_plan.fields is None else expected_plan.fields | {"id", "resource_uri"}
    for obj in objects:
        own = caller.detail(obj["resource_uri"], shape)
        if keep is not None:
            own = {k: v for k, v in own.items() if k in keep}
        assert obj == own, caller.fail(f"listed\n{obj}\nbut its own URL (with {list(shape)}) answers\n{own}")
        check_inlined(caller, obj, coll.kind, depth)

    # (5) read_write=w lists a subset of read_write=r.
    if expected_plan.writable:
        readable, _ = caller.walk(coll.url, query.params(read_write="r") + [("limit", "0")], 1000)
        extra = set(listed) - {obj["resource_uri"] for obj in readable}
        assert not extra, caller.fail(f"read_write=w lists what read_write=r does not: {sorted(extra)}")


# No `explain` phase: on a failure it re-runs the test hundreds of times to annotate the example.
PHASES = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink)


@settings(max_examples=examples(200), deadline=None, phases=PHASES,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(world=worlds(), data=st.data())
def test_queries_answer_what_the_world_says(engine, wsgi_app, world, data):
    with world_in_database(engine, wsgi_app, world) as model:
        caller = Caller(wsgi_app, model.key, world)
        # Each kind of collection equally likely (users, organizations, all projects, an organization's
        # projects, its members, a project's members, its parties), under a parent the caller can see.
        groups: dict[tuple, list[Coll]] = {}
        for coll in model.collections:
            groups.setdefault((coll.kind, coll.parent is None), []).append(coll)
        for _ in range(data.draw(st.integers(1, 4), label="queries")):
            group = groups[data.draw(st.sampled_from(sorted(groups)), label="kind of collection")]
            group = [c for c in group if c.parent is None or caller.visible(c.parent)] or model.collections[:1]
            coll = data.draw(st.sampled_from(group), label="collection")
            query = data.draw(queries(model, coll.kind), label=f"query on {coll.url}")
            check_query(caller, coll, query)
