"""The real app in a real browser: `streamlit run` on a free port, Debian's headless Chromium via
Playwright's sync API (no pytest-playwright; no downloaded browser).

Every page in normal and presentation mode shows its title and no error element; a pasted URL
reproduces filters and as-of date (also at /overview); presentation mode hides the sidebar and
moves the navigation to the top; the sidebar navigation works; the review exports as one HTML file
that draws its charts offline; a saved review is the comparison a week later. Screenshots land in tests/artifacts/screenshots/
(git-ignored) — look at them.

Run: .venv/bin/python -m pytest tests/test_browser.py -q        (or -m browser)
"""
from __future__ import annotations

import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from browser_support import (
    CHROMIUM, ERROR_SELECTOR, FULL_HD, MAIN, TALL, AppPage, app_pages, error_texts, frame_ran, heading,
    download_file, fit_to_content, launch_chromium, open_app, screenshot, start_streamlit, stop_streamlit,
    wait_for_app, wait_for_charts,
)

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium; .ci/run does it)",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
expect = sync_api.expect

pytestmark = pytest.mark.browser

PAGES = app_pages()
MODES = {"normal": "", "present": "present=true"}


def _url(base: str, page: AppPage, query: str = "") -> str:
    return f"{base}/{page.route}" + (f"?{query}" if query else "")


def _page(slug: str) -> AppPage:
    return next(p for p in PAGES if p.slug == slug)


# ---------------------------------------------------------------------------------------------
# Fixtures


def _private_db(sample_db, tmp_path_factory, name: str) -> Path:
    """A private copy of the sample database: DuckDB locks a file per process, so a server must
    not hold the shared one (AppTest tests open it in this process)."""
    db = tmp_path_factory.mktemp("browser") / f"{name}.duckdb"
    shutil.copy(sample_db, db)
    return db


@pytest.fixture(scope="module")   # Playwright stops with the module: later files start their own on this thread
def app_server(sample_db, tmp_path_factory):
    """The app served on a private copy of the sample database. Yields the server (``base_url``,
    ``log_tail()``, ``facts``)."""
    import duckdb

    db = _private_db(sample_db, tmp_path_factory, "browser")
    con = duckdb.connect(str(db), read_only=True)
    try:
        last_lead = con.execute("SELECT max(created_at)::DATE FROM leads").fetchone()[0]
    finally:
        con.close()
    server = start_streamlit(db, timeout_s=60)
    server.facts = {"last_lead_date": last_lead}
    try:
        yield server
    finally:
        stop_streamlit(server)


@pytest.fixture(scope="module")   # Playwright stops with the module: later files start their own on this thread
def browser():
    pw = sync_api.sync_playwright().start()
    try:
        b = launch_chromium(pw)
        try:
            yield b
        finally:
            b.close()
    finally:
        pw.stop()


def _context(browser, viewport=FULL_HD):
    ctx = browser.new_context(viewport=viewport, device_scale_factor=1, accept_downloads=True)
    ctx.set_default_timeout(60_000)
    return ctx


def _watch(page):
    """Collect uncaught page-script errors on ``page.js_errors`` (shown in assertion messages)."""
    page.js_errors = []
    page.on("pageerror", lambda e: page.js_errors.append(str(e)))
    return page


@pytest.fixture(scope="module")   # Playwright stops with the module: later files start their own on this thread
def shared_context(browser):
    """One context for the page tests: its HTTP cache keeps Streamlit's lazily loaded JS chunks, so
    each page is not a cold start. Every page load is still its own Streamlit session (state lives
    on the server per websocket); tests that need a clean browser use ``fresh_page``."""
    ctx = _context(browser)
    yield ctx
    ctx.close()


@pytest.fixture
def new_page(shared_context, app_server):
    """``new_page(viewport)``: a new tab in the shared context, at ``viewport``."""
    pages = []

    def _make(viewport=FULL_HD):
        page = _watch(shared_context.new_page())
        page.set_viewport_size(viewport)
        pages.append(page)
        return page

    yield _make
    for page in pages:
        page.close()


@pytest.fixture
def fresh_page(browser, app_server):
    """``fresh_page(viewport)``: a page in a brand-new browser context (nothing shared: no cache,
    no storage) — what a colleague opening a pasted link gets."""
    contexts = []

    def _make(viewport=FULL_HD):
        ctx = _context(browser, viewport)
        contexts.append(ctx)
        return _watch(ctx.new_page())

    yield _make
    for ctx in contexts:
        ctx.close()


def _assert_page_ok(page, app_page: AppPage, where: str, server) -> None:
    errors = error_texts(page)
    assert not errors, (f"{where}: error element(s) on screen: {errors}\n"
                        f"browser errors: {getattr(page, 'js_errors', [])}\nserver log:\n{server.log_tail(20)}")
    assert frame_ran(page), f"{where}: the page ran without app.py (no filters, no presentation toggle)"
    h1 = heading(page)
    assert h1, f"{where}: no page title (h1) in the main area"
    # The heading must name what the navigation promised: a word of the page's label or of its
    # section ("Weekly review — week ending …" for Overview under "Weekly review").
    assert any(w in h1.lower() for w in app_page.names()), (
        f"{where}: title {h1!r} names neither the navigation label {app_page.title!r} "
        f"nor its section {app_page.section!r}")


# ---------------------------------------------------------------------------------------------
# 1. Every page, normal and presentation mode, no error element; screenshots


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("app_page", PAGES, ids=[p.slug for p in PAGES])
def test_page_renders_without_errors(new_page, app_server, app_page, mode):
    """Normal mode: one tall shot (1920 wide, at least 2400 high and grown to the page's length: the
    main area scrolls inside, so only a tall viewport captures it). Presentation mode: what the room
    sees at 1920×1080 first, then the same page grown the same way (same width: no re-layout, no rerun)."""
    where = f"/{app_page.route} ({mode})"
    if mode == "normal":
        page = new_page(TALL)
        open_app(page, _url(app_server.base_url, app_page))
        fit_to_content(page)
        screenshot(page, f"{app_page.slug}-normal")
    else:
        page = new_page(FULL_HD)
        open_app(page, _url(app_server.base_url, app_page, MODES[mode]))
        screenshot(page, f"{app_page.slug}-present-1080")
        _assert_page_ok(page, app_page, f"{where} at 1920×1080", app_server)
        fit_to_content(page)
        screenshot(page, f"{app_page.slug}-present")
    _assert_page_ok(page, app_page, where, app_server)
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator("[data-testid='stAlertContentError']").count() == 0


# ---------------------------------------------------------------------------------------------
# 2. A pasted URL reproduces the view


def test_url_round_trip_reproduces_filters_and_as_of(fresh_page, app_server):
    as_of = app_server.facts["last_lead_date"] - timedelta(days=30)
    page = fresh_page(FULL_HD)  # a new context: nothing carried over from another session
    open_app(page, f"{app_server.base_url}/conversion?f_channel=Webinar&as_of={as_of.isoformat()}")
    _assert_page_ok(page, _page("conversion"), "/conversion with filters in the URL", app_server)

    sidebar = page.locator("[data-testid='stSidebar']")
    channel = sidebar.locator("[data-testid='stMultiSelect']").filter(has_text="Channel")
    expect(channel).to_contain_text("Webinar")        # the stored code "webinar", shown (and linked) as a label
    expect(channel).not_to_contain_text("webinar")
    as_of_input = sidebar.locator("[data-testid='stDateInput']").filter(has_text="As of").locator("input")
    expect(as_of_input).to_have_value(as_of.isoformat())

    # ui.describe_scope: "...; Channel: Webinar. Figures as known at the end of DD Mon YYYY."
    scope_sentence = page.locator(f"{MAIN} [data-testid='stCaptionContainer']").filter(
        has_text="Figures as known at the end of")
    expect(scope_sentence.first).to_contain_text(f"Figures as known at the end of {as_of:%d %b %Y}")
    expect(scope_sentence.first).to_contain_text("Channel: Webinar")   # the code "webinar", read as a label

    # The URL still holds the view (Streamlit may reorder parameters, but must not drop them).
    assert "f_channel=Webinar" in page.url and f"as_of={as_of.isoformat()}" in page.url, page.url


@pytest.mark.parametrize("path", ["conversion", "stage_settings"])
def test_deep_link_on_a_fresh_server(browser, sample_db, tmp_path_factory, path):
    """The first visitor after a restart opens a pasted link: the page must still run inside app.py
    (filters, presentation toggle) and honour the URL's filters.

    Regression: with a folder named ``pages/`` next to app.py, Streamlit 1.67 treats the app as a
    legacy multipage app until st.navigation has run once in the server process; until then
    /conversion ran pages/conversion.py bare — no sidebar filters, the URL's filters silently
    ignored, the file list as navigation. ui.py now switches a fresh server to navigation mode.
    Needs its own server: the flag is process-wide, and the shared server has long been switched.
    Until the switch, only paths named like a file of pages/ exist, so every url_path is its
    file's name (test_architecture pins that); stage_settings once was /stages: "Page not found".
    """
    server = start_streamlit(_private_db(sample_db, tmp_path_factory, f"fresh_{path}"), timeout_s=60)
    ctx = browser.new_context(viewport=FULL_HD)
    try:
        page = ctx.new_page()
        open_app(page, f"{server.base_url}/{path}?f_channel=Webinar")
        assert frame_ran(page), (f"a deep link on a fresh server ran pages/{path}.py without app.py: "
                                 "no filters, no presentation toggle (Streamlit's legacy pages/ folder mode)")
        assert page.url.split("?")[0].rstrip("/").endswith("/" + path), f"landed on {page.url}, not /{path}"
        assert "Page not found" not in page.locator("body").inner_text()
        channel = page.locator("[data-testid='stSidebar'] [data-testid='stMultiSelect']").filter(has_text="Channel")
        expect(channel).to_contain_text("Webinar")
        assert not error_texts(page), error_texts(page)
    finally:
        ctx.close()
        stop_streamlit(server)


# ---------------------------------------------------------------------------------------------
# 3. Presentation mode: no sidebar, navigation on top


def test_presentation_mode_hides_sidebar_and_moves_navigation_to_top(new_page, app_server):
    page = new_page(FULL_HD)
    open_app(page, _url(app_server.base_url, _page("overview")))
    expect(page.locator("[data-testid='stSidebar']")).to_be_visible()
    expect(page.locator("[data-testid='stSidebarNav']")).to_be_visible()

    page = new_page(FULL_HD)
    open_app(page, _url(app_server.base_url, _page("overview"), "present=true"))
    expect(page.locator("[data-testid='stSidebar']")).to_be_hidden()
    expect(page.locator("[data-testid='stSidebarNav']")).to_be_hidden()
    top_nav = page.locator("[data-testid='stTopNavLink'], [data-testid='stTopNavSection']")
    expect(top_nav.first).to_be_visible()
    assert top_nav.first.bounding_box()["y"] < 120, "the navigation is not at the top of the screen"
    assert page.locator(ERROR_SELECTOR).count() == 0, error_texts(page)


# ---------------------------------------------------------------------------------------------
# 4. Clicking through the navigation


def test_sidebar_navigation_reaches_forecast(new_page, app_server):
    page = new_page(FULL_HD)
    open_app(page, _url(app_server.base_url, _page("overview")))
    page.locator("[data-testid='stSidebarNav'] a").filter(has_text="Forecast").first.click()
    page.wait_for_url("**/forecast*")
    # The old page's h1 stays on screen while the new script runs: wait for the new one first.
    expect(page.locator(f"{MAIN} h1").first).to_contain_text("Forecast", timeout=60_000)
    wait_for_app(page)
    _assert_page_ok(page, _page("forecast"), "/forecast after a click in the sidebar", app_server)


def test_filters_survive_page_switch(new_page, app_server):
    """Filters live in the entry script, so switching page keeps them — on screen and in the URL."""
    page = new_page(FULL_HD)
    open_app(page, _url(app_server.base_url, _page("overview"), "f_channel=Webinar"))
    page.locator("[data-testid='stSidebarNav'] a").filter(has_text="Conversion").first.click()
    page.wait_for_url("**/conversion*")
    expect(page.locator(f"{MAIN} h1").first).to_contain_text("Conversion", timeout=60_000)
    wait_for_app(page)
    channel = page.locator("[data-testid='stSidebar'] [data-testid='stMultiSelect']").filter(has_text="Channel")
    expect(channel).to_contain_text("Webinar")
    assert "f_channel=Webinar" in page.url, page.url
    assert page.locator(ERROR_SELECTOR).count() == 0, error_texts(page)


def test_overview_path_opens_the_overview(new_page, app_server):
    """/overview is the Overview too (the default page itself lives at "/"): no "Page not found"
    dialog, no redirect, and the URL's filters apply."""
    page = new_page(FULL_HD)
    open_app(page, f"{app_server.base_url}/overview?f_channel=Webinar")
    _assert_page_ok(page, _page("overview"), "/overview", app_server)   # includes the "Page not found" dialog
    assert re.search(r"/overview(\?|$)", page.url), f"/overview was redirected to {page.url}"
    expect(page.locator(f"{MAIN} h1").first).to_contain_text("Weekly review")
    channel = page.locator("[data-testid='stSidebar'] [data-testid='stMultiSelect']").filter(has_text="Channel")
    expect(channel).to_contain_text("Webinar")
    expect(page.locator(f"{MAIN} [data-testid='stCaptionContainer']").filter(
        has_text="Figures as known at the end of").first).to_contain_text("Channel: Webinar")


def test_forecast_method_in_the_url_is_a_code(new_page, app_server):
    """The Forecast page's method is stored in the URL as a code (method=historical), not the button's
    label; a link made with the old label still opens the historical view."""
    page = new_page(FULL_HD)
    open_app(page, f"{app_server.base_url}/forecast?method=Historical+win+rates")
    assert not error_texts(page), error_texts(page)
    expect(page).to_have_url(re.compile(r"[?&]method=historical(&|$)"))
    expect(page.locator(".st-key-method [role='radio'][aria-checked='true']")).to_have_text("Historical win rates")
    page.locator(".st-key-method [role='radio']").filter(has_text="Configured probabilities").click()
    expect(page).to_have_url(re.compile(r"[?&]method=configured(&|$)"))
    wait_for_app(page)
    assert not error_texts(page), error_texts(page)


# ---------------------------------------------------------------------------------------------
# 5. Downloads: CSV beside every table, the review as one HTML file


def test_table_downloads_as_csv(new_page, app_server):
    """Every table has a CSV beside it: the funnel table on Conversion downloads as a real file."""
    page = new_page(FULL_HD)
    open_app(page, _url(app_server.base_url, _page("conversion")))
    button = page.locator("[data-testid='stDownloadButton'] button").filter(has_text="CSV").first
    path = download_file(page, button.click)
    assert path.suffix == ".csv", path.name
    lines = path.read_text(encoding="utf-8").strip().splitlines()
    assert len(lines) >= 2, f"{path.name} holds no rows: {lines}"


def test_html_export_opens_offline_with_the_funnel_and_the_waterfall(new_page, browser, app_server):
    """The review downloads as one HTML file that needs nothing from the network: no script or
    stylesheet is loaded from anywhere, and opened with the network off its two charts draw and
    stay interactive (Plotly is inlined)."""
    page = new_page(FULL_HD)
    open_app(page, _url(app_server.base_url, _page("overview")))
    path = download_file(page, lambda: page.get_by_role("button", name="Export the review (HTML)").click())
    assert path.name.startswith("weekly-review-") and path.suffix == ".html", path.name
    html = path.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]*\bsrc\s*=", html, re.I), "the export loads a script from elsewhere"
    assert not re.search(r"<link[^>]*\bhref\s*=\s*[\"']?(https?:)?//", html, re.I), "the export links a stylesheet"
    # The funnel and the waterfall, then the targets' three charts (issue #13: the export holds them too).
    assert html.count("Plotly.newPlot(") == 5 and html.count('class="plotly-graph-div"') == 5, "five charts expected"
    assert html.count("plotly.js v") >= 1, "plotly.js is not inlined"
    for text in ("Weekly review — week ending", "Highlights", "Funnel", "Open pipeline since last week",
                 "Last 12 weeks", "New leads", "Chance of hitting", "Target, November 2026"):
        assert text in html, f"{text!r} missing from the export"

    ctx = browser.new_context(viewport=FULL_HD, offline=True)      # what a laptop on a plane sees
    try:
        offline = _watch(ctx.new_page())
        requested: list[str] = []
        offline.on("request", lambda r: requested.append(r.url))
        offline.goto(path.as_uri(), wait_until="load")
        offline.wait_for_function(
            "() => [...document.querySelectorAll('.plotly-graph-div')].filter(d => d.querySelector('.main-svg')).length == 5",
            timeout=30_000)
        types = offline.evaluate("() => [...document.querySelectorAll('.plotly-graph-div')].map(d => d.data[0].type)")
        assert types[:2] == ["funnel", "waterfall"], types
        assert offline.evaluate("() => typeof window.Plotly.relayout") == "function"   # interactive, not a picture
        assert [u for u in requested if not u.startswith(("file:", "data:", "blob:"))] == [], requested
        assert not offline.js_errors, offline.js_errors
        table = offline.locator("table").first.inner_text()        # formatted as on screen, not raw floats
        assert "%" in table and "$" in table and not re.search(r"\d\.\d{3,}", table), table[:300]
        screenshot(offline, "export-offline")
    finally:
        ctx.close()


# ---------------------------------------------------------------------------------------------
# 6. Snapshots: a saved review is next week's comparison


def _snapshot_dates(db: Path) -> tuple[date, date]:
    """A review date and the date a week later, both in the same month (so the month forecasts compare)."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        last = con.execute("SELECT max(created_at)::DATE FROM leads").fetchone()[0]
    finally:
        con.close()
    week_later = last if last.day > 7 else last - timedelta(days=last.day)
    return week_later - timedelta(days=7), week_later


def test_saved_review_is_last_weeks_figure_a_week_later(browser, sample_db, tmp_path_factory):
    """Save the review on D, open the Overview at D + 7: it names the saved review and says what the
    month's forecast was then and is now; Review history lists the saved review. Own server on its
    own copy of the database (this test writes)."""
    db = _private_db(sample_db, tmp_path_factory, "snapshot")
    saved_on, week_later = _snapshot_dates(db)
    then = f"{saved_on:%d %b %Y}"
    server = start_streamlit(db, timeout_s=60)
    ctx = _context(browser)
    try:
        page = _watch(ctx.new_page())
        open_app(page, f"{server.base_url}/?as_of={saved_on.isoformat()}")
        tile = page.locator(f"{MAIN} [data-testid='stMetric']").filter(has_text="Weighted forecast,").first
        forecast_then = tile.locator("[data-testid='stMetricValue']").inner_text().strip()
        assert forecast_then.startswith("$"), forecast_then
        assert page.locator(MAIN).get_by_text("Since the review of").count() == 0, "a comparison before any save"
        page.get_by_role("button", name="Save this week's review").click()
        expect(page.locator("[data-testid='stToast']")).to_contain_text(f"Review of {then} saved.")
        wait_for_app(page)
        assert not error_texts(page), error_texts(page)

        later = _watch(ctx.new_page())
        open_app(later, f"{server.base_url}/?as_of={week_later.isoformat()}")
        assert not error_texts(later), error_texts(later)
        tile = later.locator(f"{MAIN} [data-testid='stMetric']").filter(has_text="Weighted forecast,").first
        forecast_now = tile.locator("[data-testid='stMetricValue']").inner_text().strip()
        expect(tile).to_contain_text(f"vs the review of {then}")
        # Case-sensitive: a highlight may say what moved "since the review of" too.
        since = later.locator(f"{MAIN} [data-testid='stMarkdownContainer']").filter(has_text=re.compile("Since the review of"))
        expect(since).to_have_count(1)
        expect(since).to_contain_text(f"Since the review of {then}:")
        expect(since).to_contain_text(f"was {forecast_then}, now {forecast_now}")
        screenshot(later, "snapshot-overview-week-later")

        history = _watch(ctx.new_page())
        open_app(history, f"{server.base_url}/review_history?as_of={week_later.isoformat()}")
        assert not error_texts(history), error_texts(history)
        expect(history.locator(MAIN)).to_contain_text(f"the latest is the review of {then}")
        expect(history.locator(MAIN)).not_to_contain_text("No saved reviews")
        chart = history.locator("[data-testid='stPlotlyChart']").first
        expect(chart).to_be_visible()
        wait_for_charts(history)
        assert chart.locator(".scatterlayer .trace").count() >= 1, "the history chart draws no saved forecast"
        screenshot(history, "snapshot-history")
    finally:
        ctx.close()
        stop_streamlit(server)
