"""Limits every request meets before any work is done for it (a tween under the last-resort one):
the size of the body (413), the length of the query string (414). JSON nesting is bounded where
bodies are parsed (`views.bodies.parse_body`), the page size and `set/` by the query language."""

from __future__ import annotations

import tempfile

from webob.request import DisconnectionError

from ..files.uploads import max_upload_bytes
from .errors import APIError, too_large

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_MAX_QUERY_STRING = 4096
DEFAULT_MAX_JSON_DEPTH = 32
CUT_OFF = "hyperapi.body_cut_off"
# Room for the other fields and the part headers of a multipart upload of the largest file allowed.
UPLOAD_ENVELOPE_BYTES = 64 * 1024


def retry_attempts(request):
    """pyramid_retry's hook: to retry, it keeps a copy of the body — only for bodies of declared
    length within the limit, so an oversized or chunked upload is never buffered before the limit
    tween has refused it."""
    max_body = int(request.registry.settings.get("hyperapi.max_body_bytes", DEFAULT_MAX_BODY_BYTES))
    length = request.content_length
    if request.method in ("POST", "PUT", "PATCH") and (length is None or length > max_body):
        return 1
    if length:
        # pyramid_retry would copy the body outside every tween: a client that stops sending before
        # the length it declared would end the request with no response. Copy it here, and let the
        # limits tween answer.
        try:
            request.make_body_seekable()
        except DisconnectionError:
            request.environ[CUT_OFF] = True
            return 1
    return None  # the configured number


def unreadable_url(request) -> APIError | None:
    """A path or query string that is not UTF-8, or carries a NUL, names nothing we have."""
    try:
        path = request.path_info
    except UnicodeDecodeError:
        return APIError(404, "Not found.")
    if "\x00" in path:
        return APIError(404, "Not found.")
    try:
        params = list(request.GET.items())
    except UnicodeDecodeError:
        return APIError(400, "Invalid data.", {"query": "The query string is not valid UTF-8."})
    bad = {key: "Must not contain NUL characters." for key, value in params if "\x00" in key or "\x00" in value}
    if bad:
        return APIError(400, "Invalid data.", {key.replace("\x00", "\\0"): m for key, m in bad.items()})
    return None


def limits_factory(handler, registry):
    settings = registry.settings
    max_body = int(settings.get("hyperapi.max_body_bytes", DEFAULT_MAX_BODY_BYTES))
    max_query = int(settings.get("hyperapi.max_query_string", DEFAULT_MAX_QUERY_STRING))
    max_upload = max_upload_bytes(settings)

    def limits(request):
        if len(request.query_string) > max_query:
            return APIError(414, f"The query string is longer than {max_query} characters.")
        refused = unreadable_url(request)
        if refused is not None:
            return refused
        if request.environ.get(CUT_OFF):
            return APIError(400, "Invalid data.", {"body": "The body ended before the length it declared."})
        length = request.content_length
        # A multipart form may carry an upload: the larger limit, checked again per file, and again
        # against the smaller one by the views that take no file (`views.bodies.parse_body`).
        multipart = request.content_type == "multipart/form-data"
        limit = max_upload + UPLOAD_ENVELOPE_BYTES if multipart else max_body
        if length is not None and length > limit:
            return too_large(limit)
        if length is None and request.method in ("POST", "PUT", "PATCH") and request.is_body_readable:
            # No declared length (chunked): read no more than the limit allows, to disk if large.
            spooled = tempfile.SpooledTemporaryFile(max_size=max_body)
            received = 0
            while received <= limit and (chunk := request.body_file_raw.read(min(65536, limit + 1 - received))):
                spooled.write(chunk)
                received += len(chunk)
            if received > limit:
                return too_large(limit)
            spooled.seek(0)
            request.body_file = spooled
            request.content_length = received
        return handler(request)

    return limits


def includeme(config):
    # Under the last-resort tween, over the transaction: a refused request never opens one.
    config.add_tween("hyperapi.web.limits.limits_factory", under="hyperapi.web.tweens.last_resort_factory",
                     over="pyramid_tm.tm_tween_factory")
