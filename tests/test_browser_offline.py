"""Nothing leaves the machine (issue #18): every page, in normal and presentation mode, in English
and Chinese, loads with every request to a host other than this one aborted — and none is made.

Regression: ``st.set_page_config(page_icon=":material/monitoring:")`` made the browser fetch the
favicon from fonts.gstatic.com on every page (a projector room without internet, or a locked-down
network, saw a broken icon and a failed request in the log).

Run: .venv/bin/python -m pytest tests/test_browser_offline.py -q
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from browser_support import (CHROMIUM, FULL_HD, app_pages, error_texts, launch_chromium, open_app,
    server_on_copy)

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
LOCAL_SCHEMES = {"data", "blob", "about", "file"}


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in LOCAL_SCHEMES or (parts.hostname or "") in LOCAL_HOSTS


def test_is_local_tells_this_machine_from_others():
    assert is_local("http://127.0.0.1:8501/_stcore/health")
    assert is_local("http://localhost:8501/static/x.js")
    assert is_local("data:image/svg+xml,<svg/>")
    assert not is_local("https://fonts.gstatic.com/s/i/short-term/release/materialsymbolsrounded/monitoring/default/24px.svg")
    assert not is_local("https://127.0.0.1.evil.example/")


@pytest.fixture(scope="module")
def offline_server(sample_db, tmp_path_factory):
    with server_on_copy(sample_db, tmp_path_factory.mktemp("offline"), "offline.duckdb") as server:
        yield server


@pytest.mark.parametrize("query", ["", "present=true", "lang=zh&present=true"],
                         ids=["normal", "present", "zh-present"])
def test_every_page_loads_without_a_request_to_another_host(offline_server, query):
    outside: list[str] = []

    def guard(route):
        url = route.request.url
        if is_local(url):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    with sync_api.sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            ctx = browser.new_context(viewport=FULL_HD)
            ctx.route("**/*", guard)
            page = ctx.new_page()
            checked = []
            for app_page in app_pages():
                open_app(page, f"{offline_server.base_url}/{app_page.route}" + (f"?{query}" if query else ""))
                assert not error_texts(page), f"{app_page.slug}: {error_texts(page)}"
                # The favicon is requested once the page config arrives: wait for it to be set.
                page.wait_for_function("() => document.querySelector(\"link[rel='shortcut icon'], link[rel='icon']\")")
                checked.append((app_page.slug, page.evaluate(
                    "() => document.querySelector(\"link[rel='shortcut icon'], link[rel='icon']\").href")))
                assert not outside, f"{app_page.slug} ({query or 'normal'}): requests to other hosts: {outside[:5]}"
            # The favicon is the one shipped in the repository, served by this server.
            assert all(is_local(href) for _, href in checked), checked
            assert len(checked) == len(app_pages())
        finally:
            browser.close()
