"""The browsable API in a real browser: Debian's Chromium, headless, driven by Playwright for Python.

The app runs in a waitress server on 127.0.0.1 (a free port), over a database of its own made by
Alembic (`fresh_database`, SQLite or PostgreSQL as the suite runs): its requests commit for real.
Chromium is the system's (`/usr/bin/chromium`, installed by `.ci/run`); Playwright never downloads a
browser here. Without either, these tests skip, saying why.

Each test opens a new tab (sessionStorage is per tab: a new tab is signed out), signs in with a token
typed into the page, and then only clicks and types. Screenshots land in tests/artifacts/.
"""

from __future__ import annotations

import os
import shutil
import struct
import tempfile
import zlib

import pytest
from sqlalchemy.orm import Session

from hyperapi import main
from hyperapi.models import Organization, OrganizationMember, Party, Project, ProjectMember, User
from hyperapi.services.users import new_token

from ..support.databases import fresh_database
from ..support.factory import PASSWORD_HASH
from ..support.serving import served

pytestmark = pytest.mark.slow  # a real Chromium against a real server

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "artifacts")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 15_000

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (pip) is not installed")
if not os.path.exists(CHROMIUM):
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)


def png() -> bytes:
    """A real 4×4 PNG, made here."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x20\x80\xc0" * 4 for _ in range(4))
    header = struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def database(settings):
    with fresh_database(settings, "browser") as database:
        yield database


@pytest.fixture(scope="module")
def keys(database):
    """A collector of terra/plots (a public organization's public project) and a stranger."""
    _, engine = database
    with Session(engine, expire_on_commit=False) as session:
        collector = User(username="collie", full_name="Collie Collector", password_hash=PASSWORD_HASH)
        stranger = User(username="stranger", full_name="Stranger", password_hash=PASSWORD_HASH)
        org = Organization(slug="terra", name="Terra")
        session.add_all([collector, stranger, org])
        session.flush()
        project = Project(organization_id=org.id, slug="plots", name="Plots")
        session.add(project)
        session.flush()
        session.add(ProjectMember(project_id=project.id, user_id=collector.id, role="collector"))
        session.add(OrganizationMember(organization_id=org.id, user_id=stranger.id, role="member"))
        session.add(Party(project_id=project.id, name="Existing Holder", type="IN"))
        _, collector_key = new_token(session, collector, name="browser")
        _, stranger_key = new_token(session, stranger, name="browser")
        session.commit()
    return {"collector": collector_key, "stranger": stranger_key}


@pytest.fixture(scope="module")
def server(database):
    own, engine = database
    with served(main({}, **{**own, "hyperapi.engine": engine}), threads=4) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    profile = tempfile.mkdtemp(prefix="hyperapi-chromium-")
    with sync_api.sync_playwright() as playwright:
        try:
            context = playwright.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=FLAGS, viewport={"width": 1200, "height": 900})
        except Exception as exc:  # a Chromium this Playwright cannot drive: say so, do not fail
            shutil.rmtree(profile, ignore_errors=True)
            pytest.skip(f"Chromium at {CHROMIUM} could not be started by Playwright: {exc}")
        context.set_default_timeout(TIMEOUT_MS)
        yield context
        context.close()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def tab(browser):
    """A new tab, whose console errors (a CSP violation, a script error) fail the test."""
    page = browser.new_page()
    problems = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    yield page
    page.close()
    # A 4xx the test provoked on purpose is logged by Chromium as a failed resource load.
    real = [p for p in problems if "Failed to load resource" not in p]
    assert not real, f"the browser reported: {real}"


def shot(page, name: str) -> None:
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, f"{name}.png"), full_page=True)


def sign_in(page, base: str, key: str, path: str = "/api/v1/") -> None:
    page.goto(base + path)
    page.fill("#sign-in-token", key)
    page.click("form[data-action=sign-in-token] button")
    page.wait_for_selector("text=Signed in as")


def click_link(page, href_part: str) -> None:
    """Click the first link in the page's main part whose href ends with `href_part`."""
    page.click(f'main a[href$="{href_part}"]')
    page.wait_for_function("part => location.pathname.endsWith(part)", arg=href_part)
    page.wait_for_load_state()


def test_sign_in_and_click_through_to_the_parties(tab, server, keys):
    tab.goto(server + "/api/v1/")
    assert "Signed in" not in tab.inner_text("header")
    shot(tab, "01-root-anonymous")
    sign_in(tab, server, keys["collector"])
    assert "collie" in tab.inner_text("header .who")
    shot(tab, "02-root-signed-in")
    click_link(tab, "/api/v1/organizations/")
    click_link(tab, "/organizations/terra/")
    assert tab.inner_text("h1") == "Organization Terra"
    click_link(tab, "/terra/projects/")
    click_link(tab, "/projects/plots/")
    click_link(tab, "/plots/parties/")
    assert tab.inner_text("h1") == "Parties of Plots"
    assert "Existing Holder" in tab.inner_text("table.objects")  # a party: only a signed-in role holder sees it
    shot(tab, "03-parties")
    # Back goes back through history, still signed in.
    tab.go_back()
    tab.wait_for_function("() => location.pathname.endsWith('/projects/plots/')")
    tab.wait_for_selector("h1:has-text('Project Plots')")
    assert "collie" in tab.inner_text("header .who")


def test_a_page_opened_by_its_address_is_fetched_again_with_the_token(tab, server, keys):
    sign_in(tab, server, keys["collector"])
    tab.goto(server + "/api/v1/organizations/terra/projects/plots/parties/")  # the browser sends no token
    tab.wait_for_selector("text=Existing Holder")
    assert "collie" in tab.inner_text("header .who")


def test_create_a_party_through_the_form(tab, server, keys):
    sign_in(tab, server, keys["collector"], "/api/v1/organizations/terra/projects/plots/parties/")
    form = tab.locator("form[data-method=POST]")
    form.locator("[name=name]").fill("Made In Chromium")
    form.locator("[name=type]").select_option("GR")
    form.locator("[name=country]").fill("KE")
    form.locator("[name=attributes]").fill('{"plot": "<b>7</b>"}')
    shot(tab, "04-party-form")
    form.locator("button[type=submit]").click()
    tab.wait_for_selector("h1:has-text('Party Made In Chromium')")
    assert "/parties/" in tab.url and tab.url.rstrip("/").split("/")[-1] != "parties"
    fields = tab.inner_text("dl.fields")
    assert "Group" in fields and "KE" in fields and "<b>7</b>" in fields  # the markup shows as text
    assert "Created." in tab.inner_text("#notice")
    shot(tab, "05-party-created")


def test_upload_a_resource(tab, server, keys):
    sign_in(tab, server, keys["collector"], "/api/v1/organizations/terra/projects/plots/parties/")
    tab.click("main table.objects a:has-text('Existing Holder')")
    tab.wait_for_selector("h1:has-text('Party Existing Holder')")
    click_link(tab, "/resources/")
    form = tab.locator("form[data-method=POST]")
    form.locator("input[type=file]").set_input_files(
        files=[{"name": "plot.png", "mimeType": "application/octet-stream", "buffer": png()}])
    form.locator("[name=name]").fill("Plot photo")
    form.locator("[name=description]").fill("Taken at the corner stone")
    form.locator("button[type=submit]").click()
    tab.wait_for_selector("h1:has-text('Resource Plot photo')")
    fields = tab.inner_text("dl.fields")
    assert "image/png" in fields  # sniffed from the bytes, not taken from the browser's claim
    assert "plot.png" in fields
    assert tab.locator("main a[data-download]").count() >= 1
    shot(tab, "06-resource-uploaded")


def test_an_invalid_form_shows_the_error_beside_its_field(tab, server, keys):
    sign_in(tab, server, keys["collector"], "/api/v1/organizations/terra/projects/plots/parties/")
    form = tab.locator("form[data-method=POST]")
    form.locator("[name=country]").fill("XX")
    form.locator("[name=attributes]").fill("[1, 2")
    form.locator("button[type=submit]").click()
    name_error = form.locator("[data-error-for=name]")
    name_error.wait_for(state="visible")
    assert name_error.inner_text() == "This field is required."
    assert form.locator("[data-error-for=country]").inner_text() != ""
    assert form.locator("[data-error-for=attributes]").inner_text() == "Invalid JSON."
    assert form.locator("[name=country]").get_attribute("aria-invalid") == "true"
    assert "Invalid data." in form.locator("[data-error-for='']").inner_text()
    assert tab.url.endswith("/parties/")  # nothing was created, the page stays
    shot(tab, "07-validation-errors")


def test_a_caller_without_the_right_sees_no_form(tab, server, keys):
    sign_in(tab, server, keys["stranger"], "/api/v1/organizations/terra/projects/plots/parties/")
    tab.wait_for_selector("text=Existing Holder")  # an org member reads the parties ...
    assert tab.locator("form[data-action=write]").count() == 0  # ... and may change none of them


def test_a_bad_token_signs_out(tab, server, keys):
    tab.goto(server + "/api/v1/")
    tab.fill("#sign-in-token", "not-a-real-token")
    tab.click("form[data-action=sign-in-token] button")
    tab.wait_for_selector("#notice:has-text('not accepted')")
    assert "Signed in" not in tab.inner_text("header")
    assert tab.evaluate("() => sessionStorage.getItem('hyperapi.token')") is None
