"""Helpers shared by the authorization tests of resources: files to upload, rows to insert, what the
resource tables and the storage hold (to show that a refused write changed nothing)."""

from __future__ import annotations

import hashlib
import io

from sqlalchemy import select
from sqlalchemy.orm import Session

from hyperapi.models import Resource, ResourceAttachment, ResourceFile, random_id, target_of

from ..support.api import API

# The smallest file libmagic calls application/pdf; `pdf(label)` makes one whose bytes tell it apart.
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def pdf(label: str) -> bytes:
    return PDF + f"% {label}\n".encode()


def upload(app, key: str | None, url: str, data: bytes, filename: str = "deed.pdf", **fields):
    """POST a multipart upload (the bytes in the part `file`, the other fields beside it)."""
    headers = {"Authorization": f"Token {key}"} if key else {}
    fields = {name: (value if isinstance(value, str) else str(value).lower()) for name, value in fields.items()}
    return app.post(url, fields, upload_files=[("file", filename, data)], headers=headers, expect_errors=True)


# --- where a resource is attached: the columns of a ResourceAttachment ------------------------------------


def at_organization(org) -> dict:
    return {"entity_type": "organization", "target": target_of("organization", org.id), "organization_id": org.id,
            "project_id": None, "party_id": None}


def at_project(project) -> dict:
    return {"entity_type": "project", "target": target_of("project", project.id),
            "organization_id": project.organization_id, "project_id": project.id, "party_id": None}


def at_party(project, party) -> dict:
    return {"entity_type": "party", "target": target_of("party", party.id),
            "organization_id": project.organization_id, "project_id": project.id, "party_id": party.id}


def insert_resource(session: Session, organization_id: int, places: list[dict], name: str,
                    archived: bool = False, data: bytes | None = None, storage=None) -> Resource:
    """A resource made directly in the database, attached at `places` (in that order), with one revision
    of its file. Its bytes are stored only if a `storage` is given (a GET of its JSON does not need them)."""
    data = pdf(name) if data is None else data
    resource_id = random_id()
    resource = Resource(id=resource_id, organization_id=organization_id, name=name, description="",
                        archived=archived, entity_type=places[0]["entity_type"], revision=1,
                        file=f"{resource_id}/1-{hashlib.sha256(resource_id.encode()).hexdigest()[:16]}",
                        original_file=f"{name}.pdf", mime_type="application/pdf", size=len(data),
                        sha256=hashlib.sha256(data).hexdigest())
    session.add(resource)
    session.flush()
    session.add(ResourceFile(resource_id=resource.id, revision=1, file=resource.file,
                             original_file=resource.original_file, mime_type=resource.mime_type,
                             size=resource.size, sha256=resource.sha256))
    session.add_all(ResourceAttachment(resource_id=resource.id, **place) for place in places)
    session.flush()
    if storage is not None:
        storage.write(resource.file, io.BytesIO(data))
    return resource


# --- what the database and the storage hold ------------------------------------------------------------


def resource_tables(session: Session) -> dict:
    """Every row of the resource tables, as plain values (a refused write must leave them equal)."""
    resources = session.execute(select(
        Resource.id, Resource.name, Resource.description, Resource.archived, Resource.version,
        Resource.revision, Resource.file, Resource.sha256, Resource.organization_id,
    ).order_by(Resource.id)).all()
    attachments = session.execute(select(
        ResourceAttachment.resource_id, ResourceAttachment.target, ResourceAttachment.entity_type,
        ResourceAttachment.organization_id, ResourceAttachment.project_id, ResourceAttachment.party_id,
    ).order_by(ResourceAttachment.resource_id, ResourceAttachment.target)).all()
    files = session.execute(select(
        ResourceFile.resource_id, ResourceFile.revision, ResourceFile.file, ResourceFile.sha256,
    ).order_by(ResourceFile.resource_id, ResourceFile.revision)).all()
    return {"resources": [tuple(r) for r in resources], "attachments": [tuple(a) for a in attachments],
            "files": [tuple(f) for f in files]}


def targets_of(session: Session, resource_id: str) -> list[str]:
    return sorted(session.scalars(select(ResourceAttachment.target)
                                  .where(ResourceAttachment.resource_id == resource_id)))


def resource_exists(session: Session, resource_id: str) -> bool:
    return session.scalar(select(Resource.id).where(Resource.id == resource_id)) is not None


def flat_url(resource_id: str) -> str:
    return f"{API}/resources/{resource_id}/"


def nested_under(resource_uri: str) -> str:
    """The URL of the entity a nested resource URL is under: `…/projects/p/resources/ID/` → `…/projects/p/`."""
    head, _, _ = resource_uri.rstrip("/").rpartition("/resources/")
    return head + "/"
