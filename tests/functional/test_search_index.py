"""On PostgreSQL, search uses the trigram index of migration 0003 (skipped on SQLite)."""

import pytest
import sqlalchemy as sa

from hyperapi.listing.query import contains_text
from hyperapi.models import Party


def test_search_uses_the_trigram_index(db, factory):
    if db.bind.dialect.name != "postgresql":
        pytest.skip("trigram indexes are PostgreSQL's")
    org = factory.org("terra")
    project = factory.project(org, "kampala")
    db.execute(sa.text(
        "INSERT INTO parties (id, project_id, name, type, description, country, contacts, attributes, archived,"
        " created, last_updated, version)"
        " SELECT 'p' || lpad(n::text, 23, '0'), :project, 'Person ' || n, 'IN', '', '', '[]', '{}', false,"
        " now(), now(), 1 FROM generate_series(1, 20000) AS n"
    ), {"project": project.id})
    db.execute(sa.text("ANALYZE parties"))
    # The very condition the query language builds for ?search=son 12345, with its bound parameters.
    condition = contains_text(Party.name, "son 12345")
    statement = sa.select(Party.id).where(Party.project_id == project.id, condition)
    compiled = statement.compile(dialect=db.bind.dialect)
    connection = db.connection()
    # A table this small is cheapest to scan; the question is whether the index can serve the query.
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    plan = "\n".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params))
    assert "ix_parties_name_trgm" in plan, plan
