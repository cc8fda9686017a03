"""Trigram indexes for search and icontains, on PostgreSQL.

`search=` and `__icontains` become `ILIKE '%term%'`, which no B-tree can serve; a GIN index with
pg_trgm's operator class can. SQLite has no such index: there, search stays a scan.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TRIGRAM_COLUMNS = [
    ("parties", "name"),
    ("organizations", "name"),
    ("organizations", "description"),
    ("projects", "name"),
    ("projects", "description"),
    ("users", "username"),
    ("users", "full_name"),
]


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table, column in TRIGRAM_COLUMNS:
        op.create_index(f"ix_{table}_{column}_trgm", table, [column], postgresql_using="gin",
                        postgresql_ops={column: "gin_trgm_ops"})


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in TRIGRAM_COLUMNS:
        op.drop_index(f"ix_{table}_{column}_trgm", table_name=table)
