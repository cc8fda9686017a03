"""SQL statements per list request with the query language in play (SPEC §5), on 500+ rows.

- A page of 500 runs exactly as many statements as a page of 5: no statement per listed object,
  whatever the filter (also one that follows relations), `read_write=w` or inlining.
- Inlining (`depth=2`, `depth=1` on members) adds at most a fixed number of statements, pinned below
  as the implementation runs them today: change a number on purpose, never to make a failure go away.

Each measured request is preceded by the same request unmeasured: a token's `last_used` is written at
most once a minute, and that write is not what is measured. Savepoints of the harness are not counted.
"""

from __future__ import annotations

import datetime

import pytest
import sqlalchemy as sa

from hyperapi.models import Organization, OrganizationMember, Party, Project, User
from hyperapi.models.meta import random_id

from ..support.api import API, org_url, project_url
from ..support.factory import PASSWORD_HASH

ROWS = 520
SMALL, LARGE = 5, 500
T0 = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)

# Statements per request as the implementation runs them today (SQLite and PostgreSQL alike): the
# token with its user, the caller's memberships, the parents of the collection (one statement for
# organization and project), a count unless the total is known, and the page.
EXPECTED = {
    "parties depth=0": 4,  # the total is the project's party_count: no count
    "parties depth=2": 4,  # project and organization are the parents already loaded
    "parties read_write=w": 5,
    "parties filtered": 5,
    "projects depth=0": 4,
    "projects depth=2": 4,  # each project comes with its organization in the same row
    "projects related": 4,
    "projects read_write=w": 4,
    "users related": 4,
    "members depth=0": 5,
    "members depth=1": 5,  # users come joined to their memberships
    "members read_write=w": 5,
}
# The most statements inlining may add to a list, whatever the page size.
MAX_INLINING_COST = 2


def listing(statements: list[str]) -> str:
    return "\n".join(f"[{i}] {' '.join(s.split())}" for i, s in enumerate(statements, 1))


def measure(query_recorder, caller, url: str):
    """(response, statements) of one GET, after the same GET once unmeasured."""
    caller.get(url)
    with query_recorder() as recorder:
        response = caller.get(url)
    assert response.status_int == 200, response.text[:2000]
    return response, list(recorder.statements)


def with_limit(url: str, limit: int) -> str:
    return f"{url}{'&' if '?' in url else '?'}limit={limit}"


def page_costs(query_recorder, caller, url: str, key: str, expected_objects: int = LARGE) -> int:
    """Statements of `url` with limit=5 and limit=500: equal, and equal to EXPECTED[key]."""
    few, few_statements = measure(query_recorder, caller, with_limit(url, SMALL))
    many, many_statements = measure(query_recorder, caller, with_limit(url, LARGE))
    assert len(few.json["objects"]) == SMALL, few.json["meta"]
    assert len(many.json["objects"]) == expected_objects, many.json["meta"]
    assert len(many_statements) == len(few_statements), (
        f"{url}: limit={LARGE} ran {len(many_statements)} statements, limit={SMALL} ran {len(few_statements)}\n"
        f"--- limit={SMALL} ---\n{listing(few_statements)}\n--- limit={LARGE} ---\n{listing(many_statements)}"
    )
    expected = EXPECTED[key]
    assert len(few_statements) == expected, (
        f"{url}: {len(few_statements)} statements, expected {expected} ({key!r})\n{listing(few_statements)}"
    )
    return len(few_statements)


def inlining_costs(query_recorder, caller, url: str, key: str, depth: int) -> None:
    """depth=0 and depth=`depth` each cost the same for 5 and 500 objects; inlining adds a fixed few."""
    sep = "&" if "?" in url else "?"
    plain = page_costs(query_recorder, caller, f"{url}{sep}depth=0", f"{key} depth=0")
    inlined = page_costs(query_recorder, caller, f"{url}{sep}depth={depth}", f"{key} depth={depth}")
    assert plain <= inlined <= plain + MAX_INLINING_COST, (url, plain, inlined)
    _, statements = measure(query_recorder, caller, with_limit(f"{url}{sep}depth={depth}", LARGE))
    assert len(statements) == inlined, listing(statements)


def insert(db, model, rows: list[dict]) -> None:
    db.execute(sa.insert(model), rows)
    db.commit()


@pytest.fixture
def big(factory):
    """terra (public) with the private project kampala of 520 parties, 520 members of terra, and
    520 public projects spread over 8 more organizations. ada: terra admin; mo: terra member; col:
    collector of kampala; root: superuser."""
    db = factory.db
    terra = factory.org("terra")
    kampala = factory.project(terra, "kampala", access="private")
    insert(db, Party, [
        {"id": random_id(), "project_id": kampala.id, "name": f"Party {i:04d}", "type": ("IN", "GR", "CO")[i % 3],
         "created": T0 + datetime.timedelta(minutes=i), "last_updated": T0, "version": 1}
        for i in range(ROWS)
    ])
    insert(db, User, [
        {"username": f"u{i:04d}", "full_name": f"User {i}", "password_hash": PASSWORD_HASH,
         "created": T0, "last_updated": T0, "version": 1}
        for i in range(ROWS)
    ])
    member_ids = db.scalars(sa.select(User.id).where(User.username.like("u%"))).all()
    insert(db, OrganizationMember, [
        {"organization_id": terra.id, "user_id": user_id, "role": "member", "created": T0, "last_updated": T0,
         "version": 1}
        for user_id in member_ids
    ])
    insert(db, Organization, [
        {"slug": f"org-{i}", "name": f"Org {i}", "access": "public", "created": T0, "last_updated": T0, "version": 1}
        for i in range(8)
    ])
    org_ids = db.scalars(sa.select(Organization.id).where(Organization.slug.like("org-%"))).all()
    insert(db, Project, [
        {"organization_id": org_ids[i % len(org_ids)], "slug": f"prj-{i:04d}", "name": f"Project {i:04d}",
         "access": "public", "created": T0, "last_updated": T0, "version": 1}
        for i in range(ROWS)
    ])
    users = {name: factory.user(name) for name in ("ada", "mo", "col", "root")}
    users["root"].is_superuser = True
    db.commit()
    factory.org_member(terra, users["ada"], "admin")
    factory.org_member(terra, users["mo"], "member")
    factory.project_member(kampala, users["col"], "collector")
    # ada administers every other organization too, so `read_write=w` on /projects/ lists 520 of them.
    insert(db, OrganizationMember, [
        {"organization_id": org_id, "user_id": users["ada"].id, "role": "admin", "created": T0, "last_updated": T0,
         "version": 1}
        for org_id in org_ids
    ])
    return {"terra": terra, "kampala": kampala, "users": users}


@pytest.fixture
def caller(client, factory, big):
    def as_(name):
        return client.as_(factory.key(big["users"][name]))
    return as_


def parties(big) -> str:
    return f"{project_url(big['terra'], big['kampala'])}parties/"


# --- parties ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["ada", "mo", "col", "root"])
def test_parties_page_size_and_depth(query_recorder, caller, big, who):
    inlining_costs(query_recorder, caller(who), parties(big), "parties", depth=2)


@pytest.mark.parametrize("who", ["ada", "col", "root"])
def test_parties_read_write(query_recorder, caller, big, who):
    page_costs(query_recorder, caller(who), parties(big) + "?read_write=w", "parties read_write=w")


def test_parties_read_write_for_a_member_who_may_change_none(query_recorder, caller, big):
    response, statements = measure(query_recorder, caller("mo"), parties(big) + "?read_write=w&limit=500")
    assert response.json["objects"] == []
    _, few = measure(query_recorder, caller("mo"), parties(big) + "?read_write=w&limit=5")
    assert len(statements) == len(few), listing(statements)


def test_parties_filtered_searched_ordered(query_recorder, caller, big):
    url = parties(big) + ("?search=party&name__istartswith=PARTY&type__in=IN,GR,CO&created__gte=2024-01-01"
                          "&ordering=-created")
    page_costs(query_recorder, caller("ada"), url, "parties filtered")


# --- the flat projects list ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["ada", "mo", "root"])
def test_projects_page_size_and_depth(query_recorder, caller, big, who):
    inlining_costs(query_recorder, caller(who), f"{API}/projects/?ordering=slug", "projects", depth=2)


def test_projects_related_filter(query_recorder, caller, big):
    url = f"{API}/projects/?organization__slug__in=org-0,org-1,org-2,org-3,org-4,org-5,org-6,org-7"
    page_costs(query_recorder, caller("mo"), url, "projects related")


def test_projects_read_write(query_recorder, caller, big):
    page_costs(query_recorder, caller("ada"), f"{API}/projects/?read_write=w", "projects read_write=w")


# --- users by a filter across two relations; members inlined ------------------------------------------


@pytest.mark.parametrize("who", ["mo", "root"])
def test_users_filtered_across_two_relations(query_recorder, caller, big, who):
    url = f"{API}/users/?memberships__organization__slug=terra&memberships__role=member"
    page_costs(query_recorder, caller(who), url, "users related")
    url = f"{API}/users/?memberships__organization__slug=terra&read_write=w"
    response, statements = measure(query_recorder, caller(who), with_limit(url, LARGE))
    _, few = measure(query_recorder, caller(who), with_limit(url, SMALL))
    assert len(statements) == len(few), listing(statements)


@pytest.mark.parametrize("who", ["ada", "mo"])
def test_members_page_size_and_depth(query_recorder, caller, big, who):
    inlining_costs(query_recorder, caller(who), f"{org_url(big['terra'])}members/", "members", depth=1)


def test_members_related_filter_and_read_write(query_recorder, caller, big):
    url = f"{org_url(big['terra'])}members/?user__full_name__istartswith=user&read_write=w"
    page_costs(query_recorder, caller("ada"), url, "members read_write=w")
