"""Helpers of the storage backend suite (`test_storage_backends.py`): an S3 emulator (moto's server, on
127.0.0.1 only, with dummy credentials set for as long as it runs), one storage of each backend, data
managers that fail on purpose, and faults injected into the database of a request.

Nothing here reaches the internet: boto3 is only ever pointed at the emulator, and the environment
that would lead it elsewhere (profiles, config files, instance metadata) is masked while it runs.
"""

from __future__ import annotations

import io
import itertools
import logging
import os
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from transaction.interfaces import IDataManager
from zope.interface import implementer

from hyperapi.files.storage import LocalStorage, S3Storage

# Dummy credentials, and nothing that could send boto3 anywhere but the emulator.
S3_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
S3_MASKED = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
             "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_CA_BUNDLE", "AWS_ROLE_ARN",
             "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
             "AWS_CONTAINER_CREDENTIALS_FULL_URI")
REGION = "us-east-1"
_NAMES = itertools.count(1)


@dataclass
class S3Server:
    """moto's S3 on a free port of 127.0.0.1, and one boto3 client for the tests' own storages."""

    url: str
    client: object

    def bucket(self) -> str:
        name = f"hyperapi-test-{next(_NAMES)}"
        self.client.create_bucket(Bucket=name)
        return name

    def everything(self, bucket: str) -> list[str]:
        """Every object of the bucket, whatever its prefix."""
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", ()))


@contextmanager
def s3_server():
    """The emulator, with the dummy credentials in the environment only while it runs."""
    with pytest.MonkeyPatch.context() as patch:
        for name in S3_MASKED:
            patch.delenv(name, raising=False)
        for name, value in S3_ENVIRONMENT.items():
            patch.setenv(name, value)
        werkzeug = logging.getLogger("werkzeug")
        patch.setattr(werkzeug, "level", logging.ERROR)  # one line per request otherwise
        import boto3
        from moto.server import ThreadedMotoServer

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        try:
            host, port = server.get_host_and_port()
            url = f"http://{host}:{port}"
            yield S3Server(url, boto3.client("s3", endpoint_url=url, region_name=REGION))
        finally:
            server.stop()


class Backend:
    """One storage backend under test: `make(name)` gives a storage of its own (a directory, or a
    prefix of a bucket); `everything()` lists all that was stored anywhere, outside the storages too."""

    name: str

    def make(self, name: str):
        raise NotImplementedError

    def everything(self) -> list[str]:
        raise NotImplementedError


class LocalBackend(Backend):
    name = "local"

    def __init__(self, folder):
        self.folder = str(folder)

    def make(self, name: str) -> LocalStorage:
        return LocalStorage(os.path.join(self.folder, name))

    def everything(self) -> list[str]:
        found = []
        for folder, _, files in os.walk(self.folder):
            found.extend(os.path.relpath(os.path.join(folder, f), self.folder) for f in files)
        return sorted(found)


class S3Backend(Backend):
    name = "s3"

    def __init__(self, server: S3Server):
        self.server = server
        self.bucket = server.bucket()

    def make(self, name: str) -> S3Storage:
        return S3Storage(self.bucket, name, client=self.server.client)

    def everything(self) -> list[str]:
        return self.server.everything(self.bucket)


def read_all(storage, key: str, start: int = 0, stop: int | None = None) -> bytes:
    return b"".join(storage.read(key, start, stop))


def put(storage, key: str, data: bytes) -> None:
    storage.write(key, io.BytesIO(data))


class BrokenSource(io.RawIOBase):
    """A stream that gives `good` bytes, then fails (a client gone, a disk full)."""

    def __init__(self, good: bytes):
        self.source = io.BytesIO(good)

    def readable(self):
        return True

    def readinto(self, buffer):
        data = self.source.read(len(buffer))
        if not data:
            raise OSError("the stream broke")
        buffer[:len(data)] = data
        return len(data)


# --- data managers that fail on purpose --------------------------------------------------------------


class VoteRefused(Exception):
    pass


@implementer(IDataManager)
class RefusesToVote:
    """Another resource of the transaction (a database, say) that cannot commit. Its sort key puts it
    before the files (as zope.sqlalchemy's `~sqlalchemy:…` is) or after them."""

    def __init__(self, manager, sort_key: str = "~sqlalchemy:refuses"):
        self.transaction_manager = manager
        self.sort_key = sort_key
        self.aborted = False

    def abort(self, txn):
        self.aborted = True

    def tpc_begin(self, txn):
        pass

    def commit(self, txn):
        pass

    def tpc_vote(self, txn):
        raise VoteRefused("the database said no")

    def tpc_finish(self, txn):
        raise AssertionError("a refused vote is never finished")

    def tpc_abort(self, txn):
        self.aborted = True

    def sortKey(self):
        return self.sort_key


# --- faults in the database of a request -------------------------------------------------------------


def database_gone(statement=None):
    return sa.exc.OperationalError(statement, {}, Exception("server closed the connection unexpectedly"))


def unexpected(statement=None):
    return RuntimeError("the disk is on fire")


@contextmanager
def fault_at_insert(connection, table: str, error):
    """Raise `error` before every INSERT into `table` sent on `connection` (the app's session is bound
    to it), once the request has written its bytes."""
    state = {"raised": 0}

    def maybe_raise(conn, cursor, statement, parameters, context, executemany):
        words = statement.split()
        if len(words) > 2 and words[0].upper() == "INSERT" and words[2].strip('"').lower() == table:
            state["raised"] += 1
            raise error(statement)

    event.listen(connection, "before_cursor_execute", maybe_raise)
    try:
        yield state
    finally:
        event.remove(connection, "before_cursor_execute", maybe_raise)


@contextmanager
def fault_at_commit(connection, error):
    """Raise `error` when the request's transaction commits. The app's session works in a savepoint of
    the test's transaction (as the `db` fixture arranges), so its commit is the savepoint's release. The
    database's side of a failed commit is simulated too: the savepoint's work is rolled back (SQLAlchemy
    will not: a savepoint whose release failed is left inactive, and never rolled back to)."""
    state = {"raised": 0}

    def refuse(conn, name, context):
        state["raised"] += 1
        conn.engine.dialect.do_rollback_to_savepoint(conn, name)
        raise error("RELEASE SAVEPOINT")

    event.listen(connection, "release_savepoint", refuse)
    try:
        yield state
    finally:
        event.remove(connection, "release_savepoint", refuse)
        nested = connection.get_nested_transaction()
        if nested is not None and not nested.is_active:
            nested.rollback()  # only lets go of it: its work was undone above
