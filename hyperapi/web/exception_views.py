"""Every error body, in one place (SPEC §4).

- 404 is answered here for a missing entity *and* for one the caller may not view (the forbidden view
  turns that denial into the very same bytes), and it names what the URL addresses, not what was
  actually missing: nothing tells which level exists.
- A denial on a visible entity is 401 for an anonymous caller, 403 for a signed-in one.
- Anything unexpected is a 500 with a fixed sentence; the traceback goes to the log only.
"""

from __future__ import annotations

import logging

from pyramid.httpexceptions import HTTPException
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..auth.rules import Permission
from ..services.exceptions import (
    Conflict,
    DomainError,
    Invalid,
    Refused,
    TooLarge,
    TooManyAttempts,
    Unsupported,
)
from ..traversal import SiteRoot, describe_path
from .errors import APIError, forbidden, unauthorized
from .tweens import error_for, raw_path

log = logging.getLogger(__name__)

def not_found(request) -> APIError:
    segments = request.path_info.split("/")
    return APIError(404, describe_path(SiteRoot, segments))


def refusal_message(context, permission) -> str:
    label = getattr(context, "label", "resource").lower()
    plural = getattr(context, "plural", "resources")
    if permission == Permission.CREATE:
        return f"You are not allowed to create new {plural}."
    if permission == Permission.EDIT:
        return f"You are not allowed to change this {label}."
    if permission == Permission.DELETE:
        return f"You are not allowed to delete this {label}."
    return "You are not allowed to do this."


def notfound_view(exc, request):
    return not_found(request)


def forbidden_view(exc, request):
    context = request.context
    if not request.has_permission(Permission.VIEW, context):
        return not_found(request)
    if request.identity is None:
        return unauthorized()
    permission = getattr(getattr(exc, "result", None), "permission", None)
    return forbidden(refusal_message(context, permission))


def api_error_view(exc, request):
    return exc


def answer_for(exc: DomainError) -> APIError:
    """A use case's refusal, as the status and error body of SPEC §4."""
    if isinstance(exc, Invalid):
        return APIError(400, exc.message, exc.errors)
    if isinstance(exc, TooManyAttempts):
        return APIError(429, exc.message, headers={"Retry-After": str(exc.retry_after)})
    status = {Conflict: 409, Refused: 403, Unsupported: 415, TooLarge: 413}.get(type(exc), 400)
    return APIError(status, exc.message, exc.errors or None)


def domain_error_view(exc, request):
    return answer_for(exc)


def http_exception_view(exc, request):
    """Pyramid's own HTTP exceptions (a 405 from a predicate, say), given our body."""
    if exc.status_code < 400:
        return exc
    response = APIError(exc.status_code, exc.title + ".", headers={k: v for k, v in exc.headers.items()
                                                                   if k.lower() in ("allow", "location")})
    return response


def database_error_view(exc, request):
    """Errors of the database raised inside a view: the same answers as the last-resort tween's."""
    if not isinstance(exc, (StaleDataError, IntegrityError)):
        log.exception("database error on %s %s", request.method, raw_path(request))
    return error_for(exc)


def internal_error_view(exc, request):
    log.exception("unexpected error on %s %s", request.method, raw_path(request))
    return APIError(500, "Internal server error.")


def includeme(config):
    config.add_notfound_view(notfound_view)
    config.add_forbidden_view(forbidden_view)
    config.add_exception_view(api_error_view, context=APIError)
    config.add_exception_view(domain_error_view, context=DomainError)
    config.add_exception_view(http_exception_view, context=HTTPException)
    config.add_exception_view(database_error_view, context=StaleDataError)
    config.add_exception_view(database_error_view, context=DBAPIError)
    config.add_exception_view(internal_error_view, context=Exception)

