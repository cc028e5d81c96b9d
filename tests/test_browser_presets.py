"""The real app in a real browser on imported data (issue #8): Olist through its preset, every page,
no error element, the notes saying what this data cannot show, screenshots to look at.

Olist is the richest of the public data sets that still lacks things (no lost deals, no open
pipeline, no rejections, no stages between MQL and won), so every page has something to say.
Skipped, with the reason shown, when ../shared/datasets or Debian's Chromium is absent.

Playwright runs in its own thread: AppTests earlier in the same process leave an asyncio loop on
the main thread, and Playwright's sync API refuses to start inside one.

Run: .venv/bin/python -m pytest tests/test_browser_presets.py -q        (marker: browser)
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import pytest

from browser_support import (CHROMIUM, ERROR_SELECTOR, TALL, app_pages, error_texts, fit_to_content, frame_ran,
                             heading, in_own_thread, launch_chromium, open_app, screenshot, start_streamlit, stop_streamlit,
                             wait_for_app)
from test_presets import DATASETS, PUBLIC

pytestmark = pytest.mark.browser

WARNING = "[data-testid='stAlertContentWarning']"
INFO = "[data-testid='stAlertContentInfo']"
# Page file → a phrase of the Olist note that page must show (golden, from the preset's notes).
OLIST_SAYS = {
    "pages/overview.py": "no lost deals and no open pipeline",
    "pages/review_history.py": "no lost deals and no open pipeline",
    "pages/conversion.py": "SAL, SQL and Opportunity count only the leads that were won",
    "pages/time_in_stage.py": "Only MQL has a time in stage",
    "pages/rejections.py": "records no rejections",
    "pages/forecast.py": "no lost deals and no open pipeline",
    "pages/scoring.py": "known only for won deals",
    "pages/data.py": "no lost deals",
}


@pytest.fixture(scope="module")
def olist_db(tmp_path_factory) -> Path:
    folder = DATASETS / PUBLIC["olist"]
    if not folder.is_dir():
        pytest.skip(f"../shared/datasets not present: {folder} is missing, so the app cannot be opened on Olist data")
    from funnel import presets, store
    path = tmp_path_factory.mktemp("browser_olist") / "olist.duckdb"
    con = store.connect(path)
    presets.import_preset(con, "olist", DATASETS)
    con.close()
    return path


def test_every_page_on_olist_data_in_the_browser(olist_db):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium")
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    in_own_thread(_every_page_on_olist, olist_db)


@contextmanager
def _app_in_browser(db: Path):
    """A Streamlit server on ``db`` and a tall browser context; yields (server, context, problems) and
    fails with every problem the caller noted (and the server log) once both are closed."""
    from playwright.sync_api import sync_playwright

    server = start_streamlit(db)
    problems: list[str] = []
    try:
        with sync_playwright() as pw:
            browser = launch_chromium(pw)
            try:
                ctx = browser.new_context(viewport=TALL, device_scale_factor=1)
                yield server, ctx, problems
                ctx.close()
            finally:
                browser.close()
    finally:
        stop_streamlit(server)
    assert not problems, "\n".join(problems) + f"\nserver log:\n{server.log_tail(20)}"


def _every_page(ctx, server, slug: str, label: str, problems: list[str]):
    """Open every page (the default one first: on a fresh server a deep link can land before app.py
    has registered the pages), screenshot it, note error elements and a missing title; yields
    (page, app page, where) for the caller's own checks, then closes the page."""
    for app_page in sorted(app_pages(), key=lambda p: not p.default):
        page = ctx.new_page()
        open_app(page, f"{server.base_url}/{app_page.route}")
        fit_to_content(page)
        screenshot(page, f"{slug}_{app_page.slug}")
        where = f"{app_page.file} on {label}"
        errors = error_texts(page)
        if errors:
            problems.append(f"{where}: error element(s): {errors}")
        if not frame_ran(page) or not heading(page):
            problems.append(f"{where}: no title, or the page ran without app.py")
        yield page, app_page, where
        page.close()


def _every_page_on_olist(db: Path) -> None:
    from playwright.sync_api import expect

    with _app_in_browser(db) as (server, ctx, problems):
        for page, app_page, where in _every_page(ctx, server, "olist", "Olist", problems):
            phrase = OLIST_SAYS.get(app_page.file)
            if phrase and page.locator(f"{WARNING}, {INFO}").filter(has_text=phrase).count() == 0:
                problems.append(f"{where}: no note saying “{phrase}”")
            if app_page.file == "pages/time_in_stage.py":
                # Deals: only Closed Won events, so the page says why instead of drawing blanks.
                page.locator("[data-testid='stMain'] button").filter(has_text="Opportunities").click()
                expect(page.locator(INFO).filter(has_text="Switch to Leads above")).to_be_visible()
                wait_for_app(page)
                screenshot(page, "olist_time-in-stage_deals")
                expect(page.locator(WARNING).filter(has_text="Deals are recorded only when won")).to_be_visible()
                if page.locator("[data-testid='stPlotlyChart']").count():
                    problems.append(f"{where}, Opportunities: charts drawn although no deal has a stay")
                if page.locator(ERROR_SELECTOR).count():
                    problems.append(f"{where}, Opportunities: {error_texts(page)}")


# ---------------------------------------------------------------------------------------------
# Issue #17: a Salesforce org's export (field API names) uploaded at once on the Data page, recognised
# file by file, imported, then every page on it.

SF_API = Path(__file__).resolve().parent / "fixtures" / "crm" / "salesforce_api"


def test_salesforce_export_uploaded_at_once_then_every_page(tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium")
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    from funnel import store
    db = tmp_path / "sf.duckdb"
    store.connect(db).close()          # an empty database: the import is the first thing a user does
    in_own_thread(_upload_salesforce_then_every_page, db)


def _upload_salesforce_then_every_page(db: Path) -> None:
    from playwright.sync_api import expect

    with _app_in_browser(db) as (server, ctx, problems):
        page = ctx.new_page()
        open_app(page, f"{server.base_url}/")
        open_app(page, f"{server.base_url}/data")
        # "Detect from the files" is the first choice: one uploader takes every file.
        page.locator("[data-testid='stFileUploader'] input[type='file']").first.set_input_files(
            sorted(str(p) for p in SF_API.glob("*.csv")))
        expect(page.locator(INFO).filter(has_text="LeadHistory.csv: Lead history — Salesforce export")
               ).to_be_visible(timeout=60_000)
        page.get_by_role("button", name="Import", exact=True).click()
        expect(page.locator("[data-testid='stAlertContentSuccess']").filter(
            has_text="Imported 6 leads, 21 lead events, 5 opportunities, 15 opportunity events")
               ).to_be_visible(timeout=120_000)
        wait_for_app(page)
        screenshot(page, "salesforce_data_after_upload")
        page.close()
        for _ in _every_page(ctx, server, "salesforce", "the Salesforce export", problems):
            pass
