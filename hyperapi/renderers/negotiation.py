"""Which format a request asked for (SPEC §5): `format=` or the `Accept` header, or a 406.

HTML (a browsable page, `hyperapi.browsable`) is offered last, so `*/*` and `text/*` keep choosing
what they chose before (JSON, CSV); a browser names `text/html` and gets the page.
"""

from __future__ import annotations

import re

from ..web.errors import APIError

MEDIA_TYPES = {
    "json": "application/json",
    "hal": "application/hal+json",
    "csv": "text/csv",
    "xml": "application/xml",
    "jsonp": "application/javascript",
    "html": "text/html",
}
# What `Accept` may ask for; jsonp only ever by `format=jsonp`.
OFFERS = {
    "application/json": "json",
    "application/hal+json": "hal",
    "text/csv": "csv",
    "application/xml": "xml",
    "text/xml": "xml",
    # Last: among offers of equal quality the first wins, and `*/*` must stay JSON.
    "text/html": "html",
    "application/xhtml+xml": "html",
}
CALLBACK = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]{0,63}(\.[A-Za-z_$][A-Za-z0-9_$]{0,63}){0,4}$")


def requested_format(request) -> str:
    """The format asked for, or a 406 (SPEC §4) when none we have is acceptable."""
    asked = request.GET.get("format")
    if asked is not None:
        if asked not in MEDIA_TYPES:
            raise not_acceptable()
        if asked == "jsonp" and not CALLBACK.match(request.GET.get("callback", "")):
            raise APIError(400, "Invalid data.", {"callback": "Give a JavaScript name, like callback=handleData."})
        return asked
    if "Accept" not in request.headers:
        return "json"
    offers = request.accept.acceptable_offers(list(OFFERS))
    if not offers:
        raise not_acceptable()
    return OFFERS[offers[0][0]]


def not_acceptable() -> APIError:
    supported = ", ".join(sorted(set(OFFERS)))
    return APIError(406, f"Not acceptable: this API answers {supported} (or format=json|hal|csv|xml|jsonp|html).")


def wants_html(request) -> bool:
    """Whether this request asked for a page (for drawing its error as one); never raises."""
    try:
        return requested_format(request) == "html"
    except Exception:  # a 406, or a query string webob cannot decode: the error stays JSON
        return False
