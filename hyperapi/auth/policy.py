"""The security policy: the caller from `identity`, and permissions from the tree's ACLs, with every
ancestor's `view` required first (a hidden parent hides all that is under it)."""

from __future__ import annotations

from pyramid.authorization import ACLHelper, Everyone
from pyramid.location import lineage
from pyramid.security import Denied

from .identity import Identity, InvalidCredentials, load_identity
from .rules import Permission

# On the request object, never in the WSGI environ: a retried request (pyramid_retry) is a new
# request object and must load its caller afresh in its own transaction.
_IDENTITY = "_hyperapi_identity"
_BAD_CREDENTIALS = "_hyperapi_bad_credentials"


class SecurityPolicy:
    def __init__(self):
        self.helper = ACLHelper()

    def identity(self, request) -> Identity | None:
        memo = request.__dict__
        if _IDENTITY not in memo:
            try:
                memo[_IDENTITY] = load_identity(request)
            except InvalidCredentials:
                memo[_IDENTITY] = None
                memo[_BAD_CREDENTIALS] = True
        return memo[_IDENTITY]

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


def has_bad_credentials(request) -> bool:
    """Whether the request carried credentials that are not good (loads the caller if not yet)."""
    request.identity  # noqa: B018 - loads and memoizes
    return bool(request.__dict__.get(_BAD_CREDENTIALS))
