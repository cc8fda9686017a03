import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .meta import Base, Tracked, UTCDateTime, random_id, trigram_index, utcnow


class User(Tracked, Base):
    __tablename__ = "users"
    __table_args__ = (trigram_index("users", "username"), trigram_index("users", "full_name"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True, nullable=False)
    full_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    email: Mapped[str | None] = mapped_column(String(254), unique=True, nullable=True)
    is_superuser: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)

    tokens: Mapped[list["Token"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )


class Token(Base):
    """An API key. Only the SHA-256 of the key is kept: the key itself is shown once, on creation."""

    __tablename__ = "tokens"

    id: Mapped[str] = mapped_column(String(24), primary_key=True, default=random_id)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_used: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    expires: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime, nullable=True)

    user: Mapped[User] = relationship(back_populates="tokens")
