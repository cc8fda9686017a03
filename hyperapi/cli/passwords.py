"""Where a command gets a password: `--password P`, one line of stdin (`--password-stdin`), or asked
twice on the terminal. Without a terminal nobody can answer, so it says so instead of waiting."""

from __future__ import annotations

import getpass
import sys
import warnings

from .failures import CommandError

HOW = "pass --password P, or pipe it into --password-stdin"


def add_options(parser) -> None:
    given = parser.add_mutually_exclusive_group()
    given.add_argument("--password", metavar="P",
                       help="the password (seen by other users of this machine in its process list); "
                            "asked for on the terminal when not given")
    given.add_argument("--password-stdin", action="store_true",
                       help="read the password from the first line of standard input")


def read(args, prompt: str) -> str:
    if args.password is not None:
        return args.password
    if args.password_stdin:
        return _from_stdin()
    return _from_terminal(prompt)


def _from_stdin() -> str:
    line = sys.stdin.readline()
    password = line.removesuffix("\n").removesuffix("\r")
    if not password:
        raise CommandError("--password-stdin found no password on standard input",
                           "pipe one line into it, e.g. `printf '%s\\n' \"$PASSWORD\" | hyperapi …`")
    return password


def _from_terminal(prompt: str) -> str:
    # getpass falls back to reading stdin, echoing, with only a warning when there is no terminal
    # (cron, CI, ssh without -t); that warning, made an error, is how we know nobody can answer.
    with warnings.catch_warnings():
        warnings.simplefilter("error", getpass.GetPassWarning)
        try:
            first = getpass.getpass(prompt)
            second = getpass.getpass("The same again: ")
        except getpass.GetPassWarning:
            raise CommandError("there is no terminal to ask for the password on", HOW) from None
        except EOFError:
            raise CommandError("no password was typed", HOW) from None
    if first != second:
        raise CommandError("the two passwords differ", "run the command again") from None
    return first
