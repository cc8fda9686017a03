"""The installation a command works on: its .ini file, its logging, its database and the schema in it.

Each step checks what an operator can get wrong and says so in one line (a `SetupError`), naming the
file, the setting or the server — never the password of the database URL.
"""

from __future__ import annotations

import configparser
import logging
import os
import shlex
from contextlib import contextmanager
from urllib.parse import quote

import transaction
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError as AlembicCommandError
from pyramid.paster import get_appsettings, setup_logging
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, NoSuchModuleError

from ..config import coerce_settings
from ..db import (
    DATABASE_URL_ENV,
    database_url,
    make_engine,
    make_session_factory,
    prepare_database_dir,
    session_for_transaction,
)
from ..db.migrations import alembic_config, upgrade
from ..files.storage import storage_from_settings
from .failures import CommandError, Failure, SetupError, one_line, redact

# Their INFO lines (alembic's "Running upgrade 0004 -> 0005", SQLAlchemy's statements) are for -v.
CHATTY_LOGGERS = ("alembic", "sqlalchemy")
DATABASE_NAMES = {"postgresql": "PostgreSQL", "sqlite": "SQLite", "mysql": "MySQL"}
DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306}


class Installation:
    def __init__(self, ini: str, verbose: bool = False):
        self.ini = ini
        self.verbose = verbose
        self.settings: dict = {}
        self.secrets: list[str] = []  # blotted out of every message printed
        self._engine: Engine | None = None
        self._ready = False  # the database answered and its schema is at head

    # --- the .ini file -----------------------------------------------------------------------------

    def load(self) -> None:
        """Read the .ini file: check it, set up logging from it, read [app:main]."""
        self._check_file()
        self._set_up_logging()
        self.settings = self._read_settings()

    def command(self, *words: str) -> str:
        """A command line to suggest, for this same .ini file."""
        return " ".join(["hyperapi", *(shlex.quote(word) for word in (self.ini, *words))])

    def _check_file(self) -> None:
        if not os.path.exists(self.ini):
            raise SetupError(f"there is no file {self.ini}",
                             "give the path of the installation's .ini file first, e.g. `hyperapi development.ini …`")
        if os.path.isdir(self.ini):
            raise SetupError(f"{self.ini} is a folder, not an .ini file", "give the path of the .ini file itself")
        try:
            with open(self.ini, "rb"):
                pass
        except OSError as exc:
            raise SetupError(f"cannot read {self.ini}: {exc.strerror}",
                             "check its permissions, or run the command as a user who may read it") from exc

    def _set_up_logging(self) -> None:
        try:
            setup_logging(self.ini)
        except configparser.Error as exc:
            raise self._not_an_ini(exc) from exc
        except Exception as exc:  # logging.config.fileConfig fails with KeyError, ValueError, ImportError…
            raise SetupError(f"the logging sections of {self.ini} are incomplete or wrong "
                             f"({type(exc).__name__}: {one_line(exc)})",
                             "fix [loggers], [handlers] and [formatters], or remove all three") from exc
        for name in CHATTY_LOGGERS:
            logger = logging.getLogger(name)
            if self.verbose:
                if name == "alembic":
                    logger.setLevel(logging.INFO)
            else:
                logger.setLevel(max(logger.getEffectiveLevel(), logging.WARNING))

    def _read_settings(self) -> dict:
        try:
            settings = get_appsettings(self.ini)
        except configparser.Error as exc:
            raise self._not_an_ini(exc) from exc
        except LookupError as exc:  # PasteDeploy's way of saying a section or a line is missing
            if "No section 'main'" in str(exc):
                raise SetupError(f"{self.ini} has no [app:main] section",
                                 "hyperapi reads its settings there: add [app:main] with `use = egg:hyperapi` "
                                 "and `sqlalchemy.url = …`") from exc
            if "No loader given" in str(exc):
                raise SetupError(f"[app:main] of {self.ini} has no `use = egg:hyperapi` line", "add it") from exc
            raise SetupError(f"cannot read [app:main] of {self.ini}: {one_line(exc)}",
                             "compare it with development.ini") from exc
        except ImportError as exc:
            raise SetupError(f"[app:main] of {self.ini} names an application that is not installed "
                             f"({one_line(exc)})", "it should say `use = egg:hyperapi`") from exc
        try:
            return coerce_settings(settings)
        except ValueError as exc:
            raise SetupError(f"a setting in [app:main] of {self.ini} has a wrong value ({one_line(exc)})",
                             "fix it") from exc

    def _not_an_ini(self, exc: configparser.Error) -> SetupError:
        if isinstance(exc, configparser.MissingSectionHeaderError):
            problem = f"line {exc.lineno} comes before any [section]"
        elif isinstance(exc, configparser.DuplicateOptionError | configparser.DuplicateSectionError):
            problem = f"line {exc.lineno} repeats " + (
                f"`{exc.option}` of [{exc.section}]" if isinstance(exc, configparser.DuplicateOptionError)
                else f"the section [{exc.section}]")
        elif isinstance(exc, configparser.InterpolationMissingOptionError):
            problem = f"`{exc.option}` in [{exc.section}] uses %({exc.reference})s, which is not defined"
        elif isinstance(exc, configparser.InterpolationSyntaxError):
            # A URL-encoded password (%2F) is the usual cause; the value is not repeated: it may be one.
            problem = (f"`{exc.option}` in [{exc.section}] holds a % that is neither %% nor %(name)s "
                       "(write a literal % as %%)")
        elif isinstance(exc, configparser.ParsingError):
            problem = f"line {exc.errors[0][0]} is neither `[section]` nor `name = value`"
        else:  # its message may quote a raw value, which may be a password
            option, section = getattr(exc, "option", None), getattr(exc, "section", None)
            problem = f"{type(exc).__name__}" + (f" in `{option}`" if option else "") + (
                f" of [{section}]" if section else "")
        return SetupError(f"{self.ini} is not a valid .ini file: {problem}", "fix that line")

    # --- the database ------------------------------------------------------------------------------

    @property
    def url_source(self) -> str:
        return DATABASE_URL_ENV if os.environ.get(DATABASE_URL_ENV) else f"sqlalchemy.url in {self.ini}"

    def engine(self) -> Engine:
        """The engine, made once; no connection is tried yet."""
        if self._engine is not None:
            return self._engine
        if not os.environ.get(DATABASE_URL_ENV) and not self.settings.get("sqlalchemy.url"):
            raise SetupError(f"{self.ini} has no sqlalchemy.url in [app:main], and {DATABASE_URL_ENV} is not set",
                             "set one of them to the database's URL, e.g. "
                             "sqlalchemy.url = sqlite:///%(here)s/var/hyperapi.sqlite")
        try:
            url = make_url(database_url(self.settings))
        except ArgumentError as exc:
            raise SetupError(f"{self.url_source} is not a database URL",
                             "write it like postgresql+psycopg://user:password@host:5432/name "
                             "or sqlite:////absolute/path/hyperapi.sqlite") from exc
        if url.password:
            self.secrets += [str(url.password), quote(str(url.password), safe="")]
        try:
            self._engine = make_engine(self.settings)
        except NoSuchModuleError as exc:
            raise SetupError(f"{self.url_source} names a kind of database hyperapi does not know "
                             f"({url.drivername})", "use postgresql+psycopg://… or sqlite:///…") from exc
        except ImportError as exc:
            raise SetupError(f"the database driver for {url.drivername} is not installed ({one_line(exc)})",
                             'for PostgreSQL, install hyperapi with its extra: pip install "hyperapi[postgresql]" '
                             "and write postgresql+psycopg://…") from exc
        except (TypeError, ValueError) as exc:
            raise SetupError(f"a sqlalchemy.* setting of {self.ini} has a wrong value ({one_line(exc)})",
                             "fix it") from exc
        return self._engine

    def describe_database(self) -> str:
        url = self.engine().url
        kind = url.get_backend_name()
        name = DATABASE_NAMES.get(kind, kind)
        if kind == "sqlite":
            if not url.database or url.database == ":memory:":
                return "the in-memory SQLite database"
            return f"the SQLite file {os.path.abspath(url.database)}"
        port = url.port or DEFAULT_PORTS.get(kind)
        where = f"{url.host}:{port}" if url.host and port else url.host or "the local socket"
        return f"the {name} database {url.database!r} at {where}"

    def _sqlite_file(self) -> str | None:
        url = self.engine().url
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            return os.path.abspath(url.database)
        return None

    def _connect(self) -> None:
        """Prove the database answers: the one place an unreachable database is reported."""
        try:
            with self.engine().connect():
                pass
        except DBAPIError as exc:
            raise self._unreachable(exc) from exc

    def _unreachable(self, exc: DBAPIError) -> SetupError:
        cause = _driver_message(exc)
        lowered = cause.lower()
        if "does not exist" in lowered and "database" in lowered:
            url = self.engine().url
            todo = (f"create it (createdb -h {url.host or 'localhost'} -p {url.port or 5432} "
                    f"-U {url.username or 'postgres'} {url.database}), or fix the name in {self.url_source}")
        elif "password" in lowered or "role" in lowered or "authentication" in lowered:
            todo = f"check the user name and password in {self.url_source}"
        elif "resolve" in lowered:
            todo = f"check the host name in {self.url_source}"
        elif "not a database" in lowered:
            todo = f"{self.url_source} must name an SQLite database file (or a file that does not exist yet)"
        elif self._sqlite_file():
            todo = "check that its folder exists and that this user may write to it"
        else:
            todo = f"check that the server is running and accepts connections, and that {self.url_source} is right"
        return SetupError(f"cannot open {self.describe_database()}: {cause}", todo)

    def _revisions(self) -> tuple[str | None, str, bool]:
        """(the database's revision, this code's newest, whether this code knows the database's)."""
        config = alembic_config(self.settings, self.engine())
        try:
            scripts = ScriptDirectory.from_config(config)
            head = scripts.get_current_head()
        except AlembicCommandError as exc:
            location = config.get_main_option("script_location")
            raise SetupError(f"there are no migrations in {location} (hyperapi.migrations in {self.ini})",
                             "point hyperapi.migrations to hyperapi's alembic folder, "
                             "or remove the line") from exc
        try:
            with self.engine().connect() as connection:
                current = MigrationContext.configure(connection).get_current_revision()
        except DBAPIError as exc:
            raise self._unreachable(exc) from exc
        known = True
        if current is not None:
            try:
                scripts.get_revision(current)
            except AlembicCommandError:
                known = False
        return current, head, known

    def _newer_schema(self, current: str) -> SetupError:
        return SetupError(f"the schema of {self.describe_database()} is at revision {current}, which this "
                          "version of hyperapi does not know (a newer version migrated it)",
                          "run the newer version, or upgrade this installation of hyperapi")

    def database(self) -> Engine:
        """The engine of a database that answers and whose schema is at this code's newest revision."""
        engine = self.engine()
        if self._ready:
            return engine
        path = self._sqlite_file()
        if path is not None and not os.path.exists(path):
            raise SetupError(f"the database file {path} does not exist", f"create it with `{self.command('migrate')}`")
        self._connect()
        current, head, known = self._revisions()
        if current is None:
            raise SetupError(f"{self.describe_database()} has no hyperapi schema yet",
                             f"create it with `{self.command('migrate')}`")
        if not known:
            raise self._newer_schema(current)
        if current != head:
            raise SetupError(f"the schema of {self.describe_database()} is at revision {current}, older than "
                             f"this version's {head}", f"upgrade it with `{self.command('migrate')}`")
        self._ready = True
        return engine

    def migrate(self) -> tuple[str | None, str]:
        """Bring the schema to the newest revision, making an SQLite file (and its folder) if needed;
        return the revisions before and after."""
        engine = self.engine()
        try:
            prepare_database_dir(engine)
        except OSError as exc:
            raise SetupError(f"cannot make the folder of {self.describe_database()}: {exc.strerror}",
                             "make it, or check that this user may write there") from exc
        self._connect()
        current, head, known = self._revisions()
        if not known:
            raise self._newer_schema(current)
        upgrade(self.settings, engine)
        self._ready = True
        return current, head

    def session(self, manager: transaction.TransactionManager):
        return session_for_transaction(make_session_factory(self.database()), manager)

    @contextmanager
    def transaction(self):
        """A session whose work is committed when the block ends without an error."""
        manager = transaction.TransactionManager(explicit=True)
        db = self.session(manager)
        with manager:
            yield db

    def storage(self):
        try:
            return storage_from_settings(self.settings)
        except ValueError as exc:
            raise SetupError(one_line(exc), f"fix hyperapi.storage in {self.ini}") from exc

    def failure_of(self, exc: DBAPIError) -> Failure:
        """A database error in the middle of a command (the database was reachable when it began)."""
        cause = _driver_message(exc)
        if isinstance(exc, IntegrityError):
            return CommandError(f"the database refused the change: {cause}",
                                "someone may have made the same change at the same time; look, then try again")
        if "locked" in cause.lower():
            return SetupError(f"{self.describe_database()} is locked by another process",
                              "try again when it has finished")
        return SetupError(f"{self.describe_database()} failed: {cause}",
                          "try again; if it fails again, run the command with --traceback and report what it prints")

    def redact(self, text: str) -> str:
        return redact(text, self.secrets)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


def _driver_message(exc: DBAPIError) -> str:
    """The driver's own words, first line only: psycopg's "connection to server at "127.0.0.1", port 1
    failed: Connection refused" becomes "Connection refused"."""
    original = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(original).splitlines() if line.strip()]
    text = lines[0] if lines else type(original).__name__
    text = text.rsplit(" failed: ", 1)[-1]
    return text.removeprefix("FATAL:").strip()
