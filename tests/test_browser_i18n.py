"""The converted pages in Chinese in a real browser (issue #14): what a projector shows at
1920×1080, in normal and presentation mode, saved to tests/artifacts/screenshots/zh-*.png for a
person to look at (glyph boxes and clipping are judged by eye there); the switch in the sidebar
turns a page back to English and keeps the page's choices."""
from __future__ import annotations

import re
import subprocess

import pytest

from browser_support import (FULL_HD, MAIN, MAIN_H1, chromium, error_texts, fit_to_content, open_app,
    screenshot, server_on_copy, wait_for_app)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")

CONVERTED = {"conversion": "转化分析", "time_in_stage": "阶段停留时长", "rejections": "退回与回收"}
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def zh_server(sample_db, tmp_path_factory):
    with server_on_copy(sample_db, tmp_path_factory.mktemp("browser_zh"), "zh.duckdb") as server:
        yield server


@pytest.fixture(scope="module")
def zh_browser():
    with chromium() as browser:
        yield browser


def _page(browser, locale="en-US"):
    ctx = browser.new_context(viewport=FULL_HD, device_scale_factor=1, locale=locale)
    ctx.set_default_timeout(60_000)
    return ctx, ctx.new_page()


def test_a_cjk_font_is_installed_for_the_browser_and_the_charts():
    """Without one Chromium draws Chinese as boxes (.ci/run installs Debian's fonts-noto-cjk)."""
    fonts = subprocess.run(["fc-list", ":lang=zh-cn", "family"], capture_output=True, text=True).stdout
    assert "Noto Sans CJK SC" in fonts, "no Chinese font: apt-get install fonts-noto-cjk (see .ci/run)"


@pytest.mark.parametrize("mode", ["normal", "present"])
@pytest.mark.parametrize("slug", list(CONVERTED))
def test_converted_page_in_chinese_at_1920x1080(zh_server, zh_browser, slug, mode):
    ctx, page = _page(zh_browser)
    try:
        query = "lang=zh" + ("&present=true" if mode == "present" else "")
        open_app(page, f"{zh_server.base_url}/{slug}?{query}")
        screenshot(page, f"zh-{slug}-{mode}-1080")           # what the room sees first
        assert not error_texts(page), error_texts(page)
        assert page.locator(MAIN_H1).first.inner_text().strip() == CONVERTED[slug]
        main_text = page.locator(MAIN).inner_text()
        assert len(CJK.findall(main_text)) > 200, "the main area is not in Chinese"
        fit_to_content(page)
        screenshot(page, f"zh-{slug}-{mode}")               # the whole page, for review
    finally:
        ctx.close()


def test_chinese_browser_gets_chinese_and_the_switch_turns_it_back(zh_server, zh_browser):
    ctx, page = _page(zh_browser, locale="zh-CN")          # navigator.language = zh-CN, no lang in the link
    try:
        open_app(page, f"{zh_server.base_url}/conversion")
        assert page.locator(MAIN_H1).first.inner_text().strip() == "转化分析"
        assert "lang=zh" in page.url                        # the address bar says which language a link shows
        # a choice on the page, then the switch: the page reads English and keeps the choice
        page.locator("[data-testid='stSelectbox']").filter(has_text="细分维度").click()
        page.get_by_role("option", name="区域").click()
        wait_for_app(page)
        page.locator("[data-testid='stSidebar'] button", has_text="English").first.click()
        page.wait_for_function("() => document.querySelector(\"[data-testid='stMain'] h1\")?.innerText === 'Conversion'")
        wait_for_app(page)
        assert not error_texts(page), error_texts(page)
        assert "lang=en" in page.url
        screenshot(page, "zh-switched-to-en-conversion")
        assert page.get_by_role("heading", name="By region").count() == 1   # the breakdown chosen in Chinese
    finally:
        ctx.close()
