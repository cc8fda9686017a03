"""Every create, update, archive and delete of organizations, projects, memberships, parties and
resources (and every attachment of a resource) is
written to `history` in the transaction that makes it — so a change and its record commit or vanish
together — by a session hook, whatever code made the change.

Rows the database deletes by cascade (the parties of a deleted project, say) never pass through the
session: the services that delete a parent call `record_cascade` first, which copies them into
`history` with one INSERT … SELECT per table, so nothing is lost even for a project of a million.
"""

from __future__ import annotations

import datetime
import decimal

from sqlalchemy import String, cast, event, func, insert, inspect, literal, null, select
from sqlalchemy.orm import Session, attributes

from ..models import (
    HistoryEntry,
    Organization,
    OrganizationMember,
    Party,
    Project,
    ProjectMember,
    Resource,
    ResourceAttachment,
    User,
    isoformat,
    utcnow,
)

TRACKED = {
    Organization: "organization",
    Project: "project",
    OrganizationMember: "organization_member",
    ProjectMember: "project_member",
    Party: "party",
    Resource: "resource",
    ResourceAttachment: "resource_attachment",
}
# Bookkeeping, not content: never recorded as changes.
UNRECORDED = frozenset({"created", "last_updated", "version", "party_count"})
RESTORING = "hyperapi.history.restoring"


def _fields(model) -> list[str]:
    return [column.key for column in inspect(model).column_attrs if column.key not in UNRECORDED]


def _json(value):
    if isinstance(value, datetime.datetime):
        return isoformat(value)
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def entity_key(obj) -> str:
    if isinstance(obj, OrganizationMember):
        return f"{obj.organization_id}:{obj.user_id}"
    if isinstance(obj, ProjectMember):
        return f"{obj.project_id}:{obj.user_id}"
    if isinstance(obj, ResourceAttachment):
        return f"{obj.resource_id}:{obj.target}"
    return str(obj.id)


def _label(session: Session, obj) -> str:
    if isinstance(obj, (Organization, Project)):
        return obj.slug
    if isinstance(obj, (Party, Resource)):
        return obj.id
    if isinstance(obj, ResourceAttachment):
        return obj.resource_id
    user = session.get(User, obj.user_id)  # in the identity map: the member views load it
    return user.username if user is not None else str(obj.user_id)


def _scope(session: Session, obj) -> tuple[int | None, int | None]:
    if isinstance(obj, Organization):
        return obj.id, None
    if isinstance(obj, OrganizationMember):
        return obj.organization_id, None
    if isinstance(obj, Project):
        return obj.organization_id, obj.id
    if isinstance(obj, Resource):
        return obj.organization_id, None
    if isinstance(obj, ResourceAttachment):
        return obj.organization_id, obj.project_id
    project = session.get(Project, obj.project_id)  # in the identity map: traversal loaded it
    return (project.organization_id if project is not None else None), obj.project_id


def _actor_id(session: Session) -> int | None:
    actor = session.info.get("actor")
    identity = actor() if callable(actor) else None
    return identity.user_id if identity is not None else None


def _changes(obj) -> dict:
    changes = {}
    for key in _fields(type(obj)):
        history = attributes.get_history(obj, key)
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if old != new:
            changes[key] = [_json(old), _json(new)]
    return changes


def _entry(session, obj, action, changes, actor_id, now) -> dict:
    organization_id, project_id = _scope(session, obj)
    return {
        "entity_type": TRACKED[type(obj)],
        "entity_key": entity_key(obj),
        "entity_label": _label(session, obj),
        "organization_id": organization_id,
        "project_id": project_id,
        "action": action,
        "user_id": actor_id,
        "created": now,
        "changes": changes,
    }


def record_flush(session: Session, flush_context) -> None:
    """after_flush: the flushed rows have their keys, and attribute histories still hold the old values."""
    tracked = [o for o in (*session.new, *session.dirty, *session.deleted) if type(o) in TRACKED]
    if not tracked:
        return
    actor_id, now, entries = _actor_id(session), utcnow(), []
    with session.no_autoflush:
        for obj in session.new:
            if type(obj) in TRACKED:
                changes = {key: [None, _json(getattr(obj, key))] for key in _fields(type(obj))}
                action = "restore" if obj in session.info.get(RESTORING, ()) else "create"
                entries.append(_entry(session, obj, action, changes, actor_id, now))
        for obj in session.dirty:
            if type(obj) in TRACKED and session.is_modified(obj, include_collections=False):
                changes = _changes(obj)
                if not changes:
                    continue
                action = "update"
                if "archived" in changes:
                    action = "archive" if changes["archived"][1] else "unarchive"
                entries.append(_entry(session, obj, action, changes, actor_id, now))
        for obj in session.deleted:
            if type(obj) in TRACKED:
                changes = {key: [_json(getattr(obj, key)), None] for key in _fields(type(obj))}
                entries.append(_entry(session, obj, "delete", changes, actor_id, now))
    if entries:
        session.connection().execute(insert(HistoryEntry), entries)


def _snapshot(dialect: str, model, fields: list[str]):
    """SQL building `{"field": [value, null], ...}` for a row about to be deleted."""
    build_object = func.jsonb_build_object if dialect == "postgresql" else func.json_object
    build_array = func.jsonb_build_array if dialect == "postgresql" else func.json_array
    json_columns = {"contacts", "attributes", "urls"}
    parts = []
    for key in fields:
        column = getattr(model, key)
        if dialect != "postgresql" and key in json_columns:
            column = func.json(column)  # embed as JSON, not as a string of JSON
        parts += [literal(key), build_array(column, null())]
    return build_object(*parts)


def _sql(value):
    if value is None:
        return null()
    if isinstance(value, int):
        return literal(value)
    return value


def record_cascade(session: Session, model, where, organization_id, project_id, join=None) -> None:
    """Record the deletion of the `model` rows matching `where`, which the database is about to delete
    by cascade. `organization_id`/`project_id` are SQL expressions or values for the entry's scope."""
    dialect = session.get_bind().dialect.name
    joins = [join] if join is not None else []
    if model is OrganizationMember:
        key = cast(model.organization_id, String) + ":" + cast(model.user_id, String)
    elif model is ProjectMember:
        key = cast(model.project_id, String) + ":" + cast(model.user_id, String)
    else:
        key = cast(model.id, String)
    if model in (OrganizationMember, ProjectMember):
        label = User.username
        joins.append((User, model.user_id == User.id))
    else:
        label = model.slug if model in (Organization, Project) else model.id
    rows = select(
        literal(TRACKED[model]),
        key,
        label,
        _sql(organization_id),
        _sql(project_id),
        literal("delete"),
        _sql(_actor_id(session)),
        literal(utcnow(), HistoryEntry.created.type),
        _snapshot(dialect, model, _fields(model)),
    ).select_from(model)
    for target, on in joins:
        rows = rows.join(target, on)
    rows = rows.where(where)
    columns = ["entity_type", "entity_key", "entity_label", "organization_id", "project_id", "action", "user_id",
               "created", "changes"]
    session.execute(insert(HistoryEntry).from_select(columns, rows))


def includeme(config):
    # A hook on the Session class, for every session of the process: registered once however many
    # apps the process makes.
    if not event.contains(Session, "after_flush", record_flush):
        event.listen(Session, "after_flush", record_flush)
