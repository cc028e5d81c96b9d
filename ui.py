"""The one Streamlit-aware glue module: connection, cached calls, global filters, formatting.

Pages import this and ``funnel``; nothing in ``funnel`` imports Streamlit. The connection is one
per server process (``st.cache_resource``); every call works on its own cursor, because a DuckDB
connection refuses concurrent use from two sessions' threads. Cached results are keyed by the
database path, its data version (bumped on every import and every edit of stages, probabilities
or rules) and the call's arguments — so a stale figure after an edit cannot happen.
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib
import os
import pickle
import sys
import threading
import traceback
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import streamlit as st

from funnel import labels, markup, store
from funnel.errors import FunnelError
from funnel.labels import readable
from funnel.query import DIMENSIONS, Scope

ROOT = Path(__file__).resolve().parent


def _leave_legacy_multipage_mode() -> bool:
    """A fresh server treats ``pages/`` as a legacy multipage app until ``st.navigation`` runs
    once, so the first deep link (``/overview?…``) would run a page without app.py: no filters,
    no URL binding. Whatever script imports this module first switches Streamlit to navigation
    mode; the caller then reruns, and app.py routes the URL."""
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        return True
    return False


if _leave_legacy_multipage_mode() and st.runtime.exists():
    st.rerun()

DIMENSION_LABELS = {"channel": "Channel", "segment": "Segment", "region": "Region", "sdr": "SDR", "ae": "AE"}

# Widget keys of the global filters; they double as URL query parameter names.
K_FROM, K_TO, K_ASOF = "from", "to", "as_of"
K_PRESENT = "present"
K_METHOD = "method"
K_SCENARIO = "scenario"


# ---------------------------------------------------------------------------------------------
# Database


def db_path() -> Path:
    """$FUNNEL_DB, else ``--db PATH`` after ``streamlit run app.py --``, else data/funnel.duckdb."""
    argv = sys.argv[1:]
    if "--db" in argv and argv.index("--db") + 1 < len(argv):
        return Path(argv[argv.index("--db") + 1]).resolve()
    return Path(os.environ.get("FUNNEL_DB") or ROOT / store.DEFAULT_DB).resolve()


@st.cache_resource(show_spinner=False)
def _connection(path: str):
    con = store.connect(path)
    if not store.has_data(con):
        # A fresh machine: the embedded default is the deterministic sample data set.
        from funnel.sample import generate_sample
        generate_sample(con, leads=20000, seed=7)
    store.ensure_derived(con)
    return con


_write_lock = threading.Lock()


def con():
    """A cursor for this call (thread-safe use of the shared connection)."""
    return _connection(str(db_path())).cursor()


@contextlib.contextmanager
def writer():
    """A cursor for a write; writes are serialised so two sessions never interleave them."""
    with _write_lock:
        cur = con()
        try:
            yield cur
        finally:
            cur.close()


def data_version() -> int:
    cur = con()
    try:
        return store.data_version(cur)
    finally:
        cur.close()


@st.cache_data(show_spinner=False, max_entries=512)
def _cached(func_path: str, db: str, version: int, payload: bytes):
    module, name = func_path.rsplit(".", 1)
    fn = getattr(importlib.import_module(module), name)
    args, kwargs = pickle.loads(payload)
    cur = _connection(db).cursor()
    try:
        return fn(cur, *args, **kwargs)
    finally:
        cur.close()


def call(fn, *args, **kwargs):
    """Run ``fn(cursor, *args, **kwargs)`` through the cache. Treat the result as read-only."""
    payload = pickle.dumps((args, kwargs))
    res = _cached(f"{fn.__module__}.{fn.__name__}", str(db_path()), data_version(), payload)
    return res.copy() if isinstance(res, pd.DataFrame) else res


def call_fresh(fn, *args, **kwargs):
    """Run ``fn`` on a fresh cursor without caching (writes, or results that must not be shared)."""
    cur = con()
    try:
        return fn(cur, *args, **kwargs)
    finally:
        cur.close()


def after_write() -> None:
    """Drop cached results (they are keyed by data version too; this frees memory sooner)."""
    _cached.clear()


# ---------------------------------------------------------------------------------------------
# Global filters (defined in app.py's sidebar, bound to the URL)


@st.cache_data(show_spinner=False)
def _data_facts(db: str, version: int) -> dict:
    cur = _connection(db).cursor()
    try:
        from funnel.query import default_as_of, earliest_lead_date
        facts = {"as_of": None, "first": None, "options": {},
                 "leads": cur.execute("SELECT count(*) FROM leads").fetchall()[0][0],
                 "lead_events": cur.execute("SELECT count(*) FROM lead_events").fetchall()[0][0],
                 "opportunities": cur.execute("SELECT count(*) FROM opportunities").fetchall()[0][0]}
        if store.has_data(cur):
            facts["as_of"] = default_as_of(cur)
            facts["first"] = earliest_lead_date(cur) or facts["as_of"]
        cols = store.lead_attribute_columns(cur)
        for d in DIMENSIONS:
            if d in cols:
                vals = cur.execute(f"SELECT DISTINCT CAST({store.quote_ident(d)} AS VARCHAR) AS v FROM leads "
                                   "WHERE v IS NOT NULL ORDER BY v LIMIT 500").fetchall()
                facts["options"][d] = [v[0] for v in vals]
        return facts
    finally:
        cur.close()


def data_facts() -> dict:
    return _data_facts(str(db_path()), data_version())


def scope(**overrides) -> Scope:
    """The Scope the sidebar's global filters describe."""
    ss = st.session_state
    facts = data_facts()
    filters = tuple((d, tuple(ss.get(f"f_{d}") or ())) for d in DIMENSIONS if ss.get(f"f_{d}"))
    as_of = ss.get(K_ASOF) or facts["as_of"]
    date_from = ss.get(K_FROM) or facts["first"]
    date_to = ss.get(K_TO) or as_of
    s = Scope(as_of=as_of, date_from=date_from, date_to=date_to, filters=filters)
    return s.with_(**overrides) if overrides else s


def presentation() -> bool:
    return bool(st.session_state.get(K_PRESENT))


def describe_scope(s: Scope | None = None) -> str:
    """One sentence naming the cohort, filters and as-of date a page shows."""
    s = s or scope()
    parts = [f"Leads created {fmt_date(s.date_from)} – {fmt_date(s.date_to)}"]
    for col, vals in s.filters:
        parts.append(f"{DIMENSION_LABELS.get(col, col)}: {', '.join(readable(v) for v in vals)}")
    text = "; ".join(parts) + f". Figures as known at the end of {fmt_date(s.as_of)}."
    if s.window_days is not None:
        text += f" Conversion window: {s.window_days} days."
    return text


# ---------------------------------------------------------------------------------------------
# Formatting: one style everywhere


def fmt_money(x, currency: str = "$") -> str:
    return labels.money(x, currency)


def fmt_pct(x, digits: int = 1) -> str:
    if x is None or pd.isna(x):
        return "–"
    return f"{float(x) * 100:.{digits}f}%"


def fmt_int(x) -> str:
    if x is None or pd.isna(x):
        return "–"
    x = float(x)
    if abs(x) >= 1e6:
        return f"{x / 1e6:.2f}M"
    if abs(x) >= 1e5:
        return f"{x / 1e3:.0f}k"
    return f"{x:,.0f}"


def fmt_num(x, digits: int = 1) -> str:
    if x is None or pd.isna(x):
        return "–"
    return f"{float(x):,.{digits}f}"


def fmt_days(x) -> str:
    return labels.duration(x, short=True)


def fmt_hours(h) -> str:
    if h is None or pd.isna(h):
        return "–"
    return fmt_days(float(h) / 24.0)


def fmt_date(d) -> str:
    if d is None or (not isinstance(d, date) and pd.isna(d)):
        return "–"
    return pd.Timestamp(d).strftime("%d %b %Y")


# ---------------------------------------------------------------------------------------------
# Page scaffolding


def md(value) -> str:
    """Text (a data value, or a sentence holding some) as Markdown that shows it literally."""
    return markup.md_text(value)


def page_header(title: str, finding: str | None = None) -> None:
    # The finding holds data values (channel, stage, AE names): it is escaped Markdown in a
    # keyed container styled by app.py's CSS, never raw HTML (a channel named
    # "<a href=… style='position:fixed'>…" once covered the page with a fake sign-in link).
    st.title(title)
    if finding:
        with st.container(key="fc_finding"):
            st.markdown(md(finding))
    st.caption(md(describe_scope()))


@contextlib.contextmanager
def guard(what: str = "this figure"):
    """Show errors as actionable messages; never a raw traceback on screen."""
    try:
        yield
    except FunnelError as e:
        st.error(md(f"{e.message}" + (f" — {e.hint}" if e.hint else "")))
    except Exception as e:  # noqa: BLE001 - the screen gets a sentence, the log gets the trace
        traceback.print_exc()
        st.error(md(f"Could not compute {what}: {type(e).__name__}: {e}. "
                    "Check the data on the Data page, or reset to the sample data."))


def download_csv(df: pd.DataFrame, name: str, label: str = "Download CSV", key: str | None = None) -> None:
    # The CSV is written when the button is clicked, not on every render (65k open deals at 5M
    # leads took a quarter of a second to write on each rerun of the Forecast page).
    # Text cells that a spreadsheet would run as formulas (=HYPERLINK(…)) are neutralised.
    st.download_button(label, lambda: markup.to_csv_bytes(df), file_name=markup.file_name(name, ".csv"),
                       mime="text/csv", key=key or f"dl_{name}", disabled=presentation())


def chart(fig, key: str | None = None) -> None:
    # Category names, hover text and legends come from the data: drawn as text, not Plotly markup.
    st.plotly_chart(markup.plain_figure(fig), width="stretch", key=key, config={"displaylogo": False})


def empty_state(message: str) -> None:
    st.info(message)


def shared_link_note() -> None:
    st.caption("The address bar holds this view's filters and as-of date: copy it to share exactly this view.")


def stable_key(*parts) -> str:
    return hashlib.sha1(repr(parts).encode()).hexdigest()[:10]


def week_before(d: date) -> date:
    return d - timedelta(days=7)
