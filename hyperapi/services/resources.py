"""Resources: upload, attach, detach, edit, replace the file, delete — bytes and rows together.

The bytes go through `request.files`, joined to the request's transaction: a request that fails
leaves no bytes behind, and bytes are only removed once the deletion of their rows has committed.
"""

from __future__ import annotations

from sqlalchemy import and_, exists, select

from ..errors import conflict, forbidden, invalid
from ..models import Resource, ResourceAttachment, ResourceFile, random_id
from ..storage import new_key
from ..uploads import allowed_types, inspect_upload, max_upload_bytes
from .organizations import ensure_writable

EDITABLE = ("name", "description", "archived")


def _store(request, resource: Resource, revision: int, part) -> ResourceFile:
    settings = request.registry.settings
    inspected = inspect_upload(part, allowed_types(settings), max_upload_bytes(settings))
    key = new_key(resource.id, revision)
    request.files.write(key, part.file)
    identity = request.identity
    return ResourceFile(
        resource_id=resource.id, revision=revision, file=key, original_file=inspected.original_file,
        mime_type=inspected.mime_type, size=inspected.size, sha256=inspected.sha256,
        contributor_id=identity.user_id if identity is not None else None,
    )


def _use(resource: Resource, stored: ResourceFile) -> None:
    for key in ("revision", "file", "original_file", "mime_type", "size", "sha256"):
        setattr(resource, key, getattr(stored, key))


def create(request, place: dict, data: dict) -> Resource:
    """Upload a new resource and attach it where `place` says (the columns of a ResourceAttachment:
    entity_type, target, organization_id, project_id, party_id — given by the collection's node)."""
    part = data.get("file")
    if part is None:
        raise invalid({"file": "This field is required"})
    identity = request.identity
    resource = Resource(organization_id=place["organization_id"], entity_type=place["entity_type"],
                        description=data.get("description", ""), archived=data.get("archived", False),
                        contributor_id=identity.user_id if identity is not None else None)
    resource.id = random_id()  # the storage key is made from it, before the row is written
    stored = _store(request, resource, 1, part)
    _use(resource, stored)
    resource.name = data.get("name") or stored.original_file[:200]
    db = request.db
    db.add(resource)
    db.flush()
    db.add(stored)
    db.add(ResourceAttachment(resource_id=resource.id, **place))
    db.flush()
    return resource


def attach(request, place: dict, resource: Resource) -> None:
    """Attach `resource` where `place` says (the view has checked the caller may, and the organization)."""
    db = request.db
    already = db.scalar(select(exists().where(and_(ResourceAttachment.resource_id == resource.id,
                                                   ResourceAttachment.target == place["target"]))))
    if already:
        raise conflict("This resource is already attached here.", {"id": "Already attached."})
    db.add(ResourceAttachment(resource_id=resource.id, **place))
    db.flush()


def update(request, resource: Resource, data: dict) -> None:
    """Change the metadata; a `file` replaces the file, keeping the previous revision."""
    part = data.get("file")
    if part is not None and resource.archived:
        raise forbidden("This resource is archived; un-archive it first (send only archived=false).")
    ensure_writable(resource, {k: v for k, v in data.items() if k != "file"}, "resource")
    if part is not None:
        stored = _store(request, resource, resource.revision + 1, part)
        request.db.add(stored)
        _use(resource, stored)
    for key in EDITABLE:
        if key in data:
            setattr(resource, key, data[key])
    request.db.flush()


def detach(request, resource: Resource, target: str) -> bool:
    """Detach the resource from one entity; the last detachment deletes it. True if it was deleted."""
    db = request.db
    others = db.scalar(select(exists().where(and_(ResourceAttachment.resource_id == resource.id,
                                                  ResourceAttachment.target != target))))
    if not others:
        delete(request, resource)
        return True
    attachment = db.scalar(select(ResourceAttachment).where(ResourceAttachment.resource_id == resource.id,
                                                            ResourceAttachment.target == target))
    db.delete(attachment)
    db.flush()
    return False


def delete(request, resource: Resource) -> None:
    """Delete a resource, its attachments and every revision; the bytes go once this has committed."""
    db = request.db
    for key in db.scalars(select(ResourceFile.file).where(ResourceFile.resource_id == resource.id)):
        request.files.delete_after_commit(key)
    db.delete(resource)
    db.flush()


def release(request, attached) -> None:
    """Before an entity is deleted (its attachments go by cascade): delete the resources attached to
    nothing else. `attached` is a condition on ResourceAttachment naming the entity's attachments."""
    db = request.db
    other = ResourceAttachment.__table__.alias("other")
    elsewhere = exists().where(other.c.resource_id == Resource.id, ~other.c.id.in_(
        select(ResourceAttachment.id).where(attached)))
    only_here = (
        select(Resource)
        .where(Resource.id.in_(select(ResourceAttachment.resource_id).where(attached)))
        .where(~elsewhere)
    )
    for resource in db.scalars(only_here).all():
        delete(request, resource)

