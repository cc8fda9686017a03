"""The outermost tween: the last line that keeps a traceback from ever reaching a client.

Exception views handle errors raised inside the view; an error raised while the transaction
commits (a unique constraint, a concurrent update, the database going away) happens above them, in
pyramid_tm. Here it still becomes one of our JSON error bodies.
"""

import logging

from pyramid.tweens import EXCVIEW
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..auth.policy import has_bad_credentials
from .errors import APIError, unauthorized

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = "5"


def error_for(exc: Exception) -> APIError:
    if isinstance(exc, StaleDataError):
        return APIError(409, "This entity was changed by someone else meanwhile; fetch it again and retry.")
    if isinstance(exc, IntegrityError):
        return APIError(409, "This conflicts with an existing entity.")
    if isinstance(exc, DBAPIError):
        # The transaction is rolled back whole; the client may simply try again.
        return APIError(503, "The database is unavailable; please retry shortly.",
                        headers={"Retry-After": RETRY_AFTER_SECONDS})
    return APIError(500, "Internal server error.")


def raw_path(request) -> str:
    """The path as the server received it: safe to log even when it is not valid UTF-8."""
    return request.environ.get("PATH_INFO", "")


def credentials_factory(handler, registry):
    """Bad credentials are a 401 on every request — also on paths no route matches, which never
    reach the root factory. Under the exception view, so the 401 gets our body."""

    def credentials(request):
        if has_bad_credentials(request):
            raise unauthorized()
        return handler(request)

    return credentials


def last_resort_factory(handler, registry):
    def last_resort(request):
        try:
            response = handler(request)
        except Exception as exc:
            log.exception("error outside the views on %s %s", request.method, raw_path(request))
            response = error_for(exc)
            # Seen by pyramid_retry: a serialization failure or deadlock at commit is tried again.
            request.exception = exc
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if not raw_path(request).startswith(STATIC_PREFIX):
            say_what_it_depends_on(request, response)
        return response

    return last_resort


# The browsable API's scripts and styles: the same bytes for everyone, cached for an hour.
STATIC_PREFIX = "/static/"


def say_what_it_depends_on(request, response) -> None:
    """Every answer of the API depends on who asks, errors included (a private project is a 404 to
    one caller and a 200 to another), and an error may be drawn as a page for a browser: a cache must
    key it on `Authorization` and `Accept`, revalidate an anonymous one, and keep none for a caller
    who signed in."""
    vary = list(response.vary or ())
    wanted = ("Authorization", "Accept") if response.status_int >= 400 else ("Authorization",)
    response.vary = vary + [name for name in wanted if name not in vary]
    if "Authorization" in request.headers or "api_key=" in request.environ.get("QUERY_STRING", ""):
        response.cache_control = "no-store"
    elif not response.headers.get("Cache-Control"):
        response.cache_control = "no-cache"


def includeme(config):
    config.add_tween("hyperapi.web.tweens.last_resort_factory", over="pyramid_tm.tm_tween_factory")
    config.add_tween("hyperapi.web.tweens.credentials_factory", under=EXCVIEW)
