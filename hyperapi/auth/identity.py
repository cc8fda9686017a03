"""Who is calling: the token's user and all their memberships, loaded once per request.

A request carries credentials in `Authorization: Token <key>`, or on GET in `?username=&api_key=`.
Bad, expired or revoked credentials are an `InvalidCredentials`, which `hyperapi.web.tweens` turns
into a 401 on every request, whatever the view asks.
"""

from __future__ import annotations

import datetime
import hmac
from dataclasses import dataclass, field

from pyramid.authorization import Authenticated, Everyone
from sqlalchemy import literal, select, union_all, update

from ..models import OrganizationMember, ProjectMember, Token, User, utcnow
from .passwords import hash_key
from .rules import SUPERUSER, org_principal, project_principal, user_principal

# Writing `last_used` on every request would turn reads into writes; once a minute is enough.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


@dataclass
class Identity:
    user: User
    token: Token
    org_roles: dict[int, str] = field(default_factory=dict)
    project_roles: dict[int, str] = field(default_factory=dict)

    @property
    def user_id(self) -> int:
        return self.user.id

    @property
    def is_superuser(self) -> bool:
        return self.user.is_superuser

    def organizations_with(self, roles) -> set[int]:
        return {org_id for org_id, role in self.org_roles.items() if role in roles}

    def projects_with(self, roles) -> set[int]:
        return {project_id for project_id, role in self.project_roles.items() if role in roles}

    def principals(self) -> list[str]:
        principals = [Everyone, Authenticated, user_principal(self.user.id)]
        if self.user.is_superuser:
            principals.append(SUPERUSER)
        principals.extend(org_principal(org_id, role) for org_id, role in self.org_roles.items())
        principals.extend(project_principal(pid, role) for pid, role in self.project_roles.items())
        return principals


class InvalidCredentials(Exception):
    """The request carried credentials, and they are not good."""


def credentials(request) -> tuple[str | None, str | None]:
    """(key, username) from `Authorization: Token <key>`, or for GET from `?username=&api_key=`.

    A JSONP request carries no credentials, whatever it sends: any page on the web can make a
    browser run one, so it must only ever get what an anonymous caller may see."""
    if request.GET.get("format") == "jsonp":
        return None, None
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, key = header.strip().partition(" ")
        key = key.strip()
        if scheme.lower() != "token" or not key:
            raise InvalidCredentials()
        return key, None
    if "api_key" in request.GET:
        if request.method not in ("GET", "HEAD"):
            raise InvalidCredentials()
        key = request.GET.get("api_key", "")
        username = request.GET.get("username", "")
        if not key or not username:
            raise InvalidCredentials()
        return key, username
    return None, None


def load_identity(request) -> Identity | None:
    key, username = credentials(request)
    if key is None:
        return None
    db = request.db
    digest = hash_key(key)
    row = db.execute(select(Token, User).join(User, Token.user_id == User.id).where(Token.key_hash == digest)).first()
    if row is None:
        raise InvalidCredentials()
    token, user = row
    now = utcnow()
    if not hmac.compare_digest(token.key_hash, digest):
        raise InvalidCredentials()
    if token.expires is not None and token.expires <= now:
        raise InvalidCredentials()
    if username is not None and not hmac.compare_digest(user.username.encode(), username.encode()):
        raise InvalidCredentials()

    memberships = union_all(
        select(literal("org").label("kind"), OrganizationMember.organization_id.label("target"),
               OrganizationMember.role).where(OrganizationMember.user_id == user.id),
        select(literal("project").label("kind"), ProjectMember.project_id.label("target"),
               ProjectMember.role).where(ProjectMember.user_id == user.id),
    )
    identity = Identity(user=user, token=token)
    for kind, target, role in db.execute(memberships):
        (identity.org_roles if kind == "org" else identity.project_roles)[target] = role

    if token.last_used is None or now - token.last_used > LAST_USED_RESOLUTION:
        db.execute(update(Token).where(Token.id == token.id).values(last_used=now))
        token.last_used = now
    return identity
