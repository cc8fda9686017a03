"""The console script `hyperapi INI COMMAND` (SPEC §8), run against a throw-away SQLite file."""

from __future__ import annotations

import datetime
import json
import os
import select
import sqlite3
import subprocess
import sys
import textwrap
from io import StringIO

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from webtest import TestApp

from hyperapi import cli
from hyperapi.cli.demo import DEMO_FILES, DEMO_PASSWORD, USERS
from hyperapi.db import DATABASE_URL_ENV, make_engine
from hyperapi.db.migrations import alembic_config
from hyperapi.files.storage import LocalStorage
from hyperapi.models import Organization, Party, Project, Resource, Token, User, metadata

from ..support.console import COMMAND, hyperapi, preserved_logging
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
    monkeypatch.setattr("getpass.getpass", lambda prompt="": GOOD_PASSWORD)
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


def test_user_add_reads_the_password_from_stdin(install):
    install.run("initdb")
    result = hyperapi(install.ini, "user", "add", "zoe", "--password-stdin", stdin=GOOD_PASSWORD + "\n")
    assert result.status == 0, result.stderr
    assert result.stdout == "Created user zoe.\n"
    assert install.login("zoe", GOOD_PASSWORD).status_int == 201


def on_a_terminal(argv: list[str], answers: list[str]) -> tuple[int, str, str]:
    """Run the console script with a pseudo-terminal for stdin and stderr (where getpass asks), typing
    each answer once its prompt has appeared: (status, stdout, what the terminal showed)."""
    main, child = os.openpty()
    env = {k: v for k, v in os.environ.items() if k != DATABASE_URL_ENV}
    process = subprocess.Popen([*COMMAND, *argv], stdin=child, stdout=subprocess.PIPE, stderr=child, env=env,
                               start_new_session=True)
    os.close(child)
    shown = b""
    try:
        for number, answer in enumerate(answers, start=1):
            # getpass flushes what was typed before its prompt: wait for the prompt, then type
            while shown.count(b": ") < number:
                ready, _, _ = select.select([main], [], [], 60)
                assert ready, shown
                shown += os.read(main, 1024)
            os.write(main, answer.encode() + b"\n")
        while True:
            try:
                chunk = os.read(main, 1024)
            except OSError:  # EIO: the child has closed the terminal
                break
            if not chunk:
                break
            shown += chunk
        stdout = process.stdout.read().decode()
        return process.wait(timeout=60), stdout, shown.decode()
    finally:
        os.close(main)
        process.stdout.close()
        if process.poll() is None:
            process.kill()


def test_user_add_on_a_terminal_asks_twice_without_echo(install):
    install.run("initdb")
    status, out, shown = on_a_terminal([install.ini, "user", "add", "yuki"], [GOOD_PASSWORD, GOOD_PASSWORD])
    assert status == 0, shown
    assert "Password for yuki: " in shown and "The same again: " in shown
    assert GOOD_PASSWORD not in shown  # not echoed
    assert out == "Created user yuki.\n"
    assert install.login("yuki", GOOD_PASSWORD).status_int == 201


def test_user_add_on_a_terminal_with_two_different_passwords(install):
    install.run("initdb")
    status, out, shown = on_a_terminal([install.ini, "user", "add", "yuki"], [GOOD_PASSWORD, "another password"])
    assert status == 2
    assert shown.splitlines()[-1] == "error: the two passwords differ — run the command again"
    assert install.scalar(sa.select(sa.func.count()).select_from(User)) == 0


# --- user list -------------------------------------------------------------------------------------


def test_user_list_is_a_table_in_columns(demo):
    code, out = demo.run("user", "list")
    assert code == 0
    header, *rows = out.splitlines()
    assert header.split() == ["USERNAME", "FULL", "NAME", "SUPERUSER", "EMAIL"]
    assert [row.split()[0] for row in rows] == sorted(u for u, _, _ in USERS)
    columns = [header.index(title) for title in ("FULL NAME", "SUPERUSER", "EMAIL")]
    for row, (username, full_name, superuser) in zip(rows, sorted(USERS), strict=True):
        cells = [row[:columns[0]], row[columns[0]:columns[1]], row[columns[1]:columns[2]], row[columns[2]:]]
        assert [cell.strip() for cell in cells] == [username, full_name, "yes" if superuser else "no",
                                                    f"{username}@example.org"]


def test_user_list_as_json(demo):
    code, out = demo.run("user", "list", "--json")
    assert code == 0
    assert json.loads(out) == [{"username": u, "full_name": name, "is_superuser": superuser,
                                "email": f"{u}@example.org"} for u, name, superuser in sorted(USERS)]


def test_user_list_without_users(install):
    install.run("initdb")
    code, out = install.run("user", "list")
    assert code == 0 and out.startswith("No users yet")
    assert json.loads(install.run("user", "list", "--json")[1]) == []


def test_user_list_never_prints_control_characters(install):
    """A full name comes from the API; an escape sequence in it must not reach the operator's terminal."""
    install.run("initdb")
    install.run("user", "add", "zoe", "--password", GOOD_PASSWORD, "--full-name", "Zoe \x1b[31mRed\x1b[0m")
    out = install.run("user", "list")[1]
    assert "\x1b" not in out and "Zoe ?[31mRed?[0m" in out


# --- user passwd -----------------------------------------------------------------------------------


def test_user_passwd_changes_the_password_and_revokes_every_token(install):
    install.run("initdb")
    install.run("user", "add", "zoe", "--password", GOOD_PASSWORD)
    install.run("user", "add", "yan", "--password", GOOD_PASSWORD)
    keys = [install.run("token", "create", "zoe")[1].strip(), install.login("zoe", GOOD_PASSWORD).json["token"]]
    other = install.run("token", "create", "yan")[1].strip()
    for key in [*keys, other]:
        assert install.as_(key).get(f"{API}/account/").status_int == 200

    result = hyperapi(install.ini, "user", "passwd", "zoe", "--password-stdin", stdin="a brand new password\n")
    assert result.status == 0, result.stderr
    assert result.stdout == ("Changed the password of zoe and revoked 2 tokens: whoever used them must sign in "
                             "again.\n")
    for key in keys:
        assert install.as_(key).get(f"{API}/account/").status_int == 401
    assert install.as_(other).get(f"{API}/account/").status_int == 200  # another user's stay
    assert install.login("zoe", GOOD_PASSWORD).status_int == 401
    assert install.login("zoe", "a brand new password").status_int == 201


def test_user_passwd_of_a_user_without_tokens(install):
    install.run("initdb")
    install.run("user", "add", "zoe", "--password", GOOD_PASSWORD)
    code, out = install.run("user", "passwd", "zoe", "--password", "a brand new password")
    assert code == 0 and out == "Changed the password of zoe (who had no tokens to revoke).\n"
    assert install.login("zoe", "a brand new password").status_int == 201


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


# --- token list ------------------------------------------------------------------------------------


def test_token_list_shows_what_a_token_is_never_its_key(install):
    install.run("initdb")
    install.run("user", "add", "zoe", "--password", GOOD_PASSWORD)
    laptop = install.run("token", "create", "zoe", "--name", "laptop")[1].strip()
    phone = install.run("token", "create", "zoe", "--name", "phone")[1].strip()
    assert install.as_(laptop).get(f"{API}/account/").status_int == 200  # the laptop's is used once
    hashes = install.scalar(sa.select(sa.func.group_concat(Token.key_hash))).split(",")
    assert len(hashes) == 2

    result = hyperapi(install.ini, "token", "list", "zoe")
    assert result.status == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["ID", "NAME", "CREATED", "LAST", "USED", "EXPIRES"]
    assert [row.split()[1] for row in rows] == ["laptop", "phone"]
    last_used = header.index("LAST USED")
    assert rows[0][last_used:].split()[0] != "never" and rows[1][last_used:].split() == ["never", "never"]
    for secret in (laptop, phone, *hashes):
        assert secret not in result.stdout

    listed = json.loads(install.run("token", "list", "zoe", "--json")[1])
    assert [set(t) for t in listed] == [{"id", "name", "created", "last_used", "expires"}] * 2
    assert [t["id"] for t in listed] == [row.split()[0] for row in rows]
    assert listed[0]["last_used"].endswith("Z") and listed[1]["last_used"] is None
    assert install.run("user", "add", "yan", "--password", GOOD_PASSWORD)[0] == 0
    assert install.run("token", "list", "yan")[1] == "yan has no tokens.\n"


def test_token_list_marks_expired_tokens(install):
    install.run("initdb")
    install.run("user", "add", "zoe", "--password", GOOD_PASSWORD)
    install.run("token", "create", "zoe")
    engine = install.engine()
    with engine.begin() as connection:
        connection.execute(sa.update(Token).values(expires=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)))
    engine.dispose()
    assert "2020-01-01T00:00Z (expired)" in install.run("token", "list", "zoe")[1]


# --- token revoke ----------------------------------------------------------------------------------


def test_token_revoke_one_by_its_id(install):
    install.run("initdb")
    install.run("user", "add", "zoe", "--password", GOOD_PASSWORD)
    laptop = install.run("token", "create", "zoe", "--name", "laptop")[1].strip()
    phone = install.run("token", "create", "zoe", "--name", "phone")[1].strip()
    laptop_id = json.loads(install.run("token", "list", "zoe", "--json")[1])[0]["id"]

    result = hyperapi(install.ini, "token", "revoke", laptop_id)
    assert result.status == 0, result.stderr
    assert result.stdout == f"Revoked token {laptop_id} (laptop) of zoe.\n"
    assert install.as_(laptop).get(f"{API}/account/").status_int == 401
    assert install.as_(phone).get(f"{API}/account/").status_int == 200


def test_token_revoke_all_of_a_user(install):
    install.run("initdb")
    install.run("user", "add", "zoe", "--password", GOOD_PASSWORD)
    install.run("user", "add", "yan", "--password", GOOD_PASSWORD)
    keys = [install.run("token", "create", "zoe")[1].strip() for _ in range(3)]
    other = install.run("token", "create", "yan")[1].strip()
    code, out = install.run("token", "revoke", "zoe", "--all")
    assert code == 0 and out == "Revoked 3 tokens of zoe.\n"
    for key in keys:
        assert install.as_(key).get(f"{API}/account/").status_int == 401
    assert install.as_(other).get(f"{API}/account/").status_int == 200
    assert install.login("zoe", GOOD_PASSWORD).status_int == 201  # the password still works


def test_python_m_hyperapi_cli_is_the_same_program(install):
    install.run("initdb")
    result = hyperapi(install.ini, "user", "list", "--json", command=[sys.executable, "-m", "hyperapi.cli"])
    assert result.status == 0 and json.loads(result.stdout) == []
    missing = hyperapi("missing.ini", "user", "list", command=[sys.executable, "-m", "hyperapi.cli"])
    assert missing.status == 1 and missing.stderr.startswith("error: there is no file missing.ini")


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
