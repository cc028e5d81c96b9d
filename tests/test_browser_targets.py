"""The Targets & plan page in a real browser (Debian's Chromium via Playwright): what the room sees
in presentation mode, and a target changed through the page's own import that moves the tile and
the outcome chart. Screenshots land in tests/artifacts/screenshots/ — look at them.

Run: .venv/bin/python -m pytest tests/test_browser_targets.py -q
"""
from __future__ import annotations

from pathlib import Path

import pytest

from browser_support import (CHROMIUM, FULL_HD, TALL, chromium, error_texts, fit_to_content, open_app,
    screenshot, server_on_copy, wait_for_app)

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is missing", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
expect = sync_api.expect

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(sample_db, tmp_path_factory):
    with server_on_copy(sample_db, tmp_path_factory.mktemp("browser_targets"), "targets.duckdb") as server:
        yield server


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


def _page(browser, viewport):
    ctx = browser.new_context(viewport=viewport, device_scale_factor=1)
    ctx.set_default_timeout(60_000)
    return ctx, ctx.new_page()


def test_presentation_mode_shows_tiles_and_charts(browser, server):
    ctx, page = _page(browser, FULL_HD)
    try:
        open_app(page, f"{server.base_url}/targets?present=true")
        screenshot(page, "targets-present-1080")
        assert not error_texts(page), server.log_tail(20)
        metrics = page.locator("[data-testid='stMetricLabel']").all_inner_texts()
        assert any("November 2026 target" in m for m in metrics)
        # presentation mode: no editing grid, no import
        assert page.get_by_text("Targets and teams").count() == 0
        fit_to_content(page)
        screenshot(page, "targets-present")
        assert page.locator("[data-testid='stPlotlyChart']").count() >= 4
    finally:
        ctx.close()


def test_imported_target_changes_tile_and_chart(browser, server, tmp_path):
    ctx, page = _page(browser, TALL)
    try:
        open_app(page, f"{server.base_url}/targets")
        tile = page.locator("[data-testid='stMetric']").filter(has_text="November 2026 target")
        before = tile.locator("[data-testid='stMetricValue']").inner_text()
        chart_title = page.locator("[data-testid='stPlotlyChart'] .gtitle").filter(has_text="chance of reaching")
        title_before = chart_title.first.text_content()
        f = tmp_path / "targets.csv"
        f.write_text("period,owner,amount\n2026-11,,2500000\n", encoding="utf-8")
        page.get_by_text("Import a targets or teams file").click()
        page.locator(".st-key-targets_file input[type='file']").set_input_files(str(f))
        page.locator(".st-key-import_targets button").click()
        expect(tile.locator("[data-testid='stMetricValue']")).to_have_text("$2.50M", timeout=60_000)
        wait_for_app(page)
        assert before != "$2.50M"
        expect(chart_title.first).to_contain_text("reaching $2.50M", timeout=60_000)
        assert chart_title.first.text_content() != title_before
        assert not error_texts(page), server.log_tail(20)
        expect(page.get_by_text("Imported 1 target")).to_be_visible()
        fit_to_content(page)
        screenshot(page, "targets-normal")
        # The Overview's target tile reads the same stored target: "won … of $2.50M".
        open_app(page, f"{server.base_url}/")
        overview_tile = page.locator("[data-testid='stMetric']").filter(has_text="Target, November 2026")
        expect(overview_tile).to_be_visible()
        expect(page.get_by_text("of $2.50M · chance of hitting", exact=False)).to_be_visible()
        assert not error_texts(page), server.log_tail(20)
    finally:
        ctx.close()


def test_recorded_call_appears_in_the_calls_table_and_in_review_history(browser, server):
    ctx, page = _page(browser, TALL)
    try:
        open_app(page, f"{server.base_url}/targets")
        form = page.locator("[data-testid='stForm']")
        form.get_by_label("Commit ($)").fill("310000")
        form.get_by_label("Best case ($)").fill("420000")
        form.get_by_label("Note").fill("Grace's renewal slips to December")
        form.get_by_role("button", name="Record the call").click()
        expect(page.get_by_text("Latest call — November 2026, everyone: commit $310k, best case $420k — “Grace's renewal slips to December”", exact=False)).to_be_visible(timeout=60_000)
        wait_for_app(page)
        assert not error_texts(page), server.log_tail(20)
        fit_to_content(page)
        screenshot(page, "targets-call-recorded")
        # Review history lists the call beside the forecast of its moment.
        open_app(page, f"{server.base_url}/review_history")
        expect(page.get_by_role("heading", name="Calls against the forecast")).to_be_visible()
        calls = page.locator("[data-testid='stDataFrame']").last
        expect(calls).to_contain_text("$310k")
        assert not error_texts(page), server.log_tail(20)
        fit_to_content(page)
        screenshot(page, "review-history-calls")
    finally:
        ctx.close()
