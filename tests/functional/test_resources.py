"""Resources over HTTP: upload, attach, replace, download, archive, detach and delete — and every bad
upload refused with a clear 4xx, leaving no bytes in storage and no row in the database."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from hyperapi.models import HistoryEntry, Resource, ResourceAttachment, ResourceFile

from ..support.api import API, org_url, party_url, project_url

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d4944415478da63f8cfc0f01f0005000201a0e0bb2a0000000049454e44ae426082"
)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(240)
CSV = b"name,parcel\nAmina,12\nJoseph,13\n"
GPX = b'<?xml version="1.0"?>\n<gpx version="1.1" creator="field"><trk><name>boundary</name></trk></gpx>\n'


@pytest.fixture
def world(factory):
    admin, manager, collector, viewer, member, stranger = (
        factory.user(n) for n in ("amara", "chen", "dina", "emeka", "fatou", "gus"))
    org = factory.org("terra")
    other = factory.org("other")
    factory.org_member(org, admin, "admin")
    factory.org_member(org, member, "member")
    factory.org_member(other, admin, "admin")
    project = factory.project(org, "kampala")
    elsewhere = factory.project(other, "lusaka")
    factory.project_member(project, manager, "manager")
    factory.project_member(project, collector, "collector")
    factory.project_member(project, viewer, "viewer")
    party = factory.party(project)
    keys = {u.username: factory.key(u) for u in (admin, manager, collector, viewer, member, stranger)}
    return {"org": org, "other": other, "project": project, "elsewhere": elsewhere, "party": party, **keys}


def upload(client, key, url, filename="deed.pdf", data=PDF, content_type=None, **fields):
    file_part = (filename, data) if content_type is None else (filename, data, content_type)
    headers = {"Authorization": f"Token {key}"} if key else {}
    return client.app.post(url, fields, upload_files=[("file", *file_part)], headers=headers, expect_errors=True)


def replace_file(client, key, url, filename, data, method="patch", **fields):
    send = client.app.patch if method == "patch" else client.app.put
    return send(url, fields, upload_files=[("file", filename, data)], headers={"Authorization": f"Token {key}"},
                expect_errors=True)


def stored_keys(wsgi_app) -> list[str]:
    return wsgi_app.registry["hyperapi.storage"].keys()


def counts(db) -> tuple[int, int, int]:
    return tuple(db.scalar(select(func.count()).select_from(model))
                 for model in (Resource, ResourceFile, ResourceAttachment))


# --- upload and download ---------------------------------------------------------------------------


def test_upload_describes_the_file_from_its_bytes(client, world, wsgi_app):
    url = f"{project_url(world['org'], world['project'])}resources/"
    response = upload(client, world["dina"], url, name="Deed of plot 12", description="Scanned at the office")
    assert response.status_int == 201, response.text
    body = response.json
    assert response.headers["Location"].endswith(body["resource_uri"])
    assert body["resource_uri"] == f"{url}{body['id']}/"
    assert len(body["id"]) == 24
    assert body["name"] == "Deed of plot 12" and body["description"] == "Scanned at the office"
    assert body["mime_type"] == "application/pdf" and body["original_file"] == "deed.pdf"
    assert body["size"] == len(PDF) and body["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert body["entity_type"] == "project" and body["revision"] == 1 and body["previous_files"] == []
    assert body["attachments"] == [{"entity_type": "project", "href": project_url(world["org"], world["project"])}]
    assert body["contributor"] == f"{API}/users/dina/"
    assert body["file"] == f"{body['resource_uri']}content"
    assert body["_links"]["content"] == {"href": body["file"]}
    # The stored key is the server's own: nothing of the client's file name.
    assert [k for k in stored_keys(wsgi_app) if k.startswith(body["id"])] and \
        all("deed" not in k for k in stored_keys(wsgi_app))


def test_name_defaults_to_the_file_name(client, world):
    url = f"{org_url(world['org'])}resources/"
    body = upload(client, world["amara"], url, filename="Map of the parcels.png", data=PNG).json
    assert body["name"] == "Map of the parcels.png" and body["mime_type"] == "image/png"


def test_the_rsr_upload_example_works_as_written(client, world, tmp_path):
    """RSR's example posts with python `requests`: `files={'file': f}`, other fields in `data`."""
    import requests

    path = tmp_path / "survey.csv"
    path.write_bytes(CSV)
    url = f"{project_url(world['org'], world['project'])}resources/"
    with open(path, "rb") as f:
        prepared = requests.Request("POST", "http://localhost" + url, files={"file": f}, data={"name": "Survey"},
                                    headers={"Authorization": f"Token {world['dina']}"}).prepare()
    response = client.app.post(url, prepared.body, headers=dict(prepared.headers), expect_errors=True)
    assert response.status_int == 201, response.text
    assert response.json["mime_type"] in ("text/csv", "text/plain") and response.json["name"] == "Survey"
    assert response.json["original_file"] == "survey.csv"


def test_download_with_type_disposition_etag_and_ranges(client, world):
    url = f"{project_url(world['org'], world['project'])}resources/"
    body = upload(client, world["dina"], url, filename='plan "final".pdf').json
    viewer = client.as_(world["emeka"])
    response = viewer.get(body["file"])
    assert response.status_int == 200 and response.body == PDF
    assert response.content_type == "application/pdf"
    assert response.headers["Content-Disposition"] == \
        "attachment; filename=\"plan _final_.pdf\"; filename*=UTF-8''plan%20_final_.pdf"
    assert response.headers["ETag"] == f'"{body["sha256"]}"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Accept-Ranges"] == "bytes"
    assert viewer.get(body["file"], headers={"If-None-Match": response.headers["ETag"]}).status_int == 304
    part = viewer.get(body["file"], headers={"Range": "bytes=5-9"})
    assert part.status_int == 206 and part.body == PDF[5:10]
    assert part.headers["Content-Range"] == f"bytes 5-9/{len(PDF)}"
    tail = viewer.get(body["file"], headers={"Range": "bytes=-4"})
    assert tail.status_int == 206 and tail.body == PDF[-4:]
    assert viewer.get(body["file"], headers={"Range": f"bytes={len(PDF) + 10}-"}).status_int == 416
    # HEAD: the headers without the bytes.
    head = client.app.head(body["file"], headers={"Authorization": f"Token {world['emeka']}"})
    assert head.status_int == 200 and head.headers["Content-Length"] == str(len(PDF)) and head.body == b""


def test_content_takes_only_a_revision_parameter(client, world):
    url = f"{project_url(world['org'], world['project'])}resources/"
    body = upload(client, world["dina"], url).json
    viewer = client.as_(world["emeka"])
    assert viewer.get(body["file"] + "?revision=2").json == {
        "error": "Invalid data.", "errors": {"revision": "Must be a revision of this file, from 1 to 1."}}
    assert viewer.get(body["file"] + "?revision=x").status_int == 400
    assert viewer.get(body["file"] + "?download=1").json["errors"] == {"download": "Unknown query parameter."}
    assert viewer.get(body["file"] + "?revision=1").body == PDF


def test_gpx_tracks_are_recognised_from_their_root_element(client, world):
    url = f"{project_url(world['org'], world['project'])}resources/"
    body = upload(client, world["dina"], url, filename="boundary.gpx", data=GPX).json
    assert body["mime_type"] == "application/gpx+xml"


# --- bad uploads: a clear 4xx, no bytes, no rows ----------------------------------------------------


BAD_UPLOADS = {
    # what the client sends: (file name, bytes, part Content-Type), expected status, error key or message
    "lying content type": (("deed.pdf", PDF, "image/png"), 415, "The file is application/pdf, not image/png"),
    "windows executable renamed .png": (("photo.png", EXE, None), 415, "application/x-dosexec"),
    "pdf renamed .png": (("photo.png", PDF, "application/octet-stream"), 415,
                         "which its name 'photo.png' does not match"),
    "zero bytes": (("empty.pdf", b"", None), 400, "The file is empty."),
}


@pytest.mark.parametrize("case", sorted(BAD_UPLOADS))
def test_bad_uploads_leave_nothing_behind(client, world, wsgi_app, db, case):
    (filename, data, content_type), status, message = BAD_UPLOADS[case]
    url = f"{project_url(world['org'], world['project'])}resources/"
    before_keys, before_rows = stored_keys(wsgi_app), counts(db)
    response = upload(client, world["dina"], url, filename=filename, data=data, content_type=content_type)
    assert response.status_int == status, response.text
    assert message in response.text
    assert set(response.json) <= {"error", "errors"}
    assert stored_keys(wsgi_app) == before_keys and counts(db) == before_rows


def test_a_file_name_never_becomes_a_path(client, world, wsgi_app):
    url = f"{project_url(world['org'], world['project'])}resources/"
    for name, kept in (("../../etc/passwd.pdf", "passwd.pdf"), ("..\\..\\boot.ini.pdf", "boot.ini.pdf"),
                       ("/abs/x.pdf", "x.pdf"), ("a\x00b.pdf", "a_b.pdf"), ("..", "file")):
        response = upload(client, world["dina"], url, filename=name)
        assert response.status_int == 201, (name, response.text)
        assert response.json["original_file"] == kept
        assert "/" not in response.json["original_file"] and "\\" not in response.json["original_file"]
    root = wsgi_app.registry["hyperapi.storage"].root
    assert all(not k.startswith("..") and ".." not in k.split("/") for k in stored_keys(wsgi_app))
    assert root.endswith("files")


def test_a_body_over_the_upload_limit_is_refused_before_it_is_read(client, world, wsgi_app, db, monkeypatch):
    url = f"{project_url(world['org'], world['project'])}resources/"
    before_keys, before_rows = stored_keys(wsgi_app), counts(db)
    # Declared larger than the limit: refused on the Content-Length alone.
    huge = client.app.post(url, b"x" * 10, headers={"Authorization": f"Token {world['dina']}",
                                                    "Content-Length": str(60 * 1024 * 1024)},
                           content_type="multipart/form-data; boundary=x", expect_errors=True)
    assert huge.status_int == 413 and "larger than this server accepts" in huge.json["error"]
    # A file over the limit inside a body the envelope lets through: refused while measuring it.
    monkeypatch.setitem(wsgi_app.registry.settings, "hyperapi.max_upload_bytes", "100")
    over = upload(client, world["dina"], url, data=PDF + bytes(200))
    assert over.status_int == 413
    assert stored_keys(wsgi_app) == before_keys and counts(db) == before_rows


def test_a_multipart_body_cut_off_mid_stream(client, world, wsgi_app, db):
    url = f"{project_url(world['org'], world['project'])}resources/"
    boundary = "cut"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"deed.pdf\"\r\n"
            "Content-Type: application/pdf\r\n\r\n").encode() + PDF  # no closing boundary
    before_keys, before_rows = stored_keys(wsgi_app), counts(db)
    for declared in (len(body), len(body) + 500):  # the body ends, or the client stops sending
        response = client.app.post(url, body, headers={"Authorization": f"Token {world['dina']}",
                                                       "Content-Length": str(declared)},
                                   content_type=f"multipart/form-data; boundary={boundary}", expect_errors=True)
        assert 400 <= response.status_int < 500, response.text
        assert response.json["error"]
    assert stored_keys(wsgi_app) == before_keys and counts(db) == before_rows


def test_files_are_refused_where_no_file_is_expected(client, world):
    url = f"{project_url(world['org'], world['project'])}parties/"
    response = client.app.post(url, {"name": "X"}, upload_files=[("contacts", "c.pdf", PDF)],
                               headers={"Authorization": f"Token {world['dina']}"}, expect_errors=True)
    assert response.status_int == 400
    assert response.json["errors"] == {"contacts": "Files are not accepted in this field."}


def test_upload_needs_the_file_part(client, world):
    url = f"{project_url(world['org'], world['project'])}resources/"
    collector = client.as_(world["dina"])
    assert collector.post(url, {"name": "no file"}).json == {
        "error": "Invalid data.", "errors": {"file": "This field is required"}}
    sent_as_text = client.app.post(url, {"name": "x", "file": "deed.pdf"},
                                   headers={"Authorization": f"Token {world['dina']}"}, expect_errors=True)
    assert sent_as_text.json["errors"] == {
        "file": "Send the file's bytes as a file part of a multipart/form-data body."}
    assert collector.post(url, {"name": "x", "colour": "red"}).json["errors"] == {"colour": "Unknown field."}


def test_the_allow_list_comes_from_settings(client, world, wsgi_app, monkeypatch):
    url = f"{project_url(world['org'], world['project'])}resources/"
    monkeypatch.setitem(wsgi_app.registry.settings, "hyperapi.upload_mime_types", "image/png")
    assert upload(client, world["dina"], url).status_int == 415
    assert upload(client, world["dina"], url, filename="x.png", data=PNG).status_int == 201


# --- one resource, many entities ------------------------------------------------------------------


def test_attach_and_detach(client, world, wsgi_app, db):
    org, project, party = world["org"], world["project"], world["party"]
    admin = client.as_(world["amara"])
    created = upload(client, world["dina"], f"{party_url(org, project, party)}resources/").json
    assert created["entity_type"] == "party"
    attached = admin.post(f"{project_url(org, project)}resources/", {"id": created["id"]})
    assert attached.status_int == 201, attached.text
    # The canonical URL is where it was first attached, for whoever can see it there.
    assert attached.json["resource_uri"] == created["resource_uri"]
    assert [a["entity_type"] for a in attached.json["attachments"]] == ["party", "project"]
    # Already attached: 409; another organization's entity: 400; a resource the caller can't see: 400.
    again = admin.post(f"{project_url(org, project)}resources/", {"id": created["id"]})
    assert again.status_int == 409
    foreign = admin.post(f"{project_url(world['other'], world['elsewhere'])}resources/", {"id": created["id"]})
    assert foreign.status_int == 400 and "id" in foreign.json["errors"]
    unknown = admin.post(f"{project_url(org, project)}resources/", {"id": "x" * 24})
    assert unknown.json == {"error": "Invalid data.", "errors": {"id": "Resource does not exist"}}
    mixed = admin.post(f"{project_url(org, project)}resources/", {"id": created["id"], "name": "x"})
    assert mixed.status_int == 400 and mixed.json["errors"] == {"name": "Unknown field."}

    # Detach from the party: still there under the project, its bytes kept.
    keys = stored_keys(wsgi_app)
    assert admin.delete(created["resource_uri"]).status_int == 204
    assert admin.get(created["resource_uri"]).status_int == 404
    nested = f"{project_url(org, project)}resources/{created['id']}/"
    assert admin.get(nested).json["resource_uri"] == nested
    assert stored_keys(wsgi_app) == keys
    # Detaching the last attachment deletes the resource, and its bytes after the commit.
    assert admin.delete(nested).status_int == 204
    assert admin.get(f"{API}/resources/{created['id']}/").status_int == 404
    assert not [k for k in stored_keys(wsgi_app) if k.startswith(created["id"])]
    assert db.scalar(select(func.count()).select_from(Resource).where(Resource.id == created["id"])) == 0


def test_a_collector_may_not_detach_or_delete(client, world):
    url = f"{project_url(world['org'], world['project'])}resources/"
    created = upload(client, world["dina"], url).json
    collector = client.as_(world["dina"])
    refused = collector.delete(created["resource_uri"])
    assert refused.status_int == 403, refused.text
    assert refused.json == {"error": "You are not allowed to delete this resource."}
    assert collector.delete(f"{API}/resources/{created['id']}/").json == refused.json
    assert client.as_(world["chen"]).delete(created["resource_uri"]).status_int == 204


def test_the_flat_url_is_the_same_object(client, world):
    url = f"{project_url(world['org'], world['project'])}resources/"
    created = upload(client, world["dina"], url).json
    viewer = client.as_(world["emeka"])
    flat = viewer.get(f"{API}/resources/{created['id']}/")
    nested = viewer.get(created["resource_uri"])
    assert flat.status_int == 200 and flat.json == nested.json
    assert flat.headers["ETag"] == nested.headers["ETag"]
    assert viewer.get(f"{API}/resources/{created['id']}/content").body == PDF
    # PUT is only on the nested URLs (SPEC §2); the flat one takes PATCH.
    assert client.as_(world["dina"]).put(f"{API}/resources/{created['id']}/", {"name": "x"}).status_int == 405


# --- editing, replacing, archiving -----------------------------------------------------------------


def test_replacing_the_file_keeps_the_previous_revision(client, world, wsgi_app):
    url = f"{project_url(world['org'], world['project'])}resources/"
    created = upload(client, world["dina"], url, name="Deed").json
    replaced = replace_file(client, world["dina"], created["resource_uri"], "deed-signed.pdf", PDF + b"%signed\n",
                            description="Signed copy")
    assert replaced.status_int == 200, replaced.text
    body = replaced.json
    assert body["revision"] == 2 and body["original_file"] == "deed-signed.pdf"
    assert body["name"] == "Deed" and body["description"] == "Signed copy" and body["version"] == 2
    [previous] = body["previous_files"]
    assert previous["revision"] == 1 and previous["sha256"] == created["sha256"]
    assert previous["file"] == f"{created['file']}?revision=1"
    viewer = client.as_(world["emeka"])
    assert viewer.get(previous["file"]).body == PDF
    assert viewer.get(body["file"]).body == PDF + b"%signed\n"
    assert len([k for k in stored_keys(wsgi_app) if k.startswith(created["id"])]) == 2
    # A replacement must be a file the allow-list accepts, too; the resource is unchanged then.
    refused = replace_file(client, world["dina"], created["resource_uri"], "x.png", EXE)
    assert refused.status_int == 415
    assert viewer.get(created["resource_uri"]).json == body


def test_get_modify_put_of_the_metadata(client, world):
    url = f"{project_url(world['org'], world['project'])}resources/"
    created = upload(client, world["dina"], url).json
    collector = client.as_(world["dina"])
    sent = dict(created, name="Renamed", description="")
    response = collector.put(created["resource_uri"], sent)
    assert response.status_int == 200, response.text
    assert response.json["name"] == "Renamed" and response.json["revision"] == 1
    assert collector.patch(created["resource_uri"], {"name": ""}).json == {
        "error": "Invalid data.", "errors": {"name": "This field may not be blank."}}
    assert collector.patch(created["resource_uri"], {"size": 1}).json["errors"] == {"size": "This field is read-only."}
    assert collector.patch(created["resource_uri"], {"file": "http://elsewhere/x.pdf"}).json["errors"] == {
        "file": "Send the file's bytes as a file part of a multipart/form-data body."}
    stale = collector.patch(created["resource_uri"], {"name": "x"}, headers={"If-Match": '"1"'})
    assert stale.status_int == 412


def test_archived_resources_are_seen_only_by_those_who_may_edit_them(client, world):
    org, project = world["org"], world["project"]
    url = f"{project_url(org, project)}resources/"
    created = upload(client, world["dina"], url).json
    assert client.as_(world["dina"]).patch(created["resource_uri"], {"archived": True}).status_int == 200
    for key in ("amara", "chen", "dina"):
        assert client.as_(world[key]).get(created["resource_uri"]).status_int == 200
        assert created["id"] in [o["id"] for o in client.as_(world[key]).get(url).json["objects"]]
    for key in ("emeka", "fatou", "gus", None):
        caller = client.as_(world[key] if key else None)
        assert caller.get(created["resource_uri"]).json == {"error": "Resource does not exist"}
        assert caller.get(created["file"]).json == {"error": "Resource does not exist"}
        assert caller.get(f"{API}/resources/{created['id']}/").status_int == 404
        assert created["id"] not in [o["id"] for o in caller.get(f"{API}/resources/").json["objects"]]
    # Archived: only un-archiving is allowed, with nothing else changed.
    collector = client.as_(world["dina"])
    assert collector.patch(created["resource_uri"], {"name": "x"}).status_int == 403
    assert replace_file(client, world["dina"], created["resource_uri"], "x.pdf", PDF).status_int == 403
    assert collector.patch(created["resource_uri"], {"archived": False}).status_int == 200
    assert client.as_(world["emeka"]).get(created["resource_uri"]).status_int == 200


# --- the collections ------------------------------------------------------------------------------


def test_flat_list_query_language(client, world):
    org, project = world["org"], world["project"]
    collector = client.as_(world["dina"])
    pdf = upload(client, world["dina"], f"{project_url(org, project)}resources/", name="Alpha deed").json
    png = upload(client, world["amara"], f"{org_url(org)}resources/", filename="b.png", data=PNG,
                 name="Beta map", description="parcel boundaries").json
    csv = upload(client, world["dina"], f"{party_url(org, project, world['party'])}resources/",
                 filename="census.csv", data=CSV, name="Gamma census").json

    def ids(query, who=collector):
        response = who.get(f"{API}/resources/?{query}")
        assert response.status_int == 200, response.text
        return [o["id"] for o in response.json["objects"]]

    assert ids("") == [pdf["id"], png["id"], csv["id"]]  # by name
    assert ids("mime_type=image/png") == [png["id"]]
    assert ids("entity_type=party") == [csv["id"]]
    assert ids("search=BOUNDARIES") == [png["id"]]
    assert ids("search=census.csv") == [csv["id"]]
    assert ids("ordering=-size") == [x["id"] for x in sorted((pdf, png, csv), key=lambda o: -o["size"])]
    assert ids(f"size__gt={png['size']}") == [x["id"] for x in (pdf, csv) if x["size"] > png["size"]]
    assert ids(f"attachments__party={world['party'].id}") == [csv["id"]]
    assert ids("attachments__project=kampala") == [pdf["id"], csv["id"]]
    assert ids("archived=true") == []
    # Strangers see the public organization's and the public project's files, not the party's.
    assert ids("", client.as_(world["gus"])) == [pdf["id"], png["id"]]
    assert ids(f"attachments__party={world['party'].id}", client.as_(world["gus"])) == []
    assert client.get(f"{API}/resources/?password=x").json["errors"] == {"password": "Unknown query parameter."}
    assert client.get(f"{API}/resources/?ordering=sha256").status_int == 400
    assert collector.get(f"{API}/resources/set/{pdf['id']};{'x' * 24}/").json["not_found"] == ["x" * 24]


def test_nested_lists_hold_what_is_attached_there(client, world):
    org, project, party = world["org"], world["project"], world["party"]
    on_party = upload(client, world["dina"], f"{party_url(org, project, party)}resources/").json
    on_project = upload(client, world["dina"], f"{project_url(org, project)}resources/").json
    admin = client.as_(world["amara"])
    assert [o["id"] for o in admin.get(f"{party_url(org, project, party)}resources/").json["objects"]] == \
        [on_party["id"]]
    assert [o["id"] for o in admin.get(f"{project_url(org, project)}resources/").json["objects"]] == \
        [on_project["id"]]
    assert admin.get(f"{org_url(org)}resources/").json["objects"] == []
    # An empty list for the caller who sees the entity and none of its resources.
    other = client.as_(world["gus"])
    assert other.get(f"{API}/resources/?entity_type=party").json["objects"] == []


# --- deleting what resources are attached to -------------------------------------------------------


def test_deleting_a_party_deletes_the_resources_attached_only_to_it(client, world, wsgi_app):
    org, project, party = world["org"], world["project"], world["party"]
    admin = client.as_(world["amara"])
    only_here = upload(client, world["dina"], f"{party_url(org, project, party)}resources/").json
    shared = upload(client, world["dina"], f"{party_url(org, project, party)}resources/", filename="s.pdf").json
    assert admin.post(f"{project_url(org, project)}resources/", {"id": shared["id"]}).status_int == 201
    assert admin.delete(party_url(org, project, party)).status_int == 204
    assert admin.get(f"{API}/resources/{only_here['id']}/").status_int == 404
    assert not [k for k in stored_keys(wsgi_app) if k.startswith(only_here["id"])]
    kept = admin.get(f"{API}/resources/{shared['id']}/")
    assert kept.status_int == 200 and [a["entity_type"] for a in kept.json["attachments"]] == ["project"]
    assert admin.get(kept.json["file"]).body == PDF


def test_deleting_an_organization_removes_its_files(client, world, wsgi_app):
    org, project = world["org"], world["project"]
    ids = [upload(client, world["amara"], f"{org_url(org)}resources/").json["id"],
           upload(client, world["dina"], f"{project_url(org, project)}resources/").json["id"]]
    assert client.as_(world["amara"]).delete(org_url(org)).status_int == 204
    assert not [k for k in stored_keys(wsgi_app) if k.split("/")[0] in ids]


# --- history --------------------------------------------------------------------------------------


def test_resource_changes_are_in_the_history(client, world, db):
    org, project = world["org"], world["project"]
    created = upload(client, world["dina"], f"{project_url(org, project)}resources/").json
    client.as_(world["dina"]).patch(created["resource_uri"], {"name": "Renamed"})
    client.as_(world["amara"]).delete(f"{API}/resources/{created['id']}/")
    entries = db.execute(select(HistoryEntry.entity_type, HistoryEntry.action)
                         .where(HistoryEntry.entity_label == created["id"]).order_by(HistoryEntry.id)).all()
    assert [tuple(e) for e in entries] == [("resource", "create"), ("resource_attachment", "create"),
                                          ("resource", "update"), ("resource", "delete")]
    history = client.as_(world["amara"]).get(f"{org_url(org)}history/?entity_type=resource").json["objects"]
    assert [e["action"] for e in history] == ["delete", "update", "create"]
    assert history[1]["changes"]["name"] == {"old": "deed.pdf", "new": "Renamed"}
    assert history[0]["entity"] == f"{API}/resources/{created['id']}/"


# --- cost -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["flat", "nested"])
def test_a_page_of_resources_costs_the_same_whatever_its_size(client, world, query_recorder, url):
    org, project = world["org"], world["project"]
    for i in range(6):
        upload(client, world["dina"], f"{project_url(org, project)}resources/", filename=f"d{i}.pdf")
    base = f"{API}/resources/" if url == "flat" else f"{project_url(org, project)}resources/"
    viewer = client.as_(world["emeka"])
    viewer.get(base)  # the token's first use of the minute is written down; not part of a page's cost
    statements = []
    for limit in (1, 6):
        with query_recorder() as recorded:
            assert len(viewer.get(f"{base}?limit={limit}").json["objects"]) == limit
        statements.append(recorded.count)
    assert statements[0] == statements[1], statements
    assert statements[0] <= 8, statements


def test_a_resource_history_is_shown_to_those_who_may_edit_it(client, world):
    org, project = world["org"], world["project"]
    created = upload(client, world["dina"], f"{project_url(org, project)}resources/").json
    client.as_(world["dina"]).patch(created["resource_uri"], {"description": "Signed"})
    url = f"{created['resource_uri']}history/"
    entries = client.as_(world["chen"]).get(url).json["objects"]
    assert [(e["entity_type"], e["action"]) for e in entries] == [
        ("resource", "update"), ("resource_attachment", "create"), ("resource", "create")]
    assert entries[0]["changes"]["description"] == {"old": "", "new": "Signed"}
    # A viewer sees the resource, not its history; a stranger's 404 names the resource.
    assert client.as_(world["emeka"]).get(url).json["objects"] == []
    assert client.as_(world["emeka"]).get(entries[0]["resource_uri"]).status_int == 404
    archived_org_file = upload(client, world["amara"], f"{org_url(org)}resources/").json
    assert client.as_(world["fatou"]).get(f"{archived_org_file['resource_uri']}history/").json["objects"] == []
    assert len(client.as_(world["amara"]).get(f"{archived_org_file['resource_uri']}history/").json["objects"]) == 2
    assert client.get(f"{created['resource_uri']}history/x/").json == {"error": "History entry does not exist"}


def test_bytes_missing_from_storage_are_a_clean_500(client, world, wsgi_app, caplog):
    url = f"{project_url(world['org'], world['project'])}resources/"
    created = upload(client, world["dina"], url).json
    storage = wsgi_app.registry["hyperapi.storage"]
    for key in storage.keys():
        if key.startswith(created["id"]):
            storage.delete(key)
    response = client.as_(world["dina"]).get(created["file"])
    assert response.status_int == 500
    assert response.json == {"error": "Internal server error."}
    assert "are missing" in caplog.text


def test_only_an_editor_of_a_resource_may_attach_it(client, world, factory, db):
    """Attaching gives the resource the rules of its new place: seeing it is not enough, or a collector
    could attach the organization's document to their project and edit it from there."""
    org, project = world["org"], world["project"]
    document = upload(client, world["amara"], f"{org_url(org)}resources/", name="Statutes").json
    collector = client.as_(world["dina"])
    assert collector.get(document["resource_uri"]).status_int == 200  # a public organization's file
    before = counts(db)
    refused = collector.post(f"{project_url(org, project)}resources/", {"id": document["id"]})
    assert refused.status_int == 403
    assert refused.json == {"error": "You may only attach a resource you may edit."}
    assert counts(db) == before
    assert collector.patch(f"{API}/resources/{document['id']}/", {"name": "Mine now"}).status_int == 403
    # Its editors may: the admin attaches it to the project.
    assert client.as_(world["amara"]).post(f"{project_url(org, project)}resources/",
                                           {"id": document["id"]}).status_int == 201
