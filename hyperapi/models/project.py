from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .meta import Base, JSONType, Tracked, trigram_index

PROJECT_ROLES = ("manager", "collector", "viewer")


class Project(Tracked, Base):
    __tablename__ = "projects"
    __table_args__ = (
        UniqueConstraint("organization_id", "slug"),
        trigram_index("projects", "name"),
        trigram_index("projects", "description"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False
    )
    slug: Mapped[str] = mapped_column(String(100), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    country: Mapped[str] = mapped_column(String(2), nullable=False, default="")
    urls: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    contacts: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    access: Mapped[str] = mapped_column(String(10), nullable=False, default="public")
    archived: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # Kept by database triggers (migration 0002) whatever inserts or deletes parties, so a page of a
    # project's parties never counts a million rows. Internal: not part of any representation.
    party_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")


class ProjectMember(Tracked, Base):
    __tablename__ = "project_members"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(20), nullable=False)
