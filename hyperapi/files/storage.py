"""Where the bytes of resources live, and how they follow the request's transaction.

`hyperapi.storage` names a backend by URL:

- `file:///srv/hyperapi/files` — a local directory (the default, `%(here)s/var/files`);
- `s3://bucket/prefix` — S3-compatible object storage through boto3, with
  `hyperapi.storage.s3.endpoint_url` / `.region` for services other than AWS (credentials come from
  boto3's usual chain: environment, config files, instance roles).

Keys are made by the server (`<resource id>/<revision>-<random>`); a client's file name is never part
of a path. Bytes are written during the request and joined to its transaction (`FileTransaction`):
if the transaction aborts (an error, a failed commit, a retried attempt), what it wrote is removed;
what it deleted is only removed after the commit succeeded.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from typing import BinaryIO, Protocol
from urllib.parse import urlsplit

import transaction
from transaction.interfaces import IDataManager
from zope.interface import implementer

log = logging.getLogger(__name__)

CHUNK = 64 * 1024


class StorageError(Exception):
    pass


class Storage(Protocol):
    def write(self, key: str, source: BinaryIO) -> None:
        """Store everything `source` holds from its current position under `key`."""

    def read(self, key: str, start: int = 0, stop: int | None = None) -> Iterator[bytes]:
        """The bytes `start`..`stop` (exclusive) of `key`, in chunks."""

    def exists(self, key: str) -> bool:
        """Whether `key` is stored."""

    def delete(self, key: str) -> None:
        """Remove `key`; a key that is not there is no error."""

    def keys(self) -> list[str]:
        """Every stored key (for checks and tests; not used while serving)."""


def new_key(resource_id: str, revision: int) -> str:
    return f"{resource_id}/{revision}-{secrets.token_hex(8)}"


def _check_key(key: str) -> str:
    # Keys are ours, but a path is only ever built from a key of this shape.
    parts = key.split("/")
    if len(parts) != 2 or not all(p and p not in (".", "..") and p.isascii() and p.replace("-", "").isalnum()
                                  for p in parts):
        raise StorageError(f"not a storage key: {key!r}")
    return key


class LocalStorage:
    """Files in a directory: written to a temporary name and renamed, so a key is whole or absent."""

    def __init__(self, root: str):
        self.root = os.path.abspath(root)

    def _path(self, key: str) -> str:
        return os.path.join(self.root, *_check_key(key).split("/"))

    def write(self, key, source):
        path = self._path(key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as target:
                shutil.copyfileobj(source, target, CHUNK)
            os.replace(temporary, path)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise

    def read(self, key, start=0, stop=None):
        with open(self._path(key), "rb") as source:
            source.seek(start)
            remaining = None if stop is None else stop - start
            while remaining is None or remaining > 0:
                chunk = source.read(CHUNK if remaining is None else min(CHUNK, remaining))
                if not chunk:
                    return
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

    def exists(self, key):
        return os.path.isfile(self._path(key))

    def delete(self, key):
        path = self._path(key)
        try:
            os.unlink(path)
        except FileNotFoundError:
            return
        try:
            os.rmdir(os.path.dirname(path))  # the resource's folder, once empty
        except OSError:
            pass

    def keys(self):
        found = []
        for folder, _, files in os.walk(self.root):
            for name in files:
                found.append(os.path.relpath(os.path.join(folder, name), self.root).replace(os.sep, "/"))
        return sorted(found)


class S3Storage:
    """Objects in an S3-compatible bucket, under an optional prefix."""

    def __init__(self, bucket: str, prefix: str = "", client=None, **client_options):
        if client is None:
            import boto3  # only needed when this backend is configured

            client = boto3.client("s3", **{k: v for k, v in client_options.items() if v})
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def _name(self, key: str) -> str:
        return self.prefix + _check_key(key)

    def write(self, key, source):
        self.client.upload_fileobj(source, self.bucket, self._name(key))

    def read(self, key, start=0, stop=None):
        name = self._name(key)
        if stop is not None and stop <= start:
            return  # an empty range: S3 would ignore `bytes=5-4` and send the whole object
        options = {}
        if start or stop is not None:
            options["Range"] = f"bytes={start}-{'' if stop is None else stop - 1}"
        body = self.client.get_object(Bucket=self.bucket, Key=name, **options)["Body"]
        try:
            yield from body.iter_chunks(CHUNK)
        finally:
            body.close()

    def exists(self, key):
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def delete(self, key):
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def keys(self):
        found = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            found.extend(item["Key"][len(self.prefix):] for item in page.get("Contents", ()))
        return sorted(found)


def storage_from_settings(settings: dict) -> Storage:
    url = settings.get("hyperapi.storage") or "file://" + os.path.abspath("var/files")
    parts = urlsplit(url)
    if parts.scheme == "file":
        return LocalStorage(parts.netloc + parts.path if parts.netloc else parts.path)
    if parts.scheme == "s3":
        return S3Storage(
            parts.netloc,
            parts.path,
            endpoint_url=settings.get("hyperapi.storage.s3.endpoint_url"),
            region_name=settings.get("hyperapi.storage.s3.region"),
        )
    raise ValueError(f"hyperapi.storage: unknown backend {url!r} (use file:// or s3://)")


@implementer(IDataManager)
class FileTransaction:
    """The files of one transaction: written ones are removed if it aborts, deleted ones are removed
    only once it has committed. Joined to the transaction when it first writes or deletes."""

    def __init__(self, storage: Storage, manager: transaction.TransactionManager):
        self.storage = storage
        self.transaction_manager = manager
        self.written: list[str] = []
        self.doomed: list[str] = []
        self._joined = None

    def _join(self):
        current = self.transaction_manager.get()
        if self._joined is not current:
            current.join(self)
            self._joined = current
            self.written, self.doomed = [], []

    def write(self, key: str, source: BinaryIO) -> None:
        self._join()
        self.written.append(key)  # before writing: a half-written object is removed too
        self.storage.write(key, source)

    def delete_after_commit(self, key: str) -> None:
        self._join()
        self.doomed.append(key)

    def _remove(self, keys: list[str]) -> None:
        for key in keys:
            try:
                self.storage.delete(key)
            except Exception:  # a leftover file is better than a failed response after commit
                log.exception("could not remove stored file %s", key)

    def _reset(self):
        self.written, self.doomed, self._joined = [], [], None

    # -- IDataManager ----------------------------------------------------------------------------------

    def abort(self, txn):
        self._remove(self.written)
        self._reset()

    def tpc_begin(self, txn):
        pass

    def commit(self, txn):
        pass

    def tpc_vote(self, txn):
        pass

    def tpc_finish(self, txn):
        # After every resource voted yes: the database has committed, the old bytes can go.
        self._remove(self.doomed)
        self._reset()

    def tpc_abort(self, txn):
        self._remove(self.written)
        self._reset()

    def sortKey(self):
        # After zope.sqlalchemy's "~sqlalchemy:…": the database commits before files are removed.
        return "~~hyperapi.files"
