"""Authentication by token, and the security policy that asks the tree's ACLs.

The caller, their tokens' validity and all their memberships are loaded once per request, in two
queries, into an `Identity`. A bad, expired or revoked token makes every request a 401, whatever the
view asks (`check_credentials`, called by the root factory).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pyramid.authorization import ACLHelper, Authenticated, Everyone
from pyramid.location import lineage
from pyramid.security import Allowed, Denied
from sqlalchemy import literal, select, union_all, update

from .authz import SUPERUSER, Permission, org_principal, project_principal, user_principal
from .errors import unauthorized
from .models import OrganizationMember, ProjectMember, Token, User, utcnow

# Writing `last_used` on every request would turn reads into writes; once a minute is enough.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)

password_hasher = PasswordHasher()
# Verified against when the username is unknown, so that a miss costs as long as a wrong password.
_DUMMY_HASH = password_hasher.hash("not a password anybody has")


def hash_password(password: str) -> str:
    return password_hasher.hash(password)


def verify_password(user: User | None, password: str) -> bool:
    if user is None or not user.password_hash:
        try:
            password_hasher.verify(_DUMMY_HASH, password)
        except VerificationError:
            pass
        return False
    try:
        return password_hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


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


class SecurityPolicy:
    def __init__(self):
        self.helper = ACLHelper()

    def identity(self, request) -> Identity | None:
        # Memoized per request; InvalidCredentials has already been turned into a 401 by the root
        # factory, so by the time a view asks, this is a clean answer.
        # Kept on the request object, never in the WSGI environ: a retried request (pyramid_retry)
        # is a new request object and must load its caller afresh in its own transaction.
        memo = request.__dict__
        if "_hyperapi_identity" not in memo:
            try:
                memo["_hyperapi_identity"] = load_identity(request)
            except InvalidCredentials:
                memo["_hyperapi_identity"] = None
                memo["_hyperapi_bad_credentials"] = True
        return memo["_hyperapi_identity"]

    def authenticated_userid(self, request):
        identity = self.identity(request)
        return identity.user.id if identity is not None else None

    def effective_principals(self, request) -> list[str]:
        identity = self.identity(request)
        return identity.principals() if identity is not None else [Everyone]

    def permits(self, request, context, permission):
        principals = self.effective_principals(request)
        # Hidden parents hide their children: every ancestor must be viewable first. Each ACL ends in a
        # deny-all, so ACLHelper decides on the node's own ACL and never inherits from above.
        ancestors = list(lineage(context))[1:]
        for node in reversed(ancestors):
            if not self.helper.permits(node, principals, Permission.VIEW):
                return Denied(f"{node!r} is hidden from this caller")
        return self.helper.permits(context, principals, permission)

    def remember(self, request, userid, **kw):
        return []

    def forget(self, request, **kw):
        return []


def check_credentials(request) -> None:
    """Raise the 401 for bad credentials; called for every request by the root factory."""
    request.identity  # noqa: B018 - loads and memoizes
    if request.__dict__.get("_hyperapi_bad_credentials"):
        raise unauthorized()


def can_view(request, context) -> bool:
    return bool(request.has_permission(Permission.VIEW, context))


__all__ = ["Allowed", "Denied", "SecurityPolicy", "Identity", "check_credentials", "can_view"]
