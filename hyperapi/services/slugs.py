from slugify import slugify
from sqlalchemy import select

RESERVED = frozenset({"schema", "set"})


def unique_slug(db, column, name: str, scope=None, fallback: str = "item") -> str:
    """A slug for `name` that no row in `column`'s table (within `scope`, a WHERE clause) has yet:
    `name`, then `name-2`, `name-3`…"""
    base = slugify(name, max_length=90, word_boundary=True) or fallback
    query = select(column).where(column.like(f"{base}%"))
    if scope is not None:
        query = query.where(scope)
    taken = set(db.scalars(query))
    candidate, n = base, 1
    while candidate in taken or candidate in RESERVED:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def slug_taken(db, column, slug: str, scope=None, exclude=None) -> bool:
    query = select(column).where(column == slug)
    if scope is not None:
        query = query.where(scope)
    if exclude is not None:
        query = query.where(exclude)
    return slug in RESERVED or db.scalar(query) is not None
