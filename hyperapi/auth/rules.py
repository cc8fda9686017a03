"""Who may do what: SPEC §3 written once, as data.

Each kind of node has a list of `Grant`s: *these permissions* go to *these principals* *when* the
entity is in *this state*. From that one table come

- the `__acl__` of a traversal node (`acl(rules, facts)`, facts being plain Python values), and
- the SQL predicate that filters a list (`sql_allows(rules, permission, identity, columns)`, where the
  same facts are columns, or constants known from the parent node).

A test draws random worlds and proves the two agree, so a list never shows what the object's own URL
would hide, nor hides what it would show.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pyramid.authorization import ALL_PERMISSIONS, Allow, Authenticated, Deny, Everyone
from sqlalchemy import and_, false, or_, true
from sqlalchemy.sql.elements import ClauseElement, ColumnElement

SUPERUSER = "role:superuser"

# SQL is built from `bool | ColumnElement` parts: a fact known from the parent node is a constant, and
# constants are folded away, so a list whose rows all share one answer gets a constant predicate
# (and the collection can skip counting rows it already knows the number of, or can't see at all).
Clause = bool | ColumnElement


class Permission(enum.StrEnum):
    VIEW = "view"  # the entity exists for this caller (otherwise 404)
    CREATE = "create"  # add a child to a collection
    EDIT = "edit"  # PUT / PATCH
    DELETE = "delete"
    ACCOUNT = "account"  # read or change what belongs to the signed-in caller


def org_principal(organization_id: int, role: str) -> str:
    return f"org:{organization_id}:{role}"


def project_principal(project_id: int, role: str) -> str:
    return f"project:{project_id}:{role}"


def user_principal(user_id: int) -> str:
    return f"user:{user_id}"


# --- conditions on the entity's state --------------------------------------------------------------


class Condition:
    def holds(self, facts: Mapping) -> bool:
        raise NotImplementedError

    def sql(self, columns: Mapping) -> Clause:
        raise NotImplementedError

    def __and__(self, other: Condition) -> Condition:
        return AllOf((self, other))


@dataclass(frozen=True)
class Is(Condition):
    """`facts[name] == value`; in SQL the fact is a column, or a constant known from the parent."""

    name: str
    value: object

    def holds(self, facts):
        return facts[self.name] == self.value

    def sql(self, columns):
        return columns[self.name] == self.value  # a constant fact gives a bool


@dataclass(frozen=True)
class AllOf(Condition):
    conditions: tuple

    def holds(self, facts):
        return all(c.holds(facts) for c in self.conditions)

    def sql(self, columns):
        return _all(c.sql(columns) for c in self.conditions)


class _Always(Condition):
    def holds(self, facts):
        return True

    def sql(self, columns):
        return True

    def __repr__(self):
        return "ALWAYS"


ALWAYS = _Always()
PUBLIC = Is("access", "public")
LIVE = Is("archived", False)
ORG_LIVE = Is("org_archived", False)
PROJECT_LIVE = Is("project_archived", False)
WRITABLE_IN_PROJECT = ORG_LIVE & PROJECT_LIVE


# --- who -------------------------------------------------------------------------------------------


class Who:
    def principals(self, facts: Mapping) -> list[str]:
        """The principals an ACL entry names for this entity."""
        raise NotImplementedError

    def sql(self, identity, columns: Mapping) -> Clause:
        """True for the rows on which this caller is one of those principals."""
        raise NotImplementedError


class _Everyone(Who):
    def principals(self, facts):
        return [Everyone]

    def sql(self, identity, columns):
        return True


class _Authenticated(Who):
    def principals(self, facts):
        return [Authenticated]

    def sql(self, identity, columns):
        return identity is not None


class _Superuser(Who):
    def principals(self, facts):
        return [SUPERUSER]

    def sql(self, identity, columns):
        return identity is not None and identity.is_superuser


class _Self(Who):
    """The user the entity belongs to (a membership, a token, a user record)."""

    def principals(self, facts):
        return [user_principal(facts["user_id"])]

    def sql(self, identity, columns):
        if identity is None:
            return False
        return columns["user_id"] == identity.user_id


@dataclass(frozen=True)
class OrgRole(Who):
    roles: tuple

    def principals(self, facts):
        return [org_principal(facts["organization_id"], role) for role in self.roles]

    def sql(self, identity, columns):
        ids = identity.organizations_with(self.roles) if identity is not None else ()
        return _in(columns["organization_id"], ids)


@dataclass(frozen=True)
class ProjectRole(Who):
    roles: tuple

    def principals(self, facts):
        return [project_principal(facts["project_id"], role) for role in self.roles]

    def sql(self, identity, columns):
        ids = identity.projects_with(self.roles) if identity is not None else ()
        return _in(columns["project_id"], ids)


def is_sql(value) -> bool:
    """A column (or mapped attribute), as opposed to a constant fact."""
    return isinstance(value, ClauseElement) or hasattr(value, "__clause_element__")


def _in(column, ids) -> Clause:
    ids = sorted(ids)
    if is_sql(column):
        return column.in_(ids) if ids else False
    return column in ids


def _all(parts) -> Clause:
    kept = []
    for part in parts:
        if part is False:
            return False
        if part is not True:
            kept.append(part)
    return and_(*kept) if len(kept) > 1 else (kept[0] if kept else True)


def _any(parts) -> Clause:
    kept = []
    for part in parts:
        if part is True:
            return True
        if part is not False:
            kept.append(part)
    return or_(*kept) if len(kept) > 1 else (kept[0] if kept else False)


def as_sql(clause: Clause) -> ColumnElement:
    if clause is True:
        return true()
    if clause is False:
        return false()
    return clause


EVERYONE = _Everyone()
AUTHENTICATED = _Authenticated()
SUPERUSER_ROLE = _Superuser()
SELF = _Self()
ORG_ADMIN = OrgRole(("admin",))
ORG_ANY = OrgRole(("admin", "member"))
MANAGER = ProjectRole(("manager",))
COLLECTOR_UP = ProjectRole(("manager", "collector"))
PROJECT_ANY = ProjectRole(("manager", "collector", "viewer"))


@dataclass(frozen=True)
class Grant:
    permissions: frozenset
    who: Who
    when: Condition = field(default=ALWAYS)


def grant(permissions: Iterable[Permission] | Permission, who: Who, when: Condition = ALWAYS) -> Grant:
    if isinstance(permissions, Permission):
        permissions = (permissions,)
    return Grant(frozenset(permissions), who, when)


# The table below reads as sentences: grant(EDIT, ORG_ADMIN, WRITABLE_IN_PROJECT).
VIEW, CREATE, EDIT, DELETE, ACCOUNT = (Permission.VIEW, Permission.CREATE, Permission.EDIT, Permission.DELETE,
                                      Permission.ACCOUNT)

# Collections exist for everyone who can see their parent: what is *in* them is filtered per row.
_OPEN_COLLECTION = [grant(VIEW, EVERYONE)]

# What collectors gather in the field (parties, resources): they add to it and change it, as admins
# and managers do; deleting it is for admins and managers (SPEC §3).
_COLLECTED_IN_PROJECT = [
    *_OPEN_COLLECTION,
    grant(CREATE, ORG_ADMIN, WRITABLE_IN_PROJECT),
    grant(CREATE, COLLECTOR_UP, WRITABLE_IN_PROJECT),
    grant(CREATE, SUPERUSER_ROLE, WRITABLE_IN_PROJECT),
]
_CHANGES_OF_COLLECTED = [
    grant(EDIT, ORG_ADMIN, WRITABLE_IN_PROJECT),
    grant(EDIT, COLLECTOR_UP, WRITABLE_IN_PROJECT),
    grant(DELETE, ORG_ADMIN, WRITABLE_IN_PROJECT),
    grant(DELETE, MANAGER, WRITABLE_IN_PROJECT),
    grant((EDIT, DELETE), SUPERUSER_ROLE, WRITABLE_IN_PROJECT),
]

RULES: dict[str, list[Grant]] = {
    # Whoever sees the parent sees these: the API root, `schema/`, `set/`, a file's `content`…
    "open": [grant(VIEW, EVERYONE)],
    # -- the caller's own things --------------------------------------------------------------------
    "account": [grant(VIEW, EVERYONE), grant((ACCOUNT, EDIT), AUTHENTICATED)],
    "login": [grant((VIEW, CREATE), EVERYONE)],
    "tokens": [grant(VIEW, EVERYONE), grant((ACCOUNT, CREATE), AUTHENTICATED)],
    "token": [grant((VIEW, ACCOUNT, DELETE), SELF)],
    # -- users ----------------------------------------------------------------------------------------
    "users": [*_OPEN_COLLECTION, grant(CREATE, SUPERUSER_ROLE)],
    "user": [grant(VIEW, AUTHENTICATED), grant(EDIT, SELF), grant((VIEW, EDIT, DELETE), SUPERUSER_ROLE)],
    # -- organizations --------------------------------------------------------------------------------
    "organizations": [*_OPEN_COLLECTION, grant(CREATE, AUTHENTICATED)],
    "organization": [
        grant(VIEW, EVERYONE, PUBLIC & LIVE),
        grant(VIEW, ORG_ANY),
        # Editing an archived organization is allowed only to un-archive it: the view checks the body.
        grant(EDIT, ORG_ADMIN),
        grant(DELETE, ORG_ADMIN, LIVE),
        grant((VIEW, EDIT), SUPERUSER_ROLE),
        grant(DELETE, SUPERUSER_ROLE, LIVE),
    ],
    "organization_members": [
        *_OPEN_COLLECTION, grant(CREATE, ORG_ADMIN, ORG_LIVE), grant(CREATE, SUPERUSER_ROLE, ORG_LIVE),
    ],
    "organization_member": [
        grant(VIEW, ORG_ANY),
        grant(VIEW, SELF),
        grant(DELETE, SELF, ORG_LIVE),  # anyone may leave
        grant((EDIT, DELETE), ORG_ADMIN, ORG_LIVE),
        grant(VIEW, SUPERUSER_ROLE),
        grant((EDIT, DELETE), SUPERUSER_ROLE, ORG_LIVE),
    ],
    # -- projects -------------------------------------------------------------------------------------
    "projects": [*_OPEN_COLLECTION, grant(CREATE, ORG_ADMIN, ORG_LIVE), grant(CREATE, SUPERUSER_ROLE, ORG_LIVE)],
    "all_projects": list(_OPEN_COLLECTION),
    "project": [
        grant(VIEW, EVERYONE, PUBLIC & LIVE),
        grant(VIEW, ORG_ANY, LIVE),
        grant(VIEW, PROJECT_ANY, LIVE),
        grant(VIEW, ORG_ADMIN),
        grant(VIEW, MANAGER),
        grant(EDIT, ORG_ADMIN, ORG_LIVE),
        grant(EDIT, MANAGER, ORG_LIVE),
        grant(DELETE, ORG_ADMIN, ORG_LIVE & LIVE),
        grant(DELETE, MANAGER, ORG_LIVE & LIVE),
        grant(VIEW, SUPERUSER_ROLE),
        grant(EDIT, SUPERUSER_ROLE, ORG_LIVE),
        grant(DELETE, SUPERUSER_ROLE, ORG_LIVE & LIVE),
    ],
    "project_members": [
        *_OPEN_COLLECTION,
        grant(CREATE, ORG_ADMIN, WRITABLE_IN_PROJECT),
        grant(CREATE, MANAGER, WRITABLE_IN_PROJECT),
        grant(CREATE, SUPERUSER_ROLE, WRITABLE_IN_PROJECT),
    ],
    "project_member": [
        grant(VIEW, ORG_ANY),
        grant(VIEW, PROJECT_ANY),
        grant(VIEW, SELF),
        grant(DELETE, SELF, WRITABLE_IN_PROJECT),
        grant((EDIT, DELETE), ORG_ADMIN, WRITABLE_IN_PROJECT),
        grant((EDIT, DELETE), MANAGER, WRITABLE_IN_PROJECT),
        grant(VIEW, SUPERUSER_ROLE),
        grant((EDIT, DELETE), SUPERUSER_ROLE, WRITABLE_IN_PROJECT),
    ],
    # -- parties: personal data, never public ---------------------------------------------------------
    "parties": list(_COLLECTED_IN_PROJECT),
    "party": [
        grant(VIEW, ORG_ANY),
        grant(VIEW, PROJECT_ANY),
        grant(VIEW, SUPERUSER_ROLE),
        *_CHANGES_OF_COLLECTED,
    ],
}

# Resources: a collection of resources exists on every organization, project and party; a resource
# is seen where it is attached (the entity above it must be visible: the security policy checks every
# ancestor) and, archived, only by those who may edit it. Under a party, the project's rules apply.
RULES.update({
    "all_resources": list(_OPEN_COLLECTION),
    "organization_resources": [
        *_OPEN_COLLECTION, grant(CREATE, ORG_ADMIN, ORG_LIVE), grant(CREATE, SUPERUSER_ROLE, ORG_LIVE),
    ],
    "organization_resource": [
        grant(VIEW, EVERYONE, LIVE),
        grant(VIEW, ORG_ADMIN),
        grant((EDIT, DELETE), ORG_ADMIN, ORG_LIVE),
        grant(VIEW, SUPERUSER_ROLE),
        grant((EDIT, DELETE), SUPERUSER_ROLE, ORG_LIVE),
    ],
    "project_resources": list(_COLLECTED_IN_PROJECT),
    "project_resource": [
        grant(VIEW, EVERYONE, LIVE),
        grant(VIEW, ORG_ADMIN),
        grant(VIEW, COLLECTOR_UP),
        grant(VIEW, SUPERUSER_ROLE),
        *_CHANGES_OF_COLLECTED,
    ],
})

RULES.update({
    "organization_resource_history": [grant(VIEW, ORG_ADMIN), grant(VIEW, SUPERUSER_ROLE)],
    "project_resource_history": [grant(VIEW, ORG_ADMIN), grant(VIEW, COLLECTOR_UP), grant(VIEW, SUPERUSER_ROLE)],
})

# History: each collection exists wherever its entity is visible; its entries are shown to those who
# may edit the entity (archived or not: un-archiving is an edit too). A deleted party is restored by
# an organization admin (or a superuser) from its project's history.
RULES.update({
    "history": list(_OPEN_COLLECTION),
    "organization_history": [grant(VIEW, ORG_ADMIN), grant(VIEW, SUPERUSER_ROLE)],
    "project_history": [
        grant(VIEW, ORG_ADMIN),
        grant(VIEW, MANAGER),
        grant(VIEW, SUPERUSER_ROLE),
        grant(CREATE, ORG_ADMIN, WRITABLE_IN_PROJECT),
        grant(CREATE, SUPERUSER_ROLE, WRITABLE_IN_PROJECT),
    ],
    "party_history": [grant(VIEW, ORG_ADMIN), grant(VIEW, COLLECTOR_UP), grant(VIEW, SUPERUSER_ROLE)],
})

DENY_ALL = (Deny, Everyone, ALL_PERMISSIONS)


def acl(rules: str, facts: Mapping) -> list[tuple]:
    """The `__acl__` of a node of this kind, in this state. It always ends in a deny-all, so nothing
    is inherited from a parent: every node decides for itself (see `security.permits`)."""
    entries = []
    for each in RULES[rules]:
        if each.when.holds(facts):
            entries.extend((Allow, principal, tuple(sorted(each.permissions)))
                           for principal in each.who.principals(facts))
    entries.append(DENY_ALL)
    return entries


def sql_allows(rules: str, permission: Permission, identity, columns: Mapping) -> ColumnElement:
    """The SQL twin of `acl`: true on exactly the rows whose ACL grants `permission` to `identity`.

    A `true()` or `false()` result means the answer is the same for every row."""
    return as_sql(_any(
        _all((each.who.sql(identity, columns), each.when.sql(columns)))
        for each in RULES[rules]
        if permission in each.permissions
    ))
