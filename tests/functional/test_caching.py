"""What a cache may keep (security review, issue 11: items 4 and 9).

- An ETag changes whenever the body would: after a change to a row the body only shows (an attachment,
  an inlined project), with other parameters (`fields=`, `depth=`, a format) and for another caller.
  `If-Match` on a write still refuses a stale write, and takes the ETag a GET gave.
- Every answer says what it depends on, errors included: a hidden 404, a missing 404 and a 401 carry
  `Vary: Authorization, Accept` and the `Cache-Control` of the caller (no-cache anonymous, no-store
  signed in), exactly as a 200 does — so a shared cache can never serve one caller's answer to another.
"""

from __future__ import annotations

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings
from webtest import TestApp

from hyperapi.traversal import SiteRoot, url_templates

from ..support.api import API, Client
from ..support.databases import rolled_back_session
from ..support.factory import Factory
from .crawl_world import crawl_world
from .resource_helpers import at_project, insert_resource, pdf, upload


def vary_of(response) -> set[str]:
    return {name.strip() for name in response.headers.get("Vary", "").split(",") if name.strip()}


# --- ETags ----------------------------------------------------------------------------------------------


@pytest.fixture
def world(factory, wsgi_app):
    admin, viewer, stranger = (factory.user(name) for name in ("amara", "vera", "sam"))
    org = factory.org("terra")
    public = factory.project(org, "open")
    private = factory.project(org, "closed", access="private")
    factory.org_member(org, admin, "admin")
    factory.project_member(public, viewer, "viewer")
    party = factory.party(public, name="Barnabas")
    other = factory.party(public, name="Chidi")
    return {"admin": factory.key(admin), "viewer": factory.key(viewer), "stranger": factory.key(stranger),
            "org": org, "public": public, "private": private, "party": party, "other": other}


def party_url(world, which="party") -> str:
    return f"{API}/organizations/terra/projects/open/parties/{world[which].id}/"


def test_attaching_a_resource_elsewhere_changes_its_etag(client, world):
    admin = client.as_(world["admin"])
    created = upload(client.app, world["admin"], f"{party_url(world)}resources/", pdf("deed"), name="Deed")
    assert created.status_int == 201
    url = created.json["resource_uri"]
    first = admin.get(url)
    assert admin.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_int == 304
    attach = admin.post(f"{party_url(world, 'other')}resources/", {"id": created.json["id"]})
    assert attach.status_int == 201
    again = admin.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_int == 200, "a stale ETag was told 'not modified' after a new attachment"
    assert len(again.json["attachments"]) == 2 and again.headers["ETag"] != first.headers["ETag"]


def test_a_change_to_an_inlined_project_changes_the_etag_of_depth_1(client, world):
    admin = client.as_(world["admin"])
    url = f"{party_url(world)}?depth=1"
    first = admin.get(url)
    assert first.json["project"]["name"] == "Open"
    assert admin.patch(f"{API}/organizations/terra/projects/open/", {"name": "Renamed"}).status_int == 200
    again = admin.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_int == 200 and again.json["project"]["name"] == "Renamed"
    assert again.headers["ETag"] != first.headers["ETag"]


def test_other_parameters_and_other_callers_get_other_etags(client, world):
    admin, viewer = client.as_(world["admin"]), client.as_(world["viewer"])
    answers = [admin.get(party_url(world)), admin.get(f"{party_url(world)}?fields=name"),
               admin.get(f"{party_url(world)}?depth=1"), admin.get(f"{party_url(world)}?format=hal"),
               admin.get(f"{party_url(world)}?format=xml")]
    representations = {(r.content_type, r.body) for r in answers}
    assert len({r.headers["ETag"] for r in answers}) == len(representations) == len(answers)
    # The party looks the same to both callers, but the user `amara` does not: only she sees her email.
    assert admin.get(party_url(world)).headers["ETag"] == viewer.get(party_url(world)).headers["ETag"]
    own, others = admin.get(f"{API}/users/amara/"), viewer.get(f"{API}/users/amara/")
    assert own.body != others.body and own.headers["ETag"] != others.headers["ETag"]
    assert viewer.get(f"{API}/users/amara/", headers={"If-None-Match": own.headers["ETag"]}).status_int == 200


def test_if_match_takes_the_etag_of_a_get_and_refuses_a_stale_one(client, world):
    admin = client.as_(world["admin"])
    etag = admin.get(party_url(world)).headers["ETag"]
    first = admin.patch(party_url(world), {"name": "Barnabas M."}, headers={"If-Match": etag})
    assert first.status_int == 200
    # The answer to a write carries the ETag its next GET will show.
    assert first.headers["ETag"] == admin.get(party_url(world)).headers["ETag"]
    stale = admin.patch(party_url(world), {"name": "Again"}, headers={"If-Match": etag})
    assert stale.status_int == 412
    # The entity's version (quoted) is accepted as well: it names the state a client read.
    version = admin.get(party_url(world)).json["version"]
    assert admin.patch(party_url(world), {"name": "Once more"}, headers={"If-Match": f'"{version}"'}).status_int == 200
    assert admin.patch(party_url(world), {"name": "Twice"}, headers={"If-Match": f'"{version}"'}).status_int == 412


def test_a_resource_attached_elsewhere_meanwhile_refuses_an_old_if_match(client, world):
    admin = client.as_(world["admin"])
    created = upload(client.app, world["admin"], f"{party_url(world)}resources/", pdf("map"), name="Map")
    url, etag = created.json["resource_uri"], admin.get(created.json["resource_uri"]).headers["ETag"]
    admin.post(f"{party_url(world, 'other')}resources/", {"id": created.json["id"]})
    assert admin.patch(url, {"name": "Renamed"}, headers={"If-Match": etag}).status_int == 412


# A property: whatever writes happen, two GETs give the same ETag exactly when they give the same body
# (of the same type: HAL without anything inlined is the very bytes of JSON).

WRITES = st.lists(st.tuples(st.sampled_from(("rename_party", "rename_project", "attach", "detach", "archive",
                                              "describe_org", "nothing")), st.integers(0, 3)), max_size=6)
READS = ("parties/{party}/", "parties/{party}/?depth=1", "parties/{party}/?depth=2&fields=name,project",
         "parties/", "parties/?format=csv", "resources/", "resources/{resource}/", "resources/{resource}/?format=hal",
         "", "?depth=1")


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(writes=WRITES)
def test_the_same_etag_exactly_when_the_same_body(engine, wsgi_app, writes):
    with rolled_back_session(engine, wsgi_app) as session:
        factory = Factory(session)
        users = {name: factory.user(name) for name in ("amara", "vera")}
        keys = {name: factory.key(user) for name, user in users.items()}
        org = factory.org("terra")
        project = factory.project(org, "open", access="private")
        factory.org_member(org, users["amara"], "admin")
        factory.project_member(project, users["vera"], "viewer")
        party = factory.party(project)
        resource = insert_resource(session, org.id, [at_project(project)], "deed")
        session.commit()
        client = Client(TestApp(wsgi_app))
        admin = client.as_(keys["amara"])
        base = f"{API}/organizations/terra/projects/open/"
        seen: dict[str, tuple] = {}  # ETag -> (content type, body)

        def observe():
            for caller in keys.values():
                for read in READS:
                    r = client.as_(caller).get(base + read.format(party=party.id, resource=resource.id))
                    if r.status_int == 200:
                        shown = (r.content_type, r.body)
                        assert seen.setdefault(r.headers["ETag"], shown) == shown, f"one ETag, two bodies: {read}"

        observe()
        for write, n in writes:
            if write == "rename_party":
                admin.patch(f"{base}parties/{party.id}/", {"name": f"Name {n}"})
            elif write == "rename_project":
                admin.patch(base, {"name": f"Project {n}"})
            elif write == "attach":
                admin.post(f"{base}parties/{party.id}/resources/", {"id": resource.id})
            elif write == "detach":
                admin.delete(f"{base}parties/{party.id}/resources/{resource.id}/")
            elif write == "archive":
                admin.patch(f"{base}parties/{party.id}/", {"archived": n % 2 == 0})
            elif write == "describe_org":
                admin.patch(f"{API}/organizations/terra/", {"description": f"About {n}"})
            observe()
        representations = list(seen.values())
        assert len(representations) == len(set(representations)), "one body under two ETags"


# --- what every answer depends on ----------------------------------------------------------------------

FORMATS = ({}, {"format": "json"}, {"format": "hal"}, {"format": "csv"}, {"format": "xml"}, {"format": "html"},
           {"Accept": "text/html"})


def _fill(template: str, values: dict) -> str:
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


def test_a_page_that_depends_on_the_caller_is_never_cached_for_another(client, factory):
    """The review's sequence: an anonymous 404 of a private project, then a member's 200 of it."""
    member = factory.user("mo")
    org = factory.org("terra")
    factory.project(org, "closed", access="private")
    factory.org_member(org, member, "member")
    url = f"{API}/organizations/terra/projects/closed/"
    anonymous = client.get(url)
    assert anonymous.status_int == 404
    assert "Authorization" in vary_of(anonymous) and anonymous.headers["Cache-Control"] == "no-cache"
    signed_in = client.as_(factory.key(member)).get(url)
    assert signed_in.status_int == 200
    assert "Authorization" in vary_of(signed_in) and signed_in.headers["Cache-Control"] == "no-store"


def test_a_path_that_is_not_utf8_is_answered_with_the_same_headers(client):
    """The header policy reads the raw path: a path webob cannot decode still gets its 404, not a crash."""
    r = client.get(f"{API}/%ff/")
    assert r.status_int == 404 and "Authorization" in vary_of(r) and r.headers["Cache-Control"] == "no-cache"


# Last in this module: the world stays open (and on SQLite, holds the write lock) until the module ends.
@pytest.fixture(scope="module")
def caching_world(engine, wsgi_app):
    with crawl_world(engine, wsgi_app) as world:
        yield world


def _request(client: Client, url: str, fmt: dict):
    headers = {"Accept": fmt["Accept"]} if "Accept" in fmt else {}
    if "format" in fmt:
        url += ("&" if "?" in url else "?") + f"format={fmt['format']}"
    return client.get(url, headers=headers)


def test_hidden_missing_and_unauthorized_answers_say_what_they_depend_on(caching_world, wsgi_app):
    """For every URL shape under an organization, in every format: the hidden 404 (a private
    organization), the missing 404 and the 401 of a bad token carry the same `Vary` and
    `Cache-Control` as the 200s of the same caller; hidden and missing are the same bytes."""
    world = caching_world
    world.bind(wsgi_app)
    client = Client(TestApp(wsgi_app))
    p = world.placeholders
    hidden = {"organization": "hush", "project": "inner", "party": p["p_inner"], "resource": "x" * 24,
              "username": "hushie", "entry": "1", "ids": p["p_inner"]}
    missing = {**hidden, "organization": "nowhere-at-all"}
    visible = {"organization": "acme", "project": "open", "party": p["p_open"], "username": "admin"}
    callers = {"anonymous": client, "stranger": client.as_(world.keys["stranger"])}
    checked = 0
    for t in url_templates(SiteRoot):
        if not t.template.startswith(f"{API}/organizations/{{organization}}/"):
            continue
        for fmt in FORMATS:
            for name, caller in callers.items():
                shown = _request(caller, _fill(t.template, hidden), fmt)
                gone = _request(caller, _fill(t.template, missing), fmt)
                assert shown.status_int == gone.status_int == 404, t.template
                assert shown.body == gone.body and shown.headerlist == gone.headerlist, t.template
                expected_cache = "no-cache" if name == "anonymous" else "no-store"
                assert {"Authorization", "Accept"} <= vary_of(shown), (t.template, fmt, shown.headers)
                assert shown.headers["Cache-Control"] == expected_cache, (t.template, fmt, shown.headers)
                ok = _request(caller, _fill(t.template, visible), fmt)
                if ok.status_int == 200:
                    assert "Authorization" in vary_of(ok) and ok.headers["Cache-Control"] == expected_cache
                checked += 1
            bad = _request(client.as_("not-a-key"), _fill(t.template, visible), fmt)
            assert bad.status_int == 401
            assert {"Authorization", "Accept"} <= vary_of(bad) and bad.headers["Cache-Control"] == "no-store"
    assert checked > 100
