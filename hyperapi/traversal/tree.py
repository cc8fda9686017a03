"""The URL tree of SPEC §2: /api/v1/ → organizations → projects → parties, and the caller's own things."""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import select
from sqlalchemy.sql.elements import False_, True_

from ..authz import Permission, sql_allows
from ..models import Organization, OrganizationMember, Party, Project, ProjectMember, Token, User
from .base import Container, Item, Node
from .prefetch import cached


def _identity(request):
    return request.identity


# --- users and the caller --------------------------------------------------------------------------


class TokenNode(Item):
    kind = "token"
    label = "Token"

    def facts(self):
        return {"user_id": self.row.user_id}


class TokenContainer(Container):
    kind = "tokens"
    plural = "tokens"
    item_class = TokenNode

    def load(self, key):
        identity = _identity(self.request)
        if identity is None:
            return None
        return self.request.db.scalar(select(Token).where(Token.id == key, Token.user_id == identity.user_id))

    def key_of(self, row):
        return row.id

    def list_query(self, identity):
        user_id = identity.user_id if identity is not None else None
        return select(Token).where(Token.user_id == user_id)


class Login(Node):
    kind = "login"
    plural = "tokens"


class Account(Node):
    kind = "account"
    label = "Account"
    children = {"login": Login, "tokens": TokenContainer}


class UserNode(Item):
    kind = "user"
    label = "User"

    def facts(self):
        return {"user_id": self.row.id}


class UserContainer(Container):
    kind = "users"
    plural = "users"
    item_class = UserNode

    def load(self, key):
        return self.request.db.scalar(select(User).where(User.username == key))

    def key_of(self, row):
        return row.username

    def list_query(self, identity):
        return select(User).where(sql_allows("user", Permission.VIEW, identity, {"user_id": User.id}))


# --- members (of an organization or of a project) ---------------------------------------------------


class Member(Item):
    """Wraps a (membership, user) pair."""

    label = "Member"

    @property
    def membership(self):
        return self.row[0]

    @property
    def record(self):
        return self.row[0]

    @property
    def user(self):
        return self.row[1]


class OrganizationMemberNode(Member):
    kind = "organization_member"

    def facts(self):
        return {**self.__parent__.facts(), "user_id": self.membership.user_id}


class ProjectMemberNode(Member):
    kind = "project_member"

    def facts(self):
        return {**self.__parent__.facts(), "user_id": self.membership.user_id}


class Members(Container):
    """The memberships of an organization or a project, each with its user."""

    plural = "members"
    model: ClassVar[type]  # OrganizationMember or ProjectMember
    scope: ClassVar[str]  # its column naming the organization or project

    def scope_condition(self):
        return getattr(self.model, self.scope) == self.__parent__.row.id

    def _select(self):
        return select(self.model, User).join(User, self.model.user_id == User.id).where(self.scope_condition())

    def load(self, key):
        return self.request.db.execute(self._select().where(User.username == key)).first()

    def key_of(self, row):
        return row[1].username

    def wrap_result(self, result_row):
        return self.wrap(tuple(result_row))

    def list_query(self, identity):
        columns = {**self.facts(), "user_id": self.model.user_id}
        return self._select().where(sql_allows(self.item_class.kind, Permission.VIEW, identity, columns))


class OrganizationMembers(Members):
    kind = "organization_members"
    item_class = OrganizationMemberNode
    model = OrganizationMember
    scope = "organization_id"

    @property
    def organization(self) -> Organization:
        return self.__parent__.row

    def facts(self):
        org = self.organization
        return {"organization_id": org.id, "org_archived": org.archived}


class ProjectMembers(Members):
    kind = "project_members"
    item_class = ProjectMemberNode
    model = ProjectMember
    scope = "project_id"

    @property
    def project(self) -> Project:
        return self.__parent__.row

    def facts(self):
        return self.__parent__.child_facts()


# --- parties ----------------------------------------------------------------------------------------


class PartyNode(Item):
    kind = "party"
    label = "Party"

    def facts(self):
        return {**self.__parent__.facts(), "archived": self.row.archived}


class PartyContainer(Container):
    kind = "parties"
    plural = "parties"
    item_class = PartyNode

    @property
    def project(self) -> Project:
        return self.__parent__.row

    def facts(self):
        return self.__parent__.child_facts()

    def load(self, key):
        project_id = self.project.id
        return cached(self.request, ("party", project_id, key), lambda: self.request.db.scalar(
            select(Party).where(Party.project_id == project_id, Party.id == key)))

    def key_of(self, row):
        return row.id

    def visibility(self, identity):
        # The project is a constant here (the list is scoped to it), so for a caller who sees all of
        # its parties, or none, the predicate folds to true() or false().
        return sql_allows("party", Permission.VIEW, identity, {**self.facts(), "archived": Party.archived})

    def list_query(self, identity):
        return select(Party).where(Party.project_id == self.project.id).where(self.visibility(identity))

    def known_total(self, identity):
        visibility = self.visibility(identity)
        if isinstance(visibility, False_):
            return 0
        if isinstance(visibility, True_):
            return self.project.party_count
        return None


# --- projects ---------------------------------------------------------------------------------------


class ProjectNode(Item):
    kind = "project"
    label = "Project"
    children = {"members": ProjectMembers, "parties": PartyContainer}

    @property
    def organization(self) -> Organization:
        return self.__parent__.organization

    def facts(self):
        project = self.row
        return {
            "organization_id": project.organization_id,
            "project_id": project.id,
            "access": project.access,
            "archived": project.archived,
            "org_archived": self.organization.archived,
        }

    def child_facts(self):
        """What the collections under a project know about where they are."""
        return {
            "organization_id": self.row.organization_id,
            "project_id": self.row.id,
            "org_archived": self.organization.archived,
            "project_archived": self.row.archived,
        }


def project_columns(org_archived):
    return {
        "organization_id": Project.organization_id,
        "project_id": Project.id,
        "access": Project.access,
        "archived": Project.archived,
        "org_archived": org_archived,
    }


def organization_columns():
    return {"organization_id": Organization.id, "access": Organization.access, "archived": Organization.archived}


class ProjectContainer(Container):
    kind = "projects"
    plural = "projects"
    item_class = ProjectNode

    @property
    def organization(self) -> Organization:
        return self.__parent__.row

    def facts(self):
        org = self.organization
        return {"organization_id": org.id, "org_archived": org.archived}

    def load(self, key):
        org_id = self.organization.id
        return cached(self.request, ("project", org_id, key), lambda: self.request.db.scalar(
            select(Project).where(Project.organization_id == org_id, Project.slug == key)))

    def key_of(self, row):
        return row.slug

    def list_query(self, identity):
        return (
            select(Project)
            .where(Project.organization_id == self.organization.id)
            .where(sql_allows("project", Permission.VIEW, identity, project_columns(self.organization.archived)))
        )


class AllProjects(Container):
    """/projects/: every project the caller may see, under organizations the caller may see."""

    kind = "all_projects"
    plural = "projects"
    item_class = ProjectNode

    def load(self, key):
        return None  # the canonical URL of a project is nested under its organization

    def wrap_result(self, result_row):
        """Give each listed project its real place in the tree, so its links are its nested URLs."""
        project, organization = result_row
        organizations = self.__parent__["organizations"]
        org_node = organizations.wrap(organization)
        return org_node["projects"].wrap(project)

    def list_query(self, identity):
        return (
            select(Project, Organization)
            .join(Organization, Project.organization_id == Organization.id)
            .where(sql_allows("organization", Permission.VIEW, identity, organization_columns()))
            .where(sql_allows("project", Permission.VIEW, identity, project_columns(Organization.archived)))
        )


# --- organizations ---------------------------------------------------------------------------------


class OrganizationNode(Item):
    kind = "organization"
    label = "Organization"
    children = {"members": OrganizationMembers, "projects": ProjectContainer}

    def facts(self):
        org = self.row
        return {"organization_id": org.id, "access": org.access, "archived": org.archived}


class OrganizationContainer(Container):
    kind = "organizations"
    plural = "organizations"
    item_class = OrganizationNode

    def load(self, key):
        return cached(self.request, ("organization", key), lambda: self.request.db.scalar(
            select(Organization).where(Organization.slug == key)))

    def key_of(self, row):
        return row.slug

    def list_query(self, identity):
        return select(Organization).where(
            sql_allows("organization", Permission.VIEW, identity, organization_columns())
        )


# --- the top ---------------------------------------------------------------------------------------


class ApiRoot(Node):
    kind = "api"
    label = "API"
    children = {
        "account": Account,
        "users": UserContainer,
        "organizations": OrganizationContainer,
        "projects": AllProjects,
    }


class ApiVersions(Node):
    kind = "api"
    children = {"v1": ApiRoot}


class SiteRoot(Node):
    kind = "api"
    children = {"api": ApiVersions}

    def __init__(self, request):
        super().__init__(request, "", None)
