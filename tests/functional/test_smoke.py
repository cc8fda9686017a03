from ..support.api import API
from ..support.factory import PASSWORD


def test_walkthrough(client, factory):
    amara = factory.user("amara")
    key = factory.key(amara)
    me = client.as_(key)
    r = me.post(f"{API}/organizations/", {"name": "Terra Registry", "contacts": [
        {"type": ["h-card"], "properties": {"name": ["Office"], "email": ["mailto:o@example.org"]}}]})
    assert r.status_int == 201, r.text
    assert r.json["slug"] == "terra-registry"
    assert r.headers["Location"].endswith("/api/v1/organizations/terra-registry/")
    r = me.post(f"{API}/organizations/terra-registry/projects/", {"name": "Kampala", "country": "ug",
                                                                  "access": "private"})
    assert r.status_int == 201, r.text
    assert r.json["country"] == "UG"
    r = me.post(f"{API}/organizations/terra-registry/projects/kampala/parties/", {"name": "Barnabas", "type": "GR"})
    assert r.status_int == 201, r.text
    party = r.json
    assert party["type_display"] == "Group"
    r = me.get(party["resource_uri"])
    assert r.status_int == 200 and r.json == party
    r = me.put(party["resource_uri"], {**party, "name": "B. M."})
    assert r.status_int == 200, r.text
    assert r.json["version"] == party["version"] + 1
    r = me.get(f"{API}/organizations/terra-registry/projects/kampala/parties/?search=b.&ordering=-name")
    assert r.status_int == 200 and r.json["meta"]["total_count"] == 1
    stranger = client.as_(factory.key(factory.user("farah")))
    r = stranger.get(party["resource_uri"])
    assert r.status_int == 404 and r.json == {"error": "Party does not exist"}
    r = client.get(party["resource_uri"])
    assert r.status_int == 404
    r = me.delete(party["resource_uri"])
    assert r.status_int == 204
    r = client.post(f"{API}/account/login/", {"username": "amara", "password": PASSWORD})
    assert r.status_int == 201, r.text
    r = client.as_(r.json["token"]).get(f"{API}/account/")
    assert r.json["username"] == "amara"
