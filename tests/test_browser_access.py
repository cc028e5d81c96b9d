"""Sign-in in a real browser (issue #15): the app served with [auth] pointing at a local OpenID
Connect provider (oidc-provider-mock on localhost, started here), people signing in through its
form in Chromium, and what each role may do.

- a viewer signs in and finds no way to change anything on any page — and a direct call of each
  write function as that user is refused;
- an editor changes a probability on the Forecast page and it is in the audit trail (the Data
  page's CSV) with the values before and after;
- an admin imports a file, restores to before it from the audit trail, and every figure of
  ``python -m funnel report --json`` is what it was.

Run: .venv/bin/python -m pytest tests/test_browser_access.py -q
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from browser_support import (
    ARTIFACTS, CHROMIUM, ROOT, SCRIPT_DONE, TALL, Server, app_pages, download_file, error_texts, free_port,
    launch_chromium, open_app, screenshot, stop_streamlit, wait_for_app, wait_healthy,
)

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
oidc_mock = pytest.importorskip("oidc_provider_mock", reason="oidc-provider-mock (requirements-dev.txt) is missing")
pytest.importorskip("authlib", reason="Authlib (requirements.txt) is missing: st.login needs it")
expect = sync_api.expect

pytestmark = pytest.mark.browser

ROLES = {"admin": ["ada@example.com"], "editor": ["ed@example.com"], "default": "viewer"}
PEOPLE = {"viewer": ("vera@example.com", "Vera Viewer"), "editor": ("ed@example.com", "Ed Editor"),
          "admin": ("ada@example.com", "Ada Admin")}

# Controls that change stored data, by their visible label: a viewer must find none of them.
WRITE_BUTTONS = ["Save this week's review", "Adopt historical rates", "Reset to defaults", "Save targets",
                 "Save scenario", "Make scenario current", "Save changes", "Rename a stage",
                 "Reset stages to defaults", "Validate", "Commit import", "Reset to sample data…",
                 "Import", "Save mapping"]
WRITE_WIDGETS = ("[data-testid='stFileUploader'], .st-key-forecast_probabilities, .st-key-tis_sla_editor, "
                 ".st-key-stages_lead, .st-key-stages_opportunity, .st-key-save_scenario, .st-key-make_current")


@pytest.fixture(scope="module")
def oidc_server():
    users = [oidc_mock.User(sub=email, claims={"email": email, "name": name}) for email, name in PEOPLE.values()]
    with oidc_mock.run_server_in_thread(user_claims=users) as server:
        yield f"http://localhost:{server.server_port}"


def start_with_sign_in(db: Path, issuer: str, tmp: Path) -> Server:
    """``streamlit run app.py`` on 127.0.0.1 with [auth] pointing at ``issuer`` and the roles above
    (a secrets file of its own, so nothing in the repository's .streamlit/ is touched)."""
    port = free_port()
    secrets = tmp / "secrets.toml"
    secrets.write_text(f"""
[auth]
redirect_uri = "http://127.0.0.1:{port}/oauth2callback"
cookie_secret = "test-cookie-secret-{port}-0123456789abcdef"
client_id = "funnelcast-test"
client_secret = "any"
server_metadata_url = "{issuer}/.well-known/openid-configuration"

[funnelcast.roles]
admin = {json.dumps(ROLES["admin"])}
editor = {json.dumps(ROLES["editor"])}
default = "{ROLES["default"]}"
""", encoding="utf-8")
    log_path = ARTIFACTS / f"streamlit-access-{db.stem}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none", "--secrets.files", str(secrets)]
    log = open(log_path, "w")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, "FUNNEL_DB": str(db), "PYTHONUNBUFFERED": "1"},
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(proc=proc, port=port, log_path=log_path)
    try:
        wait_healthy(server, 60)
    except BaseException:
        stop_streamlit(server)
        raise
    return server


@pytest.fixture(scope="module")
def signed_server(sample_db, oidc_server, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("access")
    db = tmp / "access.duckdb"
    shutil.copy(sample_db, db)
    server = start_with_sign_in(db, oidc_server, tmp)
    server.db = db
    try:
        yield server
    finally:
        stop_streamlit(server)


def sign_in(page, server: Server, role: str) -> None:
    """Through the app's Sign in button and the provider's form, as the person with ``role``."""
    email = PEOPLE[role][0]
    page.goto(server.base_url + "/", wait_until="domcontentloaded")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name=email).click()          # the provider's one-click user
    page.wait_for_url(f"{server.base_url}/**")
    wait_for_app(page)
    expect(page.locator("[data-testid='stSidebar']")).to_contain_text(f"{email} · {role}")


def test_without_signing_in_nothing_is_shown(signed_server):
    with sync_api.sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport=TALL)
            page.goto(signed_server.base_url + "/forecast", wait_until="domcontentloaded")
            expect(page.get_by_role("button", name="Sign in")).to_be_visible()
            page.wait_for_selector(SCRIPT_DONE)
            assert page.locator("[data-testid='stMetric'], [data-testid='stPlotlyChart']").count() == 0
        finally:
            browser.close()


def test_a_viewer_finds_no_way_to_change_anything(signed_server):
    with sync_api.sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport=TALL)
            sign_in(page, signed_server, "viewer")
            for app_page in app_pages():
                open_app(page, f"{signed_server.base_url}/{app_page.route}")
                where = f"page {app_page.slug}"
                assert not error_texts(page), f"{where}: {error_texts(page)}"
                found = [b for b in WRITE_BUTTONS if page.get_by_role("button", name=b, exact=True).count()]
                assert not found, f"{where}: a viewer sees write controls {found}"
                assert page.locator(WRITE_WIDGETS).count() == 0, f"{where}: a viewer sees an editor or uploader"
                screenshot(page, f"access-viewer-{app_page.slug}")
            # The audit trail and its download are for everyone.
            open_app(page, f"{signed_server.base_url}/data")
            expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
        finally:
            browser.close()


def test_a_direct_call_of_each_write_function_as_the_viewer_is_refused(sample_copy):
    """The same person the browser signed in (their claims through the same role configuration)
    calling every write function directly: refused, nothing written."""
    from funnel import access, store
    from test_access import WRITES, _state

    viewer = access.actor_from_claims({"email": PEOPLE["viewer"][0], "name": PEOPLE["viewer"][1]},
                                      access.RoleConfig.from_mapping(ROLES))
    assert viewer.role == "viewer"
    con = store.connect(sample_copy)
    try:
        from funnel import scoring
        scoring.save_scenario(con, "Q4", scoring.stored_rules(con)[:2], 30, actor=access.local_admin())
        before = _state(con)
        for name, (_permission, call) in WRITES.items():
            with pytest.raises(access.PermissionDenied):
                call(con, viewer)
        assert _state(con) == before
    finally:
        con.close()


def _audit_csv(page, server: Server) -> list[dict]:
    open_app(page, f"{server.base_url}/data")
    path = download_file(page, lambda: page.locator(".st-key-dl_audit button").click())
    with open(path, encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_an_editor_changes_a_probability_and_it_is_in_the_audit_trail(signed_server):
    with sync_api.sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport=TALL, accept_downloads=True)
            sign_in(page, signed_server, "editor")
            open_app(page, f"{signed_server.base_url}/forecast")
            grid = page.locator(".st-key-forecast_probabilities [data-testid='stDataFrame']")
            expect(grid).to_be_visible()
            box = grid.bounding_box()
            # Row 1 is the first opportunity stage (Qualify, 10%). The grid is a canvas: click its
            # Stage cell, step right to "Probability %", open the editor and type 15.
            editor = page.locator("#portal textarea, #portal input, .gdg-input").first
            for _attempt in range(4):
                page.mouse.click(box["x"] + 60, box["y"] + 35 + 17)
                page.wait_for_timeout(150)
                page.keyboard.press("ArrowRight")
                page.wait_for_timeout(150)
                page.keyboard.press("Enter")
                try:
                    editor.wait_for(state="visible", timeout=3000)
                except sync_api.TimeoutError:
                    pass
                if editor.is_visible() and editor.input_value().startswith("10"):
                    break
                page.keyboard.press("Escape")
                page.wait_for_timeout(600)
            else:
                raise AssertionError("could not open the Probability % cell of the first stage")
            editor.fill("15")
            page.keyboard.press("Enter")
            # Saved at once: the editor's base data is reread, so the grid shows 15 from the database.
            page.wait_for_timeout(500)
            page.wait_for_selector(SCRIPT_DONE)
            screenshot(page, "access-editor-forecast")
            rows = _audit_csv(page, signed_server)
            changes = [r for r in rows if r["action"] == "probabilities"]
            assert changes, rows[:3]
            last = changes[0]                                     # newest first
            assert (last["actor_email"], last["actor_role"]) == ("ed@example.com", "editor")
            assert json.loads(last["before"]) == {"Qualify": 0.1}
            assert json.loads(last["after"]) == {"Qualify": 0.15}
            screenshot(page, "access-editor-audit")
        finally:
            browser.close()


def _report(db: Path) -> dict:
    """Every figure, as ``python -m funnel report --json`` prints them (read-only, beside the server)."""
    out = subprocess.run([sys.executable, "-m", "funnel", "report", "--json", "--db", str(db)], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_an_admin_imports_a_file_then_restores_to_before_it_and_every_figure_returns(signed_server, tmp_path):
    from funnel import store, versions

    before = _report(signed_server.db)
    # The stored leads with every segment rewritten: a valid import that moves the scoring figures.
    reader = store.open_read_only(versions.reader_path(signed_server.db))
    try:
        leads = reader.execute("SELECT * FROM leads").df()
    finally:
        reader.close()
    leads["segment"] = "Enterprise"
    upload = tmp_path / "leads.csv"
    leads.to_csv(upload, index=False)

    with sync_api.sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport=TALL, accept_downloads=True)
            sign_in(page, signed_server, "admin")
            open_app(page, f"{signed_server.base_url}/data")
            page.locator(".st-key-imp_source [role='combobox']").first.click()
            page.get_by_role("option", name="Canonical files").click()
            page.wait_for_selector(SCRIPT_DONE)
            page.locator(".st-key-up_canon_leads input[type='file']").set_input_files(str(upload))
            commit = page.get_by_role("button", name="Commit import", exact=True)
            expect(commit).to_be_enabled(timeout=60_000)
            commit.click()
            expect(page.get_by_text("Imported", exact=False).first).to_be_visible(timeout=120_000)
            wait_for_app(page)
            after_import = _report(signed_server.db)
            assert after_import != before                    # the import changed figures

            rows = _audit_csv(page, signed_server)
            imported = next(r for r in rows if r["action"] == "import")
            assert (imported["actor_email"], imported["actor_role"]) == ("ada@example.com", "admin")
            assert json.loads(imported["details"])["files"] == {"leads": "leads.csv"}

            page.locator(".st-key-restore_pick [role='combobox']").first.click()
            page.get_by_role("option", name=f"#{imported['audit_id']} ·", exact=False).click()
            page.wait_for_selector(SCRIPT_DONE)
            page.get_by_role("button", name="Restore to before this change").click()
            expect(page.get_by_text(f"before change #{imported['audit_id']}").first).to_be_visible(timeout=120_000)
            wait_for_app(page)
            assert not error_texts(page)
            screenshot(page, "access-admin-restored")
            rows = _audit_csv(page, signed_server)
        finally:
            browser.close()
    assert _report(signed_server.db) == before              # every figure is back
    restore = next(r for r in rows if r["action"] == "restore")
    assert (restore["actor_email"], restore["actor_role"]) == ("ada@example.com", "admin")
    assert json.loads(restore["details"])["audit_id"] == int(imported["audit_id"])
    assert any(r["action"] == "import" for r in rows)       # the trail keeps the undone change


def test_served_to_the_network_without_sign_in_it_is_read_only_and_says_why(sample_db, tmp_path):
    """`make serve` with no [auth]: listening on every interface, nobody may change anything, and a
    banner says why and how to set up sign-in (the local single-user admin is for 127.0.0.1 only)."""
    db = tmp_path / "network.duckdb"
    shutil.copy(sample_db, db)
    port = free_port()
    empty_secrets = tmp_path / "none.toml"           # no [auth]: the repository's own file is not read
    empty_secrets.write_text("", encoding="utf-8")
    log_path = ARTIFACTS / "streamlit-access-network.log"
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
           "--server.address", "0.0.0.0", "--server.headless", "true", "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none", "--secrets.files", str(empty_secrets)]
    log = open(log_path, "w")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, "FUNNEL_DB": str(db), "PYTHONUNBUFFERED": "1"},
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(proc=proc, port=port, log_path=log_path)
    try:
        wait_healthy(server, 60)
        with sync_api.sync_playwright() as p:
            browser = launch_chromium(p)
            try:
                page = browser.new_page(viewport=TALL)
                for route in ("forecast", "stage_settings", "data", "scoring"):
                    open_app(page, f"{server.base_url}/{route}")
                    expect(page.get_by_text("Read-only: this server is reachable from the network")).to_be_visible()
                    found = [b for b in WRITE_BUTTONS if page.get_by_role("button", name=b, exact=True).count()]
                    assert not found, f"{route}: write controls {found}"
                    assert page.locator(WRITE_WIDGETS).count() == 0, route
                expect(page.locator("[data-testid='stSidebar']")).to_contain_text("viewer")
                screenshot(page, "access-network-read-only")
            finally:
                browser.close()
    finally:
        stop_streamlit(server)
