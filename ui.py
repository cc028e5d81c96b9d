"""The one Streamlit-aware glue module: connection, cached calls, global filters, formatting.

Pages import this and ``funnel``; nothing in ``funnel`` imports Streamlit. The app reads one
immutable version of the database per script run through a read-only connection
(``st.cache_resource``, one per version) and writes through ``writer()`` (a copy swapped in, see
``funnel/versions.py``); every call works on its own cursor, because a DuckDB connection refuses
concurrent use from two sessions' threads. Cached results are keyed by the
database path, its data version (bumped on every import and every edit of stages, probabilities
or rules) and the call's arguments — so a stale figure after an edit cannot happen.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib
import os
import pickle
import sys
import traceback
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import streamlit as st

from funnel import access, error_messages, fmt, forecast, labels, markup, serving, store, versions
from funnel.errors import FunnelError
from funnel.i18n import N_
from funnel.labels import readable
from funnel.query import DIMENSIONS, Scope

ROOT = Path(__file__).resolve().parent


def _leave_legacy_multipage_mode() -> None:
    """Rerun a page Streamlit started without app.py on a fresh server.

    With a ``pages/`` folder beside app.py, Streamlit treats a fresh server as a legacy multipage
    app until ``st.navigation`` runs once, and such a run executes a deep-linked page without
    app.py (no filters, no URL binding). The process-wide flag is flipped once, when this module
    is imported, so runs that start later route through app.py; a run that had already started in
    the old mode on a page — six first visitors at once start six — reruns once, when it first
    calls into this module (``presentation``, ``con``, ``page_header``), and then goes through
    app.py.

    Regression (issue 19): this used to ``st.rerun()`` while the module was being imported. The
    import then failed halfway for one session while others imported it too, and five of six
    first visitors saw "module 'ui' has no attribute 'presentation'". Importing this module now
    never raises.
    """
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    # Still set: Streamlit re-armed legacy mode after this module's import flipped it (AppTest does
    # before every run, on purpose) — not a run that raced the flip; it runs as it was started.
    if PagesManager.uses_pages_directory:
        return
    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None or not st.runtime.exists():
        return
    checked = getattr(ctx, "_funnel_mode_checked", None)
    if checked is not None and checked is ctx.cursors:      # once per run (ctx.cursors is per run)
        return
    ctx._funnel_mode_checked = ctx.cursors
    if _page_run_without_frame():
        st.rerun()


def _page_run_without_frame() -> bool:
    """Is this script run Streamlit's pages-folder mode (``_mpa_v1`` on the stack) running a page
    of ``pages/`` rather than app.py?"""
    main = str(ROOT / "app.py")
    legacy = frame_seen = False
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "_mpa_v1" and frame.f_globals.get("__name__", "").startswith("streamlit."):
            legacy = True
        if frame.f_code.co_filename == main:
            frame_seen = True
        frame = frame.f_back
    return legacy and not frame_seen


from streamlit.runtime.pages_manager import PagesManager as _PagesManager  # noqa: E402

_PagesManager.uses_pages_directory = False   # runs that start from now on route through app.py

# Marked for translation (babel: N_); translated where shown.
DIMENSION_LABELS = {"channel": N_("Channel"), "segment": N_("Segment"), "region": N_("Region"), "sdr": N_("SDR"),
                    "ae": N_("AE")}

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


@st.cache_resource(show_spinner=False, max_entries=2)
def _connection(path: str, identity: tuple | None = None):
    """A read-only connection to the version of the database at ``path`` that ``identity``
    (device, inode, mtime, size of the live file) names.

    The app never writes the live file in place (``funnel/versions.py``): it reads one version
    and, when a writer has swapped in another (this app, a CLI import, a reset), the next script
    run opens that one. Older connections are dropped from this cache (``max_entries``: each open
    version has its own buffer pool, so few are kept) and close once no run holds them any more.
    A fresh machine gets the sample data, an old database the current schema and derived tables —
    as a write, like every other change.
    """
    con = _open_reader(path)
    if con is None or _needs_preparing(con):
        if con is not None:
            con.close()
        with versions.writing(path, "first start") as w:     # re-checked under the writers' lock
            if not store.has_data(w):
                # A fresh machine: the embedded default is the deterministic sample data set.
                from funnel.sample import generate_sample
                generate_sample(w, leads=20000, seed=7)
            store.ensure_derived(w)
        con = _open_reader(path)
    return con


@st.cache_resource(show_spinner=False, max_entries=2)
def _serving_connection(path: str, source: str, identity: tuple | None, fingerprint: tuple):
    """FUNNEL_SOURCE mode (funnel/serving.py): the data tables from ``source``'s Parquet, the
    configuration from ``path`` read-only; a new configuration version or a new derive into the
    folder (``identity`` / ``fingerprint``) opens a new one."""
    return serving.open_serving(versions.reader_path(path), source)


def _open_reader(path: str):
    if not Path(path).exists():
        return None
    return store.open_read_only(versions.reader_path(path))


def _needs_preparing(con) -> bool:
    return not store.has_data(con) or not store.schema_is_current(con) or not store.derived_is_current(con)


def _pinned():
    """The connection this script run reads from: one version for the whole run, so no page ever
    mixes tables of two versions. The first call in a run opens the current version (or reuses
    it); outside a script run (tests, bare mode) every call does."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    _leave_legacy_multipage_mode()
    path = str(db_path())
    ctx = get_script_run_ctx(suppress_warning=True)
    pin = getattr(ctx, "_funnel_pin", None) if ctx is not None else None
    # ctx.cursors is a new dict at the start of every run: holding it makes it this run's token.
    if pin is not None and pin[0] is ctx.cursors and pin[1] == path:
        return pin[2]
    try:
        source = serving.source_dir()
        con = (_serving_connection(path, str(source), versions.identity(path), serving.fingerprint(source))
               if source else _connection(path, versions.identity(path)))
    except FunnelError as e:
        if ctx is None:
            raise
        st.error(error_text(e))
        st.stop()
    if ctx is not None:
        ctx._funnel_pin = (ctx.cursors, path, con)
    return con


def _unpin() -> None:
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is not None:
        ctx._funnel_pin = None


def con():
    """A cursor for this call on this run's version of the database (a cursor per call: one
    connection refuses concurrent use from two sessions' threads)."""
    return _pinned().cursor()


@contextlib.contextmanager
def writer(label: str = "edit", *, commit_on: tuple = ()):
    """A connection for a write: on a copy of the database that replaces the live file when the
    block ends without an exception (``versions.writing``). Writers queue on the database's lock
    file, in this process and in others. ``st.rerun()``/``st.stop()`` inside the block still
    commit; any other exception discards the copy. The rest of this run reads what it wrote."""
    from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException

    path = str(db_path())
    try:
        with versions.writing(path, label, commit_on=(ScriptControlException, *commit_on)) as cur:
            yield cur
    finally:
        _unpin()


def serving_source() -> Path | None:
    """The folder of derived tables this app serves from (FUNNEL_SOURCE), or None."""
    return serving.source_dir()


def data_version() -> int:
    """The key every cached figure is filed under: the database's data version — and, serving from
    FUNNEL_SOURCE, which derive's output it reads."""
    cur = con()
    try:
        version = store.data_version(cur)
    finally:
        cur.close()
    source = serving.source_dir()
    return hash((version, serving.fingerprint(source))) if source else version


@st.cache_data(show_spinner=False, max_entries=512)
def _cached(func_path: str, db: str, version: int, payload: bytes):
    module, name = func_path.rsplit(".", 1)
    fn = getattr(importlib.import_module(module), name)
    args, kwargs = pickle.loads(payload)
    cur = con()
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
# Sign-in and roles (funnel.access holds the rules; this reads Streamlit's side of them)
#
# With an [auth] section in .streamlit/secrets.toml the app signs people in through st.login
# (OpenID Connect) and gives each a role from [funnelcast.roles]. Without one it is a local
# single-user install: the person at this machine is admin — but only when the server listens
# on a loopback address; served on a network without sign-in, everyone is a viewer and a banner
# says why.

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
K_ACTOR = "_fc_actor"


def _secrets_section(name: str) -> dict:
    try:
        return dict(st.secrets.get(name) or {})
    except Exception:  # no secrets.toml at all: nothing configured
        return {}


def auth_configured() -> bool:
    """st.login has a provider to talk to: an [auth] section with a redirect URI."""
    auth = _secrets_section("auth")
    return bool(auth.get("redirect_uri"))


def served_locally() -> bool:
    """Only this machine can reach the server: it listens on a loopback address (or there is no
    HTTP client at all — AppTest, bare runs). A Host header is not trusted: clients set it."""
    address = (st.get_option("server.address") or "").strip()
    if address in LOOPBACK:
        return True
    try:
        return not dict(st.context.headers)
    except Exception:
        return False


def roles_config() -> access.RoleConfig:
    return access.RoleConfig.from_mapping(_secrets_section("funnelcast").get("roles"))


def sign_in_mode() -> str:
    """'oidc' (sign-in configured), 'local' (one user on this machine) or 'network_read_only'."""
    if auth_configured():
        return "oidc"
    return "local" if served_locally() else "network_read_only"


def login() -> None:
    """st.login with the provider named in [funnelcast] login_provider (one of several [auth.NAME]
    sections), else the single provider configured in [auth] itself."""
    provider = _secrets_section("funnelcast").get("login_provider")
    st.login(provider) if provider else st.login()


def signed_in() -> bool:
    return bool(getattr(st.user, "is_logged_in", False))


def actor() -> access.Actor:
    """The person using this session, as funnel.access sees them. Serving from FUNNEL_SOURCE,
    everyone reads only: the tables were derived elsewhere, with the stages as they were then, so
    no import, reset or configuration change here could reach them."""
    who = _signed_in_actor()
    if serving.source_dir() and who.role != "viewer":
        return dataclasses.replace(who, role="viewer")
    return who


def _signed_in_actor() -> access.Actor:
    mode = sign_in_mode()
    if mode == "oidc":
        if not signed_in():
            return access.Actor("not signed in", "viewer")
        return access.actor_from_claims(st.user.to_dict(), roles_config())
    if mode == "local":
        return access.local_admin()
    return access.Actor("anonymous (network, no sign-in configured)", "viewer")


def bind_actor() -> access.Actor:
    """Resolve this session's actor and bind it to the script thread, so any write in this run
    acts as them (the pages pass it explicitly too). app.py calls this first on every run."""
    who = actor()
    st.session_state[K_ACTOR] = who
    access.bind(who)
    return who


def current_actor() -> access.Actor:
    return st.session_state.get(K_ACTOR) or bind_actor()


def can(permission: str) -> bool:
    """Show the controls for ``permission``? (The library checks again when they are used.)"""
    return access.can(current_actor(), permission)


def import_folders() -> list[Path]:
    """Server folders an admin allowed the preset importer to read: [funnelcast] import_folders in
    secrets.toml and $FUNNEL_IMPORT_DIRS (os.pathsep-separated). Nothing else on the server's
    disk can be named from the app."""
    listed = list(_secrets_section("funnelcast").get("import_folders") or [])
    listed += [p for p in os.environ.get("FUNNEL_IMPORT_DIRS", "").split(os.pathsep) if p.strip()]
    seen, out = set(), []
    for p in listed:
        path = Path(str(p)).expanduser().resolve()
        if path.is_dir() and path not in seen:
            seen.add(path)
            out.append(path)
    return out


# ---------------------------------------------------------------------------------------------
# Global filters (defined in app.py's sidebar, bound to the URL)


@st.cache_data(show_spinner=False)
def _data_facts(db: str, version: int) -> dict:
    cur = con()
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
    _leave_legacy_multipage_mode()
    return bool(st.session_state.get(K_PRESENT))


def describe_scope(s: Scope | None = None) -> str:
    """One sentence naming the cohort, filters and as-of date a page shows."""
    from i18n_ui import _, fmt_date as day   # the reader's language (English: as before)
    s = s or scope()
    if s.as_of is not None and s.date_to is not None and s.date_to > s.as_of:
        # The cohort stops at the as-of date (query.resolve: later leads are not known yet), so the
        # sentence names that end, and says the "to" date asked for lies after it.
        parts = [_("Leads created {start} – {end} (the cohort ends at the as-of date; {asked} is after it)",
                   start=day(s.date_from), end=day(s.as_of), asked=day(s.date_to))]
    else:
        parts = [_("Leads created {start} – {end}", start=day(s.date_from), end=day(s.date_to))]
    for col, vals in s.filters:
        parts.append(_("{dimension}: {values}", dimension=_(DIMENSION_LABELS[col]) if col in DIMENSION_LABELS else col,
                       values=_(", ").join(readable(v) for v in vals)))
    text = _("{parts}. Figures as known at the end of {as_of}.", parts=_("; ").join(parts), as_of=day(s.as_of))
    if s.window_days is not None:
        text += _(" Conversion window: {n} days.", n=s.window_days)
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
    _leave_legacy_multipage_mode()
    # The finding holds data values (channel, stage, AE names): it is escaped Markdown in a
    # keyed container styled by app.py's CSS, never raw HTML (a channel named
    # "<a href=… style='position:fixed'>…" once covered the page with a fake sign-in link).
    st.title(title)
    if finding:
        with st.container(key="fc_finding"):
            st.markdown(md(finding))
    st.caption(md(describe_scope()))


def error_text(e: BaseException) -> str:
    """A library error as the reader reads it: an error that carries its messages (e.g. a refused
    stage edit, a bad rule) in the session's language, any other as its English text."""
    from i18n_ui import lang
    return error_messages.render(e, lang())


@contextlib.contextmanager
def guard(what: str = "this figure"):
    """Show errors as actionable messages; never a raw traceback on screen."""
    from i18n_ui import _
    try:
        yield
    except FunnelError as e:
        st.error(md(error_text(e)))
    except Exception as e:  # noqa: BLE001 - the screen gets a sentence, the log gets the trace
        traceback.print_exc()
        st.error(md(_("Could not compute {what}: {error}. Check the data on the Data page, or reset to the sample data.",
                      what=what, error=plain_error(e))))


def plain_error(e: BaseException) -> str:
    """What went wrong, in words (no exception class names, no stack): for an unexpected failure
    the screen shows this, the server log the traceback."""
    import duckdb

    if isinstance(e, FunnelError):
        return str(e)
    if isinstance(e, MemoryError) or isinstance(e, duckdb.OutOfMemoryException):
        return "the server ran out of memory"
    if isinstance(e, UnicodeDecodeError):
        return f"a file is not text in the {e.encoding} encoding (byte {e.object[e.start:e.start + 1]!r} at position {e.start})"
    if isinstance(e, OSError):
        where = f" ({e.filename})" if e.filename else ""
        return f"{(e.strerror or str(e)).rstrip('.').lower()}{where}"
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    if isinstance(e, duckdb.Error) and ": " in text:
        text = text.split(": ", 1)[1]          # "Conversion Error: Could not convert…" → the sentence
    return text.rstrip(".")


def import_failure(e: BaseException) -> FunnelError:
    """An unexpected failure during an import, as the error the Data page shows (the server log
    gets the traceback)."""
    from funnel.i18n import msg
    traceback.print_exc()
    return FunnelError(msg("The import failed and nothing was changed: {error}.", error=plain_error(e)),
                       hint=msg("Check the file named above (or its format), then try again; the server log has the "
                                "details."))


#: What a table shows in a cell without a value, in every language: an en dash, as sentences and
#: tiles show a missing figure (fmt.MISSING). Streamlit would write "None"; the column keeps its
#: type, so numbers and dates still sort and format.
MISSING_CELL = fmt.MISSING


def dataframe(data, **kwargs):
    """``st.dataframe`` with missing values shown as :data:`MISSING_CELL` (every page's tables)."""
    kwargs.setdefault("placeholder", MISSING_CELL)
    return st.dataframe(data, **kwargs)


def data_editor(data, **kwargs):
    """``st.data_editor`` with missing values shown as :data:`MISSING_CELL`."""
    kwargs.setdefault("placeholder", MISSING_CELL)
    return st.data_editor(data, **kwargs)


def download_csv(df: pd.DataFrame, name: str, label: str | None = None, key: str | None = None) -> None:
    from i18n_ui import _
    label = label or _("Download CSV")
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


# ---------------------------------------------------------------------------------------------
# Page controls that the link and the session remember
#
# A page's own widgets (breakdown, window, grain, …) are not bound by Streamlit: its binding would
# put the label shown into the URL (which changes with the language), and a page widget's state
# is dropped when one navigates away. So each control is restored *before* it is drawn — the link's
# value when the page opens with one, else this session's last choice on the page, else the
# default — and written back after it, to the session and, as a stable code, to the link. Reading
# the value before the widget also lets a page's headline use it above the controls.

_KEPT = "_fc_kept:"


def restore_choice(key: str, default, *, valid=None, parse=str, many: bool = False):
    """Put the control's value into the session before its widget is drawn and return it.

    ``valid``: the allowed values (a value from a link or an old session outside them is ignored);
    ``parse``: text of the link → value (a value that does not parse is ignored); ``many``: the
    control holds a list (a multiselect), stored in the link as repeated parameters. Widgets using
    this pass no default of their own (``index=0`` / ``default=None`` / ``value=None``): the
    session value is what they show."""
    def ok(v) -> bool:
        if many:
            return isinstance(v, list) and (valid is None or all(x in valid for x in v))
        return v is not None and (valid is None or v in valid)

    if key in st.session_state and ok(st.session_state[key]):
        return st.session_state[key]
    value = None
    if key in st.query_params:
        try:
            raw = st.query_params.get_all(key)
            value = [parse(x) for x in raw] if many else parse(raw[-1])
        except (TypeError, ValueError, IndexError):
            value = None
    if not ok(value):
        value = st.session_state.get(_KEPT + key)
    if not ok(value):
        value = default
    st.session_state[key] = value
    return value


def parse_flag(text: str) -> bool:
    """A toggle's value from a link (``true`` / ``false``, as :func:`keep_choice` writes it)."""
    flags = {"true": True, "false": False}
    if str(text).strip().lower() not in flags:
        raise ValueError(text)
    return flags[str(text).strip().lower()]


def keep_choice(key: str, value, default) -> None:
    """After the widget: remember ``value`` for this session and put it in the link (as text; left
    out when it is the default, so a plain link stays plain)."""
    st.session_state[_KEPT + key] = value
    if value is None or value == default or (isinstance(value, list) and not value):
        if key in st.query_params:
            del st.query_params[key]
        return

    def text(v) -> str:
        return str(v).lower() if isinstance(v, bool) else str(v)

    want = [text(v) for v in value] if isinstance(value, list) else text(value)
    have = st.query_params.get_all(key)
    if have != (want if isinstance(want, list) else [want]):
        st.query_params[key] = want


def _method_code(text: str) -> str:
    """A forecast method from a link: its code (``historical``), or — links made before the code was
    stored — the button's English label ("Historical win rates")."""
    raw = str(text).strip()
    if raw in forecast.METHODS:
        return raw
    by_label = {label.lower(): code for code, label in forecast.METHOD_LABELS.items()}
    if raw.lower() in by_label:
        return by_label[raw.lower()]
    raise ValueError(text)


def forecast_method() -> str:
    """The forecast method of this session ('configured' or 'historical'): chosen on the Forecast
    page, kept for the session and in the link (``?method=``), so every page that shows a forecast
    figure shows the same one — and says which method made it. The link's method first (a shared
    link, or this session's own address, which :func:`remember_method` keeps current), else the
    session's last choice, else configured. The Forecast page's button (key ``method``) is not
    read here: off that page Streamlit may hand back a stale value for a widget it no longer shows."""
    try:
        linked = _method_code(st.query_params[K_METHOD]) if K_METHOD in st.query_params else None
    except ValueError:
        linked = None
    kept = st.session_state.get(_KEPT + K_METHOD)
    method = linked or (kept if kept in forecast.METHODS else None) or "configured"
    remember_method(method)
    return method


def remember_method(method: str) -> None:
    """Keep the forecast method for the session and in the link (always there: every forecast
    figure says its method)."""
    st.session_state[_KEPT + K_METHOD] = method
    if st.query_params.get(K_METHOD) != method:
        st.query_params[K_METHOD] = method
