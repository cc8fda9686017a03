"""History: bring back what was deleted."""

from ..db.recording import RESTORING
from ..models import HistoryEntry, Party, Project
from .exceptions import Conflict


def restore_party(db, project: Project, entry: HistoryEntry) -> Party:
    """Bring back a deleted party, with its id and last values, from the entry of its deletion."""
    if entry.entity_type != "party" or entry.action != "delete":
        raise Conflict("Only the deletion of a party can be restored.")
    if db.get(Party, entry.entity_key) is not None:
        raise Conflict("This party exists: it has been restored already.")
    last = {field: values[0] for field, values in entry.changes.items()}
    party = Party(
        id=entry.entity_key,
        project_id=project.id,
        name=last["name"],
        type=last["type"],
        description=last.get("description") or "",
        country=last.get("country") or "",
        contacts=last.get("contacts") or [],
        attributes=last.get("attributes") or {},
        archived=bool(last.get("archived")),  # SQLite's JSON keeps booleans as 0 and 1
    )
    db.info.setdefault(RESTORING, set()).add(party)
    db.add(party)
    db.flush()
    return party
