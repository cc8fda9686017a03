"""Fuzzing every endpoint, every method, as every role (SPEC §3, §4, §5).

Hypothesis draws whole requests — a path (every collection and item of a fixed world, entities put
under the wrong parent, `set/` selections, random segments, `..`, `%2F`, `%00`, very long ids, unicode),
a query string (known parameters, random keys and `__` paths, repeated keys, unicode, values of
several kilobytes, entity keys and names), headers (`Accept`, `Content-Type`, `If-Match`,
`If-None-Match`, garbage `Authorization`), a body (random JSON of random shapes, urlencoded and multipart
forms, truncated or garbled bytes, random binary, under matching or random content types) and a caller
(anonymous, a stranger, org member and admin, project viewer, collector and manager, superuser; by
header, by `?username=&api_key=`, or with garbage credentials) — and sends it through the real WSGI app.

Four tests share the work: `test_reads` (GET, HEAD, OPTIONS, odd methods), `test_writes` (POST, PUT,
PATCH, DELETE anywhere, as anyone), `test_bodies` (writes by callers who may write, on what they may
write, so that bodies reach parsing and validation), `test_lists` (filters, relations, search,
ordering and inlining that name hidden entities). Properties, for every request:

- never a 5xx, never an exception out of the app, never a traceback;
- every error (4xx) body is a JSON object with an `"error"` string; every JSON body parses as strict
  JSON (no `NaN`); garbage credentials are a 401 on every request (SPEC §4);
- hidden is missing: when the request names an entity the caller may not see (in its path or its query
  string; or puts an entity under a parent it does not belong to), the same request with that
  entity's key replaced by a key that never existed (same shape, same length) answers the same status
  and the same body (any echo of the key itself aside);
- nothing leaks: the marker strings that name hidden entities (slugs, names, ids, token names, full
  names) never appear in a response to a caller who may not see them, unless the caller sent them;
- a refused write (any 4xx) writes nothing: the database's fingerprint is unchanged.

The world (below, `ORGS`…) is built once for the module, in an outer transaction rolled back at the
end; each request runs in a savepoint of it that is rolled back, so writes never pile up. Who may see
what is written out by hand from SPEC §3, independently of `hyperapi.authz` — resources included:
one attached to a private party and a public project is seen by the union of both audiences, and
must never show the party to anyone else.

What the fuzzer found is kept as plain tests at the end of this file (`test_found_by_fuzzing`), one per
input, so that each bug is reported by name (hypothesis reports only the first failure of each kind).
`pytest --hypothesis-show-statistics tests/functional/test_fuzz.py` shows which statuses the examples reached.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from urllib.parse import quote, unquote_to_bytes

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, event, given, note, settings
from hypothesis import strategies as st
from hypothesis.control import current_build_context
from hypothesis.errors import InvalidArgument
from sqlalchemy.orm import Session
from webtest import TestApp

from hyperapi.auth.ratelimit import REGISTRY_KEY, make_limiter
from hyperapi.models import (
    Organization,
    OrganizationMember,
    Party,
    Project,
    ProjectMember,
    Resource,
    ResourceAttachment,
    ResourceFile,
    Token,
    User,
    random_id,
    utcnow,
)
from hyperapi.services.users import new_token

from ..support.api import API
from ..support.examples import examples
from ..support.factory import PASSWORD, PASSWORD_HASH

# --- the world, and who may see what (SPEC §3, by hand) -----------------------------------------------

FILE_BYTES = b"%PDF-1.4\n%%EOF\n"
CALLERS = ("anon", "stranger", "member", "admin", "viewer", "collector", "manager", "su")
ALL = frozenset(CALLERS)
SIGNED_IN = ALL - {"anon"}
USERS = ("stranger", "member", "admin", "viewer", "collector", "manager", "su", "hushie")

# Markers: the slugs and names of hidden entities start with "xq" (random text the strategies make up
# never contains "xq"); party and token ids are random; users are "ua_<role>" with full name
# "Xqfull<role>" (hidden from anonymous callers only). A marker appears in no other string of the world.


def username(role: str) -> str:
    return f"ua_{role}"


# org: (slug, name, access, archived, seen by)
ORGS = {
    "acme": ("acme", "Acme", "public", False, ALL),
    "vault": ("xqorgvault", "Xqorgvault Trust", "private", False, frozenset({"su"})),
    "dusty": ("xqorgdusty", "Xqorgdusty Archive", "public", True, frozenset({"admin", "member", "su"})),
}
# project: (org, slug, name, access, archived, seen by)
PROJECTS = {
    "open": ("acme", "open", "Open", "public", False, ALL),
    "secret": ("acme", "xqprjsecret", "Xqprjsecret Plans", "private", False, frozenset({"admin", "member", "su"})),
    "attic": ("acme", "xqprjattic", "Xqprjattic Records", "public", True, frozenset({"admin", "su"})),
    "vprj": ("vault", "xqprjvault", "Xqprjvault Deeds", "public", False, frozenset({"su"})),
    "dprj": ("dusty", "xqprjdusty", "Xqprjdusty Claims", "public", False, frozenset({"admin", "member", "su"})),
}
# One party per project: (name marker, seen by). Parties are never public.
PARTIES = {
    "open": ("Xqptyopen", frozenset({"admin", "member", "viewer", "collector", "manager", "su"})),
    "secret": ("Xqptysecret", frozenset({"admin", "member", "su"})),
    "attic": ("Xqptyattic", frozenset({"admin", "su"})),
    "vprj": ("Xqptyvault", frozenset({"su"})),
    "dprj": ("Xqptydusty", frozenset({"admin", "member", "su"})),
}
# (org, user, role) and who sees the membership's URL
ORG_ROLES = (("acme", "admin", "admin"), ("acme", "member", "member"), ("vault", "hushie", "admin"),
             ("dusty", "admin", "admin"), ("dusty", "member", "member"))
ORG_MEMBERSHIPS_SEEN = {"acme": frozenset({"admin", "member", "su"}), "vault": frozenset({"su"}),
                        "dusty": frozenset({"admin", "member", "su"})}
# (project, user, role): a project role never lifts a hidden organization (vprj, dprj)
PROJECT_ROLES = (("open", "viewer", "viewer"), ("open", "collector", "collector"), ("open", "manager", "manager"),
                 ("vprj", "viewer", "viewer"), ("dprj", "collector", "collector"))
PROJECT_MEMBERSHIPS_SEEN = {
    "open": frozenset({"admin", "member", "viewer", "collector", "manager", "su"}),
    "vprj": frozenset({"su"}),
    "dprj": frozenset({"admin", "member", "su"}),
}

# Resources: (name marker, archived, attached to (ents, the first being where it was made), seen by).
# Seen where attached and visible (the union of the audiences); archived, only by who may edit it.
RESOURCES = {
    "racme": ("Xqresacme", False, ("org:acme",), ALL),
    "rvault": ("Xqresvault", False, ("org:vault",), frozenset({"su"})),
    "rdusty": ("Xqresdusty", False, ("org:dusty",), frozenset({"admin", "member", "su"})),
    "ropen": ("Xqresopen", False, ("prj:open",), ALL),
    "rsecret": ("Xqressecret", False, ("prj:secret",), frozenset({"admin", "member", "su"})),
    "rattic": ("Xqresattic", False, ("prj:attic",), frozenset({"admin", "su"})),
    "rvprj": ("Xqresvprj", False, ("prj:vprj",), frozenset({"su"})),
    "rparty": ("Xqresparty", False, ("pty:open",), frozenset({"admin", "member", "viewer", "collector", "manager",
                                                              "su"})),
    "rshelf": ("Xqresshelf", True, ("prj:open",), frozenset({"admin", "collector", "manager", "su"})),
    "rshared": ("Xqresshared", False, ("pty:secret", "prj:open"), ALL),
}


@dataclass(frozen=True)
class Ent:
    """An entity of the world: how its key is drawn in URLs, its never-existing twin, its markers."""

    kind: str
    seen_by: frozenset
    key: str | None  # None: known once built (random ids)
    name: str | None = None  # a marker word that a query may search for
    markers: tuple = ()  # lower-case strings that only this entity's representation contains
    parent: str | None = None  # the ent of its collection's owner


def _entities() -> dict[str, Ent]:
    ents: dict[str, Ent] = {}
    for org, (slug, name, _, _, seen) in ORGS.items():
        ents[f"org:{org}"] = Ent("org", seen, slug, name.split()[0], (slug,) if slug.startswith("xq") else ())
    for prj, (org, slug, name, _, _, seen) in PROJECTS.items():
        ents[f"prj:{prj}"] = Ent("prj", seen, slug, name.split()[0], (slug,) if slug.startswith("xq") else (),
                                 parent=f"org:{org}")
    for prj, (name, seen) in PARTIES.items():
        ents[f"pty:{prj}"] = Ent("pty", seen, None, name, (name.lower(),), parent=f"prj:{prj}")
    for org, user, _ in ORG_ROLES:
        ents[f"om:{org}:{user}"] = Ent("om", ORG_MEMBERSHIPS_SEEN[org], username(user), parent=f"org:{org}")
    for prj, user, _ in PROJECT_ROLES:
        ents[f"pm:{prj}:{user}"] = Ent("pm", PROJECT_MEMBERSHIPS_SEEN[prj], username(user), parent=f"prj:{prj}")
    for res, (name, _, attached, seen) in RESOURCES.items():
        ents[f"res:{res}"] = Ent("res", seen, None, name, (name.lower(),), parent=attached[0])
    for user in USERS:
        # Users are seen by every signed-in caller; to anonymous callers even their names are hidden.
        ents[f"usr:{user}"] = Ent("usr", SIGNED_IN, username(user), f"Xqfull{user}",
                                  (f"xqfull{user}", username(user)))
        ents[f"tok:{user}"] = Ent("tok", frozenset({user}), None, None, (f"xqtok{user}",))
    return ents


ENTS = _entities()
MISSING_ID = "z" * 24  # a well-formed party/token id that nothing has
TWIN_LETTERS = "abcdefghijkmnpqrstuvwxy"


def twin_of(ent_id: str, attr: str, key: str) -> str:
    """A key (or name) that never existed, of the same length and kind, different for every entity."""
    n = list(ENTS).index(ent_id) * 2 + (attr == "name")
    tag = TWIN_LETTERS[n // len(TWIN_LETTERS)] + TWIN_LETTERS[n % len(TWIN_LETTERS)]
    if attr == "key" and ENTS[ent_id].kind in ("pty", "tok", "res"):
        return tag + "z" * 22
    return key[:2] + tag + "z" * (len(key) - 4)


def hidden_from(caller: str) -> frozenset:
    """The entities `caller` may not see ("bad" is a caller whose credentials are refused)."""
    return frozenset(e for e, ent in ENTS.items() if caller not in ent.seen_by)


@dataclass
class World:
    connection: object
    keys: dict  # ent id -> key as drawn in URLs
    api_keys: dict  # caller -> API key

    def key(self, ent_id: str) -> str:
        return self.keys[ent_id]

    def markers_hidden_from(self, caller: str) -> set[str]:
        markers = set()
        for ent_id in hidden_from(caller):
            ent = ENTS[ent_id]
            markers.update(ent.markers)
            if ent.kind in ("pty", "tok", "res"):
                markers.add(self.keys[ent_id])
        return markers


def build(session: Session) -> tuple[dict, dict]:
    users = {u: User(username=username(u), full_name=f"Xqfull{u}", password_hash=PASSWORD_HASH,
                     is_superuser=(u == "su"), email=f"{u}@example.org") for u in USERS}
    session.add_all(users.values())
    orgs = {o: Organization(slug=slug, name=name, access=access, archived=archived, description=f"About {name}")
            for o, (slug, name, access, archived, _) in ORGS.items()}
    session.add_all(orgs.values())
    session.flush()
    projects = {p: Project(organization_id=orgs[o].id, slug=slug, name=name, access=access, archived=archived,
                           description=f"About {name}", country="UG")
                for p, (o, slug, name, access, archived, _) in PROJECTS.items()}
    session.add_all(projects.values())
    session.flush()
    parties = {p: Party(project_id=projects[p].id, name=name, type="IN", description=f"{name} lives here",
                        attributes={"note": name}) for p, (name, _) in PARTIES.items()}
    session.add_all(parties.values())
    session.add_all(OrganizationMember(organization_id=orgs[o].id, user_id=users[u].id, role=r)
                    for o, u, r in ORG_ROLES)
    session.add_all(ProjectMember(project_id=projects[p].id, user_id=users[u].id, role=r) for p, u, r in PROJECT_ROLES)
    session.flush()
    keys = {e: ent.key for e, ent in ENTS.items() if ent.key is not None}
    keys.update({f"pty:{p}": party.id for p, party in parties.items()})
    rows = {"org": orgs, "prj": projects, "pty": parties}
    for res, (name, archived, attached, _) in RESOURCES.items():
        first = rows[attached[0][:3]][attached[0][4:]]
        org_id = first.id if attached[0].startswith("org:") else \
            (first.organization_id if attached[0].startswith("prj:") else projects[attached[0][4:]].organization_id)
        resource = Resource(organization_id=org_id, name=name, description=f"{name} scanned", archived=archived,
                            entity_type={"org": "organization", "prj": "project", "pty": "party"}[attached[0][:3]],
                            file=f"{res}/1-0123456789abcdef", original_file=f"{name}.pdf", mime_type="application/pdf",
                            size=len(FILE_BYTES), sha256="0" * 64, revision=1)
        resource.id = random_id()
        session.add(resource)
        session.flush()
        session.add(ResourceFile(resource_id=resource.id, revision=1, file=resource.file, original_file=name,
                                 mime_type="application/pdf", size=len(FILE_BYTES), sha256="0" * 64))
        for ent in attached:
            entity = rows[ent[:3]][ent[4:]]
            kind = {"org": "organization", "prj": "project", "pty": "party"}[ent[:3]]
            project = entity if kind == "project" else (projects[ent[4:]] if kind == "party" else None)
            session.add(ResourceAttachment(resource_id=resource.id, entity_type=kind, target=f"{kind}:{entity.id}",
                                           organization_id=org_id, project_id=project.id if project else None,
                                           party_id=entity.id if kind == "party" else None))
        keys[f"res:{res}"] = resource.id
    session.flush()
    api_keys = {}
    for u, user in users.items():
        token, api_keys[u] = new_token(session, user, name=f"xqtok{u}")
        keys[f"tok:{u}"] = token.id
    session.commit()
    return keys, api_keys


@pytest.fixture(scope="module")
def world(engine, wsgi_app):
    connection = engine.connect()
    outer = connection.begin()
    try:
        session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            keys, api_keys = build(session)
        finally:
            session.close()
        storage = wsgi_app.registry["hyperapi.storage"]
        for res in RESOURCES:
            storage.write(f"{res}/1-0123456789abcdef", io.BytesIO(FILE_BYTES))
        yield World(connection, keys, api_keys)
        for res in RESOURCES:
            storage.delete(f"{res}/1-0123456789abcdef")
    finally:
        outer.rollback()
        connection.close()


# --- requests, drawn as templates whose entity keys are filled in (or swapped for twins) ---------------


@dataclass(frozen=True)
class Ref:
    """An entity's key (or, with attr="name", its marker name) in a path or a query string.
    `misplaced`: put under a parent it does not belong to, so the URL addresses nothing."""

    ent: str
    attr: str = "key"
    misplaced: bool = False


@dataclass(frozen=True)
class Raw:
    """Text put into the URL as it is (percent escapes, `..`), not quoted."""

    text: str


@dataclass(frozen=True)
class Join:
    """`set/` ids: parts joined by `;`."""

    parts: tuple


@dataclass(frozen=True)
class Template:
    method: str
    segments: tuple  # below /api/v1/
    slash: bool
    query: tuple  # ((key part, value part), ...) or a Raw query string
    headers: tuple  # ((name, value), ...)
    body: bytes | None
    caller: str
    auth: str  # header | query | garbage | none

    def refs(self):
        def walk(part):
            if isinstance(part, Ref):
                yield part
            elif isinstance(part, Join):
                for p in part.parts:
                    yield from walk(p)

        for segment in self.segments:
            yield from walk(segment)
        if not isinstance(self.query, Raw):
            for k, v in self.query:
                yield from walk(k)
                yield from walk(v)


@dataclass
class Rendered:
    method: str
    url: str
    headers: dict
    body: bytes | None

    def describe(self) -> str:
        body = self.body if self.body is None or len(self.body) < 600 else self.body[:600] + b"..."
        return f"{self.method} {self.url}\nheaders: {self.headers}\nbody: {body!r}"

    def text(self) -> str:
        """Everything the caller sent, decoded, lower-cased (to tell echoes from leaks)."""
        parts = [unquote_to_bytes(self.url).decode("utf-8", "replace"), *self.headers.values()]
        if self.body:
            parts.append(self.body.decode("latin-1"))
        return "\n".join(parts).lower()


def render(world: World, t: Template, swap: dict | None = None) -> Rendered:
    """The request, with each Ref's key; `swap` maps (ent, attr, misplaced) -> replacement text."""
    swap = swap or {}

    def text_of(part) -> str:
        if isinstance(part, Ref):
            key = world.key(part.ent) if part.attr == "key" else ENTS[part.ent].name
            return swap.get((part.ent, part.attr, part.misplaced), key)
        return part

    def segment(part) -> str:
        if isinstance(part, Raw):
            return part.text
        if isinstance(part, Join):
            return ";".join(quote(text_of(p), safe="") if not isinstance(p, Raw) else p.text for p in part.parts)
        return quote(text_of(part), safe="")

    path = API + "/" + "/".join(segment(s) for s in t.segments)
    if t.segments and t.slash:
        path += "/"
    if isinstance(t.query, Raw):
        query = t.query.text
    else:
        pairs = [(segment(k), segment(v)) for k, v in t.query]
        if t.auth == "query" and t.caller != "anon":
            pairs += [("username", username(t.caller)), ("api_key", quote(world.api_keys[t.caller], safe=""))]
        query = "&".join(f"{k}={v}" for k, v in pairs)
    headers = dict(t.headers)
    if t.auth == "header" and t.caller != "anon":
        headers["Authorization"] = f"Token {world.api_keys[t.caller]}"
    return Rendered(t.method, path + (f"?{query}" if query else ""), headers, t.body)


def effective_caller(t: Template) -> str:
    """Whom the app must take the caller for (SPEC §2, §4, §5): "bad" for refused credentials."""
    if not isinstance(t.query, Raw):
        formats = [v for k, v in t.query if k == "format"]
        if formats and formats[-1] == "jsonp":
            return "anon"  # JSONP ignores every credential
    if t.auth == "garbage":
        return "bad"
    if t.auth == "query" and t.caller != "anon" and t.method not in ("GET", "HEAD"):
        return "bad"
    return t.caller


# --- strategies ---------------------------------------------------------------------------------------

ORG_IDS = tuple(f"org:{o}" for o in ORGS)
PRJ_IDS = tuple(f"prj:{p}" for p in PROJECTS)
PTY_IDS = tuple(f"pty:{p}" for p in PROJECTS)
RES_IDS = tuple(f"res:{r}" for r in RESOURCES)
USR_IDS = tuple(f"usr:{u}" for u in USERS)
TOK_IDS = tuple(f"tok:{u}" for u in USERS)
OM_IDS = tuple(e for e in ENTS if e.startswith("om:"))
PM_IDS = tuple(e for e in ENTS if e.startswith("pm:"))
NAMED = tuple(e for e, ent in ENTS.items() if ent.name)
# Entities whose key names them alone (a membership's key is its user's name: it names the user too).
KEYED = tuple(e for e, ent in ENTS.items() if ent.kind not in ("om", "pm"))

# Segments that mean something somewhere in the tree, and some that mean trouble.
WORDS = ("account", "login", "tokens", "users", "organizations", "projects", "members", "parties", "resources",
         "set", "schema", "content", "history", "openapi.json", "api", "v1", "v2")
SPECIAL_SEGMENTS = (Raw(".."), Raw("."), Raw("%2F"), Raw("%2f"), Raw("%00"), Raw("%20"), Raw("%25"), Raw("%"),
                    Raw("%zz"), Raw("%ff"), Raw("%c3%28"), Raw("%e2%82"), Raw(";"), Raw(";;"), Raw("a;b"),
                    Raw("%3B"), Raw("~"), Raw("*"), Raw("'"), "\"", "<x>", "é", "中文", "🙂", "İ", "x" * 300,
                    "y" * 5000, MISSING_ID, MISSING_ID.upper(), "1", "0", "-1", "null", "None", " ", "\t", "\x7f")

segment_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12).filter(
    lambda s: "xq" not in s.lower())
segments = st.one_of(st.sampled_from(WORDS), st.sampled_from(SPECIAL_SEGMENTS), segment_text)


def member_ref(parent: str, user: str) -> Ref:
    """A membership is known by its username within its organization or project: a user who is not a
    member there makes a URL that addresses nothing."""
    prefix = "om" if parent.startswith("org:") else "pm"
    membership = f"{prefix}:{parent[4:]}:{user}"
    return Ref(membership) if membership in ENTS else Ref(f"usr:{user}", misplaced=True)


def _collections() -> list[tuple]:
    """Every meaningful path of the world (below /api/v1/), as tuples of parts."""
    paths: list[tuple] = [(), ("account",), ("account", "login"), ("account", "tokens"), ("users",),
                          ("organizations",), ("projects",), ("resources",), ("openapi.json",)]
    paths += [("account", "tokens", Ref(t)) for t in TOK_IDS]
    paths += [("users", Ref(u)) for u in USR_IDS]
    for org in ORG_IDS:
        o = ("organizations", Ref(org))
        paths += [o, o + ("members",), o + ("projects",), o + ("resources",), o + ("history",)]
        paths += [o + ("members", member_ref(org, user)) for user in USERS]
        paths += [o + ("projects", Ref(p, misplaced=ENTS[p].parent != org)) for p in PRJ_IDS]
    for prj in PRJ_IDS:
        p = ("organizations", Ref(ENTS[prj].parent), "projects", Ref(prj))
        paths += [p, p + ("members",), p + ("parties",), p + ("resources",), p + ("history",)]
        paths += [p + ("members", member_ref(prj, user)) for user in USERS]
        paths += [p + ("parties", Ref(pty, misplaced=ENTS[pty].parent != prj)) for pty in PTY_IDS]
        party = p + ("parties", Ref(f"pty:{prj[4:]}"))
        paths += [party + ("resources",), party + ("history",), p + ("history", MISSING_ID, "restore")]
    # Each resource under every entity's resources/ (placed only where it is attached), flat, its bytes.
    owners = {"org": lambda e: ("organizations", Ref(e)),
              "prj": lambda e: ("organizations", Ref(ENTS[e].parent), "projects", Ref(e)),
              "pty": lambda e: ("organizations", Ref(ENTS[ENTS[e].parent].parent), "projects", Ref(ENTS[e].parent),
                                "parties", Ref(e))}
    for res, (_, _, attached, _) in RESOURCES.items():
        for owner in ("org:acme", "org:vault", "prj:open", "prj:secret", "pty:open", "pty:secret"):
            item = owners[owner[:3]](owner) + ("resources", Ref(f"res:{res}", misplaced=owner not in attached))
            paths += [item, item + ("content",), item + ("history",)]
        paths += [("resources", Ref(f"res:{res}")), ("resources", Ref(f"res:{res}"), "content")]
    return paths


def _misplaced(path: tuple) -> bool:
    return any(isinstance(part, Ref) and part.misplaced for part in path)


PLACED = tuple(path for path in _collections() if not _misplaced(path))
MISPLACED = tuple(path for path in _collections() if _misplaced(path))
# Collections that answer set/, with the ents their ids may name.
SET_TARGETS = (
    (("users",), None, USR_IDS),
    (("organizations",), None, ORG_IDS),
    (("account", "tokens"), None, TOK_IDS),
    (("projects",), None, PRJ_IDS),
    *((("organizations", Ref(o), "members"), o, OM_IDS) for o in ORG_IDS),
    *((("organizations", Ref(o), "projects"), o, PRJ_IDS) for o in ORG_IDS),
    *((("organizations", Ref(ENTS[p].parent), "projects", Ref(p), "parties"), p, PTY_IDS) for p in PRJ_IDS),
    *((("organizations", Ref(ENTS[p].parent), "projects", Ref(p), "members"), p, PM_IDS) for p in PRJ_IDS),
    (("resources",), None, RES_IDS),
    *((("organizations", Ref(ENTS[p].parent), "projects", Ref(p), "resources"), p, RES_IDS) for p in PRJ_IDS),
)


def belongs(ent_id: str, owner: str) -> bool:
    """Whether the entity is in its owner's collection (a resource: wherever it is attached)."""
    if ENTS[ent_id].kind == "res":
        return owner in RESOURCES[ent_id[4:]][2]
    return ENTS[ent_id].parent == owner


@st.composite
def set_paths(draw):
    base, owner, ids = draw(st.sampled_from(SET_TARGETS))
    if ids in (OM_IDS, PM_IDS):
        refs = st.sampled_from(USERS).map(lambda user: member_ref(owner, user))
    else:
        refs = st.sampled_from(ids).map(lambda e: Ref(e, misplaced=owner is not None and not belongs(e, owner)))
    parts = draw(st.lists(st.one_of(
        refs,
        segment_text, st.sampled_from((Raw(""), Raw("%00"), MISSING_ID, "x" * 100))), min_size=0, max_size=6))
    return base + ("set", Join(tuple(parts)))


@st.composite
def paths(draw):
    choice = draw(st.integers(0, 19))
    if choice <= 11:
        path = draw(st.sampled_from(PLACED))
    elif choice <= 13:
        path = draw(st.sampled_from(MISPLACED))
    elif choice <= 17:
        path = draw(set_paths())
    else:
        path = tuple(draw(st.lists(segments, min_size=0, max_size=6)))
    if draw(st.integers(0, 9)) == 0:  # random segments after it
        path += tuple(draw(st.lists(segments, min_size=1, max_size=3)))
    if path and draw(st.integers(0, 9)) == 0:  # one segment replaced by trouble
        i = draw(st.integers(0, len(path) - 1))
        path = path[:i] + (draw(segments),) + path[i + 1:]
    if path and draw(st.integers(0, 14)) == 0:  # a `..` or `.` somewhere
        i = draw(st.integers(0, len(path)))
        path = path[:i] + (draw(st.sampled_from((Raw(".."), Raw(".")))),) + path[i:]
    return path


PARAM_KEYS = ("limit", "offset", "search", "ordering", "fields", "depth", "full", "read_write", "format", "callback",
              "name", "name__icontains", "name__in", "name__startswith", "name__iexact", "name__endswith", "slug",
              "slug__in", "access", "archived", "archived__exact", "created__gte", "created__lt", "last_updated__gt",
              "type", "type__in", "country", "country__in", "username", "username__contains", "full_name", "role",
              "role__in", "is_superuser", "email", "organization", "organization__slug", "organization__name",
              "organization__access", "project", "project__slug", "user", "user__username", "user__full_name",
              "memberships__organization__slug", "memberships__organization", "memberships__role",
              "memberships__organization__name__icontains", "project_memberships__project__slug",
              "project_memberships__project__organization__slug", "expires__isnull", "last_used__isnull",
              "description", "id", "id__in", "password", "attributes__note", "parties__name", "version", "name__isnull",
              "name__foo", "name__in__in", "__", "name__", "__name", "pk", "q", "entity_type", "entity_id", "action")
ODD_VALUES = ("", " ", "0", "1", "-1", "3", "4", "1000", "1001", "99999999999999999999999", "9223372036854775808",
              "1e9", "1.5", "0x10", "١٢", "true", "false", "True", "yes", "null", "none", "w", "r", "rw", "json",
              "hal", "csv", "xml", "jsonp", "html", "cb", "a.b", "x-y", "name", "-name", "name,-created", "-",
              ",", ",,", "id", "-id", "created", "%", "_", "\\", "'", '"', "<script>", "\x00", "a\x00b", "IN",
              "IN,GR", "ZZ", "UG", "public", "private", "admin", "member", "viewer", "2024-01-01",
              "2024-01-01T00:00:00Z", "2024-02-30", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-05:00",
              "0001-01-01", "9999-12-31", "NaN", "inf", "🙂", "İ", "ß", "ǅ", "a" * 300, "b" * 3000, "c" * 5000)

SHAPE_KEYS = ("limit", "offset", "search", "ordering", "fields", "depth", "full", "format", "read_write", "name",
              "name__icontains")
SHAPE_VALUES = ("0", "1", "2", "3", "20", "true", "false", "name", "-name", "created", "-created,name", "json",
                "hal", "csv", "xml", "name,id", "resource_uri", "w", "r", "a", "x")
key_text = segment_text
value_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40).filter(
    lambda s: "xq" not in s.lower())
dunder_keys = st.lists(st.one_of(st.sampled_from(("name", "slug", "organization", "project", "user", "memberships",
                                                  "project_memberships", "parties", "members", "in", "exact",
                                                  "icontains", "isnull", "id", "password", "key_hash")), key_text),
                       min_size=2, max_size=5).map("__".join)
param_keys = st.one_of(st.sampled_from(PARAM_KEYS), st.sampled_from(PARAM_KEYS), key_text, dunder_keys)
param_values = st.one_of(
    st.sampled_from(ODD_VALUES),
    value_text,
    st.sampled_from(KEYED).map(Ref),  # an entity's key: slug, id, username
    st.sampled_from(NAMED).map(lambda e: Ref(e, "name")),  # an entity's marker name (for search, name=…)
    st.sampled_from((Raw("%ff"), Raw("%00"), Raw("%"), Raw("%zz"), Raw("a%2Cb"), Raw("+"), Raw("%2B"))),
)
raw_queries = st.sampled_from(("&", "&&", "=", "==", "a", "a&a", "=x", "limit", "limit=", "&limit=1&", "%ff=1",
                               "a=%ff", "%00", "a=b=c", "search=%", "?", "??", ";", "a;b=c", "limit=1;offset=2",
                               "format=json&format=csv", "depth=9&depth=1", "x" * 5000)).map(Raw)


@st.composite
def queries(draw):
    kind = draw(st.integers(0, 19))
    if kind == 0:
        return draw(raw_queries)
    if kind <= 4:
        return ()
    if kind <= 10:  # the parameters every GET understands, with values that mostly make sense
        pairs = draw(st.lists(st.tuples(st.sampled_from(SHAPE_KEYS), st.one_of(st.sampled_from(SHAPE_VALUES),
                                                                               param_values)), max_size=3))
    else:
        pairs = draw(st.lists(st.tuples(param_keys, param_values), max_size=5))
    if pairs and draw(st.integers(0, 5)) == 0:  # a key repeated
        pairs.append((pairs[0][0], draw(param_values)))
    return tuple(pairs)


ACCEPTS = ("application/json", "application/hal+json", "text/csv", "application/xml", "text/xml", "text/html",
           "*/*", "application/*", "application/json;q=0", "text/csv;q=0.5, application/xml", "image/png",
           "application/javascript", "", ";", "*/*;q=abc", "application/json;charset=ebcdic", "\u00e9/\u00e8")
CONTENT_TYPES = ("application/json", "application/json; charset=utf-8", "application/json; charset=latin-1",
                 "application/json; charset=utf-16", "application/json; charset=garbage", "application/hal+json",
                 "application/merge-patch+json", "application/x-www-form-urlencoded",
                 "application/x-www-form-urlencoded; charset=garbage", "multipart/form-data",
                 "multipart/form-data; boundary=fzb0undary", "multipart/form-data; boundary=", "text/plain",
                 "text/csv", "application/xml", "application/octet-stream", "", "json", ";", "application/",
                 "APPLICATION/JSON")
ETAGS = ("*", '"1"', '"2"', '"999"', 'W/"1"', '"1", "2"', "1", '"', '""', ",", "garbage", '"' + "9" * 40 + '"',
         '"-1"', '"1.0"')
AUTH_GARBAGE = ("", "Token", "Token ", "Token  ", "token", "Bearer abc", "Basic dXNlcjpwYXNz", "Token a b",
                "Token " + "A" * 43, "Token " + "x" * 5000, "Token \u00e9", "Digest x", "Token null")
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
                      max_size=30).filter(lambda s: "xq" not in s.lower())


@st.composite
def headers(draw, with_content_type: bool):
    out = []
    if draw(st.integers(0, 2)) == 0:
        out.append(("Accept", draw(st.one_of(st.sampled_from(ACCEPTS), header_text))))
    if with_content_type or draw(st.integers(0, 5)) == 0:
        out.append(("Content-Type", draw(st.one_of(st.sampled_from(CONTENT_TYPES), header_text))))
    if draw(st.integers(0, 3)) == 0:
        out.append(("If-Match", draw(st.one_of(st.sampled_from(ETAGS), header_text))))
    if draw(st.integers(0, 3)) == 0:
        out.append(("If-None-Match", draw(st.one_of(st.sampled_from(ETAGS), header_text))))
    if draw(st.integers(0, 9)) == 0:
        out.append(("Origin", draw(st.sampled_from(("https://evil.example", "null", "")))))
    return out


# Bodies: field names of every writable entity, with sensible and silly values.
FIELD_NAMES = ("name", "type", "description", "country", "contacts", "attributes", "archived", "access", "urls",
               "slug", "role", "username", "password", "full_name", "email", "is_superuser", "expires", "id",
               "resource_uri", "version", "created", "last_updated", "project", "organization", "type_display",
               "_links", "key", "user", "last_used", "old_password")
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=2**63), st.floats(),
                         value_text, st.sampled_from(ODD_VALUES))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.one_of(st.sampled_from(FIELD_NAMES), key_text), inner,
                                                 max_size=3)), max_leaves=8)
HCARD = {"type": ["h-card"], "properties": {"name": ["A"], "email": ["mailto:a@example.org"], "tel": ["+1"]}}
field_values = st.one_of(
    st.sampled_from(("IN", "GR", "CO", "XX", "UG", "ZZ", "public", "private", "admin", "member", "manager",
                     "collector", "viewer", "a long enough password", "a@example.org", "not an email",
                     "2099-01-01T00:00:00Z", "2000-01-01T00:00:00Z", "https://example.org", "javascript:alert(1)")),
    st.sampled_from(tuple(username(u) for u in USERS)),
    st.just([HCARD]), st.just([{"type": ["h-card"]}]), st.just({"gender": "f"}), st.just(["https://example.org"]),
    json_values,
)
json_objects = st.dictionaries(st.one_of(st.sampled_from(FIELD_NAMES), key_text), field_values, max_size=5)


VALID_BODIES = (
    {"name": "Fuzzy Party", "type": "IN"},
    {"name": "Fuzzy Party", "type": "GR", "description": "d", "country": "UG", "contacts": [HCARD],
     "attributes": {"k": [1, {"a": None}]}, "archived": False},
    {"name": "Fuzzy Org"},
    {"name": "Fuzzy Org", "description": "d", "urls": ["https://example.org"], "contacts": [HCARD],
     "access": "private", "archived": False},
    {"name": "Fuzzy Project", "country": "KE", "access": "public"},
    {"archived": False},
    {"archived": True},
    {"role": "viewer"},
    {"role": "admin"},
    {"role": "manager"},
    {"username": "ua_stranger", "role": "member"},
    {"username": "ua_stranger", "role": "collector"},
    {"username": "fuzzy", "password": "a long enough password", "full_name": "F", "email": "f@example.org"},
    {"full_name": "Fuzzy Name", "email": "fuzzy@example.org"},
    {"username": "ua_admin", "password": PASSWORD},
    {"name": "a token", "expires": "2099-01-01T00:00:00Z"},
    {"name": "a token"},
)


def _json_bytes(value) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


def _multipart(fields: list[tuple[str, str | bytes]], boundary: str = "fzb0undary") -> bytes:
    out = b""
    for name, value in fields:
        out += f"--{boundary}\r\n".encode()
        if isinstance(value, bytes):
            out += f'Content-Disposition: form-data; name="{name}"; filename="f.bin"\r\n'.encode()
            out += b"Content-Type: application/octet-stream\r\n\r\n" + value + b"\r\n"
        else:
            out += f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value.encode() + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


def _urlencoded(fields: list[tuple[str, str]]) -> bytes:
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in fields).encode()


def _form_value(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, allow_nan=True)


form_fields = st.lists(st.tuples(st.one_of(st.sampled_from(FIELD_NAMES), key_text),
                                 st.one_of(field_values.map(_form_value), value_text)), max_size=5)


@st.composite
def bodies(draw) -> tuple[bytes | None, str | None]:
    """(body, the content type that goes with it, or None for a random one)."""
    kind = draw(st.integers(0, 14))
    if kind >= 12:  # a body that is valid somewhere, perhaps with one field changed
        value = dict(draw(st.sampled_from(VALID_BODIES)))
        if draw(st.booleans()):
            value[draw(st.sampled_from(FIELD_NAMES))] = draw(field_values)
        if draw(st.integers(0, 3)) == 0:
            body, ctype = _urlencoded([(k, _form_value(v)) for k, v in value.items()]), \
                "application/x-www-form-urlencoded"
        else:
            body, ctype = _json_bytes(value), "application/json"
    elif kind <= 3:
        body, ctype = _json_bytes(draw(json_objects)), "application/json"
    elif kind == 4:
        body, ctype = _json_bytes(draw(json_values)), "application/json"
    elif kind == 5:
        depth = draw(st.sampled_from((31, 32, 33, 100, 5000)))
        body, ctype = (b"[" * depth + b"]" * depth if draw(st.booleans())
                       else b'{"a":' * depth + b"1" + b"}" * depth), "application/json"
    elif kind == 6:
        body, ctype = _urlencoded(draw(form_fields)), "application/x-www-form-urlencoded"
    elif kind == 7:
        fields = draw(form_fields)
        if draw(st.booleans()):
            fields.append(("file", draw(st.one_of(st.binary(max_size=64), st.just(FILE_BYTES)))))
        body, ctype = _multipart(fields), "multipart/form-data; boundary=fzb0undary"
    elif kind == 8:
        body, ctype = draw(st.binary(max_size=200)), None
    elif kind == 9:
        body, ctype = None, None
    else:  # a good body, cut short or with bytes changed
        body = _json_bytes(draw(json_objects)) if kind == 10 else _multipart(draw(form_fields))
        ctype = "application/json" if kind == 10 else "multipart/form-data; boundary=fzb0undary"
        if body:
            cut = draw(st.integers(0, len(body) - 1))
            if draw(st.booleans()):
                body = body[:cut]
            else:
                body = body[:cut] + bytes([draw(st.integers(0, 255))]) + body[cut + 1:]
    if ctype is not None and draw(st.integers(0, 4)) == 0:
        ctype = None  # sent under a random content type instead
    return body, ctype


READ_METHODS = ("GET", "GET", "GET", "HEAD", "OPTIONS")
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
ODD_METHODS = ("TRACE", "PROPFIND", "CONNECT", "get")


@st.composite
def requests(draw, methods, callers=CALLERS, path_strategy=None, auths=("header",) * 6 + ("query", "garbage")):
    method = draw(st.sampled_from(methods))
    caller = draw(st.sampled_from(callers))
    auth = "none" if caller == "anon" else draw(st.sampled_from(auths))
    if caller == "anon" and draw(st.integers(0, 7)) == 0:
        auth = "garbage"
    path = draw(path_strategy if path_strategy is not None else paths())
    query = draw(queries()) if method in ("GET", "HEAD") or draw(st.integers(0, 5)) == 0 else ()
    if auth == "query" and isinstance(query, Raw):
        query = ()
    if auth == "query":  # the credentials are the ones added by `render`
        query = tuple((k, v) for k, v in query if k not in ("username", "api_key"))
    body, ctype = (None, None)
    if method not in ("GET", "HEAD", "OPTIONS") or draw(st.integers(0, 9)) == 0:
        body, ctype = draw(bodies())
    hdrs = draw(headers(with_content_type=body is not None and ctype is None))
    if ctype is not None:
        hdrs = [h for h in hdrs if h[0] != "Content-Type"] + [("Content-Type", ctype)]
    if auth == "garbage":
        hdrs.append(("Authorization", draw(st.one_of(st.sampled_from(AUTH_GARBAGE), header_text))))
    return Template(method, path, draw(st.booleans()) or draw(st.booleans()), query, tuple(hdrs), body, caller, auth)


# --- sending, and the properties ------------------------------------------------------------------------


FINGERPRINT = [
    sa.text(f"SELECT COUNT(*), COALESCE(SUM(version), 0) FROM {table}")
    for table in ("users", "organizations", "projects", "parties", "organization_members", "project_members",
                  "resources")
] + [sa.text(f"SELECT COUNT(*) FROM {table}") for table in ("tokens", "resource_attachments", "resource_files")]


def fingerprint(world: World) -> tuple:
    return tuple(tuple(world.connection.execute(q).one()) for q in FINGERPRINT)


@dataclass
class Answer:
    status: int
    headers: list
    body: bytes

    def describe(self) -> str:
        return f"{self.status} {self.headers}\n{self.body[:1500]!r}"


def send(app: TestApp, world: World, request: Rendered, refusal_writes_nothing: bool = False) -> Answer:
    """One request through the app, in a savepoint of the world that is rolled back after it."""
    app.app.registry["db.session_factory"].configure(bind=world.connection, join_transaction_mode="create_savepoint")
    before = fingerprint(world) if refusal_writes_nothing else None
    savepoint = world.connection.begin_nested()
    try:
        kw = {"method": request.method, "headers": request.headers, "expect_errors": True, "status": "*"}
        if request.body is not None:
            kw["body"] = request.body
        try:
            response = app.request(request.url, **kw)
        except Exception as exc:  # an exception out of the app: the server would answer with its own 500
            raise AssertionError(f"the app raised {exc!r} instead of answering\n{request.describe()}") from exc
        answer = Answer(response.status_int, list(response.headerlist), response.body)
        if before is not None and 400 <= answer.status < 500:
            assert fingerprint(world) == before, f"a refused write wrote\n{request.describe()}\n{answer.describe()}"
        return answer
    finally:
        savepoint.rollback()


def _strict_json(body: bytes):
    def no_constants(name):
        raise ValueError(f"{name} is not JSON")

    return json.loads(body.decode("utf-8"), parse_constant=no_constants)


def _unreadable_url(url: str) -> bool:
    """A URL whose path or query, once percent-decoded, is not UTF-8 or holds a NUL."""
    from urllib.parse import unquote_to_bytes

    raw = unquote_to_bytes(url.replace("+", " "))
    try:
        return "\x00" in raw.decode("utf-8")
    except UnicodeDecodeError:
        return True


def check_answer(world: World, t: Template, request: Rendered, answer: Answer) -> None:
    where = f"\n--- request (as {t.caller}, auth {t.auth}) ---\n{request.describe()}\n--- answer ---\n" \
            f"{answer.describe()}"
    assert answer.status < 500, "a 5xx" + where
    assert b"Traceback" not in answer.body and b'File "' not in answer.body, "a traceback" + where
    content_type = dict((k.lower(), v) for k, v in answer.headers).get("content-type", "")
    if answer.status >= 400 and t.method != "HEAD" and content_type.startswith("text/html"):
        # A browser's error is a page (SPEC §6), with the same status; only for a request that asked.
        asked = {k.lower(): v for k, v in request.headers.items()}.get("accept", "") + " " + request.url
        assert "html" in asked.lower(), "an error page for a request that did not ask for HTML" + where
        assert b'class="error-sentence"' in answer.body, "an error page without its sentence" + where
    elif answer.status >= 400 and t.method != "HEAD":
        assert content_type.startswith("application/json"), "an error that is not JSON" + where
        try:
            body = _strict_json(answer.body)
        except ValueError as exc:
            raise AssertionError(f"an error body that does not parse: {exc}" + where) from None
        assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], \
            "an error body without an 'error' sentence" + where
    elif content_type.startswith("application/json") and answer.body:
        try:
            _strict_json(answer.body)
        except ValueError as exc:
            raise AssertionError(f"a JSON body that does not parse as JSON: {exc}" + where) from None
    caller = effective_caller(t)
    if caller == "bad":
        # Refused before authentication, like 413 and 414: a URL that is not UTF-8 or carries a NUL.
        refused_url = answer.status in (400, 404) and _unreadable_url(request.url)
        assert answer.status in (401, 413, 414) or refused_url, "refused credentials did not answer 401" + where
    sent = request.text()
    seen = (answer.body.decode("utf-8", "replace") + "\n" + "\n".join(v for _, v in answer.headers)).lower()
    leaked = sorted(m for m in world.markers_hidden_from(caller) if m in seen and m not in sent)
    assert not leaked, f"the answer names entities hidden from {caller}: {leaked}" + where


def swaps_for(world: World, t: Template) -> dict:
    """(ent, attr, misplaced) -> twin text, for every Ref that names what this caller may not see."""
    hidden = hidden_from(effective_caller(t))
    swap = {}
    for ref in t.refs():
        if ref.misplaced or ref.ent in hidden:
            key = world.key(ref.ent) if ref.attr == "key" else ENTS[ref.ent].name
            swap[(ref.ent, ref.attr, ref.misplaced)] = twin_of(ref.ent, ref.attr, key)
    return swap


def as_a_word(key: str) -> re.Pattern:
    """`key` where it stands as a key (a path segment, a JSON string, an id), never inside another word:
    the slug `open` of a hidden project is not the `open` of `openapi.json`."""
    return re.compile(rf"(?<![\w.-]){re.escape(key)}(?![\w.-])")


def check_hidden_is_missing(app: TestApp, world: World, t: Template, request: Rendered, answer: Answer) -> bool:
    """The same request with every hidden (or misplaced) entity's key swapped for one that never
    existed answers the same. Returns whether the comparison was made."""
    swap = swaps_for(world, t)
    if not swap:
        return False
    twin = render(world, t, swap)
    replaced = {}
    for (ent, attr, _), text in swap.items():
        key = world.key(ent) if attr == "key" else ENTS[ent].name
        replaced[key] = text
    if any(key.lower() in twin.text() for key in replaced):
        return False  # the same text also stands for a visible entity elsewhere in the request: no twin
    other = send(app, world, twin)
    body = answer.body.decode("utf-8", "replace")
    for key, text in replaced.items():
        body = as_a_word(key).sub(text, body)
    if t.method in WRITE_METHODS and answer.status < 300:
        # A write that succeeded did not address the hidden entity after all (`..` took it out of the
        # path); what it made or changed has its own id and timestamps.
        same = answer.status == other.status
    else:
        same = (answer.status, body) == (other.status, other.body.decode("utf-8", "replace"))
    assert same, (f"a hidden entity answers differently from a missing one (as {effective_caller(t)})\n"
                  f"--- hidden ---\n{request.describe()}\n→ {answer.describe()}\n"
                  f"--- missing ---\n{twin.describe()}\n→ {other.describe()}")
    return True


def _in_hypothesis() -> bool:
    try:
        current_build_context()
    except InvalidArgument:
        return False
    return True


def freshen_tokens(world: World) -> None:
    """Mark the world's tokens as used just now. A token's `last_used` is written by the first request
    that signs in with it a minute after the last write (and rolled back here after each request):
    without this, a request and its twin a few milliseconds later would show different `last_used`
    values once the world is a minute old."""
    world.connection.execute(sa.update(Token).values(last_used=utcnow()))


def send_and_check(app: TestApp, world: World, t: Template) -> Answer:
    freshen_tokens(world)
    request = render(world, t)
    fuzzing = _in_hypothesis()
    if fuzzing:
        note(f"as {t.caller} ({t.auth}): {request.describe()}")
    answer = send(app, world, request, refusal_writes_nothing=t.method in WRITE_METHODS)
    check_answer(world, t, request, answer)
    twin = check_hidden_is_missing(app, world, t, request, answer)
    if fuzzing:  # shown by `pytest --hypothesis-show-statistics`: what the examples reached
        event(f"status {answer.status}")
        event(f"hidden compared with missing: {twin}")
    return answer


# No `explain` phase: on a failure it re-runs the test hundreds of times to annotate the example.
PHASES = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink)
FUZZ = settings(deadline=None, phases=PHASES, suppress_health_check=list(HealthCheck),
                max_examples=examples(1000))


@pytest.fixture(scope="module")
def app(wsgi_app):
    """The suite's app. The fuzzer fails to sign in many times, and the app counts failed sign-ins per
    account and per address: the module gets a login limiter of its own, and the suite's is put back."""
    registry = wsgi_app.registry
    saved = registry.get(REGISTRY_KEY)
    registry[REGISTRY_KEY] = make_limiter(registry.settings)
    try:
        yield TestApp(wsgi_app)
    finally:
        registry[REGISTRY_KEY] = saved


@pytest.mark.slow
@FUZZ
@given(t=requests(READ_METHODS + ODD_METHODS))
def test_reads(app, world, t):
    """GET, HEAD, OPTIONS and odd methods, rich query strings, everywhere, as anyone."""
    send_and_check(app, world, t)


@pytest.mark.slow
@settings(FUZZ, max_examples=examples(600))
@given(t=requests(WRITE_METHODS))
def test_writes(app, world, t):
    """POST, PUT, PATCH, DELETE with random bodies, everywhere, as anyone; a refused write writes nothing."""
    send_and_check(app, world, t)


# Lists: the query language is where a hidden row would slip out (filters across relations, search,
# ordering, inlining), so lists get their own share of examples, with filters that name hidden entities.
COLLECTION_PATHS = tuple(path for path in PLACED if path and isinstance(path[-1], str)
                         and path[-1] not in ("login", "openapi.json", "account", "content"))
LIST_KEYS = ("search", "name", "name__icontains", "name__startswith", "name__in", "slug", "slug__in", "id",
             "id__in", "username", "username__in", "full_name__icontains", "organization", "organization__slug",
             "organization__name__icontains", "project", "project__slug", "project__name", "user", "user__username",
             "user__full_name__icontains", "memberships__organization", "memberships__organization__slug",
             "memberships__organization__name__icontains", "memberships__role", "project_memberships__project",
             "project_memberships__project__slug", "project_memberships__project__organization__slug",
             "project_memberships__role", "access", "archived", "role", "type", "created__gte", "ordering")
SHAPES = (("depth", "1"), ("depth", "2"), ("depth", "3"), ("full", "true"), ("limit", "1"), ("offset", "1"),
          ("read_write", "w"), ("format", "csv"), ("format", "xml"), ("format", "hal"), ("fields", "name,project"),
          ("ordering", "-name"), ("ordering", "created"))
list_values = st.one_of(st.sampled_from(KEYED).map(Ref), st.sampled_from(NAMED).map(lambda e: Ref(e, "name")),
                        st.sampled_from(("Xq", "xq", "q", "a", "admin", "member", "true", "false", "public",
                                         "private", "IN", "2000-01-01")))


# The filters each kind of collection declares (so that most of these requests get past validation).
MEMBER_KEYS = ("search", "username", "username__in", "role", "role__in", "user", "user__username",
               "user__full_name__icontains", "user__memberships__organization")
COLLECTION_KEYS = {
    "users": ("search", "username", "username__in", "full_name__icontains", "memberships__organization",
              "memberships__organization__slug", "memberships__organization__name__icontains", "memberships__role",
              "memberships__user__username", "project_memberships__project", "project_memberships__project__slug",
              "project_memberships__project__organization__slug", "project_memberships__role"),
    "organizations": ("search", "name", "name__icontains", "slug", "slug__in", "access", "archived"),
    "projects": ("search", "name__icontains", "slug", "slug__in", "organization", "organization__slug",
                 "organization__name__icontains", "organization__access", "access", "archived"),
    "parties": ("search", "name", "name__icontains", "name__startswith", "name__in", "type", "archived"),
    "members": MEMBER_KEYS + ("organization", "organization__slug", "project", "project__slug"),
    "tokens": ("name", "name__icontains", "expires__isnull"),
    "resources": ("search", "name", "name__icontains", "mime_type", "entity_type", "archived", "original_file",
                  "attachments__party", "attachments__project", "attachments__organization", "size__gt", "ordering"),
    "history": ("entity_type", "entity_id", "entity_id__in", "action", "created__gte", "ordering"),
}
TOP_COLLECTIONS = (("users",), ("organizations",), ("projects",), ("account", "tokens"), ("resources",))


def targeted_values(key: str):
    """Keys and names of the entities a filter key is about (so that a filter on a hidden entity's key
    has a twin: the same filter on a key that never existed)."""
    parts = key.split("__")
    by_name = key == "search" or any(p in ("name", "full_name") for p in parts[-2:])
    if "organization" in parts:
        pool = ORG_IDS
    elif "project" in parts:
        pool = PRJ_IDS
    elif any(p in ("user", "username", "full_name") for p in parts):
        pool = USR_IDS
    elif "party" in parts:
        pool = PTY_IDS
    elif parts[0] == "id":
        pool = PTY_IDS + TOK_IDS + RES_IDS
    elif parts[0] == "slug":
        pool = ORG_IDS + PRJ_IDS
    else:
        pool = NAMED
    if by_name:
        return st.sampled_from(tuple(e for e in pool if ENTS[e].name)).map(lambda e: Ref(e, "name"))
    return st.sampled_from(tuple(e for e in pool if e in KEYED)).map(Ref)


@st.composite
def list_requests(draw):
    caller = draw(st.sampled_from(CALLERS))
    path = draw(st.one_of(st.sampled_from(TOP_COLLECTIONS), st.sampled_from(COLLECTION_PATHS), set_paths()))
    keys = COLLECTION_KEYS.get(path[-1] if isinstance(path[-1], str) else path[-3], LIST_KEYS)
    pairs = []
    for key in draw(st.lists(st.sampled_from(keys * 4 + LIST_KEYS), min_size=1, max_size=3, unique=True)):
        pairs.append((key, draw(targeted_values(key) if draw(st.integers(0, 3)) else list_values)))
    pairs += draw(st.lists(st.sampled_from(SHAPES), max_size=2))
    auth = "none" if caller == "anon" else draw(st.sampled_from(("header", "header", "header", "query")))
    return Template("GET", path, True, tuple(pairs), (), None, caller, auth)


@pytest.mark.slow
@settings(FUZZ, max_examples=examples(1500))
@given(t=list_requests())
def test_lists(app, world, t):
    """Filters, searches, orderings and inlining that name hidden entities find nothing of them."""
    send_and_check(app, world, t)


# Writes by callers who may write, on what they may write: the bodies reach parsing and validation.
WRITERS = ("su", "admin", "manager", "collector")
WRITABLE_PATHS = (
    ("organizations",),
    ("organizations", Ref("org:acme")),
    ("organizations", Ref("org:acme"), "members"),
    ("organizations", Ref("org:acme"), "members", Ref("om:acme:member")),
    ("organizations", Ref("org:acme"), "projects"),
    ("organizations", Ref("org:acme"), "projects", Ref("prj:open")),
    ("organizations", Ref("org:acme"), "projects", Ref("prj:open"), "members"),
    ("organizations", Ref("org:acme"), "projects", Ref("prj:open"), "members", Ref("pm:open:viewer")),
    ("organizations", Ref("org:acme"), "projects", Ref("prj:open"), "parties"),
    ("organizations", Ref("org:acme"), "projects", Ref("prj:open"), "parties", Ref("pty:open")),
    ("organizations", Ref("org:acme"), "projects", Ref("prj:attic")),
    ("organizations", Ref("org:dusty")),
    ("users",),
    ("users", Ref("usr:stranger")),
    ("account",),
    ("account", "login"),
    ("account", "tokens"),
)


@pytest.mark.slow
@settings(FUZZ, max_examples=examples(800))
@given(t=requests(WRITE_METHODS + ("PATCH", "PUT", "POST"), callers=WRITERS,
                  path_strategy=st.sampled_from(WRITABLE_PATHS), auths=("header",) * 12 + ("query", "garbage")))
def test_bodies(app, world, t):
    """Random bodies where the caller may write, so they are parsed and validated."""
    send_and_check(app, world, t)


# --- what the fuzzer found: each input once, by name ------------------------------------------------
#
# Each is checked by the same properties as the fuzzed requests (5xx, error bodies, 401 for bad
# credentials, hidden == missing, markers). Some fail on PostgreSQL only (NUL characters, NaN).

ACME = ("organizations", Ref("org:acme"))
OPEN_PARTIES = (*ACME, "projects", Ref("prj:open"), "parties")
OPEN_PARTY = (*OPEN_PARTIES, Ref("pty:open"))


def _write(method: str, segments: tuple, body: bytes, content_type: str = "application/json") -> Template:
    return Template(method, segments, True, (), (("Content-Type", content_type),), body, "su", "header")


def _get(segments: tuple, query=(), caller: str = "su", auth: str = "header", headers: tuple = (),
         method: str = "GET") -> Template:
    return Template(method, segments, True, query, headers, None, caller, auth)


FOUND = {
    # SPEC §4: a body the server cannot read is a 400 (or 415), never a 500.
    "json-unknown-charset": _write("PATCH", OPEN_PARTY, b'{"name": "x"}', "application/json; charset=garbage"),
    "json-lone-surrogate-in-value": _write("PATCH", OPEN_PARTY, b'{"name": "\\ud800"}'),
    "json-lone-surrogate-in-key": _write("PATCH", OPEN_PARTY, b'{"attributes": {"\\ud800": 1}}'),
    "json-lone-surrogate-in-unknown-field": _write("POST", ("organizations",), b'{"\\udc00": 1}'),
    # SQLite: 200 and a body with a bare NaN (not JSON); PostgreSQL: 500.
    "json-nan-in-attributes": _write("PATCH", OPEN_PARTY, b'{"attributes": {"a": NaN}}'),
    "json-infinity-in-attributes": _write("PATCH", OPEN_PARTY, b'{"attributes": {"a": 1e999}}'),
    "json-nul-in-attributes": _write("PATCH", OPEN_PARTY, b'{"attributes": {"a": "\\u0000"}}'),
    "member-patch-without-role": _write("PATCH", (*ACME, "members", Ref("om:acme:member")), b"{}"),
    # SPEC §4/§5: a malformed query parameter is a 400 naming it.
    "query-invalid-utf8": _get(("organizations",), Raw("name=%ff%fe")),
    "query-invalid-utf8-anonymous": _get(("organizations",), Raw("name=%ff%fe"), caller="anon", auth="none"),
    "query-date-before-year-1-in-utc": _get(("organizations",), (("created__gt", "0001-01-01T00:00:00+01:00"),)),
    "query-date-after-year-9999-in-utc": _get(("organizations",), (("created__gt", "9999-12-31T23:59:59-05:00"),)),
    "query-nul-in-filter": _get(("organizations",), (("name", "a\x00b"),)),
    "query-nul-in-search": _get(OPEN_PARTIES, (("search", "\x00"),)),
    # SPEC §4: a path that names nothing is a 404; bad credentials are a 401 on any request.
    "path-nul-in-slug": _get(("organizations", "acme\x00")),
    "path-nul-in-set-ids": _get((*OPEN_PARTIES, "set", Join(("a\x00", "b")))),
    "path-invalid-utf8": _get(("organizations", Raw("%ff"))),
    "path-newline-skips-credentials": _get(("organizations", "\n"), caller="stranger", auth="garbage",
                                           headers=(("Authorization", "Token nonsense"),)),
    # SPEC §4: hidden is missing, on any method.
    "set-options-reveals-hidden-organization": _get(("organizations", Ref("org:vault"), "members", "set"),
                                                    caller="stranger", method="OPTIONS"),
    "set-ids-propfind-reveals-hidden-organization": _get(
        ("organizations", Ref("org:vault"), "projects", "set", Join((Ref("prj:vprj"),))), caller="stranger",
        method="PROPFIND"),
}


@pytest.mark.parametrize("name", list(FOUND))
def test_found_by_fuzzing(app, world, name):
    send_and_check(app, world, FOUND[name])
