"""Bad request bodies from callers who ARE allowed to write (SPEC §4, §5).

Every bad body is a 400 (415 for a media type the API does not read) with
`{"error": "Invalid data.", "errors": {<field>: <message>}}` naming the offending field, and nothing is
written: after each refusal the whole database is read back (through the `db` fixture's session) and
compared with what it held before — row counts, every field, every `version`.

Also here: the form bodies of Cadasta's parties API (multipart and urlencoded), conflicts (409),
slug derivation, conditional requests (412/304), and a party id asked for under the wrong project.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from hyperapi.models import Organization, Party, Project, Token, User, metadata

from ..support.api import API, org_url, party_url, project_url
from ..support.factory import PASSWORD

# --- helpers ---------------------------------------------------------------------------------------


def snapshot(db) -> dict:
    """Every row of every table. `tokens.last_used` is left out: reading with a token may touch it."""
    db.expire_all()
    state = {}
    for table in metadata.sorted_tables:
        columns = [c for c in table.c if not (table.name == "tokens" and c.name == "last_used")]
        rows = db.execute(sa.select(*columns).order_by(*table.primary_key.columns)).all()
        state[table.name] = [tuple(row) for row in rows]
    return state


def count(db, model) -> int:
    db.expire_all()
    return db.scalar(sa.select(sa.func.count()).select_from(model))


def assert_invalid(response, *fields, exact: bool = True) -> dict:
    """A 400 whose body is {"error": "Invalid data.", "errors": {...}} naming `fields`."""
    assert response.status_int == 400, response.text
    assert response.content_type == "application/json"
    body = response.json
    assert set(body) == {"error", "errors"}, body
    assert body["error"] == "Invalid data."
    errors = body["errors"]
    assert isinstance(errors, dict) and errors, body
    assert all(isinstance(k, str) and isinstance(v, str) and v for k, v in errors.items()), body
    for field in fields:
        assert field in errors, body
    if fields and exact:
        assert set(errors) == set(fields), body
    return errors


def headers_for(key: str | None, extra: dict | None = None) -> dict:
    headers = {} if key is None else {"Authorization": f"Token {key}"}
    headers.update(extra or {})
    return headers


def send_json(client, key, method, url, data, headers=None):
    return client.as_(key).request(method, url, json=data, headers=headers)


def send_raw(client, key, method, url, body: bytes, content_type: str | None):
    kw = {"body": body, "headers": headers_for(key), "method": method, "status": "*", "expect_errors": True}
    if content_type is not None:
        kw["content_type"] = content_type
    return client.app.request(url, **kw)


def send_form(client, key, method, url, fields, multipart: bool, headers=None):
    """A form body: `fields` is a list of (name, text) pairs; lists and objects go as JSON text."""
    pairs = [(name, value if isinstance(value, str) else json.dumps(value)) for name, value in fields]
    send = getattr(client.app, method.lower())
    return send(url, params=pairs, headers=headers_for(key, headers), status="*", expect_errors=True,
                content_type="multipart/form-data" if multipart else "application/x-www-form-urlencoded")


def card(**properties) -> dict:
    return {"type": ["h-card"], "properties": properties or {"name": ["Office"]}}


# --- the world -------------------------------------------------------------------------------------


@pytest.fixture
def world(factory):
    amara = factory.user("amara", email="amara@example.org")  # admin of the organization
    root = factory.user("root", superuser=True)
    bruno = factory.user("bruno")  # member of the organization
    chen = factory.user("chen")  # collector in Kampala
    farah = factory.user("farah")  # no role
    org = factory.org("terra-registry", name="Terra Registry")
    other_org = factory.org("quiet-ground", name="Quiet Ground")
    factory.org_member(org, amara, "admin")
    factory.org_member(other_org, amara, "admin")
    factory.org_member(org, bruno, "member")
    kampala = factory.project(org, "kampala", name="Mapping property rights in Uganda", country="UG")
    mombasa = factory.project(org, "mombasa", name="Mombasa coast", country="KE")
    factory.project_member(kampala, chen, "collector")
    party = factory.party(kampala, contacts=[card(name=["Barnabas Mughongo"], email=["mailto:b@example.org"])],
                          attributes={"gender": "male"}, country="UG", description="Farmer")
    amina = factory.party(mombasa, name="Amina Juma")
    w = SimpleNamespace(
        amara=amara, root=root, bruno=bruno, chen=chen, farah=farah,
        org=org, other_org=other_org, kampala=kampala, mombasa=mombasa, party=party, amina=amina,
        admin=factory.key(amara), superuser=factory.key(root), member=factory.key(bruno),
        collector=factory.key(chen), stranger=factory.key(farah),
    )
    w.org_url = org_url(org)
    w.kampala_url = project_url(org, kampala)
    w.mombasa_url = project_url(org, mombasa)
    w.parties_url = w.kampala_url + "parties/"
    w.party_url = party_url(org, kampala, party)
    w.amina_url = party_url(org, mombasa, amina)
    return w


def test_snapshot_sees_what_a_request_writes(client, db, world):
    """The guard of every test below: a write through the API does show in the snapshot."""
    before = snapshot(db)
    r = send_json(client, world.admin, "PATCH", world.party_url, {"attributes": {"gender": "female"}})
    assert r.status_int == 200, r.text
    after = snapshot(db)
    assert after != before
    # The party, and the history entry recording its change in the same transaction.
    assert [t for t in before if before[t] != after[t]] == ["history", "parties"]


# --- parties: bad field values ---------------------------------------------------------------------

HCARD_NO_TYPE = {"properties": {"name": ["A"]}}
HCARD_VCARD = {"type": ["vcard"], "properties": {"name": ["A"]}}
HCARD_PROPERTIES_LIST = {"type": ["h-card"], "properties": ["name", "A"]}
HCARD_PROPERTIES_STRING = {"type": ["h-card"], "properties": "name=A"}
HCARD_EMAIL_NO_MAILTO = {"type": ["h-card"], "properties": {"name": ["A"], "email": ["a@example.org"]}}
HCARD_UNKNOWN_PROPERTY = {"type": ["h-card"], "properties": {"name": ["A"], "shoe-size": ["44"]}}
HCARD_VALUE_NOT_LIST = {"type": ["h-card"], "properties": {"name": "A"}}
HCARD_EXTRA_KEY = {"type": ["h-card"], "properties": {"name": ["A"]}, "children": []}

PARTY_BAD = {
    "name-int": ({"name": 5}, "name"),
    "name-201": ({"name": "x" * 201}, "name"),
    "name-null": ({"name": None}, "name"),
    "name-list": ({"name": ["a"]}, "name"),
    "archived-maybe": ({"archived": "maybe"}, "archived"),
    "archived-int": ({"archived": 2}, "archived"),
    "contacts-string": ({"contacts": "x"}, "contacts"),
    "contacts-object": ({"contacts": {}}, "contacts"),
    "contacts-item-string": ({"contacts": ["Office"]}, "contacts"),
    "hcard-no-type": ({"contacts": [HCARD_NO_TYPE]}, "contacts"),
    "hcard-vcard": ({"contacts": [HCARD_VCARD]}, "contacts"),
    "hcard-properties-list": ({"contacts": [HCARD_PROPERTIES_LIST]}, "contacts"),
    "hcard-properties-string": ({"contacts": [HCARD_PROPERTIES_STRING]}, "contacts"),
    "hcard-email-no-mailto": ({"contacts": [HCARD_EMAIL_NO_MAILTO]}, "contacts"),
    "hcard-unknown-property": ({"contacts": [HCARD_UNKNOWN_PROPERTY]}, "contacts"),
    "hcard-value-not-list": ({"contacts": [HCARD_VALUE_NOT_LIST]}, "contacts"),
    "hcard-extra-key": ({"contacts": [HCARD_EXTRA_KEY]}, "contacts"),
    "hcard-second-bad": ({"contacts": [card(), HCARD_VCARD]}, "contacts"),
    "unknown-field": ({"colour": "red"}, "colour"),
    "relationships": ({"relationships": []}, "relationships"),
    "type-XX": ({"type": "XX"}, "type"),
    "type-lowercase": ({"type": "in"}, "type"),
    "type-int": ({"type": 1}, "type"),
    "country-ZZ": ({"country": "ZZ"}, "country"),
    "country-USA": ({"country": "USA"}, "country"),
    "country-int": ({"country": 1}, "country"),
    "attributes-list": ({"attributes": ["gender"]}, "attributes"),
    "attributes-string": ({"attributes": "x"}, "attributes"),
    "attributes-number": ({"attributes": 3}, "attributes"),
    "description-int": ({"description": 5}, "description"),
    "nul-in-name": ({"name": "a\x00b"}, "name"),
}


def party_body(client, w, method, override) -> dict:
    if method == "POST":
        return {"name": "Nakato Family", "type": "GR", **override}
    if method == "PUT":
        current = client.as_(w.admin).get(w.party_url)
        assert current.status_int == 200, current.text
        return {**current.json, **override}
    return dict(override)


def party_target(w, method) -> str:
    return w.parties_url if method == "POST" else w.party_url


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
@pytest.mark.parametrize("case", list(PARTY_BAD))
def test_party_bad_value_is_refused_and_nothing_written(client, db, world, method, case):
    override, field = PARTY_BAD[case]
    body = party_body(client, world, method, override)
    before = snapshot(db)
    r = send_json(client, world.admin, method, party_target(world, method), body)
    assert_invalid(r, field)
    assert snapshot(db) == before


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
def test_party_collector_gets_the_same_400(client, db, world, method):
    """A collector may write parties; a bad body is still a 400, not a 403."""
    body = party_body(client, world, method, {"type": "XX"})
    before = snapshot(db)
    r = send_json(client, world.collector, method, party_target(world, method), body)
    assert_invalid(r, "type")
    assert snapshot(db) == before


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
def test_party_several_bad_fields_are_all_named(client, db, world, method):
    body = party_body(client, world, method, {"type": "XX", "country": "USA", "colour": "red", "archived": "maybe"})
    before = snapshot(db)
    r = send_json(client, world.admin, method, party_target(world, method), body)
    assert_invalid(r, "type", "country", "colour", "archived")
    assert snapshot(db) == before


def test_party_name_of_200_characters_is_accepted(client, db, world):
    r = send_json(client, world.admin, "POST", world.parties_url, {"name": "x" * 200})
    assert r.status_int == 201, r.text
    db.expire_all()
    assert db.get(Party, r.json["id"]).name == "x" * 200


# --- parties: bodies that are not a JSON object ---------------------------------------------------

RAW_BAD = {
    "malformed-json": (b'{"name": "Nakato",', "application/json"),
    "json-trailing-garbage": (b'{"name": "Nakato"} x', "application/json"),
    "json-array": (b'[{"name": "Nakato"}]', "application/json"),
    "json-string": (b'"Nakato"', "application/json"),
    "json-number": (b"5", "application/json"),
    "json-null": (b"null", "application/json"),
    "not-utf8": (b'{"name": "\xff\xfe"}', "application/json"),
}


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
@pytest.mark.parametrize("case", list(RAW_BAD))
def test_party_body_that_is_not_a_json_object(client, db, world, method, case):
    body, content_type = RAW_BAD[case]
    before = snapshot(db)
    r = send_raw(client, world.admin, method, party_target(world, method), body, content_type)
    assert_invalid(r)
    assert snapshot(db) == before


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "text/csv", "application/octet-stream"])
def test_party_unsupported_media_type_is_415(client, db, world, method, content_type):
    before = snapshot(db)
    r = send_raw(client, world.admin, method, party_target(world, method), b"name=Nakato", content_type)
    assert r.status_int == 415, r.text
    assert r.content_type == "application/json"
    assert isinstance(r.json["error"], str) and r.json["error"]
    assert snapshot(db) == before


@pytest.mark.parametrize("content_type", ["application/json", "multipart/form-data; boundary=xyz",
                                          "application/x-www-form-urlencoded", None])
def test_party_empty_body_on_create_names_name(client, db, world, content_type):
    before = snapshot(db)
    r = send_raw(client, world.admin, "POST", world.parties_url, b"", content_type)
    assert_invalid(r, "name")
    assert snapshot(db) == before


def test_party_empty_multipart_form_names_name(client, db, world):
    before = snapshot(db)
    r = send_form(client, world.admin, "POST", world.parties_url, [], multipart=True)
    assert_invalid(r, "name")
    # and a multipart body that has only its closing boundary
    r = send_raw(client, world.admin, "POST", world.parties_url, b"--xyz--\r\n", "multipart/form-data; boundary=xyz")
    assert_invalid(r, "name")
    assert snapshot(db) == before


def test_party_empty_json_object_on_create_names_name(client, db, world):
    before = snapshot(db)
    r = send_json(client, world.admin, "POST", world.parties_url, {})
    assert_invalid(r, "name")
    assert snapshot(db) == before


@pytest.mark.parametrize("multipart", [True, False], ids=["multipart", "urlencoded"])
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
def test_party_form_field_sent_twice(client, db, world, method, multipart):
    before = snapshot(db)
    fields = [("name", "Nakato Family"), ("type", "GR"), ("name", "Other Name")]
    r = send_form(client, world.admin, method, party_target(world, method), fields, multipart=multipart)
    assert_invalid(r, "name")
    assert snapshot(db) == before


@pytest.mark.parametrize("multipart", [True, False], ids=["multipart", "urlencoded"])
@pytest.mark.parametrize("case", ["contacts-not-json", "contacts-object", "attributes-list", "attributes-not-json",
                                  "type-XX", "archived-maybe", "unknown-field", "country-USA"])
def test_party_bad_form_field(client, db, world, case, multipart):
    bad = {
        "contacts-not-json": ("contacts", "[{'type': ['h-card']"),
        "contacts-object": ("contacts", "{}"),
        "attributes-list": ("attributes", "[]"),
        "attributes-not-json": ("attributes", "gender=male"),
        "type-XX": ("type", "XX"),
        "archived-maybe": ("archived", "maybe"),
        "unknown-field": ("relationships", "[]"),
        "country-USA": ("country", "USA"),
    }[case]
    before = snapshot(db)
    for method in ("POST", "PATCH"):
        r = send_form(client, world.admin, method, party_target(world, method), [("name", "Nakato"), bad],
                      multipart=multipart)
        assert_invalid(r, bad[0])
    assert snapshot(db) == before


def test_party_form_with_a_file_in_a_text_field_is_refused(client, db, world):
    before = snapshot(db)
    r = client.app.post(world.parties_url, params=[("type", "IN")], upload_files=[("name", "name.txt", b"Nakato")],
                        headers=headers_for(world.admin), status="*", expect_errors=True)
    assert_invalid(r, "name")
    assert snapshot(db) == before


# --- PATCH validates what it is sent ---------------------------------------------------------------


@pytest.mark.parametrize("value", ["", "   ", None])
def test_patch_with_blank_name_is_refused_not_dropped(client, db, world, value):
    before = snapshot(db)
    r = send_json(client, world.admin, "PATCH", world.party_url, {"name": value})
    assert_invalid(r, "name")
    assert snapshot(db) == before


@pytest.mark.parametrize("multipart", [True, False], ids=["multipart", "urlencoded"])
def test_form_patch_with_blank_name_is_refused(client, db, world, multipart):
    before = snapshot(db)
    r = send_form(client, world.admin, "PATCH", world.party_url, [("name", "")], multipart=multipart)
    assert_invalid(r, "name")
    assert snapshot(db) == before


def test_patch_with_empty_body_changes_nothing_but_succeeds(client, db, world):
    r = send_json(client, world.admin, "PATCH", world.party_url, {})
    assert r.status_int == 200, r.text
    db.expire_all()
    party = db.get(Party, world.party.id)
    assert party.name == "Barnabas Mughongo" and party.description == "Farmer" and party.country == "UG"


def test_patch_changes_only_the_fields_sent(client, db, world):
    version = world.party.version
    r = send_json(client, world.admin, "PATCH", world.party_url, {"description": ""})
    assert r.status_int == 200, r.text
    db.expire_all()
    party = db.get(Party, world.party.id)
    assert party.description == ""
    assert party.name == "Barnabas Mughongo" and party.country == "UG" and party.attributes == {"gender": "male"}
    assert party.contacts[0]["properties"]["email"] == ["mailto:b@example.org"]
    assert party.version == version + 1


# --- read-only fields -------------------------------------------------------------------------------

READONLY_CHANGES = {
    "id": "aaaaaaaaaaaaaaaaaaaaaaaa",
    "created": "2000-01-01T00:00:00Z",
    "last_updated": "2000-01-01T00:00:00Z",
    "resource_uri": "/api/v1/organizations/terra-registry/projects/kampala/parties/elsewhere/",
    "version": 99,
    "_links": {"self": {"href": "/api/v1/"}},
    "type_display": "Banana",
}


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
@pytest.mark.parametrize("field", list(READONLY_CHANGES) + ["project"])
def test_changed_read_only_field_is_named(client, db, world, method, field):
    value = world.mombasa_url if field == "project" else READONLY_CHANGES[field]
    body = party_body(client, world, method, {field: value})
    before = snapshot(db)
    r = send_json(client, world.admin, method, world.party_url, body)
    assert_invalid(r, field)
    assert snapshot(db) == before


@pytest.mark.parametrize("field", ["id", "created", "resource_uri", "version", "type_display"])
def test_read_only_field_on_create_is_named(client, db, world, field):
    before = snapshot(db)
    r = send_json(client, world.admin, "POST", world.parties_url, {"name": "Nakato", field: READONLY_CHANGES[field]})
    assert_invalid(r, field)
    assert snapshot(db) == before


@pytest.mark.parametrize("project", ["mombasa", "Mombasa coast", "nowhere",
                                     f"{API}/organizations/terra-registry/projects/mombasa/"])
def test_create_naming_another_project_is_refused(client, db, world, project):
    before = snapshot(db)
    r = send_json(client, world.admin, "POST", world.parties_url, {"name": "Nakato", "project": project})
    assert_invalid(r, "project")
    assert snapshot(db) == before


def test_get_modify_put_with_read_only_fields_unchanged_works(client, db, world):
    me = client.as_(world.admin)
    current = me.get(world.party_url).json
    r = me.put(world.party_url, {**current, "name": "B. Mughongo", "type": "GR"})
    assert r.status_int == 200, r.text
    assert r.json["name"] == "B. Mughongo" and r.json["type_display"] == "Group"
    assert r.json["version"] == current["version"] + 1
    db.expire_all()
    party = db.get(Party, world.party.id)
    assert (party.name, party.type, party.version) == ("B. Mughongo", "GR", current["version"] + 1)
    assert party.attributes == {"gender": "male"} and party.country == "UG"


def test_get_modify_patch_with_whole_representation_works(client, db, world):
    me = client.as_(world.admin)
    current = me.get(world.party_url).json
    r = me.patch(world.party_url, {**current, "description": "Farmer and trader"})
    assert r.status_int == 200, r.text
    db.expire_all()
    assert db.get(Party, world.party.id).description == "Farmer and trader"


def test_form_patch_may_repeat_read_only_fields_as_text(client, db, world):
    current = client.as_(world.admin).get(world.party_url).json
    fields = [("id", current["id"]), ("resource_uri", current["resource_uri"]), ("project", current["project"]),
              ("version", str(current["version"])), ("created", current["created"]), ("name", "B. M.")]
    r = send_form(client, world.admin, "PATCH", world.party_url, fields, multipart=True)
    assert r.status_int == 200, r.text
    db.expire_all()
    assert db.get(Party, world.party.id).name == "B. M."


# --- Cadasta's form bodies -------------------------------------------------------------------------

CADASTA_CONTACTS = [{"type": ["hcard"], "properties": {"name": ["Barnabas Mughongo"],
                                                       "email": ["mailto:barnabas@example.org"]}}]
CADASTA_ATTRIBUTES = {"gender": "Male", "dob": "1980-02-11", "notes": "Brother to Solomon Mughongo"}


def cadasta_fields(project: str) -> list[tuple[str, str]]:
    return [
        ("name", "Barnabas Mughongo"),
        ("project", project),
        ("type", "IN"),
        ("contacts", json.dumps(CADASTA_CONTACTS, indent=2)),
        ("attributes", json.dumps(CADASTA_ATTRIBUTES, indent=4)),
    ]


@pytest.mark.parametrize("multipart", [True, False], ids=["multipart", "urlencoded"])
@pytest.mark.parametrize("project", ["name", "slug", "uri"])
def test_cadasta_create_as_form(client, db, world, project, multipart):
    named = {"name": world.kampala.name, "slug": world.kampala.slug, "uri": world.kampala_url}[project]
    parties = count(db, Party)
    r = send_form(client, world.admin, "POST", world.parties_url, cadasta_fields(named), multipart=multipart)
    assert r.status_int == 201, r.text
    body = r.json
    assert r.headers["Location"].endswith(body["resource_uri"])
    assert body["name"] == "Barnabas Mughongo"
    assert body["type"] == "IN" and body["type_display"] == "Individual"
    assert body["project"] == world.kampala_url
    assert body["attributes"] == CADASTA_ATTRIBUTES
    assert body["contacts"] == [{"type": ["h-card"], "properties": CADASTA_CONTACTS[0]["properties"]}]
    assert body["archived"] is False and body["description"] == "" and body["country"] == ""
    assert count(db, Party) == parties + 1
    row = db.get(Party, body["id"])
    assert row.project_id == world.kampala.id
    assert row.attributes == CADASTA_ATTRIBUTES
    assert row.contacts == body["contacts"]
    assert client.as_(world.admin).get(body["resource_uri"]).json == body


@pytest.mark.parametrize("multipart", [True, False], ids=["multipart", "urlencoded"])
def test_form_create_with_every_field(client, db, world, multipart):
    fields = [("name", "Kisubi Cooperative"), ("type", "CO"), ("country", "ug"), ("description", "Coffee"),
              ("archived", "false"), ("contacts", "[]"), ("attributes", "{}")]
    r = send_form(client, world.admin, "POST", world.parties_url, fields, multipart=multipart)
    assert r.status_int == 201, r.text
    db.expire_all()
    row = db.get(Party, r.json["id"])
    assert (row.name, row.type, row.country, row.description, row.archived) == (
        "Kisubi Cooperative", "CO", "UG", "Coffee", False)
    assert row.contacts == [] and row.attributes == {}


@pytest.mark.parametrize("multipart", [True, False], ids=["multipart", "urlencoded"])
@pytest.mark.parametrize("project", ["uri", "name", "slug"])
def test_cadasta_patch_as_form(client, db, world, project, multipart):
    """Cadasta's PATCH example repeats `project` by name; a create accepts the name, slug or URI, so an
    update naming the party's own project the same ways is a read-only field sent back unchanged."""
    named = {"name": world.kampala.name, "slug": world.kampala.slug, "uri": world.kampala_url}[project]
    version = world.party.version
    fields = [("name", "Barnabas Mughongo"), ("project", named), ("type", "IN"),
              ("contacts", json.dumps(CADASTA_CONTACTS, indent=2)), ("attributes", json.dumps(CADASTA_ATTRIBUTES))]
    r = send_form(client, world.admin, "PATCH", world.party_url, fields, multipart=multipart)
    assert r.status_int == 200, r.text
    assert r.json["attributes"] == CADASTA_ATTRIBUTES
    assert r.json["contacts"][0]["type"] == ["h-card"]
    db.expire_all()
    row = db.get(Party, world.party.id)
    assert row.attributes == CADASTA_ATTRIBUTES
    assert row.contacts == [{"type": ["h-card"], "properties": CADASTA_CONTACTS[0]["properties"]}]
    assert row.description == "Farmer" and row.country == "UG"  # not sent, not changed
    assert row.version == version + 1


def test_form_patch_of_one_field(client, db, world):
    r = send_form(client, world.admin, "PATCH", world.party_url, [("archived", "true")], multipart=True)
    assert r.status_int == 200, r.text
    db.expire_all()
    row = db.get(Party, world.party.id)
    assert row.archived is True and row.name == "Barnabas Mughongo" and row.attributes == {"gender": "male"}


# --- organizations ---------------------------------------------------------------------------------

ORG_BAD = {
    "name-int": ({"name": 5}, "name"),
    "name-201": ({"name": "x" * 201}, "name"),
    "name-blank": ({"name": " "}, "name"),
    "archived-maybe": ({"archived": "maybe"}, "archived"),
    "contacts-string": ({"contacts": "x"}, "contacts"),
    "hcard-no-type": ({"contacts": [HCARD_NO_TYPE]}, "contacts"),
    "hcard-vcard": ({"contacts": [HCARD_VCARD]}, "contacts"),
    "hcard-properties-list": ({"contacts": [HCARD_PROPERTIES_LIST]}, "contacts"),
    "hcard-email-no-mailto": ({"contacts": [HCARD_EMAIL_NO_MAILTO]}, "contacts"),
    "hcard-unknown-property": ({"contacts": [HCARD_UNKNOWN_PROPERTY]}, "contacts"),
    "urls-string": ({"urls": "https://example.org"}, "urls"),
    "urls-ftp": ({"urls": ["ftp://example.org"]}, "urls"),
    "urls-not-url": ({"urls": ["example"]}, "urls"),
    "urls-int": ({"urls": [5]}, "urls"),
    "access-secret": ({"access": "secret"}, "access"),
    "slug-spaces": ({"slug": "Bad Slug"}, "slug"),
    "slug-blank": ({"slug": ""}, "slug"),
    "slug-101": ({"slug": "a" * 101}, "slug"),
    "description-int": ({"description": 5}, "description"),
    "unknown-field": ({"country": "UG"}, "country"),
}


def org_body(client, w, method, override):
    if method == "POST":
        return {"name": "Green Fields", **override}
    if method == "PUT":
        return {**client.as_(w.admin).get(w.org_url).json, **override}
    return dict(override)


def org_target(w, method):
    return f"{API}/organizations/" if method == "POST" else w.org_url


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
@pytest.mark.parametrize("case", list(ORG_BAD))
def test_organization_bad_value(client, db, world, method, case):
    override, field = ORG_BAD[case]
    body = org_body(client, world, method, override)
    before = snapshot(db)
    r = send_json(client, world.admin, method, org_target(world, method), body)
    assert_invalid(r, field)
    assert snapshot(db) == before


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
@pytest.mark.parametrize("case", ["malformed-json", "json-array", "not-utf8"])
def test_organization_body_not_a_json_object(client, db, world, method, case):
    body, content_type = RAW_BAD[case]
    before = snapshot(db)
    r = send_raw(client, world.admin, method, org_target(world, method), body, content_type)
    assert_invalid(r)
    assert snapshot(db) == before


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
def test_organization_unsupported_media_type(client, db, world, method):
    before = snapshot(db)
    r = send_raw(client, world.admin, method, org_target(world, method), b"<name>x</name>", "application/xml")
    assert r.status_int == 415, r.text
    assert snapshot(db) == before


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
@pytest.mark.parametrize("field", ["id", "created", "resource_uri", "version", "_links"])
def test_organization_changed_read_only_field(client, db, world, method, field):
    value = {"id": "elsewhere", "resource_uri": "/api/v1/organizations/elsewhere/"}.get(field, READONLY_CHANGES[field])
    body = org_body(client, world, method, {field: value})
    before = snapshot(db)
    r = send_json(client, world.admin, method, world.org_url, body)
    assert_invalid(r, field)
    assert snapshot(db) == before


def test_organization_patch_blank_name_refused(client, db, world):
    before = snapshot(db)
    assert_invalid(send_json(client, world.admin, "PATCH", world.org_url, {"name": ""}), "name")
    assert snapshot(db) == before


def test_organization_form_field_twice(client, db, world):
    before = snapshot(db)
    r = send_form(client, world.admin, "POST", f"{API}/organizations/", [("name", "A"), ("name", "B")], multipart=True)
    assert_invalid(r, "name")
    assert snapshot(db) == before


def test_organization_empty_multipart_names_name(client, db, world):
    before = snapshot(db)
    assert_invalid(send_form(client, world.admin, "POST", f"{API}/organizations/", [], multipart=True), "name")
    assert snapshot(db) == before


def test_organization_form_create(client, db, world):
    fields = [("name", "Green Fields"), ("urls", json.dumps(["https://green.example.org"])),
              ("contacts", json.dumps([card(email=["mailto:o@green.example.org"])])), ("access", "private")]
    r = send_form(client, world.admin, "POST", f"{API}/organizations/", fields, multipart=True)
    assert r.status_int == 201, r.text
    db.expire_all()
    org = db.scalar(sa.select(Organization).where(Organization.slug == "green-fields"))
    assert org.urls == ["https://green.example.org"] and org.access == "private"
    assert org.contacts[0]["properties"]["email"] == ["mailto:o@green.example.org"]


def test_organization_get_modify_put(client, db, world):
    me = client.as_(world.admin)
    current = me.get(world.org_url).json
    r = me.put(world.org_url, {**current, "description": "Land rights"})
    assert r.status_int == 200, r.text
    db.expire_all()
    org = db.get(Organization, world.org.id)
    assert org.description == "Land rights" and org.version == current["version"] + 1


# --- projects --------------------------------------------------------------------------------------

PROJECT_BAD = {
    "name-int": ({"name": 5}, "name"),
    "name-201": ({"name": "x" * 201}, "name"),
    "archived-maybe": ({"archived": "maybe"}, "archived"),
    "contacts-string": ({"contacts": "x"}, "contacts"),
    "hcard-vcard": ({"contacts": [HCARD_VCARD]}, "contacts"),
    "hcard-email-no-mailto": ({"contacts": [HCARD_EMAIL_NO_MAILTO]}, "contacts"),
    "country-ZZ": ({"country": "ZZ"}, "country"),
    "country-USA": ({"country": "USA"}, "country"),
    "country-int": ({"country": 840}, "country"),
    "access-secret": ({"access": "secret"}, "access"),
    "urls-not-url": ({"urls": ["example"]}, "urls"),
    "slug-spaces": ({"slug": "Bad Slug"}, "slug"),
    "unknown-field": ({"type": "IN"}, "type"),
}


def project_body(client, w, method, override):
    if method == "POST":
        return {"name": "Coast", **override}
    if method == "PUT":
        return {**client.as_(w.admin).get(w.kampala_url).json, **override}
    return dict(override)


def project_target(w, method):
    return w.org_url + "projects/" if method == "POST" else w.kampala_url


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
@pytest.mark.parametrize("case", list(PROJECT_BAD))
def test_project_bad_value(client, db, world, method, case):
    override, field = PROJECT_BAD[case]
    body = project_body(client, world, method, override)
    before = snapshot(db)
    r = send_json(client, world.admin, method, project_target(world, method), body)
    assert_invalid(r, field)
    assert snapshot(db) == before


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
@pytest.mark.parametrize("case", ["malformed-json", "json-array"])
def test_project_body_not_a_json_object(client, db, world, method, case):
    body, content_type = RAW_BAD[case]
    before = snapshot(db)
    assert_invalid(send_raw(client, world.admin, method, project_target(world, method), body, content_type))
    assert snapshot(db) == before


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
@pytest.mark.parametrize("field", ["id", "created", "resource_uri", "organization"])
def test_project_changed_read_only_field(client, db, world, method, field):
    value = {"id": "elsewhere", "resource_uri": "/api/v1/organizations/terra-registry/projects/elsewhere/",
             "organization": org_url(world.other_org)}.get(field, READONLY_CHANGES.get(field))
    body = project_body(client, world, method, {field: value})
    before = snapshot(db)
    assert_invalid(send_json(client, world.admin, method, world.kampala_url, body), field)
    assert snapshot(db) == before


def test_project_create_in_another_organization_by_body_is_refused(client, db, world):
    before = snapshot(db)
    r = send_json(client, world.admin, "POST", world.org_url + "projects/",
                  {"name": "Coast", "organization": "quiet-ground"})
    assert_invalid(r, "organization")
    assert snapshot(db) == before


def test_project_get_modify_put(client, db, world):
    me = client.as_(world.admin)
    current = me.get(world.kampala_url).json
    r = me.put(world.kampala_url, {**current, "country": "ke"})
    assert r.status_int == 200, r.text
    db.expire_all()
    assert db.get(Project, world.kampala.id).country == "KE"


def test_project_form_create_naming_its_organization(client, db, world):
    fields = [("name", "Coast"), ("organization", world.org.name), ("country", "KE"), ("urls", "[]")]
    r = send_form(client, world.admin, "POST", world.org_url + "projects/", fields, multipart=False)
    assert r.status_int == 201, r.text
    assert r.json["slug"] == "coast" and r.json["country"] == "KE"


# --- members ---------------------------------------------------------------------------------------

MEMBER_BAD = {
    "role-owner": ({"username": "farah", "role": "owner"}, ("role",)),
    "role-project-role": ({"username": "farah", "role": "manager"}, ("role",)),
    "username-int": ({"username": 5, "role": "member"}, ("username",)),
    "role-missing": ({"username": "farah"}, ("role",)),
    "empty": ({}, ("username", "role")),
    "unknown-field": ({"username": "farah", "role": "member", "since": "2020"}, ("since",)),
}


@pytest.mark.parametrize("case", list(MEMBER_BAD))
def test_organization_member_create_bad(client, db, world, case):
    body, fields = MEMBER_BAD[case]
    before = snapshot(db)
    assert_invalid(send_json(client, world.admin, "POST", world.org_url + "members/", body), *fields)
    assert snapshot(db) == before


@pytest.mark.parametrize("body,field", [({"username": "farah", "role": "admin"}, "role"),
                                        ({"username": "farah", "role": "member"}, "role"),
                                        ({"username": ["farah"], "role": "viewer"}, "username"),
                                        ({"username": "farah", "role": "viewer", "x": 1}, "x")])
def test_project_member_create_bad(client, db, world, body, field):
    before = snapshot(db)
    assert_invalid(send_json(client, world.admin, "POST", world.kampala_url + "members/", body), field)
    assert snapshot(db) == before


@pytest.mark.parametrize("whole", [False, True], ids=["fields", "whole-representation"])
@pytest.mark.parametrize("override,field", [({"role": "owner"}, "role"), ({"role": 1}, "role"),
                                            ({"username": "farah"}, "username"), ({"user": "/api/v1/users/farah/"},
                                                                                   "user"),
                                            ({"created": "2000-01-01T00:00:00Z"}, "created"), ({"x": 1}, "x")])
def test_organization_member_update_bad(client, db, world, whole, override, field):
    url = world.org_url + "members/bruno/"
    body = dict(override)
    if whole:
        body = {**client.as_(world.admin).get(url).json, **override}
    before = snapshot(db)
    assert_invalid(send_json(client, world.admin, "PATCH", url, body), field)
    assert snapshot(db) == before


@pytest.mark.parametrize("url", ["members/bruno/", "projects/kampala/members/chen/"])
def test_member_answers_get_patch_delete_only(client, db, world, url):
    """SPEC §2: members are GET PATCH DELETE; a PUT is a 405 naming what is allowed."""
    url = world.org_url + url
    before = snapshot(db)
    r = send_json(client, world.admin, "PUT", url, {"role": "viewer"})
    assert r.status_int == 405, r.text
    assert {"GET", "PATCH", "DELETE"} <= {m.strip() for m in r.headers["Allow"].split(",")}
    assert "PUT" not in r.headers["Allow"]
    assert snapshot(db) == before


def test_member_patch_with_empty_role_refused(client, db, world):
    before = snapshot(db)
    assert_invalid(send_json(client, world.admin, "PATCH", world.kampala_url + "members/chen/", {"role": ""}), "role")
    assert snapshot(db) == before


def test_member_get_modify_patch(client, db, world):
    me = client.as_(world.admin)
    current = me.get(world.kampala_url + "members/chen/").json
    r = me.patch(world.kampala_url + "members/chen/", {**current, "role": "viewer"})
    assert r.status_int == 200, r.text
    assert r.json["role"] == "viewer"


def test_member_form_create(client, db, world):
    r = send_form(client, world.admin, "POST", world.kampala_url + "members/", [("username", "farah"),
                                                                               ("role", "viewer")], multipart=True)
    assert r.status_int == 201, r.text
    assert r.json["role"] == "viewer" and r.json["username"] == "farah"


# --- users and the account -------------------------------------------------------------------------

USER_BAD = {
    "username-pattern": ({"username": "Bad Name", "password": "long enough password"}, "username"),
    "username-int": ({"username": 5, "password": "long enough password"}, "username"),
    "username-151": ({"username": "a" * 151, "password": "long enough password"}, "username"),
    "password-short": ({"username": "zoe", "password": "short"}, "password"),
    "password-missing": ({"username": "zoe"}, "password"),
    "email-invalid": ({"username": "zoe", "password": "long enough password", "email": "nope"}, "email"),
    "superuser-maybe": ({"username": "zoe", "password": "long enough password", "is_superuser": "maybe"},
                        "is_superuser"),
    "unknown-field": ({"username": "zoe", "password": "long enough password", "age": 30}, "age"),
    "password-hash": ({"username": "zoe", "password": "long enough password", "password_hash": "x"},
                      "password_hash"),
}


@pytest.mark.parametrize("case", list(USER_BAD))
def test_user_create_bad(client, db, world, case):
    body, field = USER_BAD[case]
    before = snapshot(db)
    assert_invalid(send_json(client, world.superuser, "POST", f"{API}/users/", body), field)
    assert snapshot(db) == before


@pytest.mark.parametrize("whole", [False, True], ids=["fields", "whole-representation"])
@pytest.mark.parametrize("override,field", [({"full_name": 5}, "full_name"), ({"email": "nope"}, "email"),
                                            ({"password": "short"}, "password"), ({"username": "bruno2"}, "username"),
                                            ({"is_superuser": "maybe"}, "is_superuser"), ({"age": 3}, "age"),
                                            ({"id": "bruno2"}, "id")])
def test_user_update_bad(client, db, world, whole, override, field):
    url = f"{API}/users/bruno/"
    body = dict(override)
    if whole:
        body = {**client.as_(world.superuser).get(url).json, **override}
    before = snapshot(db)
    assert_invalid(send_json(client, world.superuser, "PATCH", url, body), field)
    assert snapshot(db) == before


def test_user_get_modify_patch(client, db, world):
    me = client.as_(world.superuser)
    current = me.get(f"{API}/users/bruno/").json
    r = me.patch(f"{API}/users/bruno/", {**current, "full_name": "Bruno Silva"})
    assert r.status_int == 200, r.text
    assert r.json["full_name"] == "Bruno Silva"
    db.expire_all()
    assert db.scalar(sa.select(User.full_name).where(User.username == "bruno")) == "Bruno Silva"


def test_user_answers_get_patch_delete_only(client, db, world):
    before = snapshot(db)
    r = send_json(client, world.superuser, "PUT", f"{API}/users/bruno/", {"full_name": "B"})
    assert r.status_int == 405, r.text
    assert "PUT" not in r.headers["Allow"] and "PATCH" in r.headers["Allow"]
    assert snapshot(db) == before


@pytest.mark.parametrize("body,field", [({"full_name": 5}, "full_name"), ({"is_superuser": True}, "is_superuser"),
                                        ({"username": "amara2"}, "username"), ({"email": "nope"}, "email"),
                                        ({"password": "short", "current_password": PASSWORD}, "password"),
                                        ({"password": "a long new password"}, "current_password"),
                                        ({"password": "a long new password", "current_password": "wrong password"},
                                         "current_password"),
                                        ({"nickname": "A"}, "nickname")])
def test_account_patch_bad(client, db, world, body, field):
    before = snapshot(db)
    assert_invalid(send_json(client, world.admin, "PATCH", f"{API}/account/", body), field)
    assert snapshot(db) == before


def test_account_get_modify_patch(client, db, world):
    me = client.as_(world.admin)
    current = me.get(f"{API}/account/").json
    r = me.patch(f"{API}/account/", {**current, "full_name": "Amara Okafor"})
    assert r.status_int == 200, r.text
    assert r.json["full_name"] == "Amara Okafor" and r.json["email"] == "amara@example.org"


# --- tokens and login ------------------------------------------------------------------------------

TOKEN_BAD = {
    "name-int": ({"name": 5}, "name"),
    "name-201": ({"name": "x" * 201}, "name"),
    "expires-words": ({"expires": "tomorrow"}, "expires"),
    "expires-no-zone": ({"expires": "2999-01-01T00:00:00"}, "expires"),
    "expires-past": ({"expires": "2000-01-01T00:00:00Z"}, "expires"),
    "expires-int": ({"expires": 1}, "expires"),
    "key": ({"key": "my-own-key"}, "key"),
    "unknown-field": ({"scope": "read"}, "scope"),
}


@pytest.mark.parametrize("case", list(TOKEN_BAD))
def test_token_create_bad(client, db, world, case):
    body, field = TOKEN_BAD[case]
    before = snapshot(db)
    assert_invalid(send_json(client, world.admin, "POST", f"{API}/account/tokens/", body), field)
    assert snapshot(db) == before


@pytest.mark.parametrize("case", ["malformed-json", "json-array"])
def test_token_create_not_an_object(client, db, world, case):
    body, content_type = RAW_BAD[case]
    before = snapshot(db)
    assert_invalid(send_raw(client, world.admin, "POST", f"{API}/account/tokens/", body, content_type))
    assert snapshot(db) == before


def test_token_create_by_form(client, db, world):
    tokens = count(db, Token)
    r = send_form(client, world.admin, "POST", f"{API}/account/tokens/",
                  [("name", "laptop"), ("expires", "2999-01-01T00:00:00Z")], multipart=False)
    assert r.status_int == 201, r.text
    assert count(db, Token) == tokens + 1
    assert client.as_(r.json["key"]).get(f"{API}/account/").json["username"] == "amara"


LOGIN_BAD = {
    "username-int": ({"username": 5, "password": PASSWORD}, ("username",)),
    "password-missing": ({"username": "amara"}, ("password",)),
    "password-int": ({"username": "amara", "password": 12345678901}, ("password",)),
    "empty": ({}, ("username", "password")),
    "unknown-field": ({"username": "amara", "password": PASSWORD, "remember": True}, ("remember",)),
}


@pytest.mark.parametrize("case", list(LOGIN_BAD))
def test_login_bad(client, db, world, case):
    body, fields = LOGIN_BAD[case]
    before = snapshot(db)
    assert_invalid(send_json(client, None, "POST", f"{API}/account/login/", body), *fields)
    assert snapshot(db) == before


@pytest.mark.parametrize("case", ["malformed-json", "json-array", "json-string"])
def test_login_not_an_object(client, db, world, case):
    body, content_type = RAW_BAD[case]
    before = snapshot(db)
    assert_invalid(send_raw(client, None, "POST", f"{API}/account/login/", body, content_type))
    assert snapshot(db) == before


def test_login_unsupported_media_type(client, db, world):
    before = snapshot(db)
    r = send_raw(client, None, "POST", f"{API}/account/login/", b"amara:" + PASSWORD.encode(), "text/plain")
    assert r.status_int == 415, r.text
    assert snapshot(db) == before


def test_login_field_twice(client, db, world):
    before = snapshot(db)
    r = send_form(client, None, "POST", f"{API}/account/login/",
                  [("username", "amara"), ("username", "root"), ("password", PASSWORD)], multipart=False)
    assert_invalid(r, "username")
    assert snapshot(db) == before


@pytest.mark.parametrize("multipart", [True, False], ids=["multipart", "urlencoded"])
def test_login_by_form(client, db, world, multipart):
    tokens = count(db, Token)
    r = send_form(client, None, "POST", f"{API}/account/login/", [("username", "amara"), ("password", PASSWORD)],
                  multipart=multipart)
    assert r.status_int == 201, r.text
    assert count(db, Token) == tokens + 1


# --- conflicts and slugs ---------------------------------------------------------------------------


def test_duplicate_organization_name_is_409(client, db, world):
    before = snapshot(db)
    r = send_json(client, world.admin, "POST", f"{API}/organizations/", {"name": "Terra Registry"})
    assert r.status_int == 409, r.text
    assert isinstance(r.json["error"], str)
    r = send_json(client, world.admin, "PATCH", org_url(world.other_org), {"name": "Terra Registry"})
    assert r.status_int == 409, r.text
    assert snapshot(db) == before


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_duplicate_explicit_organization_slug_is_409(client, db, world, method):
    before = snapshot(db)
    if method == "POST":
        r = send_json(client, world.admin, "POST", f"{API}/organizations/", {"name": "Other", "slug": "terra-registry"})
    else:
        r = send_json(client, world.admin, "PATCH", org_url(world.other_org), {"slug": "terra-registry"})
    assert r.status_int == 409, r.text
    assert snapshot(db) == before


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_duplicate_explicit_project_slug_is_409(client, db, world, method):
    before = snapshot(db)
    if method == "POST":
        r = send_json(client, world.admin, "POST", world.org_url + "projects/", {"name": "Other", "slug": "kampala"})
    else:
        r = send_json(client, world.admin, "PATCH", world.mombasa_url, {"slug": "kampala"})
    assert r.status_int == 409, r.text
    assert snapshot(db) == before


def test_same_project_slug_in_another_organization_is_fine(client, db, world):
    r = send_json(client, world.admin, "POST", org_url(world.other_org) + "projects/", {"name": "Kampala"})
    assert r.status_int == 201, r.text
    assert r.json["slug"] == "kampala"


def test_organization_slugs_derive_from_names(client, db, world):
    me = client.as_(world.admin)
    slugs = [me.post(f"{API}/organizations/", {"name": name}).json.get("slug")
             for name in ("Green Fields", "Green Fields!", "green  fields")]
    assert slugs == ["green-fields", "green-fields-2", "green-fields-3"]
    r = me.post(f"{API}/organizations/", {"name": "Terra Registry?"})
    assert r.json["slug"] == "terra-registry-2"


def test_project_slugs_derive_from_names(client, db, world):
    me = client.as_(world.admin)
    slugs = [me.post(world.org_url + "projects/", {"name": "Coast"}).json.get("slug") for _ in range(3)]
    assert slugs == ["coast", "coast-2", "coast-3"]
    assert me.post(world.org_url + "projects/", {"name": "Kampala"}).json["slug"] == "kampala-2"


# --- conditional requests --------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_if_match_with_wrong_version_is_412(client, db, world, method):
    body = party_body(client, world, method, {"name": "Changed"}) if method != "DELETE" else None
    before = snapshot(db)
    r = client.as_(world.admin).request(method, world.party_url, json=body, headers={"If-Match": '"999"'})
    assert r.status_int == 412, r.text
    assert isinstance(r.json["error"], str)
    assert snapshot(db) == before


def test_if_match_with_current_etag_works(client, db, world):
    me = client.as_(world.admin)
    etag = me.get(world.party_url).headers["ETag"]
    r = me.request("PATCH", world.party_url, json={"name": "Changed"}, headers={"If-Match": etag})
    assert r.status_int == 200, r.text
    r = me.request("PATCH", world.party_url, json={"name": "Again"}, headers={"If-Match": etag})
    assert r.status_int == 412  # the old ETag no longer matches
    db.expire_all()
    assert db.get(Party, world.party.id).name == "Changed"


@pytest.mark.parametrize("which", ["party", "project", "organization"])
def test_if_none_match_with_etag_is_304(client, world, which):
    url = {"party": world.party_url, "project": world.kampala_url, "organization": world.org_url}[which]
    me = client.as_(world.admin)
    r = me.get(url)
    etag = r.headers["ETag"]
    r = me.get(url, headers={"If-None-Match": etag})
    assert r.status_int == 304
    assert r.body == b""
    r = me.get(url, headers={"If-None-Match": '"999"'})
    assert r.status_int == 200


# --- a party under the wrong project ---------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_party_of_project_a_under_project_b_is_404(client, db, world, method):
    wrong = f"{world.kampala_url}parties/{world.amina.id}/"
    body = {"name": "Hijacked"} if method in ("PUT", "PATCH") else None
    before = snapshot(db)
    r = client.as_(world.admin).request(method, wrong, json=body)
    assert r.status_int == 404, r.text
    assert r.json == {"error": "Party does not exist"}
    assert snapshot(db) == before
    assert client.as_(world.admin).get(world.amina_url).status_int == 200
