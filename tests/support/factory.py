"""Rows made directly in the database, for arranging a test."""

from __future__ import annotations

from sqlalchemy.orm import Session

from hyperapi.auth.passwords import hash_password
from hyperapi.models import (
    Organization,
    OrganizationMember,
    Party,
    Project,
    ProjectMember,
    User,
)
from hyperapi.services.users import new_token

PASSWORD = "correct horse battery"
# Hashing with argon2's defaults costs ~50 ms; factories share one hash.
PASSWORD_HASH = hash_password(PASSWORD)


class Factory:
    """Makes rows directly in the database (committed to the test's savepoint)."""

    def __init__(self, db: Session):
        self.db = db
        self.keys: dict[str, str] = {}

    def _save(self, *rows):
        self.db.add_all(rows)
        self.db.flush()
        self.db.commit()
        return rows[0] if len(rows) == 1 else rows

    def user(self, username: str, superuser: bool = False, **kw) -> User:
        user = self._save(User(username=username, is_superuser=superuser, password_hash=PASSWORD_HASH,
                               full_name=kw.pop("full_name", username.title()), **kw))
        return user

    def key(self, user: User) -> str:
        """An API key for the user (one per user, made on first use)."""
        if user.username not in self.keys:
            _, key = new_token(self.db, user, name="test")
            self.db.commit()
            self.keys[user.username] = key
        return self.keys[user.username]

    def org(self, slug: str, access: str = "public", archived: bool = False, **kw) -> Organization:
        return self._save(Organization(slug=slug, name=kw.pop("name", slug.replace("-", " ").title()),
                                       access=access, archived=archived, **kw))

    def project(self, org: Organization, slug: str, access: str = "public", archived: bool = False,
                **kw) -> Project:
        return self._save(Project(organization_id=org.id, slug=slug, name=kw.pop("name", slug.title()),
                                  access=access, archived=archived, **kw))

    def org_member(self, org: Organization, user: User, role: str) -> OrganizationMember:
        return self._save(OrganizationMember(organization_id=org.id, user_id=user.id, role=role))

    def project_member(self, project: Project, user: User, role: str) -> ProjectMember:
        return self._save(ProjectMember(project_id=project.id, user_id=user.id, role=role))

    def party(self, project: Project, name: str = "Barnabas Mughongo", type: str = "IN", **kw) -> Party:
        return self._save(Party(project_id=project.id, name=name, type=type, **kw))
