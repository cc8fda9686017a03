"""`initdb` and `migrate`: the schema, made and upgraded by Alembic; `initdb --demo` adds demo data."""

from __future__ import annotations

import transaction

from ..files.storage import FileTransaction
from .demo import load_demo


def migrate(args, site, out) -> None:
    before, after = site.migrate()
    if before != after:
        print(f"Upgraded the schema from {f'revision {before}' if before else 'nothing'} to revision {after}.",
              file=out)
    print("Schema is up to date.", file=out)


def initdb(args, site, out) -> None:
    migrate(args, site, out)
    if args.demo:
        manager = transaction.TransactionManager(explicit=True)
        with manager:
            files = FileTransaction(site.storage(), manager)
            load_demo(site.session(manager), out=out, files=files)
