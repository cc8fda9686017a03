"""What an operator sees when a command goes wrong: one line on stderr saying what is wrong and what to
do, a non-zero status, never a traceback — for every mistake a person can make.

Each kind of mistake runs the console script as a child process without a terminal, against
temporary .ini files and SQLite databases (`hyperapi(…)`); the further variants of a kind run
`cli.main` in this process (`in_process(…)`), which prints the same lines a second faster each.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import textwrap

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from hyperapi.cli.failures import BUG, SETUP, USAGE
from hyperapi.db import DATABASE_URL_ENV, make_engine
from hyperapi.db.migrations import alembic_config, upgrade

from ..support.console import MIGRATIONS, assert_one_line_error, hyperapi, in_process, write_ini

PASSWORD = "a long enough password"
# PostgreSQL on a port nothing listens on: refused at once. Its password must never be printed.
UNREACHABLE = "postgresql+psycopg://postgres:s3cr%2Ft@127.0.0.1:1/hyperapi_cli_nowhere"


@pytest.fixture(autouse=True)
def no_database_url_in_the_environment(monkeypatch):
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)


def app_main(*lines: str) -> str:
    return "\n".join(["[app:main]", *lines]) + "\n"


@pytest.fixture(scope="module")
def site_template(tmp_path_factory):
    """A migrated database with the user zoe, made once by the console script itself."""
    ini = write_ini(tmp_path_factory.mktemp("template"))
    assert hyperapi(ini, "migrate").status == 0
    assert hyperapi(ini, "user", "add", "zoe", "--password", PASSWORD).status == 0
    return database_file(ini)


@pytest.fixture
def site(tmp_path, site_template):
    """A working installation of the test's own: its .ini, and a copy of the template's database."""
    ini = write_ini(tmp_path)
    os.mkdir(tmp_path / "var")
    source, target = sqlite3.connect(site_template), sqlite3.connect(database_file(ini))
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    return ini


def database_file(ini) -> str:
    return os.path.join(os.path.dirname(ini), "var", "site.sqlite")


# --- the .ini file ---------------------------------------------------------------------------------


def test_a_missing_ini_file(tmp_path):
    result = hyperapi("nowhere.ini", "user", "list", cwd=tmp_path)
    assert_one_line_error(result, "there is no file nowhere.ini", "path", status=SETUP)


def test_an_ini_that_is_a_folder(tmp_path, capsys):
    os.mkdir(tmp_path / "site.ini")
    assert_one_line_error(in_process(capsys, str(tmp_path / "site.ini"), "migrate"), "site.ini is a folder",
                          status=SETUP)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_ini(tmp_path):
    ini = write_ini(tmp_path)
    os.chmod(ini, 0)
    assert_one_line_error(hyperapi(ini, "migrate"), "cannot read", "Permission denied", status=SETUP)


def test_an_ini_without_app_main(tmp_path):
    ini = write_ini(tmp_path, "[app:other]\nuse = egg:hyperapi\n")
    assert_one_line_error(hyperapi(ini, "migrate"), ini, "no [app:main] section", status=SETUP)


@pytest.mark.parametrize("content,words", [
    ("sqlalchemy.url = sqlite://\n", ["not a valid .ini file", "line 1"]),
    ("[app:main]\nuse = egg:hyperapi\nx = 1\nx = 2\n", ["not a valid .ini file", "line 4", "`x`"]),
    ("[app:main]\nuse = egg:hyperapi\nx = %(nothing)s\n", ["not a valid .ini file", "%(nothing)s"]),
    ("[app:main]\nuse = egg:hyperapi\nsqlalchemy.url = postgresql://u:p%2Fw@h/d\n", ["`sqlalchemy.url`", "%%"]),
    ("[app:main]\nuse = egg:hyperapi\n  indented nonsense\nnonsense\n", ["line 4", "name = value"]),
    ("[app:main]\nsqlalchemy.url = sqlite://\n", ["`use = egg:hyperapi`"]),
    ("[app:main]\nuse = egg:not-hyperapi\n", ["not installed", "egg:hyperapi"]),
    ("[app:main]\nuse = egg:hyperapi\nhyperapi.login_token_ttl = soon\n", ["wrong value", "soon"]),
    ("[app:main]\nuse = egg:hyperapi\nsqlalchemy.url = sqlite://\n[loggers]\nkeys = root\n", ["logging",
                                                                                            "[formatters]"]),
], ids=["no-section", "repeated-option", "interpolation", "percent", "not-name-value", "no-use", "other-app",
        "bad-setting", "bad-logging"])
def test_a_broken_ini(tmp_path, capsys, content, words):
    ini = tmp_path / "site.ini"
    ini.write_text(content)
    line = assert_one_line_error(in_process(capsys, str(ini), "migrate"), "site.ini", *words, status=SETUP)
    assert "p%2Fw" not in line  # a raw value is never repeated: it may hold a password


def test_no_database_url_anywhere(tmp_path):
    ini = write_ini(tmp_path, app_main("use = egg:hyperapi"))
    assert_one_line_error(hyperapi(ini, "migrate"), "no sqlalchemy.url", DATABASE_URL_ENV, status=SETUP)


def test_the_environment_gives_the_database_url(tmp_path, capsys, monkeypatch):
    ini = write_ini(tmp_path, app_main("use = egg:hyperapi", f"hyperapi.migrations = {MIGRATIONS}"))
    monkeypatch.setenv(DATABASE_URL_ENV, f"sqlite:///{tmp_path}/from-env.sqlite")
    result = in_process(capsys, ini, "migrate")
    assert result.status == 0, result.stderr
    assert os.path.exists(tmp_path / "from-env.sqlite")


@pytest.mark.parametrize("url,words", [
    ("not a url at all", ["is not a database URL"]),
    ("nosuchdatabase://host/name", ["does not know", "nosuchdatabase"]),
    ("mysql://someone@127.0.0.1/name", ["driver", "not installed"]),
], ids=["unparsable", "unknown-kind", "driver-missing"])
def test_a_wrong_database_url(tmp_path, capsys, url, words):
    ini = write_ini(tmp_path, app_main("use = egg:hyperapi", f"sqlalchemy.url = {url}"))
    line = assert_one_line_error(in_process(capsys, ini, "user", "list"), *words, status=SETUP)
    assert "not a url at all" not in line  # the URL itself is never repeated: it may hold a password


# --- the database ----------------------------------------------------------------------------------


def unreachable_ini(tmp_path) -> str:
    # In an .ini file a % is written %%: the URL-encoded password becomes s3cr%%2Ft.
    return write_ini(tmp_path, app_main("use = egg:hyperapi", f"sqlalchemy.url = {UNREACHABLE.replace('%', '%%')}"))


def test_an_unreachable_database_is_named_without_its_password(tmp_path):
    line = assert_one_line_error(hyperapi(unreachable_ini(tmp_path), "user", "list"), "127.0.0.1:1",
                                 "hyperapi_cli_nowhere", "refused", "sqlalchemy.url in", status=SETUP)
    assert "s3cr" not in line


@pytest.mark.parametrize("command", [["migrate"], ["initdb", "--demo"], ["user", "add", "zoe", "--password", PASSWORD],
                                     ["token", "list", "zoe"]])
def test_every_command_reports_an_unreachable_database(tmp_path, capsys, command):
    line = assert_one_line_error(in_process(capsys, unreachable_ini(tmp_path), *command), "127.0.0.1:1", "refused",
                                 status=SETUP)
    assert "s3cr" not in line


def test_an_unreachable_database_from_the_environment(tmp_path):
    line = assert_one_line_error(hyperapi(write_ini(tmp_path), "user", "list", env={DATABASE_URL_ENV: UNREACHABLE}),
                                 "127.0.0.1:1", DATABASE_URL_ENV, status=SETUP)
    assert "s3cr" not in line


def test_a_postgresql_database_that_does_not_exist(tmp_path, capsys):
    ini = write_ini(tmp_path, app_main("use = egg:hyperapi",
                                       "sqlalchemy.url = postgresql+psycopg://postgres@127.0.0.1:5432/hyperapi_cli_none"))
    result = in_process(capsys, ini, "user", "list")
    if "refused" in result.stderr:
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    assert_one_line_error(result, "hyperapi_cli_none", "does not exist", "createdb", status=SETUP)


def test_a_missing_database_file_is_not_created_by_a_command_that_needs_the_schema(tmp_path):
    ini = write_ini(tmp_path)
    assert_one_line_error(hyperapi(ini, "user", "list"), database_file(ini), "does not exist", "migrate",
                          status=SETUP)
    assert not os.path.exists(database_file(ini))


def test_a_file_that_is_not_a_database(tmp_path, capsys):
    ini = write_ini(tmp_path)
    os.mkdir(tmp_path / "var")
    with open(database_file(ini), "wb") as f:
        f.write(b"not SQLite" * 500)
    assert_one_line_error(in_process(capsys, ini, "user", "list"), database_file(ini), "not a database",
                          status=SETUP)


def test_a_database_without_the_schema(tmp_path):
    ini = write_ini(tmp_path)
    os.mkdir(tmp_path / "var")
    sqlite3.connect(database_file(ini)).close()
    assert_one_line_error(hyperapi(ini, "user", "list"), "no hyperapi schema", f"hyperapi {ini} migrate",
                          status=SETUP)


def test_a_schema_that_is_not_migrated_to_the_newest_revision(tmp_path, capsys):
    ini = write_ini(tmp_path)
    scripts = ScriptDirectory.from_config(alembic_config({"hyperapi.migrations": MIGRATIONS}, None))
    previous = scripts.get_revision(scripts.get_current_head()).down_revision
    os.mkdir(tmp_path / "var")
    engine = make_engine({"sqlalchemy.url": f"sqlite:///{database_file(ini)}"})
    try:
        upgrade({"hyperapi.migrations": MIGRATIONS}, engine, previous)
    finally:
        engine.dispose()
    assert_one_line_error(hyperapi(ini, "user", "add", "zoe", "--password", PASSWORD), f"revision {previous}",
                          "older", f"hyperapi {ini} migrate", status=SETUP)
    assert in_process(capsys, ini, "migrate").status == 0
    assert in_process(capsys, ini, "user", "add", "zoe", "--password", PASSWORD).status == 0


def test_a_schema_from_a_newer_version(site, capsys):
    engine = make_engine({"sqlalchemy.url": f"sqlite:///{database_file(site)}"})
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'f00d'"))
    engine.dispose()
    for command in (["user", "list"], ["migrate"]):
        assert_one_line_error(in_process(capsys, site, *command), "revision f00d", "newer version", status=SETUP)


def test_migrations_that_are_not_there(tmp_path, capsys):
    ini = write_ini(tmp_path, app_main("use = egg:hyperapi", f"sqlalchemy.url = sqlite:///{tmp_path}/x.sqlite",
                                       f"hyperapi.migrations = {tmp_path}/no-such-folder"))
    assert_one_line_error(in_process(capsys, ini, "migrate"), "no migrations", "hyperapi.migrations", status=SETUP)


# --- what the command was given --------------------------------------------------------------------


def test_a_password_is_needed_and_there_is_no_terminal(site):
    assert_one_line_error(hyperapi(site, "user", "add", "yan"), "no terminal", "--password", "--password-stdin",
                          status=USAGE)
    assert_one_line_error(hyperapi(site, "user", "passwd", "zoe"), "no terminal", status=USAGE)


def test_password_stdin_with_nothing_on_stdin(site):
    assert_one_line_error(hyperapi(site, "user", "add", "yan", "--password-stdin", stdin=""),
                          "--password-stdin", "standard input", status=USAGE)


def test_a_short_password_names_the_field(site):
    assert_one_line_error(hyperapi(site, "user", "add", "yan", "--password", "short"), "invalid password",
                          "10 characters", status=USAGE)


def test_a_duplicate_username(site):
    assert_one_line_error(hyperapi(site, "user", "add", "zoe", "--password", PASSWORD), "already a user 'zoe'",
                          "user passwd zoe", status=USAGE)


@pytest.mark.parametrize("argv,words", [
    (["user", "add", "Not Valid", "--password", PASSWORD], ["invalid username 'Not Valid'"]),
    (["user", "add", "yan", "--password", PASSWORD, "--email", "nope"], ["invalid email 'nope'"]),
    (["user", "add", "schema", "--password", PASSWORD], ["invalid username 'schema'", "reserved"]),
    (["user", "passwd", "zoe", "--password", "short"], ["invalid password", "10 characters"]),
], ids=["bad-username", "bad-email", "reserved-username", "short-new-password"])
def test_refused_user_data_names_the_field(site, capsys, argv, words):
    line = assert_one_line_error(in_process(capsys, site, *argv), *words, status=USAGE)
    assert "short" not in line  # nor a password, ever


def test_the_other_fields_are_checked_before_the_password_is_asked_for(site):
    # Without a terminal, asking would fail: these lines prove nobody was asked.
    assert_one_line_error(hyperapi(site, "user", "add", "Not Valid"), "invalid username", status=USAGE)
    assert_one_line_error(hyperapi(site, "user", "add", "zoe"), "already a user", status=USAGE)


def test_an_unknown_user(site):
    assert_one_line_error(hyperapi(site, "user", "passwd", "nobody", "--password", PASSWORD), "no user 'nobody'",
                          "user list", status=USAGE)


@pytest.mark.parametrize("argv", [["token", "create", "nobody"], ["token", "list", "nobody"],
                                  ["token", "revoke", "nobody", "--all"]],
                         ids=["token-create", "token-list", "token-revoke-all"])
def test_an_unknown_user_of_a_token_command(site, capsys, argv):
    assert_one_line_error(in_process(capsys, site, *argv), "no user 'nobody'", "user list", status=USAGE)


def test_revoking_an_unknown_token(site, capsys):
    assert_one_line_error(in_process(capsys, site, "token", "revoke", "nosuchtoken"),
                          "no token with the id 'nosuchtoken'", "token list", status=USAGE)
    # a username where an id belongs: the line says how to revoke all of that user's tokens
    assert_one_line_error(in_process(capsys, site, "token", "revoke", "zoe"), "'zoe' is a user", "--all",
                          status=USAGE)


def assert_usage_error(result, *words):
    assert result.status == USAGE, result
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("usage: hyperapi")
    last = result.stderr.splitlines()[-1]
    assert "error:" in last
    for word in words:
        assert word in last


def test_usage_errors_exit_2_with_argparse_usage():
    assert_usage_error(hyperapi("site.ini", "frob"), "invalid choice: 'frob'")
    # the .ini file forgotten: "user" would be read as the .ini file, "add" as an unknown command
    assert_usage_error(hyperapi("user", "add", "yan"), "the .ini file comes first")


@pytest.mark.parametrize("argv,words", [
    ([], ["required"]),
    (["site.ini"], ["required"]),
    (["site.ini", "user", "add"], ["required: NAME"]),
    (["site.ini", "user", "add", "yan", "--password", PASSWORD, "--password-stdin"], ["not allowed"]),
    (["site.ini", "token", "revoke"], ["required"]),
], ids=["nothing", "no-command", "no-name", "two-passwords", "no-token"])
def test_more_usage_errors(capsys, argv, words):
    assert_usage_error(in_process(capsys, *argv), *words)


# --- logging, bugs ---------------------------------------------------------------------------------


def test_alembic_says_what_it_does_only_with_verbose(tmp_path):
    ini = write_ini(tmp_path)  # its [logger_alembic] is at INFO, as in development.ini
    quiet = hyperapi(ini, "migrate")
    assert quiet.status == 0 and quiet.stderr == ""
    assert "Upgraded the schema from nothing to revision" in quiet.stdout
    assert "Schema is up to date." in quiet.stdout
    verbose = hyperapi(ini, "migrate", "-v", env={DATABASE_URL_ENV: f"sqlite:///{tmp_path}/second.sqlite"})
    assert verbose.status == 0
    assert "INFO [alembic.runtime.migration] Running upgrade" in verbose.stderr


BUGGY = [sys.executable, "-c", textwrap.dedent("""\
    import sys
    from hyperapi.services import users
    def broken(db):
        raise ZeroDivisionError("a bug somewhere")
    users.list_all = broken
    from hyperapi.cli import main
    sys.exit(main(sys.argv[1:]))
    """)]


def test_a_bug_is_one_line_saying_so(site):
    line = assert_one_line_error(hyperapi(site, "user", "list", command=BUGGY), "ZeroDivisionError",
                                 "a bug somewhere", "bug in hyperapi", "--traceback", status=BUG)
    assert line.startswith("error: unexpected")


def test_traceback_shows_the_whole_story(site):
    result = hyperapi(site, "user", "list", "--traceback", command=BUGGY)
    assert result.status == BUG
    assert result.stderr.startswith("Traceback")
    assert "in broken" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("error: unexpected ZeroDivisionError")
