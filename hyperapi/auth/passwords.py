"""Secrets at rest: passwords as argon2id hashes, API keys as SHA-256 digests."""

from __future__ import annotations

import hashlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

password_hasher = PasswordHasher()
# Verified against when the username is unknown, so that a miss costs as long as a wrong password.
_DUMMY_HASH = password_hasher.hash("not a password anybody has")


def hash_password(password: str) -> str:
    return password_hasher.hash(password)


def verify_password(user, password: str) -> bool:
    """Whether `password` is `user`'s; for no user (or one without a password) it takes as long."""
    password_hash = getattr(user, "password_hash", None)
    if not password_hash:
        try:
            password_hasher.verify(_DUMMY_HASH, password)
        except VerificationError:
            pass
        return False
    try:
        return password_hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
