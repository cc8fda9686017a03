"""Colander types that say plainly what is wrong, and never coerce a wrong type into a right one.

Colander's own `Boolean` turns "bogus" into True and `String` answers "1 is not a string: {...}";
an API's errors are read by people, so these types are strict and their messages short.

Each type also says what it is (`kind`, in the words of a collection's `schema/`) and gives its JSON
Schema (`json_schema`), for what a client may send and for what the API sends back: the OpenAPI
document and `schema/` are generated from these, so they cannot drift from what is validated.
"""

from __future__ import annotations

import datetime
import json
import re
from urllib.parse import urlsplit

import colander
import pycountry

REQUIRED = "This field is required."


class Text(colander.SchemaType):
    kind = "string"

    def __init__(self, max_length: int | None = None, allow_empty: bool = True):
        self.max_length = max_length
        self.allow_empty = allow_empty

    def json_schema(self, node, output: bool = False) -> dict:
        schema = {"type": "string"}
        if self.max_length is not None:
            schema["maxLength"] = self.max_length
        min_length = max(getattr(node.validator, "min_length", 0), 0 if self.allow_empty else 1)
        if min_length:
            schema["minLength"] = min_length
        if output:
            return schema
        patterns = [r"^[^\u0000]*$"]  # no NUL
        if not self.allow_empty:
            patterns.append(r"\S")  # not blank
        if getattr(node.validator, "pattern", None) is not None:
            patterns.append(f"^(?:{node.validator.pattern})$")
        if len(patterns) == 1:
            schema["pattern"] = patterns[0]
        else:
            schema["allOf"] = [{"pattern": pattern} for pattern in patterns]
        return schema

    def serialize(self, node, appstruct):
        return colander.null if appstruct is colander.null else appstruct

    def deserialize(self, node, cstruct):
        if cstruct is colander.null or cstruct is None:
            return colander.null
        if not isinstance(cstruct, str):
            raise colander.Invalid(node, "Must be a string.")
        if "\x00" in cstruct:
            raise colander.Invalid(node, "Must not contain NUL characters.")
        if self.max_length is not None and len(cstruct) > self.max_length:
            raise colander.Invalid(node, f"Ensure this field has no more than {self.max_length} characters.")
        if cstruct.strip() == "" and not self.allow_empty:
            raise colander.Invalid(node, "This field may not be blank.")
        return cstruct


class Bool(colander.SchemaType):
    kind = "boolean"
    TRUE = {"true", "1", "on"}
    FALSE = {"false", "0", "off"}

    def json_schema(self, node, output: bool = False) -> dict:
        return {"type": "boolean"}

    def serialize(self, node, appstruct):
        return appstruct

    def deserialize(self, node, cstruct):
        if cstruct is colander.null or cstruct is None:
            return colander.null
        if isinstance(cstruct, bool):
            return cstruct
        if isinstance(cstruct, str):  # form bodies
            lowered = cstruct.strip().lower()
            if lowered in self.TRUE:
                return True
            if lowered in self.FALSE:
                return False
        raise colander.Invalid(node, "Must be true or false.")


class Choice(colander.SchemaType):
    kind = "string"

    def __init__(self, choices):
        self.choices = tuple(choices)

    @property
    def allow_empty(self) -> bool:
        return "" in self.choices

    def json_schema(self, node, output: bool = False) -> dict:
        return {"type": "string", "enum": list(self.choices)}

    def serialize(self, node, appstruct):
        return appstruct

    def deserialize(self, node, cstruct):
        if cstruct is colander.null or cstruct is None:
            return colander.null
        if not isinstance(cstruct, str) or cstruct not in self.choices:
            allowed = ", ".join(f'"{c}"' for c in self.choices)
            raise colander.Invalid(node, f"Must be one of {allowed}.")
        return cstruct


class CountryCode(colander.SchemaType):
    """ISO 3166-1 alpha-2, checked against pycountry; "" means not given."""

    kind = "string"
    allow_empty = True

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(sorted(country.alpha_2 for country in pycountry.countries))

    def json_schema(self, node, output: bool = False) -> dict:
        if output:
            return {"type": "string", "enum": ["", *self.choices]}
        # Any case is accepted ("ug" is UG), and surrounding spaces.
        return {"type": "string", "pattern": r"^\s*([A-Za-z]{2})?\s*$"}

    def serialize(self, node, appstruct):
        return appstruct

    def deserialize(self, node, cstruct):
        if cstruct is colander.null or cstruct is None:
            return colander.null
        if not isinstance(cstruct, str):
            raise colander.Invalid(node, "Must be a string.")
        if cstruct == "":
            return ""
        code = cstruct.strip().upper()
        if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
            raise colander.Invalid(node, f'"{cstruct}" is not an ISO 3166-1 alpha-2 country code.')
        return code


class JSONValue(colander.SchemaType):
    """A list or an object. Form bodies carry it as JSON text, which is parsed here."""

    def __init__(self, python_type: type):
        self.python_type = python_type

    def serialize(self, node, appstruct):
        return appstruct

    def parse(self, node, cstruct):
        if cstruct is colander.null or cstruct is None:
            return colander.null
        if isinstance(cstruct, str):
            try:
                cstruct = json.loads(cstruct)
            except ValueError:
                raise colander.Invalid(node, "Invalid JSON.") from None
        noun = "a list" if self.python_type is list else "an object"
        if not isinstance(cstruct, self.python_type):
            raise colander.Invalid(node, f"Must be {noun}.")
        return cstruct

    def deserialize(self, node, cstruct):
        return self.parse(node, cstruct)


class JSONObject(JSONValue):
    """A free-form JSON object (party attributes), bounded in size."""

    kind = "dict"

    def json_schema(self, node, output: bool = False) -> dict:
        return {"type": "object", "description": f"Any JSON object of at most {self.max_bytes} bytes."}

    def __init__(self, max_bytes: int = 65536):
        super().__init__(dict)
        self.max_bytes = max_bytes

    def deserialize(self, node, cstruct):
        value = self.parse(node, cstruct)
        if value is not colander.null and len(json.dumps(value)) > self.max_bytes:
            raise colander.Invalid(node, f"Must be at most {self.max_bytes} bytes of JSON.")
        return value


def _is_http_url(value: str) -> bool:
    """An absolute http(s) URL (or IRI: non-ASCII letters are fine), with no space or control character."""
    if not isinstance(value, str) or len(value) > 2000 or any(c.isspace() or not c.isprintable() for c in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:  # "https://[" is no URL (an IPv6 host left open)
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


class URLList(JSONValue):
    kind = "list"

    def __init__(self, max_items: int = 20):
        super().__init__(list)
        self.max_items = max_items

    def json_schema(self, node, output: bool = False) -> dict:
        url = {"type": "string", "format": "iri", "maxLength": 2000,
               "pattern": r"^https?://[^\s\u0000-\u001f\u007f-\u009f/?#][^\s\u0000-\u001f\u007f-\u009f]*$"}
        return {"type": "array", "items": url, "maxItems": self.max_items}

    def deserialize(self, node, cstruct):
        value = self.parse(node, cstruct)
        if value is colander.null:
            return value
        if len(value) > self.max_items:
            raise colander.Invalid(node, f"Must have at most {self.max_items} items.")
        for index, url in enumerate(value):
            if not _is_http_url(url):
                raise colander.Invalid(node, f"Item {index}: must be an http or https URL.")
        return value


# h-card (http://microformats.org/wiki/h-card): the properties a contact may carry.
HCARD_PROPERTIES = frozenset(
    """name honorific-prefix given-name additional-name family-name sort-string honorific-suffix
    nickname email logo photo url uid category adr post-office-box extended-address street-address
    locality region postal-code country-name label geo latitude longitude altitude tel note bday key
    org job-title role impp sex gender-identity anniversary""".split()
)
_EMAIL = re.compile(r"^mailto:[^@\s]+@[^@\s]+\.[^@\s]+$")
_TEL = re.compile(r"^(tel:)?\+?[0-9 ().\-/]{3,40}$")


class HCardList(JSONValue):
    """A list of h-cards: `{"type": ["h-card"], "properties": {"name": [...], "email": ["mailto:..."]}}`.

    `"hcard"`, as Cadasta's documents spell it, is read as `"h-card"`.
    """

    kind = "list"

    def __init__(self, max_items: int = 50):
        super().__init__(list)
        self.max_items = max_items

    def json_schema(self, node, output: bool = False) -> dict:
        values = {"type": "array", "minItems": 1,
                  "items": {"type": "string", "minLength": 1, "maxLength": 500, "pattern": r"\S"}}
        card = {
            "type": "object",
            "required": ["type", "properties"],
            "additionalProperties": False,
            "properties": {
                "type": {"type": "array", "minItems": 1,
                         "items": {"enum": ["h-card"] if output else ["h-card", "hcard"]}},
                "properties": {
                    "type": "object",
                    "minProperties": 1,
                    "additionalProperties": False,
                    "properties": {name: values for name in sorted(HCARD_PROPERTIES)},
                },
            },
            "description": 'An h-card: {"type": ["h-card"], "properties": {"name": [...], "email": '
                           '["mailto:..."], "tel": [...]}}.',
        }
        return {"type": "array", "items": card, "maxItems": self.max_items}

    def deserialize(self, node, cstruct):
        value = self.parse(node, cstruct)
        if value is colander.null:
            return value
        if len(value) > self.max_items:
            raise colander.Invalid(node, f"Must have at most {self.max_items} contacts.")
        return [self._card(node, index, card) for index, card in enumerate(value)]

    def _card(self, node, index, card):
        def fail(message):
            raise colander.Invalid(node, f"Item {index}: {message}")

        if not isinstance(card, dict):
            fail("must be an h-card object.")
        extra = set(card) - {"type", "properties"}
        if extra:
            fail(f"unknown key {sorted(extra)[0]!r}; an h-card has only 'type' and 'properties'.")
        types = card.get("type")
        if not isinstance(types, list) or not types or any(t not in ("h-card", "hcard") for t in types):
            fail('"type" must be ["h-card"].')
        properties = card.get("properties")
        if not isinstance(properties, dict) or not properties:
            fail('"properties" must be an object with at least one property.')
        clean = {}
        for name, values in properties.items():
            if name not in HCARD_PROPERTIES:
                fail(f"{name!r} is not an h-card property.")
            if not isinstance(values, list) or not values:
                fail(f'"{name}" must be a non-empty list of strings.')
            for v in values:
                if not isinstance(v, str) or not v.strip() or len(v) > 500:
                    fail(f'"{name}" must be a list of non-empty strings of at most 500 characters.')
                if name == "email" and not _EMAIL.match(v):
                    fail(f'"email" values must look like "mailto:someone@example.org", not {v!r}.')
                if name == "tel" and not _TEL.match(v):
                    fail(f'{v!r} is not a telephone number.')
            clean[name] = list(values)
        return {"type": ["h-card"], "properties": clean}


class DateTimeUTC(colander.SchemaType):
    """ISO 8601 with an offset (or Z); stored as UTC."""

    kind = "datetime"

    def json_schema(self, node, output: bool = False) -> dict:
        moment = {"type": "string", "format": "date-time"}
        return moment if output else {"anyOf": [moment, {"const": ""}]}  # "" is not given

    def serialize(self, node, appstruct):
        return appstruct

    def deserialize(self, node, cstruct):
        if cstruct is colander.null or cstruct is None or cstruct == "":
            return colander.null
        if not isinstance(cstruct, str):
            raise colander.Invalid(node, "Must be an ISO 8601 date and time.")
        try:
            value = datetime.datetime.fromisoformat(cstruct.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise colander.Invalid(node, "Must be an ISO 8601 date and time.") from None
        if value.tzinfo is None:
            raise colander.Invalid(node, "Must carry a time zone offset (for example 'Z').")
        try:
            return value.astimezone(datetime.UTC)
        except OverflowError:
            raise colander.Invalid(node, "Out of the range of dates.") from None


def regex_validator(pattern: str, message: str):
    compiled = re.compile(pattern)

    def validate(node, value):
        if not compiled.fullmatch(value):
            raise colander.Invalid(node, message)

    validate.pattern = pattern  # for the JSON Schema of the field
    return validate


def field(typ, *, required: bool = False, default=colander.drop, validator=None, **kw) -> colander.SchemaNode:
    """A schema field. Required fields say so in our words; optional ones get `default` when absent
    (on create and replace) — `colander.drop` leaves them out."""
    return colander.SchemaNode(
        typ,
        missing=colander.required if required else default,
        missing_msg=REQUIRED,
        validator=validator,
        **kw,
    )


def form_schema(node: colander.SchemaNode) -> dict:
    """The JSON Schema of a field in a form body, where every value is text: lists and objects as JSON
    text, true and false as words."""
    typ = node.typ
    if isinstance(typ, JSONValue):
        return {"type": "string", "contentMediaType": "application/json",
                "description": "JSON text: " + json.dumps(typ.json_schema(node))[:200]}
    if isinstance(typ, Bool):
        return {"type": "string", "enum": sorted(Bool.TRUE | Bool.FALSE)}
    return typ.json_schema(node, output=False)
