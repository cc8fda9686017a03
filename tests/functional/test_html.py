"""The browsable API (SPEC §6): a browser asking for text/html gets a page of the same URL.

Checked against the real app and database, with nothing of ours mocked:

- every kind of page renders (root, collection, object, resource) with the representation's fields;
- the links on a page are exactly those the caller may follow: every link answers 200 to the same
  caller, and the ones it may not follow (its account when anonymous, …) are not links;
- forms appear only for callers whose write the API would accept: for each caller, the create form is
  on the page exactly when the same POST answers 201 (and so for edit and delete);
- stored markup in user data renders inert; pages carry a strict Content-Security-Policy;
- a hidden entity's HTML 404 is byte for byte a missing one's; `Accept: */*` still gets JSON.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from ..support.api import API, org_url, party_url, project_url
from .resource_helpers import pdf, upload

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
HTML = {"Accept": "text/html"}
CALLERS = ("anon", "stranger", "viewer", "collector", "manager", "admin")
XSS = '<script>alert("pwned")</script>'


class Page(HTMLParser):
    """What a page offers: its links (in <main>), its forms with their fields, its scripts."""

    def __init__(self, text: str):
        super().__init__()
        self.links: list[str] = []
        self.forms: list[dict] = []
        self.scripts: list[dict] = []
        self.inputs: list[dict] = []
        self.in_main = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "main":
            self.in_main = True
        elif tag == "a" and self.in_main and "href" in attrs:
            self.links.append(attrs["href"])
        elif tag == "form":
            self.forms.append({**attrs, "fields": []})
        elif tag in ("input", "textarea", "select") and self.forms:
            self.forms[-1]["fields"].append(attrs)
            self.inputs.append(attrs)
        elif tag == "script":
            self.scripts.append(attrs)

    def handle_endtag(self, tag):
        if tag == "main":
            self.in_main = False

    def write_forms(self, method: str) -> list[dict]:
        return [f for f in self.forms if f.get("data-action") == "write" and f.get("data-method") == method]

    def field_names(self, form: dict) -> list[str]:
        return [f.get("name") for f in form["fields"]]


@pytest.fixture
def world(factory):
    """acme (public) / open (public project) with one party; secret (private project) with one party.
    Callers: anonymous, a stranger, the project's viewer, collector and manager, the org's admin."""
    users = {name: factory.user(name) for name in CALLERS if name != "anon"}
    org = factory.org("acme")
    project = factory.project(org, "open")
    secret = factory.project(org, "secret", access="private")
    for role in ("viewer", "collector", "manager"):
        factory.project_member(project, users[role], role)
    factory.org_member(org, users["admin"], "admin")
    party = factory.party(project, name="Barnabas Mughongo", attributes={"plot": "12"})
    hidden = factory.party(secret, name="Hidden Person")
    keys = {name: factory.key(user) for name, user in users.items()}
    keys["anon"] = None
    return {"org": org, "project": project, "secret": secret, "party": party, "hidden": hidden, "keys": keys,
            "factory": factory}


def page(client, key, url, headers=HTML):
    response = client.as_(key).get(url, headers=headers)
    return response, Page(response.text)


def internal(href: str) -> bool:
    return urlsplit(href).path.startswith(API + "/")


# --- pages render -------------------------------------------------------------------------------


def test_every_kind_of_page_renders(client, world):
    admin = world["keys"]["admin"]
    org, project, party = world["org"], world["project"], world["party"]
    pages = {
        f"{API}/": "organizations",
        f"{API}/organizations/": "Acme",
        org_url(org): "acme",
        project_url(org, project): "Open",
        project_url(org, project) + "parties/": "Barnabas Mughongo",
        party_url(org, project, party): "Barnabas Mughongo",
    }
    for url, text in pages.items():
        response, parsed = page(client, admin, url, headers=BROWSER)
        assert response.status_int == 200, url
        assert response.content_type == "text/html", url
        assert text in response.text, url
        assert "Signed in as <strong>admin</strong>" in response.text
        assert [s.get("src") for s in parsed.scripts] == ["/static/app.js"], "only the app's own script"
        assert "Accept" in response.headers["Vary"]
    # An object's page shows its fields; format=html asks for the page without the Accept header.
    response = client.as_(admin).get(party_url(org, project, party) + "?format=html")
    assert response.content_type == "text/html"
    assert "<dt>type_display</dt><dd>Individual</dd>" in response.text
    assert "<dt>plot</dt><dd>12</dd>" in response.text


def test_a_resource_page_links_its_bytes(client, world):
    org, project = world["org"], world["project"]
    key = world["keys"]["collector"]
    created = upload(client.app, key, project_url(org, project) + "resources/", pdf("deed"), name="Deed")
    assert created.status_int == 201, created.text
    uri = created.json["resource_uri"]
    response, parsed = page(client, key, uri)
    assert response.status_int == 200
    assert "application/pdf" in response.text
    assert uri + "content" in parsed.links
    assert f'<a href="{uri}content" data-download>' in response.text
    # A collector may edit it (a multipart form, the file optional) but not detach it.
    [edit] = parsed.write_forms("PATCH")
    assert "data-multipart" in edit and parsed.field_names(edit)[0] == "file"
    assert parsed.write_forms("DELETE") == []
    # The collection page of the project's resources offers the upload.
    response, parsed = page(client, key, project_url(org, project) + "resources/")
    [new] = parsed.write_forms("POST")
    assert new.get("enctype") == "multipart/form-data"
    assert {"file", "name", "description", "archived"} <= set(parsed.field_names(new))
    assert uri in parsed.links


# --- links ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("caller", CALLERS)
def test_every_link_on_a_page_can_be_followed(client, world, caller):
    key = world["keys"][caller]
    org, project, party = world["org"], world["project"], world["party"]
    urls = [f"{API}/", org_url(org), project_url(org, project), project_url(org, project) + "parties/"]
    if caller in ("viewer", "collector", "manager", "admin"):
        urls.append(party_url(org, project, party))
    checked = set()
    for url in urls:
        response, parsed = page(client, key, url)
        assert response.status_int == 200, url
        for href in parsed.links:
            if internal(href) and href not in checked:
                checked.add(href)
                answer = client.as_(key).get(href)
                assert answer.status_int == 200, f"{href} on {url} answers {answer.status_int} to {caller}"
    assert checked


def test_links_the_caller_may_not_follow_are_not_links(client, world):
    org, project, party = world["org"], world["project"], world["party"]
    # Anonymous: its account is no link (a 401), the party of a public project is not listed.
    assert client.get(f"{API}/account/").status_int == 401
    _, root = page(client, None, f"{API}/")
    assert f"{API}/account/" not in root.links
    assert f"{API}/organizations/" in root.links
    response, parties = page(client, None, project_url(org, project) + "parties/")
    assert party_url(org, project, party) not in parties.links
    assert "Barnabas" not in response.text
    # Signed in, the account is a link.
    _, root = page(client, world["keys"]["stranger"], f"{API}/")
    assert f"{API}/account/" in root.links


def test_a_collection_page_paginates_and_filters(client, world):
    factory, org, project = world["factory"], world["org"], world["project"]
    for name in ("Alpha", "Beta", "Gamma"):
        factory.party(project, name=name, type="GR")
    key = world["keys"]["viewer"]
    base = project_url(org, project) + "parties/"
    response, parsed = page(client, key, base + "?limit=2")
    assert "1–2 of 4" in response.text
    nexts = [h for h in parsed.links if "offset=2" in h]
    assert nexts, parsed.links
    response, parsed = page(client, key, nexts[0])
    assert "3–4 of 4" in response.text
    assert any("offset=0" in h for h in parsed.links), "previous/first"
    # The filters the listing declares, with their operators; search and ordering.
    [filters] = [f for f in parsed.forms if f.get("data-action") == "filter"]
    names = set(parsed.field_names(filters))
    assert {"search", "name__icontains", "type", "country", "archived", "created__gte", "ordering", "limit"} <= names
    selects = {f.get("data-filter-op") for f in filters["fields"] if f.get("data-filter-op")}
    assert {"name", "type", "created"} <= selects
    # Filtering by URL gives the filtered page, with the inputs filled in.
    response, parsed = page(client, key, base + "?type=GR&name__icontains=et")
    assert "Beta" in response.text and "Alpha" not in response.text and "Barnabas" not in response.text
    assert 'value="et"' in response.text
    assert "<option selected>GR</option>" in response.text
    # A bad filter is the API's 400, as a page.
    response, _ = page(client, key, base + "?type=XX")
    assert response.status_int == 400
    assert response.content_type == "text/html"
    assert "<dt>type</dt>" in response.text


# --- forms only where the caller may --------------------------------------------------------------


@pytest.mark.parametrize("caller", CALLERS)
def test_forms_appear_exactly_where_the_write_is_allowed(client, world, caller):
    key = world["keys"][caller]
    org, project, party = world["org"], world["project"], world["party"]
    parties = project_url(org, project) + "parties/"

    _, listing = page(client, key, parties)
    offered = bool(listing.write_forms("POST"))
    created = client.as_(key).post(parties, json={"name": "New Party"})
    assert offered == (created.status_int == 201), f"{caller}: form {offered}, POST {created.status_int}"

    response, item = page(client, key, party_url(org, project, party))
    if response.status_int == 404:  # a party is never public
        assert caller in ("anon", "stranger")
        assert item.forms == [f for f in item.forms if f.get("data-action", "").startswith("sign-in")]
        return
    editable = bool(item.write_forms("PATCH"))
    patched = client.as_(key).patch(party_url(org, project, party), json={"description": "seen"})
    assert editable == (patched.status_int == 200), f"{caller}: edit form {editable}, PATCH {patched.status_int}"
    deletable = bool(item.write_forms("DELETE"))
    expected = {"viewer": False, "collector": False, "manager": True, "admin": True}[caller]
    assert deletable == expected
    if deletable:
        assert client.as_(key).delete(party_url(org, project, party)).status_int == 204


def test_forms_come_from_the_schemas(client, world):
    org, project, party = world["org"], world["project"], world["party"]
    response, parsed = page(client, world["keys"]["manager"], party_url(org, project, party))
    [edit] = parsed.write_forms("PATCH")
    assert parsed.field_names(edit) == ["name", "type", "description", "country", "contacts", "attributes",
                                        "archived"]
    assert edit["action"] == party_url(org, project, party)
    assert 'value="Barnabas Mughongo"' in response.text  # an edit form holds the current values
    _, orgs = page(client, world["keys"]["stranger"], f"{API}/organizations/")
    [new] = orgs.write_forms("POST")  # any signed-in user may create an organization
    assert parsed.field_names(new)[:2] == ["name", "slug"]
    _, orgs = page(client, None, f"{API}/organizations/")
    assert orgs.write_forms("POST") == []


# --- safety ---------------------------------------------------------------------------------------


def test_stored_markup_renders_inert(client, world):
    factory, org, project = world["factory"], world["org"], world["project"]
    evil = factory.party(project, name=XSS, description=f"<img src=x onerror=alert(1)>{XSS}",
                         attributes={XSS: XSS, "uri": "javascript:alert(1)", "nested": [{"k": XSS}]})
    key = world["keys"]["viewer"]
    for url in (party_url(org, project, evil), project_url(org, project) + "parties/",
                party_url(org, project, evil) + "?format=html"):
        response, parsed = page(client, key, url)
        assert response.status_int == 200
        assert "<script>alert" not in response.text and "<img src=x" not in response.text, url
        assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in response.text, url
        assert [s.get("src") for s in parsed.scripts] == ["/static/app.js"]
        assert not any(h.startswith("javascript:") for h in parsed.links)
        assert not any(name.startswith("on") for attrs in parsed.inputs for name in attrs)


def test_pages_carry_a_strict_content_security_policy(client, world):
    for url, status in ((f"{API}/", 200), (f"{API}/organizations/nope/", 404)):
        response = client.get(url, headers=BROWSER)
        assert response.status_int == status
        policy = response.headers["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives["default-src"] == "'none'"
        assert directives["script-src"] == "'self'"
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert directives["frame-ancestors"] == "'none'"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    script = client.get("/static/app.js")
    assert script.status_int == 200 and "sessionStorage" in script.text
    assert client.get("/static/app.css").status_int == 200


def test_no_cookie_is_ever_set(client, world):
    key = world["keys"]["admin"]
    for url in (f"{API}/", party_url(world["org"], world["project"], world["party"])):
        assert "Set-Cookie" not in client.as_(key).get(url, headers=HTML).headers


# --- errors: same status, hidden exactly as missing ------------------------------------------------


def test_a_hidden_party_page_is_byte_identical_to_a_missing_one(client, world):
    org, secret, hidden = world["org"], world["secret"], world["hidden"]
    for caller in ("anon", "stranger", "viewer"):  # none of them may see the secret project
        key = world["keys"][caller]
        seen = client.as_(key).get(party_url(org, secret, hidden), headers=BROWSER)
        missing = client.as_(key).get(f"{project_url(org, secret)}parties/{'x' * 24}/", headers=BROWSER)
        never = client.as_(key).get(f"{API}/organizations/nope/projects/nope/parties/{'x' * 24}/", headers=BROWSER)
        for answer in (seen, missing, never):
            assert answer.status_int == 404
            assert answer.content_type == "text/html"
            assert answer.body == seen.body
            assert sorted(answer.headers.items()) == sorted(seen.headers.items())
        assert "Party does not exist" in seen.text
        assert b"secret" not in seen.body and b"Hidden" not in seen.body
        # And as JSON, the same answer as before.
        assert client.as_(key).get(party_url(org, secret, hidden)).json == {"error": "Party does not exist"}


def test_error_pages_keep_the_status_and_headers(client, world):
    response = client.as_("not-a-token").get(f"{API}/", headers=BROWSER)
    assert response.status_int == 401
    assert response.content_type == "text/html"
    assert response.headers["WWW-Authenticate"] == "Token"
    assert "Please sign in." in response.text
    response = client.get(f"{API}/organizations/?bogus=1", headers=BROWSER)
    assert response.status_int == 400
    assert "<dt>bogus</dt><dd>Unknown query parameter.</dd>" in response.text
    response = client.get(f"{API}/organizations/?format=nonsense", headers=BROWSER)
    assert response.status_int == 406


# --- JSON stays as it was ------------------------------------------------------------------------


def test_json_stays_the_default(client, world):
    url = org_url(world["org"])
    for headers in ({}, {"Accept": "*/*"}, {"Accept": "application/json"}, {"Accept": "application/*"},
                    {"Accept": "application/json, text/html"}, {"Accept": "text/html;q=0.5, */*"}):
        response = client.get(url, headers=headers)
        assert response.status_int == 200
        assert response.content_type == "application/json", headers
        assert response.json["slug"] == "acme"
    assert "Accept" in client.get(url).headers["Vary"]
    assert client.get(url, headers={"Accept": "text/csv"}).content_type == "text/csv"
    assert client.get(url, headers={"Accept": "text/*"}).content_type == "text/csv"
    assert client.get(url, headers={"Accept": "application/xml"}).content_type == "application/xml"
    # An error for a client that did not ask for a page stays our JSON body.
    missing = client.get(f"{API}/organizations/nope/", headers={"Accept": "*/*"})
    assert missing.content_type == "application/json"
    assert missing.json == {"error": "Organization does not exist"}


def test_writes_answer_json_whatever_the_page(client, world):
    """The page's script sends writes with Accept: application/json and reads the `errors` map."""
    org, project = world["org"], world["project"]
    key = world["keys"]["collector"]
    answer = client.as_(key).post(project_url(org, project) + "parties/", json={"name": ""},
                                  headers={"Accept": "application/json"})
    assert answer.status_int == 400
    assert json.loads(answer.body)["errors"] == {"name": "This field may not be blank."}


def test_a_collection_page_links_its_schema_and_the_document(client, world):
    org, project = world["org"], world["project"]
    url = project_url(org, project) + "parties/"
    _, parsed = page(client, world["keys"]["viewer"], url)
    assert url + "schema/" in parsed.links and f"{API}/openapi.json" in parsed.links
    response, schema_page = page(client, world["keys"]["viewer"], url + "schema/")
    assert response.status_int == 200 and url in schema_page.links
