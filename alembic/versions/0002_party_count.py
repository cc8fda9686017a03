"""Keep a count of each project's parties, by triggers.

A page of a project's parties must not count a million rows to say `total_count`. The count is kept
by the database itself, so every way parties are written (the API, bulk loads, the CLI) keeps it true.
PostgreSQL uses statement-level triggers with transition tables (one UPDATE per statement, however
many rows it touched); SQLite has only row-level triggers.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

POSTGRESQL_UP = [
    """
    CREATE FUNCTION parties_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE projects SET party_count = party_count + n.c
        FROM (SELECT project_id, count(*) AS c FROM new_rows GROUP BY project_id) AS n
        WHERE projects.id = n.project_id;
        RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION parties_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE projects SET party_count = party_count - o.c
        FROM (SELECT project_id, count(*) AS c FROM old_rows GROUP BY project_id) AS o
        WHERE projects.id = o.project_id;
        RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION parties_count_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE projects SET party_count = party_count + d.c
        FROM (
            SELECT project_id, sum(c) AS c FROM (
                SELECT project_id, 1 AS c FROM new_rows
                UNION ALL
                SELECT project_id, -1 AS c FROM old_rows
            ) AS moves GROUP BY project_id
        ) AS d
        WHERE projects.id = d.project_id AND d.c <> 0;
        RETURN NULL;
    END $$
    """,
    """CREATE TRIGGER parties_count_insert AFTER INSERT ON parties REFERENCING NEW TABLE AS new_rows
       FOR EACH STATEMENT EXECUTE FUNCTION parties_count_insert()""",
    """CREATE TRIGGER parties_count_delete AFTER DELETE ON parties REFERENCING OLD TABLE AS old_rows
       FOR EACH STATEMENT EXECUTE FUNCTION parties_count_delete()""",
    """CREATE TRIGGER parties_count_update AFTER UPDATE ON parties
       REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
       FOR EACH STATEMENT EXECUTE FUNCTION parties_count_update()""",
]
POSTGRESQL_DOWN = [
    "DROP TRIGGER parties_count_update ON parties",
    "DROP TRIGGER parties_count_delete ON parties",
    "DROP TRIGGER parties_count_insert ON parties",
    "DROP FUNCTION parties_count_update()",
    "DROP FUNCTION parties_count_delete()",
    "DROP FUNCTION parties_count_insert()",
]

SQLITE_UP = [
    """CREATE TRIGGER parties_count_insert AFTER INSERT ON parties BEGIN
       UPDATE projects SET party_count = party_count + 1 WHERE id = NEW.project_id; END""",
    """CREATE TRIGGER parties_count_delete AFTER DELETE ON parties BEGIN
       UPDATE projects SET party_count = party_count - 1 WHERE id = OLD.project_id; END""",
    """CREATE TRIGGER parties_count_update AFTER UPDATE OF project_id ON parties
       WHEN NEW.project_id <> OLD.project_id BEGIN
       UPDATE projects SET party_count = party_count - 1 WHERE id = OLD.project_id;
       UPDATE projects SET party_count = party_count + 1 WHERE id = NEW.project_id; END""",
]
SQLITE_DOWN = [
    "DROP TRIGGER parties_count_update",
    "DROP TRIGGER parties_count_delete",
    "DROP TRIGGER parties_count_insert",
]

COUNT_EXISTING = """UPDATE projects SET party_count =
    (SELECT count(*) FROM parties WHERE parties.project_id = projects.id)"""


def upgrade():
    with op.batch_alter_table("projects") as batch:
        batch.add_column(sa.Column("party_count", sa.Integer(), nullable=False, server_default="0"))
    op.execute(COUNT_EXISTING)
    statements = POSTGRESQL_UP if op.get_bind().dialect.name == "postgresql" else SQLITE_UP
    for statement in statements:
        op.execute(statement)


def downgrade():
    statements = POSTGRESQL_DOWN if op.get_bind().dialect.name == "postgresql" else SQLITE_DOWN
    for statement in statements:
        op.execute(statement)
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("party_count")
