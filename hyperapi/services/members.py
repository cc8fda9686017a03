"""Memberships of organizations (admin, member) and of projects (manager, collector, viewer)."""

from sqlalchemy import func, select

from ..models import Organization, OrganizationMember, Project, ProjectMember, User
from .exceptions import Conflict, Invalid


def _user(db, username: str) -> User:
    user = db.scalar(select(User).where(User.username == username))
    if user is None:
        raise Invalid({"username": "There is no user with this username."})
    return user


def _admin_count(db, organization_id: int) -> int:
    return db.scalar(
        select(func.count()).where(
            OrganizationMember.organization_id == organization_id, OrganizationMember.role == "admin"
        )
    )


def _keep_an_admin(db, membership: OrganizationMember) -> None:
    """Refuse to take away the organization's last admin. Two admins demoting each other at once must
    not both see the other remain (write skew): the organization's row is locked first, so membership
    changes of one organization wait for each other and each counts what the other committed."""
    db.execute(select(Organization.id).where(Organization.id == membership.organization_id).with_for_update())
    if membership.role == "admin" and _admin_count(db, membership.organization_id) <= 1:
        raise Conflict("An organization needs at least one admin; make someone else admin first.")


def add_to_organization(db, org: Organization, data: dict):
    user = _user(db, data["username"])
    if db.get(OrganizationMember, (org.id, user.id)) is not None:
        raise Conflict("This user is already a member of the organization.",
                       {"username": "Already a member."})
    membership = OrganizationMember(organization_id=org.id, user_id=user.id, role=data["role"])
    db.add(membership)
    db.flush()
    return membership, user


def add_to_project(db, org: Organization, project: Project, data: dict):
    user = _user(db, data["username"])
    in_org = db.get(OrganizationMember, (org.id, user.id)) is not None
    # SPEC §3: a project is only visible under a visible organization. Giving a role in a project
    # the user could never reach would be a trap, so the organization must be visible to them.
    if not in_org and (org.access != "public" or org.archived):
        raise Invalid({"username": "This user must first be made a member of the organization."})
    if db.get(ProjectMember, (project.id, user.id)) is not None:
        raise Conflict("This user is already a member of the project.", {"username": "Already a member."})
    membership = ProjectMember(project_id=project.id, user_id=user.id, role=data["role"])
    db.add(membership)
    db.flush()
    return membership, user


def change_role(db, membership, role: str) -> None:
    if isinstance(membership, OrganizationMember) and role != "admin":
        _keep_an_admin(db, membership)
    membership.role = role
    db.flush()


def remove(db, membership) -> None:
    if isinstance(membership, OrganizationMember):
        _keep_an_admin(db, membership)
    db.delete(membership)
    db.flush()
