"""`hyperapi INI COMMAND`: set up the database, manage users and their API tokens.

    hyperapi development.ini initdb [--demo]
    hyperapi development.ini migrate
    hyperapi development.ini user add NAME [--password P | --password-stdin] [--superuser] [--email E]
                                           [--full-name N]
    hyperapi development.ini user list [--json]
    hyperapi development.ini user passwd NAME [--password P | --password-stdin]
    hyperapi development.ini token create NAME [--name LABEL]
    hyperapi development.ini token list NAME [--json]
    hyperapi development.ini token revoke ID | token revoke NAME --all

A failure the operator can put right is one line on stderr, `error: <what is wrong> — <what to do>`,
and a non-zero status (see `failures`); `--traceback` adds the traceback, `-v` the INFO logging of
Alembic.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback

from sqlalchemy.exc import DBAPIError

from ..services.exceptions import DomainError
from . import database, passwords, tokens, users
from .failures import BUG, INTERRUPTED, CommandError, Failure, one_line
from .installation import Installation

COMMANDS = ("initdb", "migrate", "user", "token")
EPILOG = """\
`hyperapi INI user --help`, `hyperapi INI token --help` list their actions.

exit status: 0 done; 1 the installation (its .ini file, its database, the schema) needs fixing;
2 the command was wrong (its arguments, its data, an unknown name); 3 a bug in hyperapi."""


def _common_options() -> argparse.ArgumentParser:
    """Accepted before or after the command: `hyperapi -v x.ini migrate` and `hyperapi x.ini migrate -v`.
    SUPPRESS keeps a subcommand's parser from resetting what the main parser has already set."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="show what Alembic does (its INFO logging)")
    common.add_argument("--traceback", action="store_true", default=argparse.SUPPRESS,
                        help="on failure, print the whole traceback too (for a bug report)")
    return common


def parser() -> argparse.ArgumentParser:
    common = _common_options()
    parser = argparse.ArgumentParser(prog="hyperapi", parents=[common], epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     description="Administer a hyperapi installation.")
    parser.add_argument("config", metavar="INI", help="the installation's .ini file, e.g. development.ini")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(parent, name, handler, help):
        sub = parent.add_parser(name, parents=[common], help=help, description=help)
        sub.set_defaults(handler=handler)
        return sub

    initdb = command(commands, "initdb", database.initdb, "create or upgrade the schema")
    initdb.add_argument("--demo", action="store_true", help="also load a small demonstration data set")
    command(commands, "migrate", database.migrate, "upgrade the schema to the newest migration")

    user = commands.add_parser("user", help="manage users").add_subparsers(dest="action", required=True,
                                                                            metavar="ACTION")
    add = command(user, "add", users.add, "add a user")
    add.add_argument("username", metavar="NAME")
    passwords.add_options(add)
    add.add_argument("--superuser", action="store_true", help="may do everything")
    add.add_argument("--email", metavar="E")
    add.add_argument("--full-name", metavar="N", default="")
    listing = command(user, "list", users.list_users, "list the users")
    listing.add_argument("--json", action="store_true", help="as JSON, for programs")
    passwd = command(user, "passwd", users.passwd, "set a user's password and revoke all their tokens")
    passwd.add_argument("username", metavar="NAME")
    passwords.add_options(passwd)

    token = commands.add_parser("token", help="manage API tokens").add_subparsers(dest="action", required=True,
                                                                                  metavar="ACTION")
    create = command(token, "create", tokens.create, "create a token for a user and print its key")
    create.add_argument("username", metavar="NAME")
    create.add_argument("--name", default="cli", metavar="LABEL", help="what the token is for")
    listing = command(token, "list", tokens.list_tokens, "list a user's tokens (never their keys)")
    listing.add_argument("username", metavar="NAME")
    listing.add_argument("--json", action="store_true", help="as JSON, for programs")
    revoke = command(token, "revoke", tokens.revoke, "revoke a token by its id, or all of a user's with --all")
    revoke.add_argument("target", metavar="ID|NAME", help="a token's id (see `token list`); with --all, a username")
    revoke.add_argument("--all", action="store_true", help="revoke every token of the user NAME")
    return parser


def parse(argv: list[str]) -> argparse.Namespace:
    cli = parser()
    positional = [word for word in argv if not word.startswith("-")]
    if positional and positional[0] in COMMANDS and not os.path.exists(positional[0]):
        # `hyperapi user add zoe` would otherwise read as the .ini file "user" and the command "add".
        cli.error(f"the .ini file comes first: hyperapi INI {' '.join(argv)}")
    return cli.parse_args(argv)


def execute(args: argparse.Namespace, site: Installation, out) -> None:
    """Run the command; what goes wrong is raised as a `Failure`."""
    site.load()
    try:
        args.handler(args, site, out)
    except DomainError as exc:  # a service refusing what the command asked
        raise CommandError(exc.message) from exc
    except DBAPIError as exc:
        raise site.failure_of(exc) from exc


def run(argv: list[str], out=sys.stdout) -> int:
    """Run a command in this process (failures are raised, not printed); 0 when it is done."""
    args = parse(argv)
    site = Installation(args.config, verbose=getattr(args, "verbose", False))
    try:
        execute(args, site, out)
    finally:
        site.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    """The console script: every failure is one line on stderr and a non-zero status."""
    argv = sys.argv[1:] if argv is None else argv
    args = parse(argv)  # a usage error exits here with status 2, as argparse does
    site = Installation(args.config, verbose=getattr(args, "verbose", False))
    try:
        execute(args, site, sys.stdout)
        sys.stdout.flush()
        return 0
    except Failure as exc:
        return _fail(site, args, exc, exc.line(), exc.status)
    except KeyboardInterrupt as exc:
        return _fail(site, args, exc, "interrupted", INTERRUPTED)
    except BrokenPipeError:  # `hyperapi … user list | head -1`: the reader has gone; so do we, quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:
        line = (f"unexpected {type(exc).__name__}: {one_line(exc)} — this is a bug in hyperapi; run the "
                "command again with --traceback and report what it prints")
        return _fail(site, args, exc, line, BUG)
    finally:
        site.close()


def _fail(site: Installation, args: argparse.Namespace, exc: BaseException, line: str, status: int) -> int:
    if getattr(args, "traceback", False):
        print(site.redact("".join(traceback.format_exception(exc))), file=sys.stderr, end="")
    print(site.redact(f"error: {line}"), file=sys.stderr)
    return status
