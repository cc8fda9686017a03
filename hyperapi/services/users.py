import datetime
import secrets

from sqlalchemy import select

from ..auth.passwords import hash_key, hash_password, verify_password
from ..db.recording import record_cascade
from ..models import OrganizationMember, Project, ProjectMember, Token, User, utcnow
from . import tokens
from .exceptions import Conflict, Invalid, Refused
from .slugs import RESERVED


def _check_unique(db, user_id, username=None, email=None) -> None:
    if username is not None:
        other = db.scalar(select(User.id).where(User.username == username))
        if other is not None and other != user_id:
            raise Conflict("A user with this username already exists.", {"username": "This username is taken."})
    if email:
        other = db.scalar(select(User.id).where(User.email == email))
        if other is not None and other != user_id:
            raise Conflict("A user with this email already exists.", {"email": "This email is taken."})


def by_username(db, username: str) -> User | None:
    return db.scalar(select(User).where(User.username == username))


def list_all(db) -> list[User]:
    return list(db.scalars(select(User).order_by(User.username)))


def create(db, data: dict) -> User:
    if data["username"] in RESERVED:  # /users/schema/ is the collection's schema, /users/set/… a selection
        raise Invalid({"username": "This word is reserved; choose another username."})
    email = data.get("email") or None
    _check_unique(db, None, data["username"], email)
    user = User(
        username=data["username"],
        full_name=data.get("full_name", ""),
        email=email,
        is_superuser=data.get("is_superuser", False),
        password_hash=hash_password(data["password"]),
    )
    db.add(user)
    db.flush()
    return user


def update(db, user: User, data: dict, by: User) -> None:
    if "is_superuser" in data and data["is_superuser"] != user.is_superuser and not by.is_superuser:
        raise Refused("Only a superuser can change is_superuser.")
    if "email" in data:
        data["email"] = data["email"] or None
        _check_unique(db, user.id, email=data["email"])
        user.email = data["email"]
    if "full_name" in data:
        user.full_name = data["full_name"]
    if "is_superuser" in data:
        user.is_superuser = data["is_superuser"]
    if "password" in data:
        user.password_hash = hash_password(data["password"])
    db.flush()


def set_password(db, user: User, password: str, keep_token: Token | None = None) -> int:
    """Give the user a new password and revoke all their tokens but `keep_token`; return how many
    were revoked.

    A password is changed because it may be known to someone else, who may have signed in with it
    already: their tokens must stop working too. When users change their own password, their current
    token (`keep_token`) may stay, so that the request's own session goes on."""
    user.password_hash = hash_password(password)
    db.flush()
    return tokens.revoke_all(db, user, keep=keep_token)


def update_account(db, user: User, data: dict) -> None:
    """The caller changing themselves: a new password needs the current one."""
    current = data.pop("current_password", None)
    if "password" in data and (current is None or not verify_password(user, current)):
        raise Invalid({"current_password": "Give your current password to set a new one."})
    update(db, user, data, by=user)


def delete(db, user: User) -> None:
    """Delete a user; their memberships go with them, recorded in history first."""
    record_cascade(db, OrganizationMember, OrganizationMember.user_id == user.id,
                   OrganizationMember.organization_id, None)
    record_cascade(db, ProjectMember, ProjectMember.user_id == user.id, Project.organization_id,
                   ProjectMember.project_id, join=(Project, ProjectMember.project_id == Project.id))
    db.delete(user)
    db.flush()


def new_token(db, user: User, name: str = "", expires: datetime.datetime | None = None) -> tuple[Token, str]:
    """A token and its key. The key is returned once, here; only its SHA-256 is stored."""
    if expires is not None and expires <= utcnow():
        raise Invalid({"expires": "Must be in the future."})
    key = secrets.token_urlsafe(32)
    token = Token(user_id=user.id, name=name, key_hash=hash_key(key), expires=expires)
    db.add(token)
    db.flush()
    return token, key


def login(db, username: str, password: str, ttl: datetime.timedelta) -> tuple[Token, str] | None:
    user = by_username(db, username)
    if not verify_password(user, password):
        return None
    return new_token(db, user, name="login", expires=utcnow() + ttl)
