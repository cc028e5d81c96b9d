"""A shared link carries the page's own controls (issue #18, point 4), in a real browser: set a
control on screen, copy the address bar, open it in a fresh browser context (another person), and
find the same control and the same headline. The AppTest twin, tests/test_page_links.py, covers
every control of every page; this checks the browser's side (the address bar the app writes).

Run: .venv/bin/python -m pytest tests/test_browser_page_links.py -q
"""
from __future__ import annotations

from pathlib import Path

import pytest

from browser_support import (CHROMIUM, FULL_HD, MAIN, error_texts, launch_chromium, open_app, server_on_copy,
    wait_for_app)

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
expect = sync_api.expect

pytestmark = pytest.mark.browser

FINDING = ".st-key-fc_finding"


@pytest.fixture(scope="module")
def links_server(sample_db, tmp_path_factory):
    with server_on_copy(sample_db, tmp_path_factory.mktemp("links"), "links.duckdb") as server:
        yield server


def _choose(page, widget_key: str, option: str) -> None:
    """Pick ``option`` in the selectbox keyed ``widget_key`` as a person would."""
    page.locator(f".st-key-{widget_key} [role='combobox']").first.click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_for_app(page)


def test_a_copied_address_opens_the_same_breakdown_and_headline(links_server):
    with sync_api.sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            mine = browser.new_context(viewport=FULL_HD).new_page()
            open_app(mine, f"{links_server.base_url}/conversion")
            before = mine.locator(FINDING).inner_text()
            _choose(mine, "conv_breakdown", "Segment")
            expect(mine.locator(FINDING)).not_to_have_text(before, timeout=60_000)
            headline = mine.locator(FINDING).inner_text()
            address = mine.url
            assert "conv_breakdown=segment" in address, address

            theirs = browser.new_context(viewport=FULL_HD).new_page()     # another person, another session
            open_app(theirs, address)
            expect(theirs.locator(FINDING)).to_have_text(headline)
            expect(theirs.get_by_role("heading", name="By segment")).to_have_count(1)   # the breakdown's section
            assert not error_texts(theirs)

            # The forecast method chosen on the Forecast page is the Overview's too, and says so.
            open_app(mine, f"{links_server.base_url}/forecast")
            mine.locator(".st-key-method").get_by_text("Historical win rates").click()
            wait_for_app(mine)
            assert "method=historical" in mine.url
            mine.locator("[data-testid='stSidebarNav'] a").filter(has_text="Overview").first.click()
            wait_for_app(mine)
            expect(mine.locator(MAIN).get_by_text("historical win rates").first).to_be_visible(timeout=60_000)
            assert not error_texts(mine)
        finally:
            browser.close()
