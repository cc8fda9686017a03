"""CORS for the origins in `hyperapi.cors_origins` (none by default)."""

from __future__ import annotations

from pyramid.settings import asbool

from .responses import no_content


def cors_factory(handler, registry):
    """CORS for the origins in `hyperapi.cors_origins` (none by default): browsers on those sites may
    call the API with a token. Credentials (cookies) are never involved: tokens travel in a header."""
    origins = set(registry.settings.get("hyperapi.cors_origins", "").split())
    allow_all = asbool(registry.settings.get("hyperapi.cors_allow_all", False))

    def cors(request):
        origin = request.headers.get("Origin")
        allowed = origin is not None and (allow_all or origin in origins)
        preflight = request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers
        if allowed and preflight:
            response = no_content()
            response.headers.update({
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
                "Access-Control-Allow-Headers": "Authorization, Content-Type, If-Match, If-None-Match",
                "Access-Control-Max-Age": "600",
                "Vary": "Origin",
            })
            return response
        response = handler(request)
        if allowed:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = "ETag, Link, Location, Retry-After"
            response.vary = tuple(dict.fromkeys((*(response.vary or ()), "Origin")))
        return response

    return cors


def includeme(config):
    # Under the limits tween, over the transaction: a preflight never opens one.
    config.add_tween("hyperapi.web.cors.cors_factory", under="hyperapi.web.limits.limits_factory",
                     over="pyramid_tm.tm_tween_factory")
