"""The error responses of SPEC §4: a JSON body with an `error` sentence (and `errors` per field)."""

from __future__ import annotations

import json

from pyramid.httpexceptions import HTTPException

SIGN_IN = "Please sign in."


class APIError(HTTPException):
    """An error response with our JSON body. Raise it anywhere; it is its own response."""

    def __init__(self, status: int, message: str, errors: dict | None = None, headers: dict | None = None):
        body = {"error": message}
        if errors:
            body["errors"] = errors
        super().__init__(headers=headers)
        self.status = status
        self.content_type = "application/json"
        self.charset = "utf-8"
        self.body = json.dumps(body, ensure_ascii=True, separators=(",", ":")).encode("utf-8")
        self.message = message

    def prepare(self, environ):  # our body is final; webob must not render an HTML page over it
        pass


def invalid(errors: dict, status: int = 400) -> APIError:
    return APIError(status, "Invalid data.", errors)


def too_large(limit: int) -> APIError:
    return APIError(413, f"The request body is larger than this server accepts ({limit} bytes).")


def unauthorized() -> APIError:
    return APIError(401, SIGN_IN, headers={"WWW-Authenticate": "Token"})


def forbidden(message: str) -> APIError:
    return APIError(403, message)


def conflict(message: str, errors: dict | None = None) -> APIError:
    return APIError(409, message, errors)
