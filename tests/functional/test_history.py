"""History: every change recorded with who, when and what; shown to those who may edit; a deleted
party restored by an admin."""

import pytest

from ..support.api import API, party_url, project_url


@pytest.fixture
def world(factory):
    admin, collector, viewer, manager = (factory.user(n) for n in ("amara", "dina", "emeka", "chen"))
    org = factory.org("terra")
    factory.org_member(org, admin, "admin")
    project = factory.project(org, "kampala")
    factory.project_member(project, collector, "collector")
    factory.project_member(project, viewer, "viewer")
    factory.project_member(project, manager, "manager")
    return {"org": org, "project": project, **{u.username: factory.key(u) for u in (admin, collector, viewer, manager)}}


def test_changes_are_recorded_with_who_when_and_what(client, world):
    org, project = world["org"], world["project"]
    collector = client.as_(world["dina"])
    parties = f"{project_url(org, project)}parties/"
    party = collector.post(parties, {"name": "Barnabas", "attributes": {"dob": "1980"}}).json
    collector.patch(party["resource_uri"], {"name": "Barnabas M.", "attributes": {"dob": "1980-02-11"}})
    client.as_(world["amara"]).patch(party["resource_uri"], {"archived": True})

    history = collector.get(f"{party['resource_uri']}history/")
    assert history.status_int == 200, history.text
    entries = history.json["objects"]
    assert [e["action"] for e in entries] == ["archive", "update", "create"]  # newest first
    archive, update, create = entries
    assert archive["user"] == f"{API}/users/amara/" and update["user"] == f"{API}/users/dina/"
    assert update["changes"] == {"name": {"old": "Barnabas", "new": "Barnabas M."},
                                 "attributes": {"old": {"dob": "1980"}, "new": {"dob": "1980-02-11"}}}
    assert create["changes"]["name"] == {"old": None, "new": "Barnabas"}
    assert all(e["entity"] == party["resource_uri"] and e["entity_id"] == party["id"] for e in entries)
    assert collector.get(update["resource_uri"]).json == update


def test_history_is_shown_only_to_those_who_may_edit(client, world):
    org, project = world["org"], world["project"]
    party = client.as_(world["dina"]).post(f"{project_url(org, project)}parties/", {"name": "X"}).json
    url = f"{party['resource_uri']}history/"
    entry = client.as_(world["dina"]).get(url).json["objects"][0]["resource_uri"]
    # A viewer sees the party but not its history: an empty list, and each entry's URL is 404.
    assert client.as_(world["emeka"]).get(url).json["objects"] == []
    assert client.as_(world["emeka"]).get(entry).status_int == 404
    # The project's history: its manager and the org admin, not the collector.
    project_history = f"{project_url(org, project)}history/"
    assert client.as_(world["chen"]).get(project_history).json["meta"]["total_count"] >= 1
    assert client.as_(world["dina"]).get(project_history).json["objects"] == []
    # The organization's history: its admin only.
    assert client.as_(world["amara"]).get(f"{API}/organizations/terra/history/").json["meta"]["total_count"] >= 1
    assert client.as_(world["chen"]).get(f"{API}/organizations/terra/history/").json["objects"] == []
    # Strangers: the party is hidden, so is its history.
    assert client.get(url).status_int == 404 and client.get(url).json == {"error": "Party does not exist"}


def test_a_deleted_party_is_restored_by_an_admin(client, world, db):
    org, project = world["org"], world["project"]
    admin = client.as_(world["amara"])
    party = client.as_(world["dina"]).post(f"{project_url(org, project)}parties/", {
        "name": "Nakato", "type": "GR", "country": "UG", "attributes": {"members": 6},
        "contacts": [{"type": ["h-card"], "properties": {"name": ["Sarah Nakato"]}}]}).json
    assert admin.delete(party["resource_uri"]).status_int == 204
    assert admin.get(party["resource_uri"]).status_int == 404

    deletion = admin.get(f"{project_url(org, project)}history/?entity_type=party&action=delete").json["objects"][0]
    restore = deletion["_links"]["restore"]["href"]
    # The manager may read the project's history but restoring is an admin's.
    assert client.as_(world["chen"]).post(restore).status_int == 403
    r = admin.post(restore)
    assert r.status_int == 201, r.text
    restored = admin.get(party["resource_uri"]).json
    for field in ("id", "name", "type", "country", "attributes", "contacts", "archived"):
        assert restored[field] == party[field]
    assert admin.post(restore).status_int == 409  # once only
    actions = [e["action"] for e in admin.get(f"{party['resource_uri']}history/").json["objects"]]
    assert actions == ["restore", "delete", "create"]


def test_cascaded_deletes_are_recorded(client, world, factory):
    org, project = world["org"], world["project"]
    party = factory.party(project, "Kept in history")
    admin = client.as_(world["amara"])
    assert admin.delete(project_url(org, project)).status_int == 204
    entries = admin.get(f"{API}/organizations/terra/history/?action=delete").json["objects"]
    deleted = {(e["entity_type"], e["entity_id"]) for e in entries}
    assert ("party", party.id) in deleted and ("project", "kampala") in deleted
    assert ("project_member", "dina") in deleted
    snapshot = next(e for e in entries if e["entity_id"] == party.id)["changes"]
    assert snapshot["name"] == {"old": "Kept in history", "new": None}


def test_a_refused_write_records_nothing(client, world):
    org, project = world["org"], world["project"]
    url = f"{project_url(org, project)}parties/"
    before = client.as_(world["amara"]).get(f"{API}/organizations/terra/history/").json["meta"]["total_count"]
    assert client.as_(world["dina"]).post(url, {"name": ""}).status_int == 400
    assert client.as_(world["emeka"]).post(url, {"name": "Nope"}).status_int == 403
    after = client.as_(world["amara"]).get(f"{API}/organizations/terra/history/").json["meta"]["total_count"]
    assert after == before


def test_history_of_a_party_elsewhere_is_not_found(client, world, factory):
    other = factory.project(world["org"], "mbale")
    party = factory.party(other, "Elsewhere")
    admin = client.as_(world["amara"])
    entry = admin.get(f"{party_url(world['org'], other, party)}history/").json["objects"]
    assert entry == [] or all(e["entity_id"] == party.id for e in entry)
    wrong = f"{project_url(world['org'], world['project'])}parties/{party.id}/history/"
    assert admin.get(wrong).json == {"error": "Party does not exist"}


def test_each_change_is_recorded_once_however_many_apps_the_process_makes(client, world, settings, engine):
    from hyperapi import main

    main({}, **{**settings, "hyperapi.engine": engine})  # a second app in the same process
    org, project = world["org"], world["project"]
    party = client.as_(world["dina"]).post(f"{project_url(org, project)}parties/", {"name": "Once"}).json
    entries = client.as_(world["dina"]).get(f"{party['resource_uri']}history/").json["objects"]
    assert [e["action"] for e in entries] == ["create"]
