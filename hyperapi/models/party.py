from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .meta import Base, JSONType, Tracked, random_id, trigram_index

PARTY_TYPES = {"IN": "Individual", "GR": "Group", "CO": "Corporation"}


class Party(Tracked, Base):
    __tablename__ = "parties"
    __table_args__ = (
        # Pages are read by project in the order they are shown: these make a page of a project
        # with a million parties an index range scan.
        Index("ix_parties_project_name", "project_id", "name", "id"),
        Index("ix_parties_project_created", "project_id", "created", "id"),
        trigram_index("parties", "name"),
    )

    id: Mapped[str] = mapped_column(String(24), primary_key=True, default=random_id)
    project_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    type: Mapped[str] = mapped_column(String(2), nullable=False, default="IN")
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    country: Mapped[str] = mapped_column(String(2), nullable=False, default="")
    contacts: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    attributes: Mapped[dict] = mapped_column(JSONType, nullable=False, default=dict)
    archived: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
