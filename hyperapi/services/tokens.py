"""A user's API tokens: listing and revoking them, for the API and the command line alike.

A token is made by `users.new_token`, the one place that ever sees its key. Revoking deletes the row:
its key then matches nothing, and the next request carrying it is a 401.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from ..models import Token, User


def list_for(db, user: User) -> list[Token]:
    """The user's tokens, oldest first."""
    return list(db.scalars(select(Token).where(Token.user_id == user.id).order_by(Token.created, Token.id)))


def get(db, token_id: str) -> Token | None:
    return db.get(Token, token_id)


def revoke(db, token: Token) -> None:
    db.delete(token)
    db.flush()


def revoke_all(db, user: User, keep: Token | None = None) -> int:
    """Revoke every token of the user but `keep` (the caller's own, when the user acts on themselves);
    return how many were revoked."""
    statement = delete(Token).where(Token.user_id == user.id)
    if keep is not None:
        statement = statement.where(Token.id != keep.id)
    revoked = db.execute(statement).rowcount
    db.expire(user, ["tokens"])  # a collection loaded before the DELETE would still list them
    return revoked
