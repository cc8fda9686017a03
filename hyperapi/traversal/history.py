"""`…/history/` under an organization, a project or a party: the record of their changes."""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import select

from ..models import HistoryEntry, User
from .base import Container, Item, Node


class Restore(Node):
    """`…/projects/{prj}/history/{id}/restore/`: POST brings a deleted party back."""

    rules = "project_history"
    plural = "parties"

    def facts(self):
        return self.__parent__.facts()


class HistoryEntryNode(Item):
    """Wraps an (entry, username of who made it) pair."""

    label = "History entry"
    param = "entry"

    @property
    def record(self):
        return self.row[0]

    @property
    def rules(self):  # the rules of the collection it belongs to
        return self.__parent__.entry_rules

    def facts(self):
        return self.__parent__.facts()


class ProjectHistoryEntryNode(HistoryEntryNode):
    children = {"restore": Restore}


class History(Container):
    rules = "history"
    plural = "history entries"
    item_class = HistoryEntryNode
    entry_rules: ClassVar[str]
    key_column = HistoryEntry.id

    def facts(self):
        parent = self.__parent__
        return parent.child_facts() if hasattr(parent, "child_facts") else parent.facts()

    def scope(self):
        raise NotImplementedError

    def base_query(self):
        return (
            select(HistoryEntry, User.username)
            .outerjoin(User, HistoryEntry.user_id == User.id)
            .where(self.scope())
        )

    def rule_columns(self):
        return self.facts()

    @property
    def item_rules(self) -> str:
        return self.entry_rules

    def load(self, key):
        if not key.isdigit() or len(key) > 18:
            return None
        return self.request.db.execute(self.base_query().where(HistoryEntry.id == int(key))).first()

    def key_of(self, row):
        return str(row[0].id)

    def wrap_result(self, result_row):
        return self.wrap(tuple(result_row))


class OrganizationHistory(History):
    entry_rules = "organization_history"

    def scope(self):
        return HistoryEntry.organization_id == self.__parent__.row.id


class ProjectHistory(History):
    entry_rules = "project_history"
    item_class = ProjectHistoryEntryNode

    def scope(self):
        return HistoryEntry.project_id == self.__parent__.row.id


class PartyHistory(History):
    entry_rules = "party_history"

    def scope(self):
        party = self.__parent__.row
        return (HistoryEntry.entity_type == "party") & (HistoryEntry.entity_key == party.id)


class ResourceHistory(History):
    """`…/resources/{id}/history/`: the changes of one resource and of its attachments, shown to
    those who may edit it where the URL finds it."""

    @property
    def entry_rules(self):
        return f"{self.__parent__.rules}_history"

    def facts(self):
        return self.__parent__.facts()

    def scope(self):
        resource = self.__parent__.row
        return HistoryEntry.entity_type.in_(("resource", "resource_attachment")) & (
            HistoryEntry.entity_label == resource.id)
