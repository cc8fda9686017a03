from ..models import Party, Project

EDITABLE = ("name", "type", "description", "country", "contacts", "attributes", "archived")


def create(db, project: Project, data: dict) -> Party:
    party = Party(project_id=project.id, **{k: data[k] for k in EDITABLE})
    db.add(party)
    db.flush()
    return party


def update(db, party: Party, data: dict) -> None:
    for key in EDITABLE:
        if key in data:
            setattr(party, key, data[key])
    db.flush()


def delete(db, party: Party) -> None:
    db.delete(party)
    db.flush()
