"""How a body is written in each format but HTML (`hyperapi.browsable` draws that one).

- HAL: inlined related objects move to `_embedded`; a collection's objects are embedded.
- CSV cells that a spreadsheet would run as a formula (starting with = + - @, or a tab or carriage
  return) are prefixed with a quote.
- XML is built with ElementTree, so every name and text is escaped by the library; keys that are not
  XML names (party attributes may be anything) become `<field name="…">`.
- JSONP serves only what an anonymous caller may see: `auth.identity.credentials` ignores every
  credential of a jsonp request, so a page on another site cannot read a user's data through it.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XML_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def to_json(body) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def to_jsonp(body, callback: str) -> bytes:
    payload = json.dumps(body, ensure_ascii=True, separators=(",", ":"))
    return f"/**/{callback}({payload});".encode()


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
