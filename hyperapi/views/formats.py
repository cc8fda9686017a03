"""The formats of SPEC §5: json (default), hal, csv, xml and jsonp, chosen by `format=` or `Accept`.

- CSV cells that a spreadsheet would run as a formula (starting with = + - @, or a tab or carriage
  return) are prefixed with a quote.
- XML is built with ElementTree, so every name and text is escaped by the library; keys that are not
  XML names (party attributes may be anything) become `<field name="…">`.
- JSONP serves only what an anonymous caller may see: `security.credentials` ignores every
  credential of a jsonp request, so a page on another site cannot read a user's data through it.
- HTML (a browsable page, `hyperapi.views.html`) is offered last, so `*/*` and `text/*` keep
  choosing what they chose before (JSON, CSV); a browser names `text/html` and gets the page.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET

from ..errors import APIError

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
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XML_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


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


# --- HAL ---------------------------------------------------------------------------------------------


def hal_object(obj: dict) -> dict:
    """Inlined related objects move to `_embedded`; their field keeps the URI."""
    result, embedded = {}, {}
    for key, value in obj.items():
        if isinstance(value, dict) and "resource_uri" in value and key != "_links":
            embedded[key] = hal_object(value)
            result[key] = value["resource_uri"]
        else:
            result[key] = value
    if embedded:
        result["_embedded"] = embedded
    return result


def hal_collection(body: dict, links: dict) -> dict:
    """The objects are embedded; whatever else the body says (meta, not_found) stays beside them."""
    result = {"_links": {rel: {"href": href} for rel, href in links.items()}}
    result.update((key, value) for key, value in body.items() if key != "objects")
    result["_embedded"] = {"objects": [hal_object(obj) for obj in body["objects"]]}
    return result


# --- CSV ---------------------------------------------------------------------------------------------


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    else:
        text = str(value)
    if text.startswith(FORMULA_START):
        text = "'" + text
    return text


def to_csv(objects: list[dict]) -> bytes:
    columns: list[str] = []
    for obj in objects:
        for key in obj:
            if key != "_links" and key not in columns:
                columns.append(key)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_cell(c) for c in columns])
    for obj in objects:
        writer.writerow([_cell(obj.get(c)) for c in columns])
    return out.getvalue().encode("utf-8")


# --- XML ---------------------------------------------------------------------------------------------


def _xml(parent: ET.Element, key: str, value) -> None:
    if XML_NAME.match(key) and not key.lower().startswith("xml"):
        element = ET.SubElement(parent, key)
    else:
        element = ET.SubElement(parent, "field", {"name": key})
    if value is None:
        element.set("null", "true")
    elif isinstance(value, dict):
        for k, v in value.items():
            _xml(element, str(k), v)
    elif isinstance(value, list):
        element.set("type", "list")
        for item in value:
            _xml(element, "item", item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    else:
        element.text = _xml_text(str(value))


def _xml_text(text: str) -> str:
    # Characters XML 1.0 cannot carry at all are dropped rather than producing a broken document.
    return "".join(c for c in text if c in "\t\n\r" or ord(c) >= 0x20)


def to_xml(body: dict) -> bytes:
    root = ET.Element("response")
    for key, value in body.items():
        if key == "objects":
            objects = ET.SubElement(root, "objects", {"type": "list"})
            for obj in value:
                element = ET.SubElement(objects, "object")
                for k, v in obj.items():
                    _xml(element, k, v)
        else:
            _xml(root, key, value)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def serialize(fmt: str, body, *, collection: bool, links: dict | None, callback: str | None) -> bytes:
    if fmt == "hal":
        body = hal_collection(body, links or {}) if collection else hal_object(body)
    if fmt in ("json", "hal"):
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if fmt == "jsonp":
        payload = json.dumps(body, ensure_ascii=True, separators=(",", ":"))
        return f"/**/{callback}({payload});".encode()
    if fmt == "csv":
        return to_csv(body["objects"] if collection else [body])
    if fmt == "xml":
        return to_xml(body if collection else {"object": body})
    raise not_acceptable()


def wants_html(request) -> bool:
    """Whether this request asked for a page (for drawing its error as one); never raises."""
    try:
        return requested_format(request) == "html"
    except Exception:  # a 406, or a query string webob cannot decode: the error stays JSON
        return False
