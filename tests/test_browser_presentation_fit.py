"""Presentation mode shows every number whole (issue #18): on every page, at 1280×720, 1366×768,
1920×1080 and 3840×2160, in English and Chinese, no tile value, tile label, tile change (and the
note beside it) or chart title is cut (an ellipsis, or text running past its box) and none sits over
another or over a chart's legend.

Regression: at 1280×720 st.metric cut values and labels with an ellipsis ("13.…", "$2.…",
"Rejectio…"), and chart titles ran off the chart or over the legend.

One server and one browser; each page is opened once per language and the viewport resized
through the four sizes (Streamlit re-lays out without rerunning the script). The 1280×720 views
are saved as tests/artifacts/screenshots/present-1280-<page>-<lang>.png (and the whole page as
…-whole.png) for a person to look at.

Run: .venv/bin/python -m pytest tests/test_browser_presentation_fit.py -q
"""
from __future__ import annotations

from pathlib import Path

import pytest

from browser_support import (CHROMIUM, app_pages, chromium, error_texts, fit_to_content, open_app,
    screenshot, server_on_copy, wait_for_charts)

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")

import ui  # noqa: E402 - after the skips: the query key of presentation mode

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SIZES = [(1280, 720), (1366, 768), (1920, 1080), (3840, 2160)]

# Every tile value, tile label and chart title on screen, with the box its text needs (a Range
# over its text: text clipped by overflow:hidden still counts) and the box it is allowed to use.
# A problem is text wider than its element (scrollWidth > clientWidth, on the element or any
# block inside it: an ellipsis), text outside its tile or chart, or two boxes that overlap;
# a chart title also must not touch its chart's legend or a note (annotation) on the chart.
MEASURE = r"""
() => {
  const items = [], problems = [];
  const visible = r => r.width > 0 && r.height > 0;
  const textBox = el => { const r = document.createRange(); r.selectNodeContents(el); return r.getBoundingClientRect(); };
  const box = r => ({left: r.left, top: r.top, right: r.right, bottom: r.bottom});
  const outside = (r, c) => r.left < c.left - 1 || r.right > c.right + 1 || r.top < c.top - 1 || r.bottom > c.bottom + 1;
  const cutInside = el => [el, ...el.querySelectorAll('*')].find(e =>
      e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).display !== 'inline');
  for (const tile of document.querySelectorAll("[data-testid='stMetric']")) {
    const frame = tile.getBoundingClientRect();
    if (!visible(frame)) continue;
    for (const [kind, sel] of [["tile value", "[data-testid='stMetricValue']"],
                               ["tile label", "[data-testid='stMetricLabel'] [data-testid='stMarkdownContainer']"],
                               ["tile change", "[data-testid='stMetricDelta']"],
                               ["tile note", "[data-testid='stMetricDeltaDescription']"]]) {
      const el = tile.querySelector(sel);
      if (!el) continue;
      const text = el.innerText.trim(), r = textBox(el);
      if (!text || !visible(r)) continue;
      const cut = cutInside(el);
      if (cut) problems.push(`${kind} "${text}" is cut (scrollWidth ${cut.scrollWidth} > clientWidth ${cut.clientWidth})`);
      else if (outside(r, frame)) problems.push(`${kind} "${text}" runs out of its tile`);
      items.push({kind, text, box: box(r)});
    }
  }
  for (const chart of document.querySelectorAll("[data-testid='stPlotlyChart']")) {
    const svg = chart.querySelector('.main-svg');
    const title = chart.querySelector('.gtitle');
    if (!svg || !title) continue;
    const frame = svg.getBoundingClientRect(), r = title.getBoundingClientRect();
    const text = (title.textContent || '').trim();
    if (!text || !visible(r) || !visible(frame)) continue;
    if (outside(r, frame)) problems.push(`chart title "${text}" runs out of its chart`);
    items.push({kind: "chart title", text, box: box(r)});
    const touches = l => visible(l) && r.left < l.right && l.left < r.right && r.top < l.bottom - 1 && l.top < r.bottom - 1;
    const legend = chart.querySelector('.legend');
    if (legend && touches(legend.getBoundingClientRect())) problems.push(`chart title "${text}" overlaps its legend`);
    for (const note of chart.querySelectorAll('.annotation'))
      if (touches(note.getBoundingClientRect()))
        problems.push(`chart title "${text}" overlaps the note "${(note.textContent || '').trim()}"`);
  }
  for (let i = 0; i < items.length; i++) for (let j = i + 1; j < items.length; j++) {
    const a = items[i].box, b = items[j].box;
    if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1)
      problems.push(`${items[i].kind} "${items[i].text}" overlaps ${items[j].kind} "${items[j].text}"`);
  }
  return {problems, counts: items.reduce((n, it) => (n[it.kind] = (n[it.kind] || 0) + 1, n), {})};
}
"""

# After a resize, Plotly redraws each chart at its container's new width; measure once all have.
CHARTS_AT_WIDTH = """() => [...document.querySelectorAll("[data-testid='stPlotlyChart']")].every(c => {
    const svg = c.querySelector('.main-svg');
    return !svg || c.clientWidth === 0 || Math.abs(svg.getBoundingClientRect().width - c.clientWidth) <= 2;
})"""


@pytest.fixture(scope="module")
def fit_server(sample_db, tmp_path_factory):
    with server_on_copy(sample_db, tmp_path_factory.mktemp("present_fit"), "fit.duckdb") as server:
        yield server


@pytest.fixture(scope="module")
def fit_browser():
    with chromium() as browser:
        yield browser


def _settle(page) -> None:
    page.wait_for_function(CHARTS_AT_WIDTH, timeout=30_000)
    wait_for_charts(page)
    # Two animation frames: Streamlit's and Plotly's resize handlers have laid out.
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def test_measure_finds_a_cut_value_and_a_title_over_its_legend(fit_browser):
    """The check itself: an ellipsis tile and a title drawn over a legend and a note are reported."""
    ctx = fit_browser.new_context(viewport={"width": 800, "height": 600})
    try:
        page = ctx.new_page()
        page.set_content("""
          <div data-testid='stMetric' style='width:120px'>
            <div data-testid='stMetricLabel'><div data-testid='stMarkdownContainer'><p>Rejection rate</p></div></div>
            <div data-testid='stMetricValue'><div style='overflow:hidden;text-overflow:ellipsis;white-space:nowrap;font-size:48px'>$2.41M</div></div>
          </div>
          <div data-testid='stPlotlyChart' style='width:400px'><svg class='main-svg' width='400' height='200'>
            <g class='legend'><rect x='0' y='10' width='300' height='30'/></g>
            <g class='annotation'><text x='120' y='30' font-size='20'>team 22%</text></g>
            <text class='gtitle' x='5' y='30' font-size='20'>A title over the legend</text></svg></div>""")
        problems = page.evaluate(MEASURE)["problems"]
        assert any(p.startswith('tile value "$2.41M" is cut') for p in problems), problems
        assert any("overlaps its legend" in p for p in problems), problems
        assert any('overlaps the note "team 22%"' in p for p in problems), problems
        assert not any("tile label" in p for p in problems), problems
    finally:
        ctx.close()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_number_and_title_is_whole_in_presentation_mode(fit_server, fit_browser, lang):
    ctx = fit_browser.new_context(viewport={"width": SIZES[0][0], "height": SIZES[0][1]}, device_scale_factor=1)
    ctx.set_default_timeout(60_000)
    problems: list[str] = []
    seen = {"tile value": 0, "tile label": 0, "tile change": 0, "tile note": 0, "chart title": 0}
    try:
        page = ctx.new_page()
        for app_page in app_pages():
            page.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})
            open_app(page, f"{fit_server.base_url}/{app_page.route}?{ui.K_PRESENT}=true&lang={lang}")
            assert not error_texts(page), f"{app_page.slug}: {error_texts(page)}"
            for width, height in SIZES:
                page.set_viewport_size({"width": width, "height": height})
                _settle(page)
                found = page.evaluate(MEASURE)
                problems += [f"{app_page.slug} {width}×{height} {lang}: {p}" for p in found["problems"]]
                for kind, n in found["counts"].items():
                    seen[kind] += n
                if width == 1280:
                    screenshot(page, f"present-1280-{app_page.slug}-{lang}")        # what the room sees first
                    fit_to_content(page, min_height=height)                          # same width: no re-layout
                    screenshot(page, f"present-1280-{app_page.slug}-{lang}-whole")  # the rest, for review
    finally:
        ctx.close()
    # The pages do show tiles and titled charts (else the check above checked nothing).
    assert seen["tile value"] > 20 and seen["tile label"] > 20 and seen["chart title"] > 20, seen
    assert not problems, f"{len(problems)} cut or overlapping:\n" + "\n".join(problems[:60])
