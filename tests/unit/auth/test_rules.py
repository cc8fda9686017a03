"""The rule table on its own: for every kind of node, every permission and every kind of caller, the
ACL a node gets (`acl`) and the SQL predicate that filters a list (`sql_allows`) give the same answer.

Twice: with the facts known as constants (as a container knows its parent's), where the predicate
must fold to `true()` or `false()` without any query; and with the facts as columns, evaluated by
SQLite in memory over every combination of facts. No app, no test database.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa
from pyramid.authorization import ACLHelper, Authenticated, Everyone
from sqlalchemy.sql.elements import False_, True_

from hyperapi.auth.rules import (
    DENY_ALL,
    RULES,
    SUPERUSER,
    Permission,
    acl,
    org_principal,
    project_principal,
    sql_allows,
    user_principal,
)

ORG, OTHER_ORG = 1, 2
PROJECT, OTHER_PROJECT = 10, 20
ME, SOMEONE_ELSE = 100, 200

# Every fact a rule may read, each with a value that matches the callers below and one that does not.
FACTS = {
    "organization_id": (ORG, OTHER_ORG),
    "project_id": (PROJECT, OTHER_PROJECT),
    "user_id": (ME, SOMEONE_ELSE),
    "access": ("public", "private"),
    "archived": (False, True),
    "org_archived": (False, True),
    "project_archived": (False, True),
}
WORLDS = [dict(zip(FACTS, values, strict=True)) for values in itertools.product(*FACTS.values())]


@dataclass
class Caller:
    """What `sql_allows` asks of an identity, and the principals the security policy gives it."""

    user_id: int
    is_superuser: bool = False
    org_roles: dict[int, str] = field(default_factory=dict)
    project_roles: dict[int, str] = field(default_factory=dict)

    def organizations_with(self, roles) -> set[int]:
        return {org for org, role in self.org_roles.items() if role in roles}

    def projects_with(self, roles) -> set[int]:
        return {project for project, role in self.project_roles.items() if role in roles}

    def principals(self) -> list[str]:
        return [Everyone, Authenticated, user_principal(self.user_id),
                *([SUPERUSER] if self.is_superuser else []),
                *(org_principal(org, role) for org, role in self.org_roles.items()),
                *(project_principal(project, role) for project, role in self.project_roles.items())]


CALLERS = {
    "anonymous": None,
    "signed in": Caller(ME),
    "superuser": Caller(ME, is_superuser=True),
    "org admin": Caller(ME, org_roles={ORG: "admin"}),
    "org member": Caller(ME, org_roles={ORG: "member"}),
    "manager": Caller(ME, project_roles={PROJECT: "manager"}),
    "collector": Caller(ME, project_roles={PROJECT: "collector"}),
    "viewer": Caller(ME, project_roles={PROJECT: "viewer"}),
    "org member and collector": Caller(ME, org_roles={ORG: "member"}, project_roles={PROJECT: "collector"}),
    "roles elsewhere": Caller(ME, org_roles={OTHER_ORG: "admin"}, project_roles={OTHER_PROJECT: "manager"}),
}


class Node:
    def __init__(self, entries):
        self.entries = entries

    def __acl__(self):
        return self.entries


def permits(node: Node, permission: Permission, caller: Caller | None) -> bool:
    """Pyramid's own reading of an ACL."""
    principals = caller.principals() if caller is not None else [Everyone]
    return bool(ACLHelper().permits(node, principals, permission))


def acl_allows(kind: str, facts: dict, permission: Permission, caller: Caller | None) -> bool:
    return permits(Node(acl(kind, facts)), permission, caller)


def describe(world: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in world.items())


@pytest.mark.parametrize("kind", sorted(RULES))
def test_acl_and_sql_agree_on_constant_facts(kind):
    disagreements = []
    for world in WORLDS:
        node = Node(acl(kind, world))
        for permission, (who, caller) in itertools.product(Permission, CALLERS.items()):
            predicate = sql_allows(kind, permission, caller, world)
            assert isinstance(predicate, (True_, False_)), f"constant facts gave a SQL expression: {predicate}"
            if isinstance(predicate, True_) != permits(node, permission, caller):
                disagreements.append(f"{permission} for {who} where {describe(world)}: SQL says {predicate}")
    assert not disagreements, "\n".join(disagreements[:20])


@pytest.fixture(scope="module")
def facts_table():
    """Every world as a row of a table in an in-memory SQLite database."""
    engine = sa.create_engine("sqlite://")
    metadata = sa.MetaData()
    types = {int: sa.Integer, str: sa.String, bool: sa.Boolean}
    table = sa.Table("facts", metadata, sa.Column("n", sa.Integer, primary_key=True),
                     *(sa.Column(name, types[type(values[0])]) for name, values in FACTS.items()))
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(table.insert(), [{"n": n, **world} for n, world in enumerate(WORLDS)])
    with engine.connect() as connection:
        yield connection, table
    engine.dispose()


@pytest.mark.parametrize("kind", sorted(RULES))
def test_acl_and_sql_agree_on_facts_in_columns(kind, facts_table):
    connection, table = facts_table
    columns = {name: table.c[name] for name in FACTS}
    disagreements = []
    nodes = [Node(acl(kind, world)) for world in WORLDS]
    for permission, (who, caller) in itertools.product(Permission, CALLERS.items()):
        selected = set(connection.scalars(sa.select(table.c.n).where(sql_allows(kind, permission, caller, columns))))
        allowed = {n for n, node in enumerate(nodes) if permits(node, permission, caller)}
        for n in sorted(selected ^ allowed):
            disagreements.append(f"{permission} for {who} where {describe(WORLDS[n])}: "
                                 f"{'SQL only' if n in selected else 'ACL only'}")
    assert not disagreements, "\n".join(disagreements[:20])


@pytest.mark.parametrize("kind", sorted(RULES))
def test_every_acl_ends_in_a_deny_all(kind):
    """Nothing is inherited from a parent: every node decides for itself."""
    for world in WORLDS:
        entries = acl(kind, world)
        assert entries[-1] == DENY_ALL
        assert DENY_ALL not in entries[:-1]


def test_the_rules_name_only_known_permissions():
    for kind, grants in RULES.items():
        for grant in grants:
            assert grant.permissions and grant.permissions <= set(Permission), (kind, grant)


PUBLIC_LIVE = {"organization_id": ORG, "project_id": PROJECT, "user_id": SOMEONE_ELSE, "access": "public",
               "archived": False, "org_archived": False, "project_archived": False}


@pytest.mark.parametrize("kind", ["party", "party_history", "organization_history", "project_history"])
def test_personal_data_and_history_are_never_public(kind):
    assert not acl_allows(kind, PUBLIC_LIVE, Permission.VIEW, None)
    assert not acl_allows(kind, PUBLIC_LIVE, Permission.VIEW, CALLERS["signed in"])
    assert isinstance(sql_allows(kind, Permission.VIEW, None, PUBLIC_LIVE), False_)


def test_an_archived_public_organization_is_hidden_from_the_public_but_not_from_its_members():
    archived = {**PUBLIC_LIVE, "archived": True}
    assert acl_allows("organization", PUBLIC_LIVE, Permission.VIEW, None)
    assert not acl_allows("organization", archived, Permission.VIEW, None)
    assert acl_allows("organization", archived, Permission.VIEW, CALLERS["org member"])
    # An archived organization can be edited (to un-archive it) but deleted by nobody.
    assert acl_allows("organization", archived, Permission.EDIT, CALLERS["org admin"])
    for caller in ("org admin", "superuser"):
        assert not acl_allows("organization", archived, Permission.DELETE, CALLERS[caller])


@pytest.mark.parametrize("kind,writers", [
    ("parties", ("org admin", "manager", "collector", "superuser")),
    ("project_resources", ("org admin", "manager", "collector", "superuser")),
    ("project_members", ("org admin", "manager", "superuser")),
])
def test_nothing_is_added_in_an_archived_organization(kind, writers):
    frozen = {**PUBLIC_LIVE, "org_archived": True}
    for caller in writers:
        assert acl_allows(kind, PUBLIC_LIVE, Permission.CREATE, CALLERS[caller]), caller
        assert not acl_allows(kind, frozen, Permission.CREATE, CALLERS[caller]), caller
        assert isinstance(sql_allows(kind, Permission.CREATE, CALLERS[caller], frozen), False_)


def test_only_the_owner_of_a_token_may_see_it():
    mine = {**PUBLIC_LIVE, "user_id": ME}
    assert acl_allows("token", mine, Permission.VIEW, CALLERS["signed in"])
    assert not acl_allows("token", PUBLIC_LIVE, Permission.VIEW, CALLERS["signed in"])
    assert not acl_allows("token", PUBLIC_LIVE, Permission.VIEW, CALLERS["superuser"])


def test_columns_give_a_predicate_and_constants_fold_it_away():
    project = sa.table("projects", sa.column("id"), sa.column("access"), sa.column("archived"))
    columns = {**PUBLIC_LIVE, "project_id": project.c.id, "access": project.c.access,
               "archived": project.c.archived}
    predicate = sql_allows("project", Permission.VIEW, CALLERS["viewer"], columns)
    assert not isinstance(predicate, (True_, False_))
    assert {c.name for c in predicate._from_objects[0].c} >= {"id", "access", "archived"}
    # A superuser sees every project, whatever its columns say.
    assert isinstance(sql_allows("project", Permission.VIEW, CALLERS["superuser"], columns), True_)
