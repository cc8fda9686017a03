"""A small, realistic data set for trying the API: `hyperapi development.ini initdb --demo`."""

from __future__ import annotations

import hashlib
import io
import sys

from sqlalchemy import select

from ..auth.passwords import hash_password
from ..files.storage import new_key
from ..models import (
    Organization,
    OrganizationMember,
    Party,
    Project,
    ProjectMember,
    Resource,
    ResourceAttachment,
    ResourceFile,
    User,
    random_id,
    target_of,
)

DEMO_PASSWORD = "demo-password"

USERS = [
    # username, full name, superuser
    ("root", "Site Administrator", True),
    ("amara", "Amara Okafor", False),  # admin of both organizations
    ("bruno", "Bruno Silva", False),  # member of Terra Registry
    ("chen", "Chen Wei", False),  # manager of the Kampala project
    ("dina", "Dina Haddad", False),  # collector in the Kampala project
    ("emeka", "Emeka Obi", False),  # viewer of the Kampala project
    ("farah", "Farah Khan", False),  # no role anywhere
]


def _card(name, email=None, tel=None):
    properties = {"name": [name]}
    if email:
        properties["email"] = [f"mailto:{email}"]
    if tel:
        properties["tel"] = [tel]
    return {"type": ["h-card"], "properties": properties}


DEMO_FILES = [
    # (where: "project" or "party", name, file name, MIME type, bytes)
    ("project", "Survey form", "survey-form.csv", "text/csv",
     b"question,answer\nHow long have you lived here?,\nWho else uses this land?,\n"),
    ("party", "Signed consent", "consent.pdf", "application/pdf",
     b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"),
]


def _attach_demo_files(db, files, project: Project, party: Party, contributor: User) -> None:
    for where, name, filename, mime_type, data in DEMO_FILES:
        entity, entity_type = (project, "project") if where == "project" else (party, "party")
        resource = Resource(id=random_id(), organization_id=project.organization_id, name=name,
                            entity_type=entity_type, contributor_id=contributor.id, revision=1,
                            original_file=filename, mime_type=mime_type, size=len(data),
                            sha256=hashlib.sha256(data).hexdigest())
        resource.file = new_key(resource.id, 1)
        files.write(resource.file, io.BytesIO(data))
        db.add(resource)
        db.flush()
        db.add(ResourceFile(resource_id=resource.id, revision=1, file=resource.file, original_file=filename,
                            mime_type=mime_type, size=len(data), sha256=resource.sha256,
                            contributor_id=contributor.id))
        db.add(ResourceAttachment(resource_id=resource.id, entity_type=entity_type,
                                  target=target_of(entity_type, entity.id), organization_id=project.organization_id,
                                  project_id=project.id, party_id=party.id if entity_type == "party" else None))


def load_demo(db, out=sys.stdout, files=None) -> None:
    """`files`: a `storage.FileTransaction` for the demo's files (none are made without one)."""
    if db.scalar(select(Organization.id).limit(1)) is not None:
        print("The database already has organizations; demo data not loaded.", file=out)
        return
    users = {}
    for username, full_name, superuser in USERS:
        user = User(username=username, full_name=full_name, email=f"{username}@example.org",
                    is_superuser=superuser, password_hash=hash_password(DEMO_PASSWORD))
        db.add(user)
        users[username] = user
    terra = Organization(
        slug="terra-registry", name="Terra Registry", access="public",
        description="Community land rights documentation in East Africa.",
        urls=["https://terra.example.org"], contacts=[_card("Terra Registry office", "office@terra.example.org")],
    )
    quiet = Organization(
        slug="quiet-ground", name="Quiet Ground", access="private",
        description="A private organization: only its members can see it.",
    )
    db.add_all([terra, quiet])
    db.flush()
    kampala = Project(organization_id=terra.id, slug="kampala-peri-urban", name="Kampala peri-urban tenure",
                      country="UG", access="public", description="Mapping customary tenure around Kampala.")
    mombasa = Project(organization_id=terra.id, slug="mombasa-coast", name="Mombasa coast", country="KE",
                      access="private", description="Private: members of Terra Registry only.")
    old = Project(organization_id=terra.id, slug="pilot-2019", name="Pilot 2019", country="TZ",
                  access="public", archived=True, description="An archived pilot.")
    hidden = Project(organization_id=quiet.id, slug="sensitive-survey", name="Sensitive survey", country="ET",
                     access="private")
    db.add_all([kampala, mombasa, old, hidden])
    db.flush()
    db.add_all([
        OrganizationMember(organization_id=terra.id, user_id=users["amara"].id, role="admin"),
        OrganizationMember(organization_id=quiet.id, user_id=users["amara"].id, role="admin"),
        OrganizationMember(organization_id=terra.id, user_id=users["bruno"].id, role="member"),
        ProjectMember(project_id=kampala.id, user_id=users["chen"].id, role="manager"),
        ProjectMember(project_id=kampala.id, user_id=users["dina"].id, role="collector"),
        ProjectMember(project_id=kampala.id, user_id=users["emeka"].id, role="viewer"),
    ])
    parties = [
        (kampala, "Barnabas Mughongo", "IN", "UG", _card("Barnabas Mughongo", "barnabas@example.org"),
         {"gender": "male", "dob": "1980-02-11"}),
        (kampala, "Nakato Family", "GR", "UG", _card("Sarah Nakato", tel="+256 700 000 001"), {"members": 6}),
        (kampala, "Kisubi Farmers Cooperative", "CO", "UG", _card("Kisubi office", "coop@example.org"), {}),
        (mombasa, "Amina Juma", "IN", "KE", _card("Amina Juma"), {"notes": "Interviewed in 2024"}),
        (hidden, "Protected Person", "IN", "ET", _card("Protected Person"), {}),
    ]
    rows = []
    for project, name, kind, country, card, attributes in parties:
        rows.append(Party(project_id=project.id, name=name, type=kind, country=country, contacts=[card],
                          attributes=attributes))
    db.add_all(rows)
    db.flush()
    if files is not None:
        _attach_demo_files(db, files, kampala, rows[0], users["dina"])
        db.flush()
    print(f"Demo data loaded. Users (password {DEMO_PASSWORD!r}): "
          + ", ".join(u for u, _, _ in USERS), file=out)
