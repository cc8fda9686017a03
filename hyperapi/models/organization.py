from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .meta import Base, JSONType, Tracked, trigram_index

ACCESS_CHOICES = ("public", "private")
ORGANIZATION_ROLES = ("admin", "member")


class Organization(Tracked, Base):
    __tablename__ = "organizations"
    __table_args__ = (trigram_index("organizations", "name"), trigram_index("organizations", "description"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    urls: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    contacts: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    access: Mapped[str] = mapped_column(String(10), nullable=False, default="public")
    archived: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class OrganizationMember(Tracked, Base):
    __tablename__ = "organization_members"

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(20), nullable=False)
