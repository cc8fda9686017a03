"""Resources in the tree: under each organization, project and party (the resources attached there),
and flat under /api/v1/resources/ (every resource the caller may see).

A resource attached to several entities has one nested node per attachment. Its flat node is allowed
what any of its nested nodes allows the caller — an attachment counts only where the caller can see
the entity it is attached to — and a DELETE there detaches it from every entity where the caller may
delete it (deleting it when nothing remains). The nested nodes' ACLs come from
`hyperapi.auth.rules.RULES`, so this adds no rule of its own.
"""

from __future__ import annotations

from typing import ClassVar

from pyramid.authorization import Allow
from sqlalchemy import and_, select

from ..auth import visibility
from ..auth.rules import DENY_ALL, Permission, user_principal
from ..models import Organization, Party, Project, Resource, ResourceAttachment, ResourceFile, User, target_of
from .base import Container, Item, Node
from .history import ResourceHistory

CHAINS = "_hyperapi_attachment_chains"  # on the request: resource id -> its nested nodes
FILES = "_hyperapi_resource_files"  # on the request: resource id -> [(ResourceFile, User | None)]


class ResourceContent(Node):
    """`…/resources/{id}/content`: the file. Whoever sees the resource may fetch it (the policy checks
    every ancestor, the resource included)."""

    rules = "open"
    label = "Resource"
    trailing_slash = False


class ResourceNode(Item):
    label = "Resource"
    children = {"content": ResourceContent}

    def facts(self):
        return {**self.__parent__.facts(), "archived": self.row.archived}

    def attachments(self) -> list[NestedResourceNode]:
        """The resource's node under every entity it is attached to, in the order attached."""
        return attachment_nodes(self.request, [self.row])[self.row.id]

    def files(self) -> list[tuple]:
        """Every revision of its file, oldest first, each with the user who uploaded it (if still there)."""
        return resource_files(self.request, [self.row])[self.row.id]


class ResourceCollection(Container):
    """What every collection of resources shares: a page loads its attachments and files at once."""

    plural = "resources"
    key_column = Resource.id

    def key_of(self, row):
        return row.id

    def prepare(self, nodes):
        rows = [node.row for node in nodes]
        attachment_nodes(self.request, rows)
        resource_files(self.request, rows)


class NestedResourceNode(ResourceNode):
    children = {"content": ResourceContent, "history": ResourceHistory}

    @property
    def attached_to(self) -> Item:
        return self.__parent__.__parent__


class OrganizationResourceNode(NestedResourceNode):
    rules = "organization_resource"


class ProjectResourceNode(NestedResourceNode):
    rules = "project_resource"


class PartyResourceNode(NestedResourceNode):
    rules = "project_resource"  # the project's rules, under a party the caller can see


class Resources(ResourceCollection):
    """The resources attached to the entity above."""

    entity_type: ClassVar[str]

    @property
    def entity(self):
        return self.__parent__.row

    @property
    def target(self) -> str:
        return target_of(self.entity_type, self.entity.id)

    def place(self) -> dict:
        """Where a resource attached here is attached: the columns of its ResourceAttachment."""
        facts = self.facts()
        entity = self.entity
        return {
            "entity_type": self.entity_type,
            "target": self.target,
            "organization_id": facts["organization_id"],
            "project_id": facts.get("project_id"),
            "party_id": entity.id if self.entity_type == "party" else None,
        }

    def base_query(self):
        attached = and_(ResourceAttachment.resource_id == Resource.id, ResourceAttachment.target == self.target)
        return select(Resource).join(ResourceAttachment, attached)

    def rule_columns(self):
        return {**self.facts(), "archived": Resource.archived}


class OrganizationResources(Resources):
    rules = "organization_resources"
    item_class = OrganizationResourceNode
    entity_type = "organization"

    def facts(self):
        return self.__parent__.child_facts()


class ProjectResources(Resources):
    rules = "project_resources"
    item_class = ProjectResourceNode
    entity_type = "project"

    def facts(self):
        return self.__parent__.child_facts()


class PartyResources(Resources):
    rules = "project_resources"
    item_class = PartyResourceNode
    entity_type = "party"

    def facts(self):
        return self.__parent__.__parent__.facts()  # the party's project, as its parties see it


# --- flat ------------------------------------------------------------------------------------------


class FlatResourceNode(ResourceNode):
    """`/resources/{id}/`: the same object as its nested URLs."""

    rules = "resource"

    def __acl__(self):
        if self._acl is None:
            self._acl = self._union_acl()
        return self._acl

    def deletable_attachments(self) -> list[NestedResourceNode]:
        """Its nested nodes at which the caller may delete it (every one of them visible)."""
        return [node for node in self.attachments() if self.request.has_permission(Permission.DELETE, node)]

    def _union_acl(self) -> list[tuple]:
        request = self.request
        reachable = [node for node in self.attachments() if request.has_permission(Permission.VIEW, node.__parent__)]
        entries = [
            (action, principal, tuple(p for p in permissions if p != Permission.DELETE))
            for node in reachable
            for action, principal, permissions in node.__acl__()
            if (action, principal, permissions) != DENY_ALL
        ]
        # A DELETE here detaches the resource from every entity the caller may delete it from (the last
        # detachment deletes it): allowed where there is one. What the caller cannot see plays no part,
        # so the answer tells nothing about attachments elsewhere.
        identity = request.identity
        if identity is not None and self.deletable_attachments():
            entries.append((Allow, user_principal(identity.user_id), (str(Permission.DELETE),)))
        entries.append(DENY_ALL)
        return entries


class AllResources(ResourceCollection):
    rules = "all_resources"
    item_class = FlatResourceNode

    def base_query(self):
        return select(Resource)

    def list_query(self, identity, writable: bool = False):
        query = select(Resource).where(Resource.id.in_(visibility.resource_ids(identity, Permission.VIEW)))
        if writable:
            query = query.where(Resource.id.in_(visibility.resource_ids(identity, Permission.EDIT)))
        return query


# --- the nested nodes of a resource, loaded once per request -----------------------------------------


def attachment_nodes(request, resources: list[Resource]) -> dict[str, list[NestedResourceNode]]:
    """For each resource, its nested node under every entity it is attached to: one query for all."""
    cache = request.__dict__.setdefault(CHAINS, {})
    missing = [resource for resource in resources if resource.id not in cache]
    if missing:
        by_id = {resource.id: resource for resource in missing}
        for resource_id in by_id:
            cache[resource_id] = []
        statement = (
            select(ResourceAttachment, Organization, Project, Party)
            .join(Organization, Organization.id == ResourceAttachment.organization_id)
            .outerjoin(Project, Project.id == ResourceAttachment.project_id)
            .outerjoin(Party, Party.id == ResourceAttachment.party_id)
            .where(ResourceAttachment.resource_id.in_(sorted(by_id)))
            .order_by(ResourceAttachment.id)
        )
        api = request.root["api"]["v1"]
        for attachment, organization, project, party in request.db.execute(statement):
            node = api["organizations"].wrap(organization)
            if project is not None:
                node = node["projects"].wrap(project)
            if party is not None:
                node = node["parties"].wrap(party)
            resource = by_id[attachment.resource_id]
            cache[resource.id].append(node["resources"].wrap(resource))
    return {resource.id: cache[resource.id] for resource in resources}


def resource_files(request, resources: list[Resource]) -> dict[str, list[tuple]]:
    """For each resource, every revision of its file with its uploader: one query for all."""
    cache = request.__dict__.setdefault(FILES, {})
    missing = sorted({resource.id for resource in resources if resource.id not in cache})
    if missing:
        for resource_id in missing:
            cache[resource_id] = []
        statement = (
            select(ResourceFile, User)
            .outerjoin(User, User.id == ResourceFile.contributor_id)
            .where(ResourceFile.resource_id.in_(missing))
            .order_by(ResourceFile.resource_id, ResourceFile.revision)
        )
        for stored, user in request.db.execute(statement):
            cache[stored.resource_id].append((stored, user))
    return {resource.id: cache[resource.id] for resource in resources}


def forget(request, resource_id: str) -> None:
    """After a change to its attachments or files: the next look at the resource loads them again."""
    for name in (CHAINS, FILES):
        request.__dict__.get(name, {}).pop(resource_id, None)
