"""The console script `hyperapi`, run as an operator runs it: a child process, no terminal."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from contextlib import contextmanager
from dataclasses import dataclass

from hyperapi.db import DATABASE_URL_ENV

from .databases import MIGRATIONS

# The script pip installed beside this interpreter; `python -m hyperapi.cli` is the same program.
SCRIPT = os.path.join(os.path.dirname(sys.executable), "hyperapi")
COMMAND = [SCRIPT] if os.path.exists(SCRIPT) else [sys.executable, "-m", "hyperapi.cli"]


@dataclass
class Result:
    status: int
    stdout: str
    stderr: str


def hyperapi(*argv: str, cwd=None, stdin: str | None = None, env: dict | None = None,
             command: list[str] = COMMAND) -> Result:
    """Run `hyperapi ARGV…`. A session of its own means no controlling terminal: /dev/tty can not be
    opened, as under cron or in CI. The database URL comes from the .ini unless `env` gives one."""
    environ = {k: v for k, v in os.environ.items() if k != DATABASE_URL_ENV}
    environ.update(env or {})
    completed = subprocess.run([*command, *argv], cwd=cwd, input=stdin if stdin is not None else "",
                               capture_output=True, text=True, env=environ, timeout=120, start_new_session=True)
    return Result(completed.returncode, completed.stdout, completed.stderr)


def in_process(capsys, *argv: str) -> Result:
    """`cli.main` in this process: the same lines without a process's start-up (a second each), for
    the variants of a failure whose representative runs as a child process. Never for a command that
    could reach the password prompt: a developer's terminal would answer it."""
    from hyperapi import cli

    capsys.readouterr()
    with preserved_logging():
        try:
            status = cli.main(list(argv))
        except SystemExit as exc:  # argparse
            status = exc.code
    out, err = capsys.readouterr()
    return Result(status, out, err)


def write_ini(directory, app_main: str | None = None, logging_level: str = "WARNING", name: str = "site.ini") -> str:
    """An .ini file; `app_main` replaces the whole [app:main] section (None: a working one on SQLite)."""
    if app_main is None:
        app_main = textwrap.dedent(f"""\
            [app:main]
            use = egg:hyperapi
            sqlalchemy.url = sqlite:///%(here)s/var/site.sqlite
            hyperapi.storage = file://%(here)s/var/files
            hyperapi.migrations = {MIGRATIONS}
            """)
    path = os.path.join(str(directory), name)
    with open(path, "w") as f:
        f.write(app_main + textwrap.dedent(f"""
            [loggers]
            keys = root, alembic

            [handlers]
            keys = console

            [formatters]
            keys = generic

            [logger_root]
            level = {logging_level}
            handlers = console

            [logger_alembic]
            level = INFO
            handlers =
            qualname = alembic

            [handler_console]
            class = StreamHandler
            args = (sys.stderr,)
            level = NOTSET
            formatter = generic

            [formatter_generic]
            format = %(levelname)s [%(name)s] %(message)s
            """))
    return path


def assert_one_line_error(result: Result, *words: str, status: int | None = None) -> str:
    """The command failed, and said why in one line on stderr (and nothing else), naming `words`."""
    assert result.status != 0, result
    if status is not None:
        assert result.status == status, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("error: "), line
    for word in words:
        assert word in line, (word, line)
    return line


@contextmanager
def preserved_logging():
    """`setup_logging` runs logging.fileConfig, which replaces root handlers and disables the loggers
    that exist; put the process's logging back as it was for the tests that follow."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    loggers = {name: (logger.disabled, logger.level, list(logger.handlers))
               for name, logger in logging.root.manager.loggerDict.items() if isinstance(logger, logging.Logger)}
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, logger in logging.root.manager.loggerDict.items():
            if isinstance(logger, logging.Logger):
                disabled, logger_level, logger_handlers = loggers.get(name, (False, logging.NOTSET, []))
                logger.disabled, logger.level = disabled, logger_level
                logger.handlers[:] = logger_handlers
