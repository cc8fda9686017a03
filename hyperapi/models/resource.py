"""Resources: documents and files, each attached to one or more entities of one organization.

The bytes live in a storage backend (`hyperapi.storage`), never in the database; a row names them by
a key the server made up. Every revision of a resource's file is kept as a `ResourceFile`; the
resource row repeats its current one, so a page of resources is one query.
"""

import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .meta import Base, Tracked, UTCDateTime, random_id, utcnow

# Where a resource can be attached, from the widest to the narrowest.
ENTITY_TYPES = ("organization", "project", "party")


class Resource(Tracked, Base):
    __tablename__ = "resources"
    __table_args__ = (
        Index("ix_resources_organization_name", "organization_id", "name", "id"),
    )

    id: Mapped[str] = mapped_column(String(24), primary_key=True, default=random_id)
    # Every attachment of a resource lies in this organization: a file never crosses into another's records.
    organization_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # Where it was first attached (its canonical place while that attachment lasts).
    entity_type: Mapped[str] = mapped_column(String(12), nullable=False)
    archived: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    contributor_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    # The current file (a copy of its latest ResourceFile).
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    file: Mapped[str] = mapped_column(String(200), nullable=False)  # the storage key
    original_file: Mapped[str] = mapped_column(String(255), nullable=False)
    mime_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)


class ResourceFile(Base):
    """One revision of a resource's file: replacing the file keeps the ones before."""

    __tablename__ = "resource_files"
    __table_args__ = (UniqueConstraint("resource_id", "revision"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[str] = mapped_column(
        String(24), ForeignKey("resources.id", ondelete="CASCADE"), nullable=False
    )
    revision: Mapped[int] = mapped_column(Integer, nullable=False)
    file: Mapped[str] = mapped_column(String(200), nullable=False)
    original_file: Mapped[str] = mapped_column(String(255), nullable=False)
    mime_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    contributor_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class ResourceAttachment(Base):
    """A resource attached to an organization, a project or a party.

    `organization_id` is always set and `project_id` for a project or a party, so the visibility of
    the attachment is decided by the same columns as the entity's own. `target` names the entity
    (`project:7`), unique per resource."""

    __tablename__ = "resource_attachments"
    __table_args__ = (
        UniqueConstraint("resource_id", "target"),
        Index("ix_resource_attachments_organization", "organization_id", "entity_type"),
        Index("ix_resource_attachments_project", "project_id"),
        Index("ix_resource_attachments_party", "party_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[str] = mapped_column(
        String(24), ForeignKey("resources.id", ondelete="CASCADE"), nullable=False
    )
    entity_type: Mapped[str] = mapped_column(String(12), nullable=False)
    target: Mapped[str] = mapped_column(String(40), nullable=False)
    organization_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False
    )
    project_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=True
    )
    party_id: Mapped[str | None] = mapped_column(
        String(24), ForeignKey("parties.id", ondelete="CASCADE"), nullable=True
    )
    created: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


def target_of(entity_type: str, key) -> str:
    return f"{entity_type}:{key}"
