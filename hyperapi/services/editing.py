"""What every editing use case shares: which fields a body may set, and the archived rule."""

from __future__ import annotations

from collections.abc import Iterable

from .exceptions import Refused


def assign(row, data: dict, editable: Iterable[str]) -> None:
    """Set each editable field `data` holds (a PATCH holds only those it changes)."""
    for key in editable:
        if key in data:
            setattr(row, key, data[key])


def ensure_writable(row, data: dict, what: str) -> None:
    """Nobody writes into an archived organization or project, except to un-archive it — and an
    un-archiving request changes nothing else, so no change slips in with it unnoticed."""
    if not row.archived:
        return
    changes = {key for key, value in data.items() if key != "archived" and getattr(row, key) != value}
    if data.get("archived", True) is not False or changes:
        raise Refused(f"This {what} is archived; un-archive it first (send only archived=false).")
