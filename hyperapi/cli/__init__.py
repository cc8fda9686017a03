"""`hyperapi INI COMMAND`: set up the database, add users, make tokens.

    hyperapi development.ini initdb [--demo]
    hyperapi development.ini migrate
    hyperapi development.ini user add NAME [--password P] [--superuser] [--email E] [--full-name N]
    hyperapi development.ini token create NAME [--name LABEL]
"""

from __future__ import annotations

import argparse
import getpass
import sys

import transaction
from pyramid.paster import get_appsettings, setup_logging
from sqlalchemy import select

from .. import _coerce_settings
from ..db import make_engine, make_session_factory, session_for_transaction
from ..migrations import upgrade
from ..models import User
from ..services import users as user_service
from ..storage import FileTransaction, storage_from_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hyperapi", description="Administer a hyperapi installation.")
    parser.add_argument("config", help="the .ini file, e.g. development.ini")
    commands = parser.add_subparsers(dest="command", required=True)

    initdb = commands.add_parser("initdb", help="create or upgrade the schema")
    initdb.add_argument("--demo", action="store_true", help="also load a small demonstration data set")
    commands.add_parser("migrate", help="upgrade the schema to the newest migration")

    user = commands.add_parser("user", help="manage users").add_subparsers(dest="action", required=True)
    add = user.add_parser("add", help="add a user")
    add.add_argument("username")
    add.add_argument("--password", help="asked for when not given")
    add.add_argument("--superuser", action="store_true")
    add.add_argument("--email")
    add.add_argument("--full-name", default="")

    token = commands.add_parser("token", help="manage API tokens").add_subparsers(dest="action", required=True)
    create = token.add_parser("create", help="create a token for a user and print its key")
    create.add_argument("username")
    create.add_argument("--name", default="cli", help="a label for the token")
    return parser


class CommandError(Exception):
    pass


def _validated(schema_factory, data: dict) -> dict:
    import colander

    try:
        return schema_factory().deserialize(data)
    except colander.Invalid as exc:
        raise CommandError("; ".join(f"{k}: {v}" for k, v in exc.asdict().items())) from None


def run(argv: list[str], out=sys.stdout) -> int:
    args = _parser().parse_args(argv)
    setup_logging(args.config)
    settings = _coerce_settings(get_appsettings(args.config))
    engine = make_engine(settings)
    if args.command in ("initdb", "migrate"):
        from .. import _prepare_database_dir

        _prepare_database_dir(engine)
        upgrade(settings, engine)
        print("Schema is up to date.", file=out)
        if args.command == "initdb" and args.demo:
            from .demo import load_demo

            tm = transaction.TransactionManager(explicit=True)
            with tm:
                files = FileTransaction(storage_from_settings(settings), tm)
                load_demo(session_for_transaction(make_session_factory(engine), tm), out=out, files=files)
        return 0

    from ..schemas import user_create_schema

    tm = transaction.TransactionManager(explicit=True)
    with tm:
        db = session_for_transaction(make_session_factory(engine), tm)
        if args.command == "user":
            password = args.password or getpass.getpass(f"Password for {args.username}: ")
            data = {"username": args.username, "password": password, "is_superuser": args.superuser,
                    "full_name": args.full_name}
            if args.email:
                data["email"] = args.email
            user = user_service.create(db, _validated(user_create_schema, data))
            print(f"Created user {user.username}{' (superuser)' if user.is_superuser else ''}.", file=out)
        elif args.command == "token":
            user = db.scalar(select(User).where(User.username == args.username))
            if user is None:
                raise CommandError(f"There is no user {args.username!r}.")
            _, key = user_service.new_token(db, user, name=args.name)
            print(key, file=out)
    return 0


def main(argv: list[str] | None = None) -> int:
    from ..errors import APIError

    try:
        return run(sys.argv[1:] if argv is None else argv)
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except APIError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
