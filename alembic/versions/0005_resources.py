"""Resources: files attached to organizations, projects and parties, with every revision kept.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

import sqlalchemy as sa

from alembic import op
from hyperapi.models.meta import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "resources",
        sa.Column("id", sa.String(24), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("entity_type", sa.String(12), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("contributor_id", sa.Integer(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("file", sa.String(200), nullable=False),
        sa.Column("original_file", sa.String(255), nullable=False),
        sa.Column("mime_type", sa.String(100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created", UTCDateTime(), nullable=False),
        sa.Column("last_updated", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"],
                                name=op.f("fk_resources_organization_id_organizations"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["contributor_id"], ["users.id"],
                                name=op.f("fk_resources_contributor_id_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resources")),
    )
    op.create_index("ix_resources_organization_name", "resources", ["organization_id", "name", "id"])
    op.create_table(
        "resource_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.String(24), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("file", sa.String(200), nullable=False),
        sa.Column("original_file", sa.String(255), nullable=False),
        sa.Column("mime_type", sa.String(100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("contributor_id", sa.Integer(), nullable=True),
        sa.Column("created", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["resource_id"], ["resources.id"],
                                name=op.f("fk_resource_files_resource_id_resources"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["contributor_id"], ["users.id"],
                                name=op.f("fk_resource_files_contributor_id_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resource_files")),
        sa.UniqueConstraint("resource_id", "revision", name=op.f("uq_resource_files_resource_id")),
    )
    op.create_table(
        "resource_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.String(24), nullable=False),
        sa.Column("entity_type", sa.String(12), nullable=False),
        sa.Column("target", sa.String(40), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("party_id", sa.String(24), nullable=True),
        sa.Column("created", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["resource_id"], ["resources.id"],
                                name=op.f("fk_resource_attachments_resource_id_resources"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"],
                                name=op.f("fk_resource_attachments_organization_id_organizations"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"],
                                name=op.f("fk_resource_attachments_project_id_projects"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["party_id"], ["parties.id"],
                                name=op.f("fk_resource_attachments_party_id_parties"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resource_attachments")),
        sa.UniqueConstraint("resource_id", "target", name=op.f("uq_resource_attachments_resource_id")),
    )
    op.create_index("ix_resource_attachments_organization", "resource_attachments", ["organization_id", "entity_type"])
    op.create_index("ix_resource_attachments_project", "resource_attachments", ["project_id"])
    op.create_index("ix_resource_attachments_party", "resource_attachments", ["party_id"])


def downgrade():
    op.drop_table("resource_attachments")
    op.drop_table("resource_files")
    op.drop_table("resources")
