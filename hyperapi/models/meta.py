"""The declarative base shared by every model, with a naming convention Alembic can rely on."""

import datetime
import secrets

from sqlalchemy import JSON, DateTime, Index, Integer, MetaData, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# Ids of parties, resources and relationships: never sequential, never guessable (SPEC §1).
ID_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
ID_LENGTH = 24


def random_id() -> str:
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(ID_LENGTH))


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def isoformat(moment: datetime.datetime | None) -> str | None:
    """A moment as ISO 8601 UTC with a `Z`, as every representation and history entry writes it."""
    if moment is None:
        return None
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


class UTCDateTime(TypeDecorator):
    """A timestamp that is always timezone-aware UTC in Python, whatever the database keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        # SQLite keeps the wall time and drops the offset: only UTC compares as the instant it is.
        return value.astimezone(datetime.UTC)

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            # SQLite keeps no offset; everything we write is UTC.
            value = value.replace(tzinfo=datetime.UTC)
        return value


# JSONB on PostgreSQL (indexable, compact), plain JSON text elsewhere.
JSONType = JSON().with_variant(JSONB(), "postgresql")


def trigram_index(table: str, column: str) -> Index:
    """A PostgreSQL GIN trigram index: `ILIKE '%term%'` (search, icontains) without a full scan.
    Created by migration 0003 on PostgreSQL only; SQLite has no such index type."""
    return Index(
        f"ix_{table}_{column}_trgm",
        column,
        postgresql_using="gin",
        postgresql_ops={column: "gin_trgm_ops"},
        info={"dialect": "postgresql"},
    )


class Base(DeclarativeBase):
    metadata = metadata


class Tracked:
    """created / last_updated / version, carried by every entity (SPEC §1).

    `version` is SQLAlchemy's version counter: every UPDATE says `WHERE version = <the one read>`,
    so two writers can never silently overwrite each other.
    """

    created: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_updated: Mapped[datetime.datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    @declared_attr.directive
    def __mapper_args__(cls):
        return {"version_id_col": cls.version}


__all__ = ["Base", "Tracked", "JSONType", "UTCDateTime", "isoformat", "random_id", "utcnow"]
