"""Resources: upload, attach, detach, edit, replace the file, delete — bytes and rows together.

The bytes go through `files` (a `FileTransaction`), joined to the same transaction as `db`: a request
that fails leaves no bytes behind, and bytes are only removed once the deletion of their rows has
committed. `policy` says which files are accepted (`hyperapi.files.uploads`).
"""

from __future__ import annotations

from sqlalchemy import and_, exists, select

from ..files.storage import new_key
from ..files.uploads import UploadPolicy, inspect_upload
from ..models import Resource, ResourceAttachment, ResourceFile, random_id
from .editing import assign, ensure_writable
from .exceptions import Conflict, Invalid, Refused

EDITABLE = ("name", "description", "archived")


def _store(files, policy: UploadPolicy, resource: Resource, revision: int, part, contributor_id) -> ResourceFile:
    inspected = inspect_upload(part, policy)
    key = new_key(resource.id, revision)
    files.write(key, part.file)
    return ResourceFile(
        resource_id=resource.id, revision=revision, file=key, original_file=inspected.original_file,
        mime_type=inspected.mime_type, size=inspected.size, sha256=inspected.sha256, contributor_id=contributor_id,
    )


def _use(resource: Resource, stored: ResourceFile) -> None:
    for key in ("revision", "file", "original_file", "mime_type", "size", "sha256"):
        setattr(resource, key, getattr(stored, key))


def create(db, files, policy: UploadPolicy, place: dict, data: dict, contributor_id: int | None) -> Resource:
    """Upload a new resource and attach it where `place` says (the columns of a ResourceAttachment:
    entity_type, target, organization_id, project_id, party_id — given by the collection's node)."""
    part = data.get("file")
    if part is None:
        raise Invalid({"file": "This field is required"})
    resource = Resource(organization_id=place["organization_id"], entity_type=place["entity_type"],
                        description=data.get("description", ""), archived=data.get("archived", False),
                        contributor_id=contributor_id)
    resource.id = random_id()  # the storage key is made from it, before the row is written
    stored = _store(files, policy, resource, 1, part, contributor_id)
    _use(resource, stored)
    resource.name = data.get("name") or stored.original_file[:200]
    db.add(resource)
    db.flush()
    db.add(stored)
    db.add(ResourceAttachment(resource_id=resource.id, **place))
    db.flush()
    return resource


def attach(db, place: dict, resource: Resource) -> None:
    """Attach `resource` where `place` says (the view has checked the caller may, and the organization)."""
    _lock(db, [resource.id])  # not while its last detachment is deleting it
    already = db.scalar(select(exists().where(and_(ResourceAttachment.resource_id == resource.id,
                                                   ResourceAttachment.target == place["target"]))))
    if already:
        raise Conflict("This resource is already attached here.", {"id": "Already attached."})
    db.add(ResourceAttachment(resource_id=resource.id, **place))
    db.flush()


def update(db, files, policy: UploadPolicy, resource: Resource, data: dict, contributor_id: int | None) -> None:
    """Change the metadata; a `file` replaces the file, keeping the previous revision."""
    part = data.get("file")
    if part is not None and resource.archived:
        raise Refused("This resource is archived; un-archive it first (send only archived=false).")
    ensure_writable(resource, {k: v for k, v in data.items() if k != "file"}, "resource")
    if part is not None:
        stored = _store(files, policy, resource, resource.revision + 1, part, contributor_id)
        db.add(stored)
        _use(resource, stored)
    assign(resource, data, EDITABLE)
    db.flush()


def _lock(db, resource_ids) -> None:
    """Changes to the attachments of these resources wait for each other (in one order, so that two
    requests locking several cannot deadlock): "attached elsewhere" is then read after what the other
    request committed, and the last detachment always deletes."""
    db.execute(select(Resource.id).where(Resource.id.in_(resource_ids)).order_by(Resource.id).with_for_update())


def detach(db, files, resource: Resource, targets: list[str]) -> bool:
    """Detach the resource from these entities (`ResourceAttachment.target`s); when that leaves it
    attached nowhere, delete it. True if it was deleted."""
    _lock(db, [resource.id])
    attachments = db.scalars(select(ResourceAttachment).where(ResourceAttachment.resource_id == resource.id)).all()
    leaving = [attachment for attachment in attachments if attachment.target in targets]
    if len(leaving) == len(attachments):
        delete(db, files, resource)
        return True
    for attachment in leaving:
        db.delete(attachment)
    db.flush()
    return False


def delete(db, files, resource: Resource) -> None:
    """Delete a resource, its attachments and every revision; the bytes go once this has committed."""
    for key in db.scalars(select(ResourceFile.file).where(ResourceFile.resource_id == resource.id)):
        files.delete_after_commit(key)
    db.delete(resource)
    db.flush()


def release(db, files, attached) -> None:
    """Before an entity is deleted (its attachments go by cascade): delete the resources attached to
    nothing else. `attached` is a condition on ResourceAttachment naming the entity's attachments."""
    _lock(db, select(ResourceAttachment.resource_id).where(attached))
    other = ResourceAttachment.__table__.alias("other")
    elsewhere = exists().where(other.c.resource_id == Resource.id, ~other.c.id.in_(
        select(ResourceAttachment.id).where(attached)))
    only_here = (
        select(Resource)
        .where(Resource.id.in_(select(ResourceAttachment.resource_id).where(attached)))
        .where(~elsewhere)
    )
    for resource in db.scalars(only_here).all():
        delete(db, files, resource)

