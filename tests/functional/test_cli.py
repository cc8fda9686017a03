"""The console script `hyperapi INI COMMAND` (SPEC §8), run against a throw-away SQLite file."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
import textwrap
from contextlib import contextmanager
from io import StringIO

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from webtest import TestApp

from hyperapi import cli
from hyperapi.db import DATABASE_URL_ENV, make_engine
from hyperapi.demo import DEMO_FILES, DEMO_PASSWORD, USERS
from hyperapi.migrations import alembic_config
from hyperapi.models import Organization, Party, Project, Resource, Token, User, metadata
from hyperapi.storage import LocalStorage

from ..support.databases import MIGRATIONS

API = "/api/v1"
GOOD_PASSWORD = "a long enough password"


def write_ini(directory) -> str:
    path = os.path.join(directory, "test.ini")
    with open(path, "w") as f:
        f.write(textwrap.dedent(f"""\
            [app:main]
            use = egg:hyperapi
            sqlalchemy.url = sqlite:///%(here)s/var/cli.sqlite
            hyperapi.storage = file://%(here)s/var/files
            hyperapi.migrations = {MIGRATIONS}
            hyperapi.auto_migrate = false

            [loggers]
            keys = root

            [handlers]
            keys = console

            [formatters]
            keys = generic

            [logger_root]
            level = WARNING
            handlers = console

            [handler_console]
            class = StreamHandler
            args = (sys.stderr,)
            level = NOTSET
            formatter = generic

            [formatter_generic]
            format = %(levelname)s [%(name)s] %(message)s
            """))
    return path


class Installation:
    """A temporary installation: its .ini, its SQLite file, and the WSGI app serving that file.

    The app is the test session's app (built by `hyperapi.main`) with its session factory bound to this
    installation's database: `hyperapi.main` can not be called a second time in one process (see
    `test_the_app_factory_can_be_called_again`)."""

    def __init__(self, directory, wsgi_app):
        self.directory = str(directory)
        self.ini = write_ini(self.directory)
        self.url = f"sqlite:///{self.directory}/var/cli.sqlite"
        self.wsgi_app = wsgi_app
        self._app = None
        self._app_engine = None
        self._factory_kw = None

    def run(self, *argv) -> tuple[int, str]:
        out = StringIO()
        code = cli.run([self.ini, *argv], out=out)
        return code, out.getvalue()

    def engine(self):
        return make_engine({"sqlalchemy.url": self.url})

    def scalar(self, statement):
        engine = self.engine()
        try:
            with engine.connect() as connection:
                return connection.execute(statement).scalar()
        finally:
            engine.dispose()

    @property
    def app(self) -> TestApp:
        if self._app is None:
            factory = self.wsgi_app.registry["db.session_factory"]
            self._factory_kw = dict(factory.kw)
            self._app_engine = self.engine()
            factory.configure(bind=self._app_engine)
            self._app = TestApp(self.wsgi_app)
        return self._app

    def close(self):
        if self._factory_kw is not None:
            factory = self.wsgi_app.registry["db.session_factory"]
            factory.kw.clear()
            factory.kw.update(self._factory_kw)
        if self._app_engine is not None:
            self._app_engine.dispose()

    def login(self, username, password=DEMO_PASSWORD):
        return self.app.post_json(f"{API}/account/login/", {"username": username, "password": password},
                                  expect_errors=True)

    def as_(self, key):
        return Caller(self.app, key)


class Caller:
    def __init__(self, app, key):
        self.app = app
        self.headers = {"Authorization": f"Token {key}"} if key else {}

    def get(self, url):
        return self.app.get(url, headers=self.headers, expect_errors=True)

    def post(self, url, body):
        return self.app.post_json(url, body, headers=self.headers, expect_errors=True)


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


@pytest.fixture
def install(tmp_path, monkeypatch, wsgi_app):
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)  # never the configured database
    installation = Installation(tmp_path, wsgi_app)
    with preserved_logging():
        yield installation
    installation.close()


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory):
    """`initdb --demo` once per module (it hashes a password per user); each test gets a copy."""
    directory = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as patch, preserved_logging():
        patch.delenv(DATABASE_URL_ENV, raising=False)
        code, out = Installation(directory, None).run("initdb", "--demo")
    assert code == 0, out
    return os.path.join(directory, "var", "cli.sqlite")


@pytest.fixture
def demo(install, demo_template):
    os.makedirs(os.path.join(install.directory, "var"))
    source = sqlite3.connect(demo_template)
    target = sqlite3.connect(os.path.join(install.directory, "var", "cli.sqlite"))
    try:
        source.backup(target)  # reads through the WAL, unlike a file copy
    finally:
        source.close()
        target.close()
    return install


# --- initdb ----------------------------------------------------------------------------------------


def test_initdb_creates_the_schema_at_head(install):
    assert not os.path.exists(os.path.join(install.directory, "var"))
    code, out = install.run("initdb")
    assert code == 0
    assert "Schema is up to date." in out
    engine = install.engine()
    try:
        assert set(metadata.tables) <= set(sa.inspect(engine).get_table_names())
        with engine.connect() as connection:
            revision = MigrationContext.configure(connection).get_current_revision()
        assert revision == ScriptDirectory.from_config(alembic_config({"hyperapi.migrations": MIGRATIONS},
                                                                      engine)).get_current_head()
    finally:
        engine.dispose()
    assert install.scalar(sa.select(sa.func.count()).select_from(User)) == 0
    assert install.scalar(sa.select(sa.func.count()).select_from(Organization)) == 0


def test_initdb_twice_and_migrate_are_harmless(install):
    assert install.run("initdb")[0] == 0
    assert install.run("initdb")[0] == 0
    code, out = install.run("migrate")
    assert code == 0 and "Schema is up to date." in out


def test_initdb_demo_loads_the_demo_data(install):
    code, out = install.run("initdb", "--demo")
    assert code == 0
    assert "Schema is up to date." in out and "Demo data loaded" in out
    demo = install
    assert demo.scalar(sa.select(sa.func.count()).select_from(User)) == len(USERS)
    assert demo.scalar(sa.select(sa.func.count()).select_from(Organization)) == 2
    assert demo.scalar(sa.select(sa.func.count()).select_from(Project)) == 4
    assert demo.scalar(sa.select(sa.func.count()).select_from(Party)) == 5
    # Its files are stored beside the database, one per resource, under keys the server made.
    assert demo.scalar(sa.select(sa.func.count()).select_from(Resource)) == len(DEMO_FILES)
    stored = LocalStorage(os.path.join(demo.directory, "var", "files")).keys()
    assert sorted(stored) == sorted(demo.scalar(sa.select(sa.func.group_concat(Resource.file))).split(","))


def test_initdb_demo_twice_does_not_load_twice(demo):
    code, out = demo.run("initdb", "--demo")
    assert code == 0
    assert "not loaded" in out
    assert demo.scalar(sa.select(sa.func.count()).select_from(Party)) == 5
    assert demo.scalar(sa.select(sa.func.count()).select_from(User)) == len(USERS)


@pytest.mark.parametrize("username", [u for u, _, _ in USERS])
def test_every_demo_user_can_log_in_with_the_demo_password(demo, username):
    r = demo.login(username)
    assert r.status_int == 201, r.text
    me = demo.as_(r.json["token"]).get(f"{API}/account/")
    assert me.status_int == 200 and me.json["username"] == username
    assert demo.login(username, "not the demo password").status_int == 401


def names(response) -> set[str]:
    assert response.status_int == 200, response.text
    return {o.get("slug") or o.get("name") for o in response.json["objects"]}


KAMPALA = f"{API}/organizations/terra-registry/projects/kampala-peri-urban/"
MOMBASA = f"{API}/organizations/terra-registry/projects/mombasa-coast/"
PILOT = f"{API}/organizations/terra-registry/projects/pilot-2019/"
QUIET = f"{API}/organizations/quiet-ground/"
SENSITIVE = f"{QUIET}projects/sensitive-survey/"
KAMPALA_PARTIES = {"Barnabas Mughongo", "Nakato Family", "Kisubi Farmers Cooperative"}

ALL_PROJECTS = {"kampala-peri-urban", "mombasa-coast", "pilot-2019", "sensitive-survey"}

# username → (organizations seen, parties seen in Kampala, status of Mombasa, of the pilot, of Quiet Ground)
DEMO_VIEW = {
    "root": ({"terra-registry", "quiet-ground"}, KAMPALA_PARTIES, 200, 200, 200),
    "amara": ({"terra-registry", "quiet-ground"}, KAMPALA_PARTIES, 200, 200, 200),
    "bruno": ({"terra-registry"}, KAMPALA_PARTIES, 200, 404, 404),
    "chen": ({"terra-registry"}, KAMPALA_PARTIES, 404, 404, 404),
    "dina": ({"terra-registry"}, KAMPALA_PARTIES, 404, 404, 404),
    "emeka": ({"terra-registry"}, KAMPALA_PARTIES, 404, 404, 404),
    "farah": ({"terra-registry"}, set(), 404, 404, 404),
    None: ({"terra-registry"}, set(), 404, 404, 404),
}


@pytest.mark.parametrize("username", list(DEMO_VIEW), ids=[str(u) for u in DEMO_VIEW])
def test_demo_users_see_what_they_should(demo, username):
    orgs, parties, mombasa, pilot, quiet = DEMO_VIEW[username]
    key = demo.login(username).json["token"] if username else None
    caller = demo.as_(key)
    assert names(caller.get(f"{API}/organizations/")) == orgs
    assert caller.get(KAMPALA).status_int == 200
    assert names(caller.get(KAMPALA + "parties/")) == parties
    assert caller.get(MOMBASA).status_int == mombasa
    assert caller.get(PILOT).status_int == pilot
    assert caller.get(QUIET).status_int == quiet
    # the flat list holds exactly the projects whose own URL answers 200
    projects = {"kampala-peri-urban"} | ({"mombasa-coast"} if mombasa == 200 else set()) | (
        {"pilot-2019"} if pilot == 200 else set()) | ({"sensitive-survey"} if quiet == 200 else set())
    assert names(caller.get(f"{API}/projects/")) == projects
    for slug in ALL_PROJECTS:
        org = "quiet-ground" if slug == "sensitive-survey" else "terra-registry"
        status = caller.get(f"{API}/organizations/{org}/projects/{slug}/").status_int
        assert status == (200 if slug in projects else 404), slug
    sensitive = caller.get(SENSITIVE + "parties/")
    if quiet == 200:
        assert names(sensitive) == {"Protected Person"}
    else:
        assert sensitive.status_int == 404
    # each Kampala party's own URL answers exactly as the list says
    engine = demo.engine()
    with engine.connect() as connection:
        ids = connection.execute(sa.select(Party.id).join(Project).where(Project.slug == "kampala-peri-urban"))
        ids = ids.scalars().all()
    engine.dispose()
    assert len(ids) == 3
    for party_id in ids:
        r = caller.get(f"{KAMPALA}parties/{party_id}/")
        assert r.status_int == (200 if parties else 404)
        if r.status_int == 404:
            assert r.json == {"error": "Party does not exist"}


@pytest.mark.parametrize("username,status", [("amara", 201), ("chen", 201), ("dina", 201), ("emeka", 403),
                                             ("bruno", 403), ("farah", 403)])
def test_demo_roles_can_write_what_they_should(demo, username, status):
    caller = demo.as_(demo.login(username).json["token"])
    r = caller.post(KAMPALA + "parties/", {"name": "New Neighbour", "type": "IN"})
    assert r.status_int == status, r.text


# --- user add --------------------------------------------------------------------------------------


def test_user_add_with_password(install):
    install.run("initdb")
    code, out = install.run("user", "add", "zoe", "--password", GOOD_PASSWORD, "--email", "zoe@example.org",
                            "--full-name", "Zoe Adeyemi")
    assert code == 0
    assert "zoe" in out and "superuser" not in out
    r = install.login("zoe", GOOD_PASSWORD)
    assert r.status_int == 201, r.text
    me = install.as_(r.json["token"]).get(f"{API}/account/").json
    assert me["is_superuser"] is False
    assert me["full_name"] == "Zoe Adeyemi" and me["email"] == "zoe@example.org"
    assert install.as_(r.json["token"]).post(f"{API}/users/", {"username": "x", "password": GOOD_PASSWORD}
                                             ).status_int == 403


def test_user_add_superuser(install):
    install.run("initdb")
    code, out = install.run("user", "add", "admin", "--password", GOOD_PASSWORD, "--superuser")
    assert code == 0 and "superuser" in out
    key = install.login("admin", GOOD_PASSWORD).json["token"]
    caller = install.as_(key)
    assert caller.get(f"{API}/account/").json["is_superuser"] is True
    r = caller.post(f"{API}/users/", {"username": "newbie", "password": GOOD_PASSWORD})
    assert r.status_int == 201, r.text


def test_user_add_asks_for_the_password_when_not_given(install, monkeypatch):
    install.run("initdb")
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt="": GOOD_PASSWORD)
    code, _ = install.run("user", "add", "yuki")
    assert code == 0
    assert install.login("yuki", GOOD_PASSWORD).status_int == 201


def test_user_add_stores_only_a_hash(install):
    install.run("initdb")
    install.run("user", "add", "zoe", "--password", GOOD_PASSWORD)
    stored = install.scalar(sa.select(User.password_hash).where(User.username == "zoe"))
    assert stored and GOOD_PASSWORD not in stored and stored.startswith("$argon2")


def test_too_short_password_is_refused_with_exit_code_2(install, capsys):
    install.run("initdb")
    assert cli.main([install.ini, "user", "add", "yan", "--password", "short"]) == 2
    err = capsys.readouterr().err
    assert "password" in err.lower()
    assert "Traceback" not in err
    assert install.scalar(sa.select(sa.func.count()).select_from(User)) == 0


@pytest.mark.parametrize("argv,word", [(["user", "add", "Not Valid", "--password", GOOD_PASSWORD], "username"),
                                       (["user", "add", "zoe", "--password", GOOD_PASSWORD, "--email", "nope"],
                                        "email")])
def test_invalid_user_is_refused_with_exit_code_2(install, capsys, argv, word):
    install.run("initdb")
    assert cli.main([install.ini, *argv]) == 2
    assert word in capsys.readouterr().err.lower()
    assert install.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_duplicate_user_is_refused_with_exit_code_2(install, capsys):
    install.run("initdb")
    assert install.run("user", "add", "zoe", "--password", GOOD_PASSWORD)[0] == 0
    assert cli.main([install.ini, "user", "add", "zoe", "--password", "another long password"]) == 2
    assert "error" in capsys.readouterr().err.lower()
    assert install.scalar(sa.select(sa.func.count()).select_from(User)) == 1
    assert install.login("zoe", GOOD_PASSWORD).status_int == 201  # the first one's password stands


# --- token create ----------------------------------------------------------------------------------


def test_token_create_prints_a_working_key(install):
    install.run("initdb")
    install.run("user", "add", "zoe", "--password", GOOD_PASSWORD)
    code, out = install.run("token", "create", "zoe", "--name", "laptop")
    assert code == 0
    key = out.strip()
    assert key and "\n" not in key
    r = install.as_(key).get(f"{API}/account/")
    assert r.status_int == 200, r.text
    assert r.json["username"] == "zoe"
    tokens = install.as_(key).get(f"{API}/account/tokens/").json["objects"]
    assert [t["name"] for t in tokens] == ["laptop"]
    assert all("key" not in t for t in tokens)
    # only the key's SHA-256 is stored
    assert install.scalar(sa.select(sa.func.count()).select_from(Token).where(Token.key_hash == key)) == 0


def test_token_create_twice_gives_two_different_keys(install):
    install.run("initdb")
    install.run("user", "add", "zoe", "--password", GOOD_PASSWORD)
    first = install.run("token", "create", "zoe")[1].strip()
    second = install.run("token", "create", "zoe")[1].strip()
    assert first != second
    for key in (first, second):
        assert install.as_(key).get(f"{API}/account/").status_int == 200


def test_demo_user_token_via_cli(demo):
    key = demo.run("token", "create", "chen")[1].strip()
    r = demo.as_(key).get(KAMPALA + "parties/")
    assert names(r) == KAMPALA_PARTIES


def test_token_create_for_unknown_user_exits_2(install, capsys):
    install.run("initdb")
    assert cli.main([install.ini, "token", "create", "nobody"]) == 2
    err = capsys.readouterr().err
    assert "nobody" in err and "Traceback" not in err
    assert install.scalar(sa.select(sa.func.count()).select_from(Token)) == 0


def test_bad_token_is_refused(install):
    install.run("initdb")
    assert install.as_("not-a-key").get(f"{API}/account/").status_int == 401


def test_the_app_factory_can_be_called_again(install):
    """`hyperapi.main` is a WSGI app factory: a second app in the same process (another database, a
    paste composite, a test) must be possible. Run in a child process, so a failure leaves this one alone."""
    install.run("initdb")
    settings = {"sqlalchemy.url": install.url, "hyperapi.migrations": MIGRATIONS, "hyperapi.auto_migrate": "false"}
    script = textwrap.dedent(f"""\
        from webtest import TestApp
        from hyperapi import main
        first = main({{}}, **{settings!r})
        second = main({{}}, **{settings!r})
        for app in (first, second):
            assert TestApp(app).get("{API}/organizations/").json["objects"] == []
        """)
    env = {k: v for k, v in os.environ.items() if k != DATABASE_URL_ENV}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
