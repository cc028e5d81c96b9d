"""Helpers for the real-browser tests (tests/test_browser.py): a Streamlit server on a free port,
Debian's Chromium through Playwright's sync API, waits that never sleep blindly, screenshots and
downloads.

Kept free of pytest fixtures so other browser tests (HTML export, snapshots) can reuse it.
"""
from __future__ import annotations

import ast
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"          # git-ignored
SCREENSHOTS = ARTIFACTS / "screenshots"
DOWNLOADS = ARTIFACTS / "downloads"

CHROMIUM = "/usr/bin/chromium"                    # Debian's build; never a downloaded browser
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless=new", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
]

FULL_HD = {"width": 1920, "height": 1080}
# The main area scrolls inside its own container, so full_page screenshots stop at the viewport:
# a tall viewport is what captures a whole page.
TALL = {"width": 1920, "height": 2400}

MAX_WAIT_MS = 60_000                               # no single wait is longer than this

# Streamlit 1.67 test ids (checked against the frontend bundle in streamlit/static):
#   st.exception / an uncaught script error -> stException
#   st.error -> stAlertContainer > stAlertContent{Kind}, i.e. stAlertContentError
ERROR_SELECTOR = "[data-testid='stException'], [data-testid='stAlertContentError']"
# Streamlit's modal when a URL names no page ("Page not found ... Running the app's main page").
PAGE_NOT_FOUND = "[role='dialog']:has-text('Page not found')"
# The frame (app.py) ran: its presentation toggle is on every page, in both modes.
FRAME_MARK = "[data-testid='stCheckbox']:has-text('Presentation mode')"
MAIN = "[data-testid='stMain']"
MAIN_H1 = f"{MAIN} h1"
SCRIPT_DONE = "[data-testid='stApp'][data-test-script-state='notRunning']"


# ---------------------------------------------------------------------------------------------
# The app's pages, read from app.py so a new st.Page is covered without editing the tests


@dataclass(frozen=True)
class AppPage:
    file: str        # pages/overview.py
    title: str       # Overview (the navigation label)
    url_path: str    # overview
    default: bool = False
    section: str = ""  # Weekly review (the navigation group it sits in)

    def names(self) -> set[str]:
        """Words a page heading may use to name this page: its label's and its section's."""
        words = re.findall(r"[a-z]{4,}", f"{self.title} {self.section}".lower())
        return set(words) or {self.title.lower()}

    @property
    def slug(self) -> str:
        """A name for test ids and screenshots: the url_path, or for the default page (served at
        "/", whatever its url_path) the file's name."""
        return Path(self.file).stem if self.default or not self.url_path else self.url_path

    @property
    def route(self) -> str:
        """The path Streamlit serves the page at: the default page lives at "/" (Streamlit ignores
        a default page's url_path; app.py adds a hidden alias page so /overview works too)."""
        return "" if self.default else self.url_path


def _text(node):
    """A string literal, or the English message of ``_("…")`` (app.py translates titles and sections)."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "N_") and node.args:
        node = node.args[0]
    return node if isinstance(node, ast.Constant) else None


def app_pages(app_file: Path = ROOT / "app.py") -> list[AppPage]:
    """Every ``st.Page(file, title=..., url_path=...)`` call in app.py, in navigation order (titles
    and sections in English, as written in app.py)."""
    tree = ast.parse(app_file.read_text(encoding="utf-8"))
    sections: dict[int, str] = {}  # id(st.Page call) -> its section, from {"Section": [st.Page(...), ...]}
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values):
                if _text(k) is not None and isinstance(v, (ast.List, ast.Tuple)):
                    for elt in v.elts:
                        sections[id(elt)] = str(_text(k).value)
    found: list[tuple[int, int, AppPage]] = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "Page"):
            continue
        if not node.args or not isinstance(node.args[0], ast.Constant):
            continue
        kw = {k.arg: _text(k.value).value for k in node.keywords if _text(k.value) is not None}
        if kw.get("visibility") == "hidden":
            continue  # an alias route (e.g. /overview for the default page), not a page of its own
        file = node.args[0].value
        page = AppPage(file=file, title=kw.get("title") or Path(file).stem,
                       url_path=kw.get("url_path") or Path(file).stem, default=bool(kw.get("default")),
                       section=sections.get(id(node), ""))
        found.append((node.lineno, node.col_offset, page))
    return [p for *_, p in sorted(found, key=lambda t: t[:2])]  # source order = navigation order


# ---------------------------------------------------------------------------------------------
# The server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    proc: subprocess.Popen
    port: int
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"


def start_streamlit(db: Path, *, port: int | None = None, log_path: Path | None = None,
                    timeout_s: float = 60.0) -> Server:
    """``streamlit run app.py`` on ``db`` in its own process group; returns once /_stcore/health is ok."""
    port = port or free_port()
    log_path = log_path or ARTIFACTS / f"streamlit-{Path(db).stem}.log"  # one per database, overwritten
    log_path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py",
           "--server.port", str(port), "--server.address", "127.0.0.1",
           "--server.headless", "true", "--browser.gatherUsageStats", "false",
           # Other people edit files while the suite runs: never rerun on their saves.
           "--server.fileWatcherType", "none"]
    env = {**os.environ, "FUNNEL_DB": str(db), "PYTHONUNBUFFERED": "1"}
    log = open(log_path, "w")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    server = Server(proc=proc, port=port, log_path=log_path)
    try:
        wait_healthy(server, timeout_s)
    except BaseException:
        stop_streamlit(server)
        raise
    return server


def wait_healthy(server: Server, timeout_s: float = 60.0) -> None:
    url = f"{server.base_url}/_stcore/health"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {server.proc.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200 and r.read().strip() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.25)  # polling a port, not waiting on the UI
    raise TimeoutError(f"streamlit not healthy after {timeout_s:.0f} s at {url}:\n{server.log_tail()}")


def stop_streamlit(server: Server) -> None:
    """Terminate the server's whole process group (it is ours alone: start_new_session)."""
    proc = server.proc
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        except ProcessLookupError:
            pass
    if proc.stdout:
        proc.stdout.close()


# ---------------------------------------------------------------------------------------------
# The browser


@contextlib.contextmanager
def server_on_copy(db: Path, folder: Path, name: str = "app.duckdb", timeout_s: float = 60.0):
    """A Streamlit server on a private copy of ``db`` in ``folder`` (DuckDB locks a file per
    process, and a test that writes must not change the shared sample), stopped on exit."""
    copy = Path(folder) / name
    shutil.copy(db, copy)
    server = start_streamlit(copy, timeout_s=timeout_s)
    try:
        yield server
    finally:
        stop_streamlit(server)


@contextlib.contextmanager
def chromium():
    """Debian's Chromium through Playwright's sync API; the browser and Playwright stop on exit."""
    from playwright import sync_api

    pw = sync_api.sync_playwright().start()
    try:
        browser = launch_chromium(pw)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        pw.stop()


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


def wait_for_app(page, timeout_ms: int = MAX_WAIT_MS) -> None:
    """Wait until the page's script has run and drawn real content (or failed visibly).

    ``stApp`` exists before the script runs, and its state can read ``notRunning`` before the first
    run starts; so: first a heading or an error element in the main area, then the script state,
    then the network quiet, then every Plotly chart drawn.
    """
    page.wait_for_selector(f"{MAIN_H1}, {ERROR_SELECTOR}", state="attached", timeout=timeout_ms)
    page.wait_for_selector(SCRIPT_DONE, state="attached", timeout=timeout_ms)
    try:
        page.wait_for_load_state("networkidle", timeout=10_000)
    except Exception:  # noqa: BLE001 - a socket that never idles; the script state above is what matters
        pass
    wait_for_skeletons(page, timeout_ms)
    wait_for_charts(page, timeout_ms)


def wait_for_skeletons(page, timeout_ms: int = MAX_WAIT_MS) -> None:
    """Streamlit lazy-loads widget code; until a chunk arrives the element is a grey placeholder
    (``stSkeleton``, a React Suspense fallback) even though the script has finished."""
    page.wait_for_function(
        """() => !document.querySelector(
            "[data-testid='stSkeleton'], [data-testid='stSkeletonElement'], [data-testid='stAppSkeleton']")""",
        timeout=timeout_ms,
    )


def wait_for_charts(page, timeout_ms: int = MAX_WAIT_MS) -> None:
    """Every st.plotly_chart has drawn its SVG (Plotly renders after the script finishes)."""
    page.wait_for_function(
        """() => {
            const charts = document.querySelectorAll("[data-testid='stPlotlyChart']");
            return [...charts].every(c => c.querySelector('.main-svg'));
        }""",
        timeout=timeout_ms,
    )


def open_app(page, url: str, timeout_ms: int = MAX_WAIT_MS) -> None:
    page.goto(url, wait_until="domcontentloaded", timeout=timeout_ms)
    wait_for_app(page, timeout_ms)


def error_texts(page) -> list[str]:
    """Texts of every error element and "Page not found" dialog (an empty list is what every test wants)."""
    return [t.strip()[:500] for t in page.locator(f"{ERROR_SELECTOR}, {PAGE_NOT_FOUND}").all_inner_texts()]


def frame_ran(page) -> bool:
    """app.py ran around the page (not a bare pages/*.py run: see test_deep_link_on_a_fresh_server)."""
    return page.locator(FRAME_MARK).count() > 0


def heading(page) -> str:
    loc = page.locator(MAIN_H1)
    return loc.first.inner_text().strip() if loc.count() else ""


def fit_to_content(page, min_height: int = TALL["height"], max_height: int = 8000) -> None:
    """Grow the viewport (same width, so nothing re-lays out and nothing reruns) to the main area's
    full height, at least ``min_height``: the main area scrolls inside, so this is the only way a
    screenshot shows a long page whole."""
    content = page.evaluate("() => document.querySelector(\"[data-testid='stMain']\")?.scrollHeight || 0")
    height = max(min_height, min(max_height, int(content)))
    width = page.viewport_size["width"] if page.viewport_size else TALL["width"]
    page.set_viewport_size({"width": width, "height": height})
    wait_for_charts(page)


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def download_file(page, trigger: Callable[[], None], dest_dir: Path = DOWNLOADS,
                  timeout_ms: int = MAX_WAIT_MS, attempts: int = 3) -> Path:
    """Run ``trigger`` (e.g. ``lambda: page.get_by_role("button", name="Export HTML").click()``),
    catch the browser download it starts and save it under ``dest_dir``; returns the saved path.

    The browser context must accept downloads (Playwright contexts do by default).

    A deferred download (``st.download_button`` with a callable) is served under an id that the
    button's latest script run registered. On a loaded machine a click can land while a rerun is
    replacing that id, and the browser then fetches nothing: so the click waits for the script
    to be idle, and a click that starts no download within a third of the budget is repeated
    (each attempt waits for the app to settle first).
    """
    dest_dir.mkdir(parents=True, exist_ok=True)
    per_attempt = max(5_000, timeout_ms // attempts)
    last_error: Exception | None = None
    for _ in range(attempts):
        page.wait_for_selector(SCRIPT_DONE, state="attached", timeout=timeout_ms)
        try:
            with page.expect_download(timeout=per_attempt) as info:
                trigger()
            download = info.value
            break
        except Exception as exc:  # noqa: BLE001 - Playwright's TimeoutError; tried again below
            last_error = exc
    else:
        raise AssertionError(f"no download started after {attempts} clicks: {last_error}")
    failure = download.failure()
    if failure:
        raise AssertionError(f"download failed: {failure}")
    path = dest_dir / re.sub(r"[^\w.\-]+", "_", download.suggested_filename or "download")
    download.save_as(str(path))
    return path


def in_own_thread(fn, *args):
    """Run ``fn(*args)`` on a thread of its own and re-raise what it raised. AppTests leave an
    asyncio loop running on the main thread, and Playwright's sync API refuses to start inside
    one: a browser test in a file that also runs AppTests calls Playwright through this."""
    import threading

    outcome: dict = {}

    def body():
        try:
            fn(*args)
        except BaseException as e:  # noqa: BLE001 - re-raised on the caller's thread below
            outcome["error"] = e

    t = threading.Thread(target=body)
    t.start()
    t.join()
    if "error" in outcome:
        raise outcome["error"]
