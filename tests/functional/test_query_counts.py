"""How many SQL statements a request runs: fixed, whatever the page size or the caller's memberships.

- A party's URL, read by a signed-in caller, runs a small fixed number of statements (pinned below:
  change the number on purpose, never to make a failure go away).
- A page of 100 runs exactly as many statements as a page of 5 (no query per listed object), for
  parties, organizations, the flat /projects/ list and both members lists.
- Neither grows with the number of memberships the caller has (they are loaded once, in one query).

Each measured request is preceded by the same request unmeasured: a token's `last_used` is written at
most once a minute, and that write is not what is measured here. Statements of the test harness
(savepoints) are not counted (see `QueryRecorder`).
"""

from __future__ import annotations

import pytest

from hyperapi.models import Organization, OrganizationMember, Party, Project, ProjectMember, User

from ..support.api import API, party_url, project_url
from ..support.factory import PASSWORD_HASH

# Statements of GET party/{id}/ for a signed-in caller, as the implementation runs them today.
PARTY_GET_QUERIES = 3


def listing(statements: list[str]) -> str:
    return "\n".join(f"[{i}] {' '.join(s.split())}" for i, s in enumerate(statements, 1))


def measure(query_recorder, caller, url: str, status: int = 200):
    """(response, statements) of one GET, after the same GET once unmeasured."""
    caller.get(url)
    with query_recorder() as q:
        response = caller.get(url)
    assert response.status_int == status, response.text
    return response, list(q.statements)


def assert_same_count(query_recorder, caller, url: str, small: int = 5, large: int = 100) -> int:
    """A page of `large` objects runs as many statements as a page of `small`; returns that number."""
    sep = "&" if "?" in url else "?"
    few, few_statements = measure(query_recorder, caller, f"{url}{sep}limit={small}")
    many, many_statements = measure(query_recorder, caller, f"{url}{sep}limit={large}")
    assert len(few.json["objects"]) == small, few.json["meta"]
    assert len(many.json["objects"]) == large, many.json["meta"]
    assert len(many_statements) == len(few_statements), (
        f"{url}: limit={large} ran {len(many_statements)} statements, limit={small} ran {len(few_statements)}\n"
        f"--- limit={small} ---\n{listing(few_statements)}\n--- limit={large} ---\n{listing(many_statements)}"
    )
    return len(few_statements)


def bulk(db, rows):
    db.add_all(rows)
    db.flush()
    db.commit()
    return rows


def users(db, prefix: str, n: int) -> list[User]:
    return bulk(db, [User(username=f"{prefix}{i:03d}", full_name=f"User {i}", password_hash=PASSWORD_HASH)
                     for i in range(n)])


@pytest.fixture
def world(factory):
    """A public organization with a private project of 105 parties, and callers of each kind."""
    org = factory.org("terra")
    project = factory.project(org, "kampala", access="private")
    parties = bulk(factory.db, [Party(project_id=project.id, name=f"Party {i:03d}", type="IN") for i in range(105)])
    admin, collector, member, root = (factory.user(n) for n in ("admin", "collector", "member", "root"))
    root.is_superuser = True
    factory.db.commit()
    factory.org_member(org, admin, "admin")
    factory.org_member(org, member, "member")
    factory.project_member(project, collector, "collector")
    return {"org": org, "project": project, "parties": parties,
            "callers": {"admin": admin, "collector": collector, "member": member, "root": root}}


# --- (a) one object ------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "collector", "member", "root"])
def test_party_get_runs_a_fixed_number_of_queries(client, factory, query_recorder, world, who):
    caller = client.as_(factory.key(world["callers"][who]))
    url = party_url(world["org"], world["project"], world["parties"][0])
    response, statements = measure(query_recorder, caller, url)
    assert response.json["resource_uri"] == url
    assert len(statements) == PARTY_GET_QUERIES, (
        f"GET {url} as {who} ran {len(statements)} statements, expected {PARTY_GET_QUERIES}:\n{listing(statements)}"
    )


# --- (b) a page of 100 costs what a page of 5 costs ------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "collector", "member", "root"])
def test_parties_list(client, factory, query_recorder, world, who):
    url = f"{project_url(world['org'], world['project'])}parties/"
    assert_same_count(query_recorder, client.as_(factory.key(world["callers"][who])), url)


def test_parties_list_filtered_searched_ordered(client, factory, query_recorder, world):
    url = f"{project_url(world['org'], world['project'])}parties/?search=party&ordering=-name&type=IN"
    assert_same_count(query_recorder, client.as_(factory.key(world["callers"]["admin"])), url)


# The superuser sees everything whatever the rules; the member sees the objects through memberships.
@pytest.mark.parametrize("who", ["superuser", "member"])
def test_organizations_list(client, factory, query_recorder, who):
    db = factory.db
    orgs = bulk(db, [Organization(slug=f"org-{i:03d}", name=f"Org {i:03d}", access=("public", "private")[i % 2])
                     for i in range(105)])
    caller = factory.user("caller", superuser=(who == "superuser"))
    bulk(db, [OrganizationMember(organization_id=org.id, user_id=caller.id, role="member") for org in orgs[1::2]])
    assert_same_count(query_recorder, client.as_(factory.key(caller)), f"{API}/organizations/")


@pytest.mark.parametrize("who", ["superuser", "viewer"])
def test_flat_projects_list(client, factory, query_recorder, who):
    db = factory.db
    orgs = bulk(db, [Organization(slug=f"org-{i}", name=f"Org {i}", access="public") for i in range(7)])
    projects = bulk(db, [Project(organization_id=orgs[i % 7].id, slug=f"prj-{i:03d}", name=f"Project {i:03d}",
                                 access=("public", "private")[i % 2]) for i in range(105)])
    caller = factory.user("caller", superuser=(who == "superuser"))
    bulk(db, [ProjectMember(project_id=p.id, user_id=caller.id, role="viewer") for p in projects[1::2]])
    assert_same_count(query_recorder, client.as_(factory.key(caller)), f"{API}/projects/")


@pytest.mark.parametrize("who", ["admin", "member", "root"])
def test_organization_members_list(client, factory, query_recorder, world, who):
    db, org = factory.db, world["org"]
    bulk(db, [OrganizationMember(organization_id=org.id, user_id=u.id, role="member") for u in users(db, "m", 105)])
    url = f"{API}/organizations/{org.slug}/members/"
    assert_same_count(query_recorder, client.as_(factory.key(world["callers"][who])), url)


@pytest.mark.parametrize("who", ["admin", "collector", "member", "root"])
def test_project_members_list(client, factory, query_recorder, world, who):
    db, project = factory.db, world["project"]
    bulk(db, [ProjectMember(project_id=project.id, user_id=u.id, role="viewer") for u in users(db, "v", 105)])
    url = f"{project_url(world['org'], project)}members/"
    assert_same_count(query_recorder, client.as_(factory.key(world["callers"][who])), url)


# --- (c) the caller's memberships are loaded once, whatever their number ---------------------------


def test_counts_do_not_grow_with_the_callers_memberships(client, factory, query_recorder, world):
    db, org, project = factory.db, world["org"], world["project"]
    few = factory.user("few")
    factory.org_member(org, few, "member")
    many = factory.user("many")
    factory.org_member(org, many, "member")
    factory.project_member(project, many, "viewer")
    others = bulk(db, [Organization(slug=f"other-{i:03d}", name=f"Other {i:03d}", access="private")
                       for i in range(60)])
    other_projects = bulk(db, [Project(organization_id=o.id, slug="p", name="P", access="private") for o in others])
    bulk(db, [OrganizationMember(organization_id=o.id, user_id=many.id, role=("admin", "member")[i % 2])
              for i, o in enumerate(others)])
    bulk(db, [ProjectMember(project_id=p.id, user_id=many.id, role=("manager", "collector", "viewer")[i % 3])
              for i, p in enumerate(other_projects)])

    few_caller, many_caller = client.as_(factory.key(few)), client.as_(factory.key(many))
    prj = project_url(org, project)
    urls = [
        party_url(org, project, world["parties"][0]),
        f"{prj}parties/?limit=100",
        f"{prj}members/?limit=100",
        f"{API}/organizations/{org.slug}/members/?limit=100",
        f"{API}/organizations/?limit=100",
        f"{API}/projects/?limit=100",
        f"{API}/organizations/{org.slug}/",
        prj,
    ]
    for url in urls:
        _, few_statements = measure(query_recorder, few_caller, url)
        _, many_statements = measure(query_recorder, many_caller, url)
        assert len(many_statements) == len(few_statements), (
            f"{url}: {len(many_statements)} statements for a caller with 122 memberships, "
            f"{len(few_statements)} for one with 1\n--- 1 membership ---\n{listing(few_statements)}\n"
            f"--- 122 memberships ---\n{listing(many_statements)}"
        )
