"""The Colander types of request bodies on their own: strict (no wrong type coerced into a right one),
with short messages a person can act on, and each giving the JSON Schema the documents publish."""

from __future__ import annotations

import datetime
import json

import colander
import pytest

from hyperapi.schemas.fieldtypes import (
    REQUIRED,
    Bool,
    Choice,
    CountryCode,
    DateTimeUTC,
    HCardList,
    JSONObject,
    JSONValue,
    Text,
    URLList,
    field,
    form_schema,
    regex_validator,
)


def deserialize(typ, value, **kw):
    return field(typ, **kw).deserialize(value)


def refusal(typ, value, **kw) -> str:
    with pytest.raises(colander.Invalid) as caught:
        deserialize(typ, value, **kw)
    return caught.value.msg


# --- each type: what it accepts, what it refuses and says ------------------------------------------


@pytest.mark.parametrize("typ", [Text(), Bool(), Choice(("a",)), CountryCode(), JSONObject(), URLList(),
                                 HCardList(), DateTimeUTC()])
def test_null_and_none_are_absent_values(typ):
    for absent in (colander.null, None):
        assert typ.deserialize(None, absent) is colander.null


def test_text():
    assert deserialize(Text(max_length=5), "  ab ") == "  ab "  # kept as sent
    assert deserialize(Text(), "") == ""
    assert refusal(Text(), 12) == "Must be a string."
    assert refusal(Text(), ["a"]) == "Must be a string."
    assert refusal(Text(), "a\x00b") == "Must not contain NUL characters."
    assert refusal(Text(max_length=5), "abcdef") == "Ensure this field has no more than 5 characters."
    assert refusal(Text(allow_empty=False), " \t") == "This field may not be blank."


@pytest.mark.parametrize("value,expected", [
    (True, True), (False, False), ("true", True), (" ON ", True), ("1", True), ("False", False), ("off", False),
    ("0", False),
])
def test_bool_accepts(value, expected):
    assert deserialize(Bool(), value) is expected


@pytest.mark.parametrize("value", ["bogus", "", "yes", 1, 0, 1.0, [], {}])
def test_bool_refuses(value):
    assert refusal(Bool(), value) == "Must be true or false."


def test_choice():
    assert deserialize(Choice(("IN", "GR")), "GR") == "GR"
    for value in ("in", "XX", 1, ["IN"]):
        assert refusal(Choice(("IN", "GR")), value) == 'Must be one of "IN", "GR".'
    assert Choice(("", "a")).allow_empty and not Choice(("a",)).allow_empty


@pytest.mark.parametrize("value,expected", [("UG", "UG"), ("ug", "UG"), (" ke ", "KE"), ("", "")])
def test_country_code_accepts(value, expected):
    assert deserialize(CountryCode(), value) == expected


def test_country_code_refuses():
    assert refusal(CountryCode(), "XX") == '"XX" is not an ISO 3166-1 alpha-2 country code.'
    assert refusal(CountryCode(), "UGA") == '"UGA" is not an ISO 3166-1 alpha-2 country code.'
    assert refusal(CountryCode(), 256) == "Must be a string."


def test_json_values_come_as_json_or_as_json_text():
    assert deserialize(JSONObject(), {"a": [1]}) == {"a": [1]}
    assert deserialize(JSONObject(), '{"a": [1]}') == {"a": [1]}  # a form field
    assert deserialize(JSONValue(list), "[1, 2]") == [1, 2]
    assert refusal(JSONObject(), "{'a': 1}") == "Invalid JSON."
    assert refusal(JSONObject(), "[1]") == "Must be an object."
    assert refusal(JSONValue(list), {"a": 1}) == "Must be a list."


def test_a_json_object_is_bounded_in_size():
    limit = JSONObject(max_bytes=20)
    fits = {"k": "x" * (20 - len('{"k": ""}'))}
    assert len(json.dumps(fits)) == 20 and deserialize(limit, fits) == fits
    assert refusal(limit, {"k": "x" * 20}) == "Must be at most 20 bytes of JSON."


def test_url_list():
    urls = ["https://example.org/a?b#c", "http://예시.kr/"]
    assert deserialize(URLList(), urls) == urls
    assert deserialize(URLList(), json.dumps(urls)) == urls
    assert refusal(URLList(max_items=1), urls) == "Must have at most 1 items."
    for bad in ("ftp://example.org/", "https://", "example.org", "https://exa mple.org/", "https://[", 7,
                "https://example.org/" + "a" * 2000):
        assert refusal(URLList(), ["https://ok.example/", bad]) == "Item 1: must be an http or https URL."


CARD = {"type": ["h-card"], "properties": {"name": ["Barnabas"], "email": ["mailto:b@example.org"],
                                           "tel": ["+256 (0)41 123-456"]}}


def test_hcards_are_read_and_normalised():
    assert deserialize(HCardList(), [CARD]) == [CARD]
    assert deserialize(HCardList(), [{**CARD, "type": ["hcard"]}]) == [CARD]  # as Cadasta spells it
    assert deserialize(HCardList(), json.dumps([CARD])) == [CARD]


@pytest.mark.parametrize("card,message", [
    ("a card", "Item 0: must be an h-card object."),
    ({**CARD, "id": 1}, "Item 0: unknown key 'id'; an h-card has only 'type' and 'properties'."),
    ({**CARD, "type": ["vcard"]}, 'Item 0: "type" must be ["h-card"].'),
    ({**CARD, "type": []}, 'Item 0: "type" must be ["h-card"].'),
    ({**CARD, "properties": {}}, 'Item 0: "properties" must be an object with at least one property.'),
    ({**CARD, "properties": {"colour": ["red"]}}, "Item 0: 'colour' is not an h-card property."),
    ({**CARD, "properties": {"name": "Barnabas"}}, 'Item 0: "name" must be a non-empty list of strings.'),
    ({**CARD, "properties": {"name": [" "]}},
     'Item 0: "name" must be a list of non-empty strings of at most 500 characters.'),
    ({**CARD, "properties": {"email": ["b@example.org"]}},
     "Item 0: \"email\" values must look like \"mailto:someone@example.org\", not 'b@example.org'."),
    ({**CARD, "properties": {"tel": ["call me"]}}, "Item 0: 'call me' is not a telephone number."),
])
def test_a_bad_hcard_is_named_by_its_position(card, message):
    assert refusal(HCardList(), [card]) == message


def test_hcard_lists_are_bounded():
    assert refusal(HCardList(max_items=1), [CARD, CARD]) == "Must have at most 1 contacts."


@pytest.mark.parametrize("value,expected", [
    ("2026-03-04T05:06:07Z", datetime.datetime(2026, 3, 4, 5, 6, 7, tzinfo=datetime.UTC)),
    ("2026-03-04t05:06:07z", datetime.datetime(2026, 3, 4, 5, 6, 7, tzinfo=datetime.UTC)),
    ("2026-03-04T05:06:07+03:00", datetime.datetime(2026, 3, 4, 2, 6, 7, tzinfo=datetime.UTC)),
])
def test_datetimes_are_stored_as_utc(value, expected):
    result = deserialize(DateTimeUTC(), value)
    assert result == expected and result.tzinfo is datetime.UTC


def test_datetimes_refused():
    assert DateTimeUTC().deserialize(None, "") is colander.null  # "" is not given
    assert refusal(DateTimeUTC(), "2026-03-04T05:06:07") == "Must carry a time zone offset (for example 'Z')."
    assert refusal(DateTimeUTC(), "March 4th") == "Must be an ISO 8601 date and time."
    assert refusal(DateTimeUTC(), 1767225600) == "Must be an ISO 8601 date and time."
    assert refusal(DateTimeUTC(), "0001-01-01T00:00:00+01:00") == "Out of the range of dates."


# --- fields ----------------------------------------------------------------------------------------


def test_a_required_field_says_so_in_our_words():
    schema = colander.SchemaNode(colander.Mapping(unknown="raise"))
    schema.add(field(Text(), required=True, name="name"))
    schema.add(field(Text(), name="note"))
    schema.add(field(Text(), default="", name="description"))
    with pytest.raises(colander.Invalid) as caught:
        schema.deserialize({})
    assert caught.value.asdict() == {"name": REQUIRED}
    assert schema.deserialize({"name": "n"}) == {"name": "n", "description": ""}  # `note` dropped


def test_regex_validator():
    validate = regex_validator(r"[a-z]+", "Lowercase letters only.")
    assert deserialize(Text(), "abc", validator=validate) == "abc"
    assert refusal(Text(), "abc1", validator=validate) == "Lowercase letters only."  # the whole value
    assert validate.pattern == "[a-z]+"


# --- what the documents say of each type -----------------------------------------------------------


def test_text_json_schema():
    slug = field(Text(max_length=100, allow_empty=False), validator=regex_validator("[a-z]+", "Letters."))
    assert slug.typ.json_schema(slug) == {"type": "string", "maxLength": 100, "minLength": 1, "allOf": [
        {"pattern": r"^[^\u0000]*$"}, {"pattern": r"\S"}, {"pattern": "^(?:[a-z]+)$"}]}
    assert slug.typ.json_schema(slug, output=True) == {"type": "string", "maxLength": 100, "minLength": 1}
    plain = field(Text())
    assert plain.typ.json_schema(plain) == {"type": "string", "pattern": r"^[^\u0000]*$"}


def test_json_schemas_of_the_other_types():
    node = field(Text())  # the node matters to Text only
    assert Bool().json_schema(node) == {"type": "boolean"}
    assert Choice(("IN", "GR")).json_schema(node) == {"type": "string", "enum": ["IN", "GR"]}
    assert CountryCode().json_schema(node) == {"type": "string", "pattern": r"^\s*([A-Za-z]{2})?\s*$"}
    countries = CountryCode().json_schema(node, output=True)["enum"]
    assert countries[0] == "" and "UG" in countries and countries[1:] == sorted(countries[1:])
    assert DateTimeUTC().json_schema(node) == {"anyOf": [{"type": "string", "format": "date-time"},
                                                         {"const": ""}]}
    assert DateTimeUTC().json_schema(node, output=True) == {"type": "string", "format": "date-time"}
    assert URLList(max_items=3).json_schema(node)["maxItems"] == 3
    cards = HCardList().json_schema(node)
    assert cards["items"]["properties"]["type"]["items"] == {"enum": ["h-card", "hcard"]}
    assert HCardList().json_schema(node, output=True)["items"]["properties"]["type"]["items"] == {"enum": ["h-card"]}
    assert JSONObject(max_bytes=10).json_schema(node) == {"type": "object",
                                                          "description": "Any JSON object of at most 10 bytes."}


def test_in_a_form_lists_and_objects_are_json_text_and_booleans_are_words():
    assert form_schema(field(JSONObject()))["contentMediaType"] == "application/json"
    assert form_schema(field(HCardList()))["type"] == "string"
    assert form_schema(field(Bool())) == {"type": "string", "enum": ["0", "1", "false", "off", "on", "true"]}
    assert form_schema(field(Choice(("a",)))) == {"type": "string", "enum": ["a"]}
