"""Hostile data in a real browser (issue #15): lead attributes, AE/SDR names, rejection reasons
and a stage name carrying <script>, <img onerror>, Markdown links and =HYPERLINK(...). Every page,
the HTML export and a CSV download show them literally: no dialog opens, no injected element or
link exists, and the browser requests nothing outside the app (not even the app's own favicon: it ships in
static/, see tests/test_browser_offline.py).

Run: .venv/bin/python -m pytest tests/test_markup_safety_browser.py -q
"""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from browser_support import (
    CHROMIUM, FULL_HD, app_pages, download_file, error_texts, launch_chromium, open_app, screenshot,
    start_streamlit, stop_streamlit,
)

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")

pytestmark = pytest.mark.browser

SCRIPT = "<script>alert('xss-script')</script>"
IMG = "<img src=x onerror=alert('xss-img')>"
LINK = "[Session expired - sign in again](https://evil.example/login)"
PIXEL = "![p](https://evil.example/pixel.png)"
FORMULA = '=HYPERLINK("https://evil.example","click")'
OVERLAY = ("<a href='https://evil.example/login' style='position:fixed;top:0;left:0;width:100%;"
           "height:100%;background:white;z-index:99999'>Session expired - sign in again</a>")
HOSTILE = [SCRIPT, IMG, LINK, PIXEL, FORMULA, OVERLAY]
STAGE = "Opportunity<img src=x onerror=alert('xss-stage')>"

# Elements and links that exist only if a value was interpreted as markup.
INJECTED = ("script:not([src]):has-text('xss'), img[src='x'], img[src*='evil'], [onerror], "
            "a[href*='evil'], [style*='position:fixed'][href]")


def _hostile_db(sample_db, dest: Path) -> Path:
    """The sample database with hostile text in every text column a page shows. Written with
    SQL here (a test fixture), then the stage renamed through the library as the app would."""
    from funnel import store

    shutil.copy(sample_db, dest)
    con = store.connect(dest)
    try:
        n = len(HOSTILE)
        with store.transaction(con):
            for col in ("channel", "segment", "region", "sdr", "ae", "job_title", "industry"):
                # Each lead gets one of the hostile values by id, so every group is large.
                con.execute(f"UPDATE leads SET {store.quote_ident(col)} = list_extract($vals, (hash(lead_id) % {n})::INT + 1)",
                            {"vals": HOSTILE})
            con.execute(f"UPDATE lead_events SET reason = list_extract($vals, (hash(lead_id) % {n})::INT + 1) "
                        "WHERE reason IS NOT NULL", {"vals": HOSTILE})
            con.execute(f"UPDATE lead_events SET actor = list_extract($vals, (hash(lead_id) % {n})::INT + 1) "
                        "WHERE actor IS NOT NULL", {"vals": HOSTILE})
            con.execute(f"UPDATE opportunities SET owner = list_extract($vals, (hash(opportunity_id) % {n})::INT + 1), "
                        f"account = list_extract($vals, (hash(opportunity_id) % {n})::INT + 1)", {"vals": HOSTILE})
        store.refresh_derived(con)
        store.rename_stage(con, "lead", "Opportunity", STAGE)
    finally:
        con.close()
    return dest


@pytest.fixture(scope="module")
def hostile_server(sample_db, tmp_path_factory):
    db = _hostile_db(sample_db, tmp_path_factory.mktemp("hostile") / "hostile.duckdb")
    server = start_streamlit(db, timeout_s=60)
    try:
        yield server
    finally:
        stop_streamlit(server)


class Watch:
    """Everything a page must not do: dialogs, requests outside the app, console script errors."""

    def __init__(self, page, base_url: str):
        self.dialogs: list[str] = []
        self.outside: list[str] = []
        self.injected_requests: list[str] = []
        page.on("dialog", self._dialog)
        page.on("request", lambda r: self._request(r.url, base_url))

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _request(self, url: str, base_url: str):
        if url.startswith(("data:", "blob:", "about:")):
            return
        if not url.startswith(base_url) and not url.startswith("file:"):
            self.outside.append(url)
        elif url.rstrip("/").endswith("/x"):     # <img src=x> resolved against the page
            self.injected_requests.append(url)

    def assert_clean(self, where: str):
        assert not self.dialogs, f"{where}: a dialog opened: {self.dialogs}"
        assert not self.outside, f"{where}: requests outside the app: {self.outside[:5]}"
        assert not self.injected_requests, f"{where}: an injected image loaded: {self.injected_requests}"


def _no_injected_elements(page, where: str):
    found = page.locator(INJECTED)
    assert found.count() == 0, f"{where}: injected elements: {found.evaluate_all('els => els.map(e => e.outerHTML.slice(0, 200))')}"


def test_every_page_shows_hostile_values_as_text(hostile_server):
    with sync_api.sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            ctx = browser.new_context(viewport=FULL_HD, accept_downloads=True)
            page = ctx.new_page()
            watch = Watch(page, hostile_server.base_url)
            shown_literally = 0
            for app_page in app_pages():
                open_app(page, f"{hostile_server.base_url}/{app_page.route}")
                where = f"page {app_page.slug}"
                assert not error_texts(page), f"{where}: {error_texts(page)}"
                _no_injected_elements(page, where)
                watch.assert_clean(where)
                text = page.locator("[data-testid='stMain']").text_content() or ""
                shown_literally += sum(v in text for v in (SCRIPT, IMG, "Session expired - sign in again", STAGE))
                screenshot(page, f"hostile-{app_page.slug}")
            # The values were shown (as text) somewhere: chart labels, findings, captions.
            assert shown_literally > 0
        finally:
            browser.close()


def test_csv_download_neutralises_formulas(hostile_server):
    with sync_api.sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_context(viewport=FULL_HD, accept_downloads=True).new_page()
            watch = Watch(page, hostile_server.base_url)
            open_app(page, f"{hostile_server.base_url}/conversion")
            page.get_by_text("values as a table").first.click()
            path = download_file(page, lambda: page.locator(".st-key-dl_conv_breakdown button").click())
            rows = list(csv.reader(path.open(encoding="utf-8")))
            groups = {r[0] for r in rows[1:]}
            assert "'" + FORMULA in groups                       # the formula is text now
            assert not any(g.startswith(("=", "+", "-", "@")) for g in groups)
            assert all(float(r[2]) >= 0 for r in rows[1:])       # the counts are still numbers
            watch.assert_clean("conversion CSV")
        finally:
            browser.close()


def test_html_export_shows_hostile_values_as_text(hostile_server, tmp_path):
    with sync_api.sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            ctx = browser.new_context(viewport=FULL_HD, accept_downloads=True)
            page = ctx.new_page()
            open_app(page, f"{hostile_server.base_url}/")
            path = download_file(page, lambda: page.get_by_role("button", name="Export the review (HTML)").click())
            assert Path(path).name.endswith(".html")
            offline = ctx.new_page()
            watch = Watch(offline, "file://")
            offline.goto(Path(path).resolve().as_uri())
            offline.wait_for_function("() => document.querySelectorAll('.main-svg').length > 0")
            _no_injected_elements(offline, "HTML export")
            watch.assert_clean("HTML export")
            text = offline.locator("body").text_content() or ""
            assert any(v in text for v in (SCRIPT, IMG, "Session expired - sign in again", STAGE))
        finally:
            browser.close()
