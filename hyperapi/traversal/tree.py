"""The URL tree of SPEC §2: /api/v1/ → organizations → projects → parties, and the caller's own things."""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import select
from sqlalchemy.sql.elements import False_, True_

from ..auth import visibility
from ..auth.rules import Permission
from ..models import Organization, OrganizationMember, Party, Project, ProjectMember, Token, User
from .base import CollectionSchema, Container, Item, Node
from .history import OrganizationHistory, PartyHistory, ProjectHistory
from .prefetch import cached
from .resources import AllResources, OrganizationResources, PartyResources, ProjectResources

# --- users and the caller --------------------------------------------------------------------------


class TokenNode(Item):
    rules = "token"
    label = "Token"

    def facts(self):
        return {"user_id": self.row.user_id}


class TokenContainer(Container):
    rules = "tokens"
    plural = "tokens"
    item_class = TokenNode

    key_column = Token.id

    def key_of(self, row):
        return row.id

    def base_query(self):
        # /account/tokens/ means the caller's own tokens, even for a superuser.
        identity = self.request.identity
        return select(Token).where(Token.user_id == (identity.user_id if identity is not None else None))

    def rule_columns(self):
        return {"user_id": Token.user_id}


class Login(Node):
    rules = "login"
    plural = "tokens"


class Account(Node):
    rules = "account"
    label = "Account"
    children = {"login": Login, "tokens": TokenContainer}


class UserNode(Item):
    rules = "user"
    label = "User"
    param = "username"

    def facts(self):
        return {"user_id": self.row.id}


class UserContainer(Container):
    rules = "users"
    plural = "users"
    item_class = UserNode

    key_column = User.username

    def key_of(self, row):
        return row.username

    def base_query(self):
        return select(User)

    def rule_columns(self):
        return {"user_id": User.id}


# --- members (of an organization or of a project) ---------------------------------------------------


class Member(Item):
    """Wraps a (membership, user) pair."""

    label = "Member"
    param = "username"

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
    rules = "organization_member"

    def facts(self):
        return {**self.__parent__.facts(), "user_id": self.membership.user_id}


class ProjectMemberNode(Member):
    rules = "project_member"

    def facts(self):
        return {**self.__parent__.facts(), "user_id": self.membership.user_id}


class Members(Container):
    """The memberships of an organization or a project, each with its user."""

    plural = "members"
    model: ClassVar[type]  # OrganizationMember or ProjectMember
    scope: ClassVar[str]  # its column naming the organization or project
    parent_field: ClassVar[str]  # how a membership names what it is a membership of

    key_column = User.username

    def base_query(self):
        scope = getattr(self.model, self.scope) == self.__parent__.row.id
        return select(self.model, User).join(User, self.model.user_id == User.id).where(scope)

    def rule_columns(self):
        return {**self.facts(), "user_id": self.model.user_id}

    def load(self, key):
        return self.request.db.execute(self.base_query().where(User.username == key)).first()

    def key_of(self, row):
        return row[1].username

    def wrap_result(self, result_row):
        return self.wrap(tuple(result_row))


class OrganizationMembers(Members):
    rules = "organization_members"
    item_class = OrganizationMemberNode
    model = OrganizationMember
    scope = "organization_id"
    parent_field = "organization"

    @property
    def organization(self) -> Organization:
        return self.__parent__.row

    def facts(self):
        return self.__parent__.child_facts()


class ProjectMembers(Members):
    rules = "project_members"
    item_class = ProjectMemberNode
    model = ProjectMember
    scope = "project_id"
    parent_field = "project"

    @property
    def project(self) -> Project:
        return self.__parent__.row

    def facts(self):
        return self.__parent__.child_facts()


# --- parties ----------------------------------------------------------------------------------------


class PartyNode(Item):
    rules = "party"
    label = "Party"
    children = {"history": PartyHistory, "resources": PartyResources}

    def facts(self):
        return {**self.__parent__.facts(), "archived": self.row.archived}


class PartyContainer(Container):
    rules = "parties"
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

    key_column = Party.id

    def key_of(self, row):
        return row.id

    def base_query(self):
        return select(Party).where(Party.project_id == self.project.id)

    def rule_columns(self):
        # The project is a constant here (the list is scoped to it), so for a caller who sees all of
        # its parties, or none, the predicate folds to true() or false().
        return {**self.facts(), "archived": Party.archived}

    def known_total(self, identity):
        visibility = self.allows(identity, Permission.VIEW)
        if isinstance(visibility, False_):
            return 0
        if isinstance(visibility, True_):
            return self.project.party_count
        return None


# --- projects ---------------------------------------------------------------------------------------


class ProjectNode(Item):
    rules = "project"
    label = "Project"
    children = {"members": ProjectMembers, "parties": PartyContainer, "resources": ProjectResources,
                "history": ProjectHistory}

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


class ProjectContainer(Container):
    rules = "projects"
    plural = "projects"
    item_class = ProjectNode

    @property
    def organization(self) -> Organization:
        return self.__parent__.row

    def facts(self):
        return self.__parent__.child_facts()

    def load(self, key):
        org_id = self.organization.id
        return cached(self.request, ("project", org_id, key), lambda: self.request.db.scalar(
            select(Project).where(Project.organization_id == org_id, Project.slug == key)))

    key_column = Project.slug

    def key_of(self, row):
        return row.slug

    def base_query(self):
        return select(Project).where(Project.organization_id == self.organization.id)

    def rule_columns(self):
        return visibility.project_columns(self.organization.id, self.organization.archived)


class AllProjects(Container):
    """/projects/: every project the caller may see, under organizations the caller may see."""

    rules = "all_projects"
    plural = "projects"
    item_class = ProjectNode
    children = {"schema": CollectionSchema}  # no set/: a project is known by its slug only within its organization
    addressable_items = False  # its items' URLs are nested under their organizations

    def load(self, key):
        return None  # the canonical URL of a project is nested under its organization

    def wrap_result(self, result_row):
        """Give each listed project its real place in the tree, so its links are its nested URLs."""
        project, organization = result_row
        organizations = self.__parent__["organizations"]
        org_node = organizations.wrap(organization)
        return org_node["projects"].wrap(project)

    key_column = Project.id  # no set/ here: projects are only known by slug within an organization

    def base_query(self):
        # The organization's visibility is part of the base: a project is listed only under a
        # visible organization, whatever permission is asked of the project itself.
        return visibility.projects_in_visible_organizations(self.request.identity, Project, Organization)

    def rule_columns(self):
        return visibility.project_columns(Project.organization_id, Organization.archived)


# --- organizations ---------------------------------------------------------------------------------


class OrganizationNode(Item):
    rules = "organization"
    label = "Organization"
    children = {"members": OrganizationMembers, "projects": ProjectContainer, "resources": OrganizationResources,
                "history": OrganizationHistory}

    def facts(self):
        org = self.row
        return {"organization_id": org.id, "access": org.access, "archived": org.archived}

    def child_facts(self):
        """What the collections under an organization know about where they are."""
        return {"organization_id": self.row.id, "org_archived": self.row.archived}


class OrganizationContainer(Container):
    rules = "organizations"
    plural = "organizations"
    item_class = OrganizationNode

    def load(self, key):
        return cached(self.request, ("organization", key), lambda: self.request.db.scalar(
            select(Organization).where(Organization.slug == key)))

    key_column = Organization.slug

    def key_of(self, row):
        return row.slug

    def base_query(self):
        return select(Organization)

    def rule_columns(self):
        return visibility.organization_columns()


# --- the top ---------------------------------------------------------------------------------------


class OpenAPIDocument(Node):
    """`/api/v1/openapi.json`: the OpenAPI document of the whole API."""

    rules = "open"
    trailing_slash = False


class ApiRoot(Node):
    rules = "open"
    label = "API"
    children = {
        "openapi.json": OpenAPIDocument,
        "account": Account,
        "users": UserContainer,
        "organizations": OrganizationContainer,
        "projects": AllProjects,
        "resources": AllResources,
    }


class ApiVersions(Node):
    rules = "open"
    children = {"v1": ApiRoot}


class SiteRoot(Node):
    rules = "open"
    children = {"api": ApiVersions}

    def __init__(self, request):
        super().__init__(request, "", None)
