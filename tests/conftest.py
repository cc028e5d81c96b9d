"""Shared fixtures: a small sample database, AppTest runs of the real app, clean caches."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

SHARED_DATASETS = ROOT.parent / "shared" / "datasets"
SAMPLE_LEADS = 3000


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory) -> Path:
    """A 3,000-lead sample database (seed 7), built once per test session. Treat as read-only."""
    from funnel import store
    from funnel.sample import generate_sample

    path = tmp_path_factory.mktemp("sample") / "sample.duckdb"
    con = store.connect(path)
    generate_sample(con, leads=SAMPLE_LEADS, seed=7)
    con.close()
    return path


@pytest.fixture
def sample_copy(sample_db, tmp_path) -> Path:
    """A private copy of the sample database for tests that write."""
    import shutil

    dst = tmp_path / "copy.duckdb"
    shutil.copy(sample_db, dst)
    return dst


@pytest.fixture(autouse=True)
def _clear_streamlit_caches():
    """Cached results must never leak from one test's database into another's."""
    try:
        import streamlit as st
    except ImportError:  # pragma: no cover
        yield
        return
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def run_app(db: Path, page: str | None = None, *, query: dict | None = None, timeout: float = 120):
    """Run app.py under AppTest on ``db``, optionally switched to ``page`` (a file path)."""
    from streamlit.testing.v1 import AppTest

    os.environ["FUNNEL_DB"] = str(db)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    return at


def assert_clean(at) -> None:
    """No exception and no error element on the page."""
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


@pytest.fixture
def app_on(sample_db):
    """``app_on(page)``: the app on the sample database, on that page, with no errors asserted by the caller."""
    def _run(page: str | None = None, **kw):
        return run_app(sample_db, page, **kw)
    return _run


def page_finding(at) -> str:
    """The finding ui.page_header shows under a page title (escaped Markdown in the container
    keyed ``fc_finding``), read back as the plain sentence."""
    from funnel.markup import md_plain

    def blocks(node):
        for child in getattr(node, "children", {}).values():
            yield child
            yield from blocks(child)

    box = next(b for b in blocks(at.main) if getattr(b, "key", None) == "fc_finding")
    return md_plain(next(c for c in blocks(box) if type(c).__name__ == "Markdown").value)
