"""Responses built in more than one layer (tweens and views)."""

from pyramid.response import Response


def no_content() -> Response:
    response = Response(status=204)
    response.headers.pop("Content-Type", None)  # a 204 has no content, so no type either
    return response
