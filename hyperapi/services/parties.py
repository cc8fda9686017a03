"""Parties of a project: create, change, delete (with the resources attached to nothing else)."""

from ..models import Party, Project, ResourceAttachment
from . import resources
from .editing import assign

EDITABLE = ("name", "type", "description", "country", "contacts", "attributes", "archived")


def create(db, project: Project, data: dict) -> Party:
    party = Party(project_id=project.id, **{k: data[k] for k in EDITABLE})
    db.add(party)
    db.flush()
    return party


def update(db, party: Party, data: dict) -> None:
    assign(party, data, EDITABLE)
    db.flush()


def delete(db, files, party: Party) -> None:
    """Delete a party. Its resources attached nowhere else go with it (their bytes once this commits)."""
    resources.release(db, files, ResourceAttachment.party_id == party.id)
    db.delete(party)
    db.flush()
