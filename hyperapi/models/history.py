import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .meta import Base, JSONType, UTCDateTime, utcnow

ACTIONS = ("create", "update", "archive", "unarchive", "delete", "restore")


class HistoryEntry(Base):
    """One change of one entity, written in the transaction that made it (`hyperapi.history`).

    No foreign keys to the entity: the entry outlives it (that is how a deleted party comes back).
    `changes` maps each field to `[old, new]`; a deletion keeps every field's last value."""

    __tablename__ = "history"
    __table_args__ = (
        Index("ix_history_entity", "entity_type", "entity_key", "id"),
        Index("ix_history_project", "project_id", "id"),
        Index("ix_history_organization", "organization_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(30), nullable=False)
    entity_key: Mapped[str] = mapped_column(String(64), nullable=False)
    # How the entity was known in URLs when the change was made: slug, party id or username.
    entity_label: Mapped[str] = mapped_column(String(150), nullable=False)
    organization_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    project_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    action: Mapped[str] = mapped_column(String(10), nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    changes: Mapped[dict] = mapped_column(JSONType, nullable=False, default=dict)
