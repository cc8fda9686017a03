"""Archived entities accept only un-archiving; total_count from the party counter stays true."""

from ..support.api import API, org_url, project_url


def test_archived_project_accepts_only_unarchiving(client, factory, db):
    admin = factory.user("amara")
    org = factory.org("terra")
    factory.org_member(org, admin, "admin")
    project = factory.project(org, "pilot", archived=True)
    me = client.as_(factory.key(admin))
    url = project_url(org, project)

    # Un-archiving together with another change is refused, and nothing changes.
    r = me.patch(url, {"archived": False, "name": "Renamed"})
    assert r.status_int == 403, r.text
    current = me.get(url).json
    assert current["archived"] is True and current["name"] == "Pilot"
    # A PUT that leaves out `archived` would un-archive and reset fields at once: refused too.
    r = me.put(url, {"name": "Pilot", "description": "new"})
    assert r.status_int == 403, r.text
    # GET-modify-PUT that only flips `archived` works; so does a plain PATCH.
    r = me.put(url, {**current, "archived": False})
    assert r.status_int == 200, r.text
    assert r.json["archived"] is False
    r = me.patch(url, {"archived": True})
    assert r.status_int == 200
    r = me.patch(url, {"archived": False})
    assert r.status_int == 200 and r.json["archived"] is False
    # Now writable again.
    assert me.patch(url, {"name": "Renamed"}).status_int == 200


def test_archived_organization_refuses_new_projects(client, factory):
    admin = factory.user("amara")
    org = factory.org("terra", archived=True)
    factory.org_member(org, admin, "admin")
    me = client.as_(factory.key(admin))
    r = me.post(f"{org_url(org)}projects/", {"name": "New"})
    assert r.status_int == 403
    r = me.patch(org_url(org), {"archived": False})
    assert r.status_int == 200
    assert me.post(f"{org_url(org)}projects/", {"name": "New"}).status_int == 201


def test_total_count_follows_creates_and_deletes(client, factory):
    admin = factory.user("amara")
    org = factory.org("terra")
    factory.org_member(org, admin, "admin")
    project = factory.project(org, "kampala")
    other = factory.project(org, "mombasa")
    factory.party(other, "Elsewhere")
    me = client.as_(factory.key(admin))
    parties = f"{project_url(org, project)}parties/"

    created = [me.post(parties, {"name": f"Party {n}"}).json for n in range(7)]
    assert me.get(parties).json["meta"]["total_count"] == 7
    me.delete(created[0]["resource_uri"])
    me.delete(created[1]["resource_uri"])
    body = me.get(f"{parties}?limit=2&offset=4").json
    assert body["meta"]["total_count"] == 5
    assert len(body["objects"]) == 1 and body["meta"]["next"] is None
    # A filtered list is counted, not taken from the counter.
    assert me.get(f"{parties}?name=Party 3").json["meta"]["total_count"] == 1
    # Past the end: an empty page, the true total.
    body = me.get(f"{parties}?offset=50").json
    assert body["objects"] == [] and body["meta"]["total_count"] == 5
    # Deleting the project's organization deletes its parties (and their counts with them).
    assert me.delete(org_url(org)).status_int == 204
    assert me.get(parties).status_int == 404


def test_parties_hidden_from_stranger_count_zero(client, factory):
    org = factory.org("terra")
    project = factory.project(org, "kampala")
    for n in range(3):
        factory.party(project, f"P{n}")
    stranger = client.as_(factory.key(factory.user("farah")))
    body = stranger.get(f"{project_url(org, project)}parties/").json
    assert body["meta"]["total_count"] == 0 and body["objects"] == []


def test_descending_order_breaks_ties_by_id(client, factory):
    admin = factory.user("amara")
    org = factory.org("terra")
    factory.org_member(org, admin, "admin")
    project = factory.project(org, "kampala")
    for _ in range(4):
        factory.party(project, "Same Name")
    me = client.as_(factory.key(admin))
    url = f"{API}/organizations/terra/projects/kampala/parties/"
    ascending = [p["id"] for p in me.get(f"{url}?ordering=name").json["objects"]]
    descending = [p["id"] for p in me.get(f"{url}?ordering=-name").json["objects"]]
    assert ascending == sorted(ascending)
    assert descending == sorted(descending, reverse=True)
