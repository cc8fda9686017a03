"""The storage backends, each test run against both: a local directory and S3 (moto's emulator on
127.0.0.1) — SPEC §7, `hyperapi/storage.py`.

1. The storage: bytes written are read back whole and by range, in chunks; deleting is idempotent;
   `keys()` lists exactly what is stored; a key of any other shape than the server's is refused before
   anything is written; two storages side by side (two prefixes of one bucket, two directories) never
   see each other's keys.
2. `FileTransaction` with a real transaction manager: bytes written stay if the transaction commits and
   are removed if it aborts or its commit fails; bytes doomed stay until the commit succeeds; each
   transaction starts clean.
3. Through HTTP, with the app configured on the backend: upload, download (ranges, ETag), replace,
   delete; an upload refused, or a request that fails after its bytes were written (the database fails
   at an INSERT or at commit), leaves no bytes and no rows.
"""

from __future__ import annotations

import hashlib
import io
import os

import pytest
import transaction
from sqlalchemy import func, select
from webtest import TestApp

from hyperapi import main
from hyperapi.files.storage import (
    CHUNK,
    FileTransaction,
    LocalStorage,
    S3Storage,
    StorageError,
    new_key,
    storage_from_settings,
)
from hyperapi.models import Resource, ResourceAttachment, ResourceFile

from ..support.api import API, project_url
from .storage_fixtures import (
    REGION,
    BrokenSource,
    LocalBackend,
    RefusesToVote,
    S3Backend,
    VoteRefused,
    database_gone,
    fault_at_commit,
    fault_at_insert,
    put,
    read_all,
    s3_server,
    unexpected,
)

BACKENDS = ["local", "s3"]
ID = "a" * 24  # the shape of a resource id
OTHER_ID = "b" * 24
SMALL = b"a few bytes of a deed\n"
LARGE = os.urandom(300 * 1024)  # several chunks of CHUNK (64 KiB), not a multiple of it
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
LARGE_PDF = PDF + b"%" + os.urandom(200 * 1024) + b"\n%%EOF\n"  # still application/pdf to libmagic
EXE = b"MZ\x90\x00" + bytes(200)


@pytest.fixture(scope="module")
def s3():
    """The emulator, started once for the module when a test first asks for S3."""
    with s3_server() as server:
        yield server


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path):
    if request.param == "local":
        return LocalBackend(tmp_path / "stores")
    return S3Backend(request.getfixturevalue("s3"))


@pytest.fixture
def storage(backend):
    return backend.make("files")


# --- 1. the storage --------------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", SMALL, bytes(CHUNK), LARGE], ids=["empty", "small", "one-chunk", "large"])
def test_write_then_read_round_trip(storage, data):
    key = new_key(ID, 1)
    put(storage, key, data)
    chunks = list(storage.read(key))
    assert b"".join(chunks) == data
    assert all(0 < len(chunk) <= CHUNK for chunk in chunks)  # streamed, never all at once
    assert len(chunks) == -(-len(data) // CHUNK)
    assert storage.keys() == [key]


def test_write_stores_from_the_current_position(storage):
    source = io.BytesIO(b"SKIPPED" + LARGE)
    source.seek(len(b"SKIPPED"))
    put_key = new_key(ID, 1)
    storage.write(put_key, source)
    assert read_all(storage, put_key) == LARGE


def test_writing_a_key_again_replaces_its_bytes(storage):
    key = new_key(ID, 1)
    put(storage, key, LARGE)
    put(storage, key, SMALL)
    assert read_all(storage, key) == SMALL and storage.keys() == [key]


RANGES = {
    "first byte": (0, 1),
    "middle": (1000, 2000),
    "last byte": (len(LARGE) - 1, len(LARGE)),
    "to the end": (1000, None),
    "whole": (0, None),
    "whole by its length": (0, len(LARGE)),
    "across a chunk boundary": (CHUNK - 3, CHUNK + 3),
    "several chunks": (10, 3 * CHUNK + 10),
    "past the end": (len(LARGE) - 5, len(LARGE) + 100),
    "empty at the start": (0, 0),
    "empty in the middle": (500, 500),
}


@pytest.mark.parametrize("start, stop", list(RANGES.values()), ids=list(RANGES))
def test_read_a_range(storage, start, stop):
    key = new_key(ID, 1)
    put(storage, key, LARGE)
    chunks = list(storage.read(key, start, stop))
    assert b"".join(chunks) == LARGE[start:stop]
    assert all(len(chunk) <= CHUNK for chunk in chunks)


def test_delete(storage):
    first, second = new_key(ID, 1), new_key(ID, 2)
    put(storage, first, SMALL)
    put(storage, second, LARGE)
    storage.delete(first)
    assert storage.keys() == [second] and read_all(storage, second) == LARGE
    storage.delete(first)  # already gone: no error
    storage.delete(new_key(OTHER_ID, 1))  # never there: no error
    storage.delete(second)
    assert storage.keys() == []


def test_reading_a_missing_key_fails(storage):
    with pytest.raises(Exception):  # noqa: B017 (each backend has its own "not found")
        read_all(storage, new_key(ID, 1))


def test_keys_lists_exactly_what_is_stored(storage):
    assert storage.keys() == []
    stored = sorted(new_key(resource, revision) for resource in (ID, OTHER_ID) for revision in (1, 2, 3))
    for key in stored:
        put(storage, key, key.encode())
    assert storage.keys() == stored
    for key in stored:
        assert read_all(storage, key) == key.encode()
    storage.delete(stored[0])
    assert storage.keys() == stored[1:]


def test_a_write_that_fails_midway_leaves_nothing_half_written(backend, storage):
    key = new_key(ID, 1)
    with pytest.raises(OSError):
        storage.write(key, BrokenSource(LARGE))
    storage.delete(key)  # what FileTransaction does on abort: a half-written object goes too
    assert storage.keys() == [] and backend.everything() == []


BAD_KEYS = ["../x", "a/../../b", "/etc/passwd", "/abs", "", "a", "a/b/c", "..", "a/..", "../..", "./x", "a/.",
            "a//b", "/a/b", "a/b/", "a\\b", "a/b c", "a/b\x00", "a/b\n", "é/1-x", ".upload-x/1"]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_keys_of_a_bad_shape_are_refused(backend, storage, key):
    with pytest.raises(StorageError):
        storage.write(key, io.BytesIO(SMALL))
    with pytest.raises(StorageError):
        read_all(storage, key)
    with pytest.raises(StorageError):
        storage.delete(key)
    assert storage.keys() == [] and backend.everything() == []


def test_storages_side_by_side_never_see_each_others_keys(backend):
    # Two prefixes of one bucket (one the start of the other's name), or two directories.
    one, two = backend.make("tenant"), backend.make("tenant-2")
    key = new_key(ID, 1)
    put(one, key, b"one")
    put(two, key, b"two")
    only_two = new_key(OTHER_ID, 1)
    put(two, only_two, b"two only")
    assert one.keys() == [key] and two.keys() == sorted([key, only_two])
    assert read_all(one, key) == b"one" and read_all(two, key) == b"two"
    one.delete(key)
    assert one.keys() == [] and two.keys() == sorted([key, only_two]) and read_all(two, key) == b"two"


def test_s3_prefixes_of_one_bucket_are_isolated(s3):
    bucket = s3.bucket()
    left = S3Storage(bucket, "/left/", client=s3.client)
    right = S3Storage(bucket, "right/deeper", client=s3.client)
    key = new_key(ID, 1)
    put(left, key, b"left")
    put(right, key, b"right")
    assert left.keys() == [key] and right.keys() == [key]
    assert s3.everything(bucket) == sorted([f"left/{key}", f"right/deeper/{key}"])
    right.delete(key)
    assert read_all(left, key) == b"left" and right.keys() == []


def test_storage_from_settings(backend, tmp_path):
    if backend.name == "local":
        url, extra = f"file://{tmp_path}/from-settings", {}
    else:
        url = f"s3://{backend.bucket}/from/settings"
        extra = {"hyperapi.storage.s3.endpoint_url": backend.server.url, "hyperapi.storage.s3.region": REGION}
    storage = storage_from_settings({"hyperapi.storage": url, **extra})
    assert isinstance(storage, LocalStorage if backend.name == "local" else S3Storage)
    key = new_key(ID, 1)
    put(storage, key, LARGE)
    assert storage.keys() == [key] and read_all(storage, key, 7, 9) == LARGE[7:9]
    if backend.name == "local":
        assert storage.root == f"{tmp_path}/from-settings"
        assert os.path.exists(os.path.join(storage.root, *key.split("/")))
    else:
        assert backend.everything() == [f"from/settings/{key}"]


def test_an_unknown_backend_is_refused():
    with pytest.raises(ValueError):
        storage_from_settings({"hyperapi.storage": "ftp://example.invalid/files"})


# --- 2. FileTransaction ----------------------------------------------------------------------------------


@pytest.fixture
def tm():
    return transaction.TransactionManager(explicit=True)  # as pyramid_tm's explicit manager


@pytest.fixture
def files(storage, tm):
    return FileTransaction(storage, tm)


def test_written_bytes_stay_when_the_transaction_commits(storage, tm, files):
    tm.begin()
    key = new_key(ID, 1)
    files.write(key, io.BytesIO(LARGE))
    assert storage.keys() == [key]  # written during the request
    tm.commit()
    assert storage.keys() == [key] and read_all(storage, key) == LARGE


def test_written_bytes_go_when_the_transaction_aborts(storage, tm, files):
    tm.begin()
    files.write(new_key(ID, 1), io.BytesIO(SMALL))
    files.write(new_key(ID, 2), io.BytesIO(LARGE))
    tm.abort()
    assert storage.keys() == []


@pytest.mark.parametrize("sort_key", ["~sqlalchemy:refuses", "~~~after-the-files"], ids=["before", "after"])
def test_written_bytes_go_when_the_commit_fails(storage, tm, files, sort_key):
    txn = tm.begin()
    files.write(new_key(ID, 1), io.BytesIO(LARGE))
    other = RefusesToVote(tm, sort_key)
    txn.join(other)
    with pytest.raises(VoteRefused):
        tm.commit()
    assert storage.keys() == [] and other.aborted
    tm.abort()
    assert storage.keys() == []


def test_a_write_that_fails_midway_is_removed_when_the_transaction_aborts(backend, storage, tm, files):
    tm.begin()
    with pytest.raises(OSError):
        files.write(new_key(ID, 1), BrokenSource(LARGE))
    tm.abort()
    assert storage.keys() == [] and backend.everything() == []


def test_doomed_bytes_stay_when_the_transaction_aborts(storage, tm, files):
    key = new_key(ID, 1)
    put(storage, key, LARGE)
    tm.begin()
    files.delete_after_commit(key)
    assert storage.keys() == [key]  # not before the commit
    tm.abort()
    assert storage.keys() == [key] and read_all(storage, key) == LARGE


def test_doomed_bytes_stay_when_the_commit_fails(storage, tm, files):
    key = new_key(ID, 1)
    put(storage, key, LARGE)
    txn = tm.begin()
    files.delete_after_commit(key)
    txn.join(RefusesToVote(tm))
    with pytest.raises(VoteRefused):
        tm.commit()
    tm.abort()
    assert storage.keys() == [key]


def test_doomed_bytes_go_once_the_transaction_commits(storage, tm, files):
    old, new = new_key(ID, 1), new_key(ID, 2)
    put(storage, old, SMALL)
    tm.begin()
    files.write(new, io.BytesIO(LARGE))  # a replacement: the new revision written, an old one doomed
    files.delete_after_commit(old)
    files.delete_after_commit(new_key(OTHER_ID, 1))  # already gone: no error
    tm.commit()
    assert storage.keys() == [new]


def test_each_transaction_starts_clean(storage, tm, files):
    kept, doomed = new_key(ID, 1), new_key(OTHER_ID, 1)
    put(storage, doomed, SMALL)
    # 1: doom a key, abort — the key must not be removed by a later commit.
    tm.begin()
    files.delete_after_commit(doomed)
    tm.abort()
    # 2: write, commit — what was doomed in 1 is still there.
    tm.begin()
    files.write(kept, io.BytesIO(LARGE))
    tm.commit()
    assert storage.keys() == sorted([kept, doomed])
    # 3: write, fail to commit — only what 3 wrote goes; 2's bytes stay.
    txn = tm.begin()
    failed = new_key(ID, 2)
    files.write(failed, io.BytesIO(SMALL))
    txn.join(RefusesToVote(tm))
    with pytest.raises(VoteRefused):
        tm.commit()
    tm.abort()
    assert storage.keys() == sorted([kept, doomed])
    # 4: abort without having written — 2's bytes are not "written" any more.
    tm.begin()
    tm.abort()
    tm.begin()
    files.delete_after_commit(doomed)
    tm.abort()
    assert storage.keys() == sorted([kept, doomed])
    # 5: a commit removes only what this transaction doomed.
    tm.begin()
    files.delete_after_commit(doomed)
    tm.commit()
    assert storage.keys() == [kept] and read_all(storage, kept) == LARGE


# --- 3. through HTTP ------------------------------------------------------------------------------------


class App:
    """The app configured on one backend, its session bound to the test's connection (as `db` does)."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app
        self.app = TestApp(wsgi_app)
        self.storage = wsgi_app.registry["hyperapi.storage"]

    def upload(self, key, url, data=PDF, filename="deed.pdf", method="post", **fields):
        send = getattr(self.app, method)
        return send(url, fields, upload_files=[("file", filename, data)],
                    headers={"Authorization": f"Token {key}"}, expect_errors=True)

    def get(self, key, url, **headers):
        return self.app.get(url, headers={"Authorization": f"Token {key}", **headers}, expect_errors=True)

    def delete(self, key, url):
        return self.app.delete(url, headers={"Authorization": f"Token {key}"}, expect_errors=True)


@pytest.fixture(scope="module")
def backend_apps(settings, engine, tmp_path_factory):
    """One app per backend, made when first asked for (S3: a bucket of the emulator, under a prefix)."""
    made = {}

    def app_for(name: str, request) -> App:
        if name not in made:
            if name == "local":
                own = {"hyperapi.storage": f"file://{tmp_path_factory.mktemp('app-files')}"}
            else:
                s3 = request.getfixturevalue("s3")
                own = {"hyperapi.storage": f"s3://{s3.bucket()}/app/files",
                       "hyperapi.storage.s3.endpoint_url": s3.url, "hyperapi.storage.s3.region": REGION}
            made[name] = App(main({}, **{**settings, "hyperapi.engine": engine, **own}))
        return made[name]

    return app_for


@pytest.fixture
def api(backend, backend_apps, connection, db, request) -> App:
    app = backend_apps(backend.name, request)
    app.wsgi_app.registry["db.session_factory"].configure(bind=connection, join_transaction_mode="create_savepoint")
    for key in app.storage.keys():  # what an earlier test of the module left
        app.storage.delete(key)
    return app


@pytest.fixture
def world(factory):
    admin = factory.user("amara")
    org = factory.org("terra")
    factory.org_member(org, admin, "admin")
    project = factory.project(org, "kampala")
    return {"key": factory.key(admin), "url": f"{project_url(org, project)}resources/"}


def rows(db) -> tuple[int, int, int]:
    db.expire_all()
    return tuple(db.scalar(select(func.count()).select_from(model))
                 for model in (Resource, ResourceFile, ResourceAttachment))


def stored_key(db, resource_id: str, revision: int) -> str:
    return db.scalar(select(ResourceFile.file).where(ResourceFile.resource_id == resource_id,
                                                     ResourceFile.revision == revision))


@pytest.fixture
def writes(api, monkeypatch):
    """The keys the app writes, as it writes them."""
    seen: list[str] = []
    original = api.storage.write

    def write(key, source):
        seen.append(key)
        return original(key, source)

    monkeypatch.setattr(api.storage, "write", write)
    return seen


def test_an_upload_is_stored_under_its_key(api, world, db):
    response = api.upload(world["key"], world["url"], LARGE_PDF)
    assert response.status_int == 201, response.text
    body = response.json
    key = stored_key(db, body["id"], 1)
    assert key.startswith(f"{body['id']}/1-") and "deed" not in key
    assert api.storage.keys() == [key]
    assert read_all(api.storage, key) == LARGE_PDF
    assert body["sha256"] == hashlib.sha256(LARGE_PDF).hexdigest() and body["size"] == len(LARGE_PDF)
    assert rows(db) == (1, 1, 1)


def test_download_whole_by_range_and_conditionally(api, world):
    body = api.upload(world["key"], world["url"], LARGE_PDF).json
    whole = api.get(world["key"], body["file"])
    assert whole.status_int == 200 and whole.body == LARGE_PDF
    assert whole.content_type == "application/pdf" and whole.headers["Content-Length"] == str(len(LARGE_PDF))
    etag = whole.headers["ETag"]
    assert etag == f'"{body["sha256"]}"'
    part = api.get(world["key"], body["file"], Range="bytes=10-19")
    assert part.status_int == 206 and part.body == LARGE_PDF[10:20]
    assert part.headers["Content-Range"] == f"bytes 10-19/{len(LARGE_PDF)}"
    across = api.get(world["key"], body["file"], Range=f"bytes={CHUNK - 2}-{CHUNK + 1}")
    assert across.status_int == 206 and across.body == LARGE_PDF[CHUNK - 2:CHUNK + 2]
    tail = api.get(world["key"], body["file"], Range="bytes=-7")
    assert tail.status_int == 206 and tail.body == LARGE_PDF[-7:]
    assert api.get(world["key"], body["file"], **{"If-None-Match": etag}).status_int == 304


def test_replace_keeps_both_revisions(api, world, db):
    created = api.upload(world["key"], world["url"], PDF).json
    signed = PDF + b"%signed\n"
    replaced = api.upload(world["key"], created["resource_uri"], signed, "deed-signed.pdf", method="patch")
    assert replaced.status_int == 200, replaced.text
    first, second = stored_key(db, created["id"], 1), stored_key(db, created["id"], 2)
    assert api.storage.keys() == sorted([first, second])
    assert read_all(api.storage, first) == PDF and read_all(api.storage, second) == signed
    assert api.get(world["key"], created["file"]).body == signed
    old = api.get(world["key"], f"{created['file']}?revision=1")
    assert old.status_int == 200 and old.body == PDF and old.headers["ETag"] == f'"{created["sha256"]}"'


def test_delete_removes_every_revision(api, world, db):
    created = api.upload(world["key"], world["url"], PDF).json
    api.upload(world["key"], created["resource_uri"], PDF + b"%2\n", method="patch")
    other = api.upload(world["key"], world["url"], PDF + b"%other\n").json
    assert len(api.storage.keys()) == 3
    response = api.delete(world["key"], f"{API}/resources/{created['id']}/")
    assert response.status_int == 204, response.text
    assert api.storage.keys() == [stored_key(db, other["id"], 1)]
    assert rows(db) == (1, 1, 1)


@pytest.mark.parametrize("data, filename, status", [
    (EXE, "photo.png", 415),
    (EXE, "program.exe", 415),
    (b"", "deed.pdf", 400),
    (PDF, "photo.png", 415),
], ids=["exe-as-png", "exe", "empty", "pdf-as-png"])
def test_a_refused_upload_leaves_nothing(api, world, db, writes, data, filename, status):
    response = api.upload(world["key"], world["url"], data, filename)
    assert response.status_int == status, response.text
    assert response.content_type == "application/json"
    assert api.storage.keys() == [] and rows(db) == (0, 0, 0)


def test_a_refused_replacement_leaves_the_old_file_alone(api, world, db):
    created = api.upload(world["key"], world["url"], PDF).json
    refused = api.upload(world["key"], created["resource_uri"], EXE, "photo.png", method="patch")
    assert refused.status_int == 415
    assert api.storage.keys() == [stored_key(db, created["id"], 1)]
    assert api.get(world["key"], created["file"]).body == PDF


FAULTS = {
    # where the database fails -> (fault, status)
    "insert resource_files, database gone": (lambda c: fault_at_insert(c, "resource_files", database_gone), 503),
    "insert resource_attachments, unexpected": (
        lambda c: fault_at_insert(c, "resource_attachments", unexpected), 500),
    "commit, database gone": (lambda c: fault_at_commit(c, database_gone), 503),
    "commit, unexpected": (lambda c: fault_at_commit(c, unexpected), 500),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_an_upload_that_fails_after_writing_leaves_no_bytes(api, world, db, connection, writes, fault):
    inject, status = FAULTS[fault]
    with inject(connection) as state:
        response = api.upload(world["key"], world["url"], LARGE_PDF)
    assert state["raised"] >= 1
    assert response.status_int == status, response.text
    assert response.content_type == "application/json" and "Traceback" not in response.text
    assert writes, "the bytes were written before the database failed"
    assert api.storage.keys() == [] and rows(db) == (0, 0, 0)


@pytest.mark.parametrize("fault", [f for f in FAULTS if "attachments" not in f])
def test_a_replacement_that_fails_after_writing_keeps_only_the_old_bytes(api, world, db, connection, writes,
                                                                         fault):
    created = api.upload(world["key"], world["url"], PDF).json
    old = stored_key(db, created["id"], 1)
    inject, status = FAULTS[fault]
    with inject(connection) as state:
        response = api.upload(world["key"], created["resource_uri"], LARGE_PDF, method="patch")
    assert state["raised"] >= 1
    assert response.status_int == status, response.text
    assert len(writes) > 1  # the new revision was written, then removed
    assert api.storage.keys() == [old]
    assert rows(db) == (1, 1, 1)
    assert api.get(world["key"], created["file"]).body == PDF


@pytest.mark.parametrize("fault", [f for f in FAULTS if f.startswith("commit")])
def test_a_delete_whose_commit_fails_keeps_the_bytes(api, world, db, connection, fault):
    created = api.upload(world["key"], world["url"], PDF).json
    api.upload(world["key"], created["resource_uri"], PDF + b"%2\n", method="patch")
    before = api.storage.keys()
    inject, status = FAULTS[fault]
    with inject(connection):
        response = api.delete(world["key"], f"{API}/resources/{created['id']}/")
    assert response.status_int == status, response.text
    assert api.storage.keys() == before and len(before) == 2
    assert rows(db) == (1, 2, 1)
    assert api.get(world["key"], created["file"]).body == PDF + b"%2\n"

