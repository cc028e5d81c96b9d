"""Six people open a freshly started server at the same moment (issue 19).

Regression: five of six tabs showed "This app has encountered an error" (``AttributeError: module
'ui' has no attribute 'presentation'``): ui.py called ``st.rerun()`` while it was being imported,
so one session's import failed halfway while the others were importing it too. Every tab must
render real content with no error element, on a server no one has visited yet — and on a fresh
machine, where the first visits also create the database.
"""
from __future__ import annotations

import shutil
import threading

import pytest

from browser_support import (CHROMIUM, CHROMIUM_ARGS, ERROR_SELECTOR, FRAME_MARK, FULL_HD, MAIN_H1, SCRIPT_DONE,
                             start_streamlit, stop_streamlit)

pytest.importorskip("playwright.async_api", reason="the playwright package is not installed")

pytestmark = pytest.mark.browser

# What the six open: the home page and deep links, as pasted into a team chat.
ROUTES = ["", "conversion", "forecast", "", "stage_settings", "data"]
VISITORS = len(ROUTES)
SKELETONS = "[data-testid='stSkeleton'], [data-testid='stSkeletonElement'], [data-testid='stAppSkeleton']"


async def _visit(browser, base_url: str, route: str) -> dict:
    """One visitor: a browser context of their own (own cookies, own Streamlit session), one tab."""
    ctx = await browser.new_context(viewport=FULL_HD)
    try:
        page = await ctx.new_page()
        await page.goto(f"{base_url}/{route}", wait_until="domcontentloaded", timeout=120_000)
        # Real content or an error, then the script finished (the same waits as open_app).
        await page.wait_for_selector(f"{MAIN_H1}, {ERROR_SELECTOR}", state="attached", timeout=120_000)
        await page.wait_for_selector(SCRIPT_DONE, state="attached", timeout=120_000)
        # Lazy-loaded widgets (the frame's presentation toggle among them) are placeholders until
        # their code arrives.
        await page.wait_for_function(f"() => !document.querySelector({SKELETONS!r})", timeout=120_000)
        heading = page.locator(MAIN_H1)
        return {
            "errors": await page.locator(ERROR_SELECTOR).all_inner_texts(),
            "heading": await heading.first.inner_text() if await heading.count() else "",
            "frame": await page.locator(FRAME_MARK).count() > 0,
            "body": (await page.locator("body").inner_text())[:300],
        }
    except BaseException as e:  # noqa: BLE001 - reported with the others
        return {"exception": repr(e)}
    finally:
        await ctx.close()


def _six_at_once(base_url: str) -> dict:
    """Six visitors' first requests, all sent together (asyncio.gather, one Chromium)."""
    import asyncio

    from playwright.async_api import async_playwright

    async def main() -> dict:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                seen = await asyncio.gather(*(_visit(browser, base_url, r) for r in ROUTES))
            finally:
                await browser.close()
        return dict(enumerate(seen))

    outcome: dict = {}

    def run() -> None:   # a thread of its own: an AppTest in the same session may own this loop
        outcome.update(asyncio.run(main()))

    t = threading.Thread(target=run)
    t.start()
    t.join(timeout=600)
    return outcome


def _assert_all_rendered(outcome: dict, server) -> None:
    assert len(outcome) == VISITORS, (outcome, server.log_tail())
    for i, seen in sorted(outcome.items()):
        where = f"visitor {i} on /{ROUTES[i]}"
        assert "exception" not in seen, (where, seen, server.log_tail())
        assert not seen["errors"], (where, seen["errors"], server.log_tail())
        assert "has encountered an error" not in seen["body"], (where, seen["body"])
        assert seen["heading"].strip(), (where, "no page heading", seen["body"])
        assert seen["frame"], (where, "the page ran without app.py")
    assert "AttributeError" not in server.log_tail(200), server.log_tail(200)


def test_six_first_visits_to_a_fresh_server_all_render(sample_db, tmp_path):
    db = tmp_path / "fresh.duckdb"
    shutil.copy(sample_db, db)
    server = start_streamlit(db, timeout_s=60)
    try:
        _assert_all_rendered(_six_at_once(server.base_url), server)
    finally:
        stop_streamlit(server)


def test_six_first_visits_on_a_fresh_machine_create_the_database_once(tmp_path):
    """No database yet: the first visits generate the sample data (a write, under the writers'
    lock) while the others wait for it; every tab still renders, and there is one version."""
    from funnel import versions

    db = tmp_path / "new" / "funnel.duckdb"
    db.parent.mkdir()
    server = start_streamlit(db, timeout_s=60)
    try:
        _assert_all_rendered(_six_at_once(server.base_url), server)
    finally:
        stop_streamlit(server)
    assert [v.label for v in versions.list_versions(db)] == ["first start"]
