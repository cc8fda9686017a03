"""How a command fails: one line on stderr saying what is wrong and what to do, and an exit status
that says whose move it is. Tracebacks are for bugs, and only on request (`--traceback`)."""

from __future__ import annotations

SETUP = 1  # the installation needs fixing: its .ini, its database, its schema
USAGE = 2  # the command was wrong: its arguments or its data (argparse's own status too)
BUG = 3  # hyperapi failed where it should not have
INTERRUPTED = 130  # Ctrl-C, as a shell reports it


class Failure(Exception):
    """A failure the person running the command can put right."""

    status = SETUP

    def __init__(self, what: str, todo: str | None = None):
        super().__init__(what)
        self.what = what
        self.todo = todo

    def line(self) -> str:
        return one_line(f"{self.what} — {self.todo}" if self.todo else self.what)


class SetupError(Failure):
    """The .ini file, the database or its schema is not as the command needs."""

    status = SETUP


class CommandError(Failure):
    """The command's arguments or data are wrong: an unknown user, a short password…"""

    status = USAGE


def one_line(text) -> str:
    """Messages from libraries span lines (psycopg's, configparser's); ours never do."""
    return " ".join(str(text).split())


def redact(text: str, secrets) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
