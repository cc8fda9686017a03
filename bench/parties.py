"""Does a project with many parties page as fast as one with a hundred?

Builds two projects — SMALL and LARGE parties — in a scratch database, then times, through the real
WSGI app and security policy: the first page of each project's parties, a page deep into the large
one, a search, and a party's own URL. Prints requests per second and the large/small ratios.

    python bench/parties.py [--large 200000] [--requests 200]
    HYPERAPI_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/hyperapi_bench python bench/parties.py

The PostgreSQL database named there is wiped first.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import sqlalchemy as sa
from webtest import TestApp

from hyperapi import main
from hyperapi.auth.passwords import hash_key
from hyperapi.db import make_engine
from hyperapi.db.migrations import upgrade
from hyperapi.models import Organization, OrganizationMember, Party, Project, Token, User, random_id, utcnow

KEY = "bench-key"
FIRST_NAMES = ["Amina", "Barnabas", "Chen", "Dina", "Emeka", "Farah", "Grace", "Hassan", "Ivy", "Juma"]


def insert_parties(conn, rows: list[dict]) -> None:
    # One multi-row INSERT per batch: the party-count trigger then runs once per batch. (executemany
    # would send one statement per row, and PostgreSQL would update the project's row once per party.)
    conn.execute(sa.insert(Party).values(rows))


def build(engine, small: int, large: int) -> tuple[str, str, str]:
    now = utcnow()
    with engine.begin() as conn:
        user_id = conn.execute(sa.insert(User).values(username="bench", full_name="", is_superuser=False,
                                                      created=now, last_updated=now, version=1)
                               .returning(User.id)).scalar_one()
        conn.execute(sa.insert(Token).values(id=random_id(), user_id=user_id, name="", key_hash=hash_key(KEY),
                                             created=now))
        org_id = conn.execute(sa.insert(Organization).values(slug="bench", name="Bench", description="", urls=[],
                                                             contacts=[], access="private", archived=False,
                                                             created=now, last_updated=now, version=1)
                              .returning(Organization.id)).scalar_one()
        conn.execute(sa.insert(OrganizationMember).values(organization_id=org_id, user_id=user_id, role="member",
                                                          created=now, last_updated=now, version=1))
        project_ids = {}
        for slug in ("small", "large"):
            project_ids[slug] = conn.execute(
                sa.insert(Project).values(organization_id=org_id, slug=slug, name=slug, description="", country="",
                                          urls=[], contacts=[], access="private", archived=False,
                                          created=now, last_updated=now, version=1)
                .returning(Project.id)).scalar_one()
        sample = None
        for slug, count in (("small", small), ("large", large)):
            batch = []
            for n in range(count):
                party_id = random_id()
                if slug == "large" and sample is None:
                    sample = party_id
                batch.append({"id": party_id, "project_id": project_ids[slug],
                              "name": f"{FIRST_NAMES[n % 10]} {n:07d}", "type": "IN", "description": "",
                              "country": "UG", "contacts": [], "attributes": {}, "archived": False,
                              "created": now, "last_updated": now, "version": 1})
                if len(batch) == 1000:
                    insert_parties(conn, batch)
                    batch = []
            if batch:
                insert_parties(conn, batch)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
    base = "/api/v1/organizations/bench/projects"
    return f"{base}/small/parties/", f"{base}/large/parties/", sample


def rate(app: TestApp, url: str, requests: int) -> float:
    headers = {"Authorization": f"Token {KEY}"}
    app.get(url, headers=headers)  # warm up
    start = time.perf_counter()
    for _ in range(requests):
        app.get(url, headers=headers)
    return requests / (time.perf_counter() - start)


def run() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--large", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    url = os.environ.get("HYPERAPI_BENCH_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite"
    settings = {"sqlalchemy.url": url, "hyperapi.auto_migrate": "false"}
    os.environ.pop("HYPERAPI_DATABASE_URL", None)
    engine = make_engine(settings)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(settings, engine)
    started = time.perf_counter()
    small_url, large_url, party_id = build(engine, args.small, args.large)
    print(f"database: {engine.dialect.name}; built {args.small} + {args.large} parties "
          f"in {time.perf_counter() - started:.1f} s")

    app = TestApp(main({}, **settings, **{"hyperapi.engine": engine}))
    cases = [
        ("first page, small", small_url),
        ("first page, large", large_url),
        ("page at offset 100000, large", f"{large_url}?offset={min(100000, max(args.large - 20, 0))}"),
        ("search 'amina 00', small", f"{small_url}?search=amina%2000"),
        ("search 'amina 00', large", f"{large_url}?search=amina%2000"),
        ("order by -created, large", f"{large_url}?ordering=-created"),
        ("one party, large project", f"{large_url}{party_id}/"),
    ]
    results = {}
    print(f"{'request':34} {'req/s':>8}")
    for label, url in cases:
        results[label] = rate(app, url, args.requests)
        print(f"{label:34} {results[label]:8.1f}")
    print()
    for what in ("first page", "search"):
        large = next(v for k, v in results.items() if k.startswith(what) and k.endswith("large"))
        small = next(v for k, v in results.items() if k.startswith(what) and k.endswith("small"))
        print(f"{what}: large/small throughput ratio {large / small:.2f}")


if __name__ == "__main__":
    run()
