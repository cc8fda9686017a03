"""The formats of SPEC §5 as Pyramid renderers, and the one place an answer's headers are made.

A view returns an `Answer` (the body, and what a format needs besides it); the view's renderer is
`negotiated`, which draws it in the format the request asked for (`negotiation.requested_format`)
with the renderer registered under that format's name: `json`, `hal`, `csv`, `xml`, `jsonp` here, and
`html` from `hyperapi.browsable`. Writes answer JSON through the `json` renderer. Whatever the format,
`finish` gives the answer its `ETag`, `Vary` and `Cache-Control`, and makes a GET conditional (304 on
`If-None-Match`).

The ETag is a digest of the very bytes sent: it changes exactly when the body does — for this caller,
with these parameters, whatever rows were inlined or listed — so a client holding an ETag can never be
told "not modified" about a body that changed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from pyramid.renderers import RendererHelper

from . import formats
from .negotiation import MEDIA_TYPES, requested_format

NEGOTIATED = "negotiated"


@dataclass
class Answer:
    """What a view answers, before it is drawn in a format."""

    body: dict
    collection: bool = False  # a page or a selection of objects (HAL embeds them, CSV has a row each)
    links: dict[str, str] = field(default_factory=dict)  # {rel: href}: HAL's `_links`, a page's pager
    listing: object = None  # a collection's `Listing`, for the filter inputs of its HTML page
    headers: dict[str, str] = field(default_factory=dict)


def etag_of(data: bytes, media_type: str) -> str:
    """The entity tag of a representation: a digest of its type and its bytes (HAL and JSON can be the
    same bytes). Not a security measure, only a fingerprint."""
    return hashlib.md5(media_type.encode() + b"\n" + data, usedforsecurity=False).hexdigest()


def finish(request, response, data: bytes, answer: Answer | None, negotiated: bool) -> None:
    """The headers every answer carries: what it varies with, how it may be cached, its ETag."""
    if answer is not None and answer.headers:
        response.headers.update(answer.headers)
    response.headers["Vary"] = "Authorization, Accept" if negotiated else "Authorization"
    response.cache_control = "no-cache"  # the last-resort tween makes it no-store for a signed-in caller
    response.etag = etag_of(data, response.content_type)
    if request.method in ("GET", "HEAD"):
        response.conditional_response = True


def _answer(value) -> tuple[dict, Answer | None]:
    return (value.body, value) if isinstance(value, Answer) else (value, None)


def _format_renderer(fmt: str, serialize):
    def factory(info):
        def render(value, system) -> bytes:
            request = system["request"]
            body, answer = _answer(value)
            data = serialize(body, answer, request)
            response = request.response
            response.content_type = MEDIA_TYPES[fmt]
            if fmt == "csv":
                response.content_disposition = "inline"
            finish(request, response, data, answer, negotiated=system.get("negotiated", False))
            return data

        return render

    return factory


def _json(body, answer, request) -> bytes:
    return formats.to_json(body)


def _hal(body, answer, request) -> bytes:
    collection = answer is not None and answer.collection
    links = answer.links if answer is not None else {}
    return formats.to_json(formats.hal_collection(body, links) if collection else formats.hal_object(body))


def _csv(body, answer, request) -> bytes:
    return formats.to_csv(body["objects"] if answer is not None and answer.collection else [body])


def _xml(body, answer, request) -> bytes:
    return formats.to_xml(body if answer is not None and answer.collection else {"object": body})


def _jsonp(body, answer, request) -> bytes:
    return formats.to_jsonp(body, request.GET.get("callback"))


SERIALIZERS = {"json": _json, "hal": _hal, "csv": _csv, "xml": _xml, "jsonp": _jsonp}


def negotiated_renderer_factory(info):
    """Draws an answer with the renderer of the format the request asked for."""
    registry = info.registry
    renderers: dict = {}

    def render(value, system):
        fmt = system["request"].answer_format
        if fmt not in renderers:
            renderers[fmt] = RendererHelper(name=fmt, registry=registry).renderer
        return renderers[fmt](value, {**system, "negotiated": True})

    return render


def includeme(config):
    for fmt, serialize in SERIALIZERS.items():
        config.add_renderer(fmt, _format_renderer(fmt, serialize))
    config.add_renderer(NEGOTIATED, negotiated_renderer_factory)
    # Asked for before a view does any work: an unacceptable format is a 406 that costs nothing.
    config.add_request_method(requested_format, "answer_format", reify=True)
