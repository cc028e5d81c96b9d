"""The DuckDB store: schema, default configuration, data version and derived tables.

Everything the app knows lives in one DuckDB file. Canonical tables follow
``shared/spec/data-contract.md``; configuration (stages, scoring rules, settings) lives beside the
data so there is one source of truth, seeded from the defaults below. Derived tables
(``lead_visits``, ``lead_reach``) depend only on the data and the stage configuration: they are
rebuilt after every import and every stage edit, so interactive queries scan instead of sort.
"""
from __future__ import annotations

import json
import os
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from . import access, audit, i18n, stored_messages
from .errors import ConfigError, FunnelError
from .i18n import N_, msg

DEFAULT_DB = Path("data") / "funnel.duckdb"

# Canonical columns of leads; every other column of an imported leads file is kept as an attribute.
LEAD_CORE_COLUMNS = {
    "lead_id": "VARCHAR",
    "created_at": "TIMESTAMP",
    "channel": "VARCHAR",
    "segment": "VARCHAR",
    "region": "VARCHAR",
    "industry": "VARCHAR",
    "company_size": "BIGINT",
    "job_title": "VARCHAR",
    "sdr": "VARCHAR",
    "ae": "VARCHAR",
}

SCHEMA = """
CREATE TABLE IF NOT EXISTS leads (
    lead_id VARCHAR PRIMARY KEY,
    created_at TIMESTAMP NOT NULL,
    channel VARCHAR, segment VARCHAR, region VARCHAR, industry VARCHAR,
    company_size BIGINT, job_title VARCHAR, sdr VARCHAR, ae VARCHAR
);
CREATE TABLE IF NOT EXISTS lead_events (
    lead_id VARCHAR NOT NULL,
    stage VARCHAR NOT NULL,
    entered_at TIMESTAMP NOT NULL,
    actor VARCHAR,
    reason VARCHAR,
    event_seq BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS opportunities (
    opportunity_id VARCHAR PRIMARY KEY,
    lead_id VARCHAR,
    account VARCHAR,
    created_at TIMESTAMP NOT NULL,
    amount DOUBLE NOT NULL,
    close_date DATE NOT NULL,
    owner VARCHAR, segment VARCHAR, product VARCHAR
);
CREATE TABLE IF NOT EXISTS opportunity_events (
    opportunity_id VARCHAR NOT NULL,
    stage VARCHAR NOT NULL,
    entered_at TIMESTAMP NOT NULL,
    amount DOUBLE,
    close_date DATE,
    event_seq BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS stage_config (
    funnel VARCHAR NOT NULL,          -- 'lead' or 'opportunity'
    stage VARCHAR NOT NULL,
    position INTEGER,                 -- order in the funnel; NULL for side states
    kind VARCHAR NOT NULL,            -- open / won / lost / rejected / recycled
    team VARCHAR,
    probability DOUBLE,               -- opportunity stages only
    category VARCHAR,                 -- forecast category, opportunity stages only
    sla_hours DOUBLE,                 -- time-in-stage target; NULL = none
    PRIMARY KEY (funnel, stage)
);
CREATE TABLE IF NOT EXISTS scoring_rules (
    rule_id INTEGER PRIMARY KEY,
    attribute VARCHAR NOT NULL,
    operator VARCHAR NOT NULL,
    value VARCHAR,
    points DOUBLE NOT NULL,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    rule_group VARCHAR NOT NULL DEFAULT 'fit'   -- fit / engagement
);
CREATE TABLE IF NOT EXISTS scoring_scenarios (
    name VARCHAR PRIMARY KEY,
    rules_json VARCHAR NOT NULL,
    threshold DOUBLE NOT NULL,
    created_by VARCHAR,
    created_at TIMESTAMP NOT NULL,
    is_current BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE TABLE IF NOT EXISTS settings (
    key VARCHAR PRIMARY KEY,
    value VARCHAR
);
CREATE SEQUENCE IF NOT EXISTS import_run_seq START 1;
CREATE TABLE IF NOT EXISTS import_runs (
    run_id BIGINT PRIMARY KEY,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    run_by VARCHAR,
    source VARCHAR,              -- files / preset / sample
    mode VARCHAR,                -- replace
    status VARCHAR,              -- committed / failed
    rows_json VARCHAR,           -- {"leads": {"read": n, "loaded": n, "rejected": n}, ...}
    message VARCHAR,             -- what the run did, in English (the CLI prints it)
    message_msgid VARCHAR,       -- the same as a message (funnel.stored_messages): the Data page says
    message_params VARCHAR       -- it in the reader's language; NULL in runs logged before
);
CREATE TABLE IF NOT EXISTS rejected_rows (
    run_id BIGINT,
    file VARCHAR,
    table_name VARCHAR,
    row_number BIGINT,           -- 1-based data row in the file (header excluded)
    column_name VARCHAR,
    value VARCHAR,
    reason VARCHAR,
    raw_json VARCHAR
);
CREATE TABLE IF NOT EXISTS review_snapshots (
    snapshot_id VARCHAR PRIMARY KEY,
    saved_at TIMESTAMP NOT NULL,
    saved_by VARCHAR,
    as_of DATE NOT NULL,
    filters_json VARCHAR,
    figures_json VARCHAR NOT NULL
);
-- Revenue targets (metrics.md §7): owner '' = everyone in scope, else an opportunity owner or a
-- team name of the teams table. Written only through funnel.targets.save_targets.
CREATE TABLE IF NOT EXISTS targets (
    period VARCHAR NOT NULL,          -- 'YYYY-MM' or 'YYYY-Qn'
    owner VARCHAR NOT NULL DEFAULT '',
    amount DOUBLE NOT NULL,
    PRIMARY KEY (period, owner)
);
CREATE TABLE IF NOT EXISTS teams (
    owner VARCHAR PRIMARY KEY,        -- an opportunity owner belongs to at most one team
    team VARCHAR NOT NULL
);
-- The manager's call per period (commit / best case), kept as history: one row per call made.
CREATE SEQUENCE IF NOT EXISTS forecast_call_seq START 1;
CREATE TABLE IF NOT EXISTS forecast_calls (
    call_id BIGINT PRIMARY KEY,
    period VARCHAR NOT NULL,
    owner VARCHAR NOT NULL DEFAULT '',
    commit_amount DOUBLE,
    best_case_amount DOUBLE,
    note VARCHAR,
    called_by VARCHAR,
    called_at TIMESTAMP NOT NULL,
    as_of DATE NOT NULL,
    weighted_amount DOUBLE,           -- the weighted forecast when the call was made
    p50 DOUBLE                        -- the Monte Carlo P50 when the call was made
);
"""

# (funnel, stage, position, kind, team, probability, category, sla_hours)
DEFAULT_STAGES: list[tuple] = [
    ("lead", "Lead", 1, "open", "marketing", None, None, 14 * 24.0),
    ("lead", "MQL", 2, "open", "sdr", None, None, 48.0),
    ("lead", "SAL", 3, "open", "sdr", None, None, 5 * 24.0),
    ("lead", "SQL", 4, "open", "sales", None, None, 14 * 24.0),
    ("lead", "Opportunity", 5, "open", "sales", None, None, 60 * 24.0),
    ("lead", "Customer", 6, "won", "sales", None, None, None),
    ("lead", "Rejected", None, "rejected", "sales", None, None, 7 * 24.0),
    ("lead", "Recycled", None, "recycled", "marketing", None, None, 30 * 24.0),
    ("lead", "Disqualified", None, "lost", "sdr", None, None, None),
    ("opportunity", "Qualify", 1, "open", "sales", 0.10, "pipeline", 14 * 24.0),
    ("opportunity", "Discovery", 2, "open", "sales", 0.25, "pipeline", 21 * 24.0),
    ("opportunity", "Proposal", 3, "open", "sales", 0.50, "best_case", 21 * 24.0),
    ("opportunity", "Negotiation", 4, "open", "sales", 0.75, "commit", 14 * 24.0),
    ("opportunity", "Closed Won", 5, "won", "sales", 1.00, "closed", None),
    ("opportunity", "Closed Lost", None, "lost", "sales", 0.00, None, None),
]

STAGE_KINDS = ("open", "won", "lost", "rejected", "recycled")
FORECAST_CATEGORIES = ("pipeline", "best_case", "commit", "closed", "omitted")

DEFAULT_MQL_THRESHOLD = 50.0

# Default scoring rules, written for the sample data's attributes (see funnel/sample.py).
# (attribute, operator, value, points, enabled, group)
DEFAULT_RULES: list[tuple] = [
    ("segment", "=", "Enterprise", 20, True, "fit"),
    ("segment", "=", "Mid-Market", 10, True, "fit"),
    ("company_size", ">=", "200", 10, True, "fit"),
    ("job_title", "in", "VP Sales|CRO|Head of Revenue|Director of Sales", 15, True, "fit"),
    ("job_title", "contains", "student", -30, True, "fit"),
    ("industry", "in", "Software|Financial Services", 10, True, "fit"),
    ("page_views", ">=", "8", 10, True, "engagement"),
    ("email_clicks", ">=", "3", 10, True, "engagement"),
    ("content_downloads", ">=", "2", 10, True, "engagement"),
    ("webinar_attended", "is true", "", 10, True, "engagement"),
    ("demo_requested", "is true", "", 25, True, "engagement"),
]


#: The import log's message columns added after its first release (see ADDED_COLUMNS).
IMPORT_RUN_MESSAGE_COLUMNS = {"message_msgid": "VARCHAR", "message_params": "VARCHAR"}

#: Every connection: no extension is loaded or downloaded behind our back. Without this an SQLite
#: file given as ``--db`` makes DuckDB fetch the sqlite extension over the network.
CONNECTION_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}

_DUCKDB_MAGIC = b"DUCK"          # bytes 8-11 of every DuckDB database file
_SQLITE_MAGIC = b"SQLite format 3\x00"


class DatabaseError(FunnelError):
    """The database file cannot be opened or written: the message says which file and what to do."""

    code = "database"


def connect(path: str | os.PathLike | None = None, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (and if needed initialise) the database at ``path``.

    This opens the file in place. The app and the CLI write through ``versions.writing`` (a copy
    swapped in atomically) and read through ``open_read_only``; ``connect`` is for those copies,
    for throw-away databases and for tests.
    """
    db_path = Path(path or os.environ.get("FUNNEL_DB") or DEFAULT_DB)
    check_database_file(db_path, must_exist=read_only)
    try:
        if not read_only:
            db_path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(db_path), read_only=read_only, config=CONNECTION_CONFIG)
        con.execute("SET enable_progress_bar = false")  # the CLI prints JSON; no bars on stderr either
        if not read_only:
            init_schema(con)
    except (OSError, duckdb.Error) as e:
        raise database_error(db_path, e) from e
    return con


def open_read_only(path: str | os.PathLike | None = None) -> duckdb.DuckDBPyConnection:
    """Open an existing database for reading only: it never creates a file and shares the file
    with other readers (the app) while writers swap in new versions beside it."""
    db_path = resolve_db_path(path)
    check_database_file(db_path, must_exist=True)
    try:
        con = duckdb.connect(str(db_path), read_only=True, config=CONNECTION_CONFIG)
        con.execute("SET enable_progress_bar = false")
        data_version(con)           # a Funnelcast database has its settings table
    except (OSError, duckdb.Error) as e:
        if isinstance(e, duckdb.CatalogException):
            raise _db_error(msg("{path} is a DuckDB database but not a Funnelcast one (it has no settings table).",
                                path=str(db_path)),
                            msg("Pass the path of a Funnelcast database, or create one with {command}.",
                                command="`python -m funnel sample --db PATH`")) from None
        raise database_error(db_path, e) from e
    return con


def check_database_file(db_path: Path, *, must_exist: bool) -> None:
    """Refuse, with a sentence, what DuckDB would open wrongly or fail on with a traceback."""
    if db_path.is_dir():
        raise _db_error(msg("{path} is a folder, not a database file.", path=str(db_path)), _PASS_A_FILE)
    if not db_path.exists():
        if must_exist:
            raise _db_error(msg("There is no database at {path}.", path=str(db_path)),
                            msg("Check the path, or create one with {sample} or {import_}.",
                                sample="`python -m funnel sample --db PATH`", import_="`python -m funnel import`"))
        return
    try:
        with open(db_path, "rb") as f:
            head = f.read(16)
    except OSError as e:
        raise database_error(db_path, e) from None
    if not head:
        return          # an empty file: DuckDB initialises it like a new one
    if head.startswith(_SQLITE_MAGIC):
        raise _db_error(msg("{path} is an SQLite database, not a Funnelcast (DuckDB) database.", path=str(db_path)),
                        msg("Export its tables to CSV and import them with {command}, or pass the path of a .duckdb "
                            "file.", command="`python -m funnel import`"))
    if head[8:12] != _DUCKDB_MAGIC:
        raise _db_error(msg("{path} is not a DuckDB database file (it holds something else).", path=str(db_path)),
                        msg("Pass the path of a Funnelcast .duckdb file, or move this file away and create a "
                            "database with {command}.", command="`python -m funnel sample --db PATH`"))


def database_error(db_path: Path, e: BaseException) -> DatabaseError:
    """A sentence for an operating-system or DuckDB failure on ``db_path``."""
    import errno as _errno

    text = str(e)
    code = getattr(e, "errno", None)
    where = db_path.parent if str(db_path.parent) not in ("", ".") else Path.cwd()
    path = str(db_path)
    if code == _errno.ENOSPC or "No space left" in text:
        return _db_error(msg("The disk holding {folder} is full; nothing was changed.", folder=str(where)),
                         msg("Free some space (old copies in the .versions folder beside the database can go) and "
                             "run the command again."))
    if code == _errno.EROFS or "Read-only file system" in text:
        return _db_error(msg("{folder} is on a read-only file system, so {file} cannot be written.", folder=str(where),
                             file=db_path.name),
                         msg("Use --db (or $FUNNEL_DB) to point at a database in a writable folder."))
    if code in (_errno.EACCES, _errno.EPERM) or "Permission denied" in text:
        return _db_error(msg("No permission to write {path} or its folder.", path=path),
                         msg("Fix the permissions, or point --db (or $FUNNEL_DB) at a writable folder."))
    if code == _errno.EISDIR or "Is a directory" in text:
        return _db_error(msg("{path} is a folder, not a database file.", path=path), _PASS_A_FILE)
    if "Could not set lock" in text or "Conflicting lock" in text:
        return _db_error(msg("{path} is held open for writing by another program.", path=path),
                         msg("Close the other program (an old Funnelcast server, a DuckDB shell) and try again."))
    if "not a valid DuckDB database" in text:
        return _db_error(msg("{path} is not a DuckDB database file (it holds something else).", path=path),
                         msg("Pass the path of a Funnelcast .duckdb file."))
    if "version" in text and ("older" in text or "newer" in text):
        return _db_error(msg("{path} was written by another DuckDB version and cannot be read here.", path=path),
                         msg("Open it with the DuckDB version in requirements.txt, or re-import the data."))
    return _db_error(msg("Could not open {path}: {error}.", path=path,
                         error=text.splitlines()[0] if text else type(e).__name__),
                     msg("Check the path and that the file is a Funnelcast database."))


#: The hint for a database path that names a folder.
_PASS_A_FILE = msg("Pass the path of a .duckdb file, e.g. {example}.", example="--db data/funnel.duckdb")


def _db_error(message: i18n.Message, hint: i18n.Message) -> DatabaseError:
    """A DatabaseError in English that carries its messages."""
    return DatabaseError(message, hint=hint)


def resolve_db_path(path: str | os.PathLike | None = None) -> Path:
    return Path(path or os.environ.get("FUNNEL_DB") or DEFAULT_DB)


#: Columns added to a table after it first shipped, beside the column whose text they hold as a
#: message ((table, that column): new columns): a database of an older release gets them on its
#: next write (schema_is_current tells the app to write once), its older rows NULL there.
ADDED_COLUMNS = {("import_runs", "message"): IMPORT_RUN_MESSAGE_COLUMNS,
                 ("audit_log", "summary"): audit.MESSAGE_COLUMNS}


def init_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SCHEMA)
    audit.ensure_table(con)   # who changed what (funnel/audit.py)
    _add_missing_columns(con)
    if con.execute("SELECT count(*) FROM stage_config").fetchall()[0][0] == 0:
        seed_stage_config(con)
    if con.execute("SELECT count(*) FROM settings WHERE key = 'mql_threshold'").fetchall()[0][0] == 0:
        con.execute("INSERT INTO settings VALUES ('mql_threshold', ?)", [str(DEFAULT_MQL_THRESHOLD)])
    if con.execute("SELECT count(*) FROM settings WHERE key = 'data_version'").fetchall()[0][0] == 0:
        con.execute("INSERT INTO settings VALUES ('data_version', '1')")
    if con.execute("SELECT count(*) FROM settings WHERE key = 'rules_seeded'").fetchall()[0][0] == 0:
        seed_scoring_rules(con)
        con.execute("INSERT INTO settings VALUES ('rules_seeded', 'true')")


def _add_missing_columns(con) -> None:
    """The migration of an older database: every column of :data:`ADDED_COLUMNS` it lacks."""
    have = set(con.execute("SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = "
                           "current_database() AND schema_name = current_schema()").fetchall())
    for (table, beside), columns in ADDED_COLUMNS.items():
        if (table, beside) not in have:
            continue        # a table of another shape under that name (a test's stand-in) is left alone
        for column, dtype in columns.items():
            if (table, column) not in have:
                con.execute(f"ALTER TABLE {quote_ident(table)} ADD COLUMN {quote_ident(column)} {dtype}")


def log_import_run(con, run_id: int, started_at, finished_at, source: str, status: str, rows: dict,
                   message: i18n.Message | str | None, *, run_by: str | None = None) -> None:
    """Write one row of the import log: ``message`` (a :class:`~funnel.i18n.Message`, or plain
    text) is kept as English text and as its message, so the Data page says it in the reader's
    language."""
    text, msgid, params = stored_messages.to_columns(message)
    con.execute("INSERT INTO import_runs (run_id, started_at, finished_at, run_by, source, mode, status, rows_json, "
                "message, message_msgid, message_params) VALUES (?, ?, ?, ?, ?, 'replace', ?, ?, ?, ?, ?)",
                [run_id, started_at, finished_at, run_by if run_by is not None else current_user(), source, status,
                 to_json(rows), text, msgid, params])


def set_import_run_message(con, run_id: int, message: i18n.Message | str) -> None:
    """Replace a logged run's message (a preset's import adds what it did after the files loaded)."""
    text, msgid, params = stored_messages.to_columns(message)
    con.execute("UPDATE import_runs SET message = ?, message_msgid = ?, message_params = ? WHERE run_id = ?",
                [text, msgid, params, run_id])


def seed_stage_config(con) -> None:
    con.execute("DELETE FROM stage_config")
    con.executemany("INSERT INTO stage_config VALUES (?, ?, ?, ?, ?, ?, ?, ?)", DEFAULT_STAGES)


def seed_scoring_rules(con, rules: list[tuple] | None = None) -> None:
    con.execute("DELETE FROM scoring_rules")
    rows = [(i + 1, *r) for i, r in enumerate(rules if rules is not None else DEFAULT_RULES)]
    if rows:
        con.executemany("INSERT INTO scoring_rules VALUES (?, ?, ?, ?, ?, ?, ?)", rows)


@contextmanager
def transaction(con):
    """Every write goes through here: all of it lands, or none of it."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    else:
        con.execute("COMMIT")


def get_setting(con, key: str, default: str | None = None) -> str | None:
    rows = con.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchall()
    row = rows[0] if rows else None
    return row[0] if row else default


def set_setting(con, key: str, value: str) -> None:
    con.execute(
        "INSERT INTO settings VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )


def data_version(con) -> int:
    """A number that changes on every import and every edit of stages, probabilities or rules.

    Streamlit caches key on it, so a figure can never outlive the data it was computed from.
    """
    return int(get_setting(con, "data_version", "0"))


def bump_data_version(con) -> int:
    v = data_version(con) + 1
    set_setting(con, "data_version", str(v))
    return v


def current_user() -> str:
    """Who import runs and saved reviews name: the acting user (funnel.access.resolve) — the
    signed-in person in the app, the OS user ($FUNNEL_USER) on the command line."""
    return access.resolve().label


def median_deal_amount(con) -> float | None:
    """The median amount of the deals (None without deals): the example the currency setting shows."""
    row = con.execute("SELECT median(amount) FROM opportunities").fetchone()
    return None if row is None or row[0] is None else float(row[0])


def table_counts(con, tables=("leads", "lead_events", "opportunities", "opportunity_events")) -> dict[str, int]:
    """Rows per data table (what the audit trail records before and after an import or reset)."""
    return {t: con.execute(f"SELECT count(*) FROM {quote_ident(t)}").fetchall()[0][0] for t in tables}


# ---------------------------------------------------------------------------------------------
# Stage configuration


@dataclass(frozen=True)
class Stage:
    funnel: str
    stage: str
    position: int | None
    kind: str
    team: str | None
    probability: float | None
    category: str | None
    sla_hours: float | None


def stages(con, funnel: str) -> list[Stage]:
    rows = con.execute(
        """SELECT funnel, stage, position, kind, team, probability, category, sla_hours
           FROM stage_config WHERE funnel = ?
           ORDER BY position IS NULL, position, stage""",
        [funnel],
    ).fetchall()
    return [Stage(*r) for r in rows]


def funnel_stages(con, funnel: str) -> list[Stage]:
    """The positioned stages (kind open or won) in funnel order."""
    return [s for s in stages(con, funnel) if s.position is not None and s.kind in ("open", "won")]


def handoff_stage(con) -> str:
    """The lead stage whose entry offers a lead to the sales side (MQL by default).

    A renamed MQL stage is still found: it is the second positioned lead stage.
    """
    st = funnel_stages(con, "lead")
    names = [s.stage for s in st]
    if "MQL" in names:
        return "MQL"
    if len(st) >= 2:
        return st[1].stage
    raise _config_error(msg("The lead funnel needs at least two stages (Lead and MQL)."),
                        msg("Add an MQL stage on the Stage settings page."))


# Sentences that name a funnel, one per funnel, so each language can word them whole.
_STAGE_PROBLEMS = {
    "no_name": {"lead": N_("Every lead stage needs a name."),
                "opportunity": N_("Every opportunity stage needs a name.")},
    "duplicate": {"lead": N_("Lead stage names must be unique: {names} appears twice."),
                  "opportunity": N_("Opportunity stage names must be unique: {names} appears twice.")},
    "won": {"lead": N_("The lead funnel needs exactly one stage of kind 'won' (found {n})."),
            "opportunity": N_("The opportunity funnel needs exactly one stage of kind 'won' (found {n}).")},
    "position": {"lead": N_("Two lead stages share a position; give each funnel stage its own number."),
                 "opportunity": N_("Two opportunity stages share a position; give each funnel stage its own number.")},
    "in_use": {"lead": N_("The lead stage '{stage}' is used by {n} events and cannot be removed; rename it instead, "
                          "or re-import the data mapped onto other stages."),
               "opportunity": N_("The opportunity stage '{stage}' is used by {n} events and cannot be removed; rename "
                                 "it instead, or re-import the data mapped onto other stages.")},
    "missing": {"lead": N_("There is no lead stage called '{stage}'."),
                "opportunity": N_("There is no opportunity stage called '{stage}'.")},
    "exists": {"lead": N_("A lead stage called '{stage}' already exists."),
               "opportunity": N_("An opportunity stage called '{stage}' already exists.")},
}


def _problem(kind: str, funnel: str, **params) -> i18n.Message:
    """One of :data:`_STAGE_PROBLEMS` for ``funnel`` (a funnel of another name: the lead wording)."""
    forms = _STAGE_PROBLEMS[kind]
    return msg(forms.get(funnel, forms["lead"]), **params)


def _config_error(message: i18n.Message, hint: i18n.Message | None = None) -> ConfigError:
    """A ConfigError worded in English (the CLI prints it) that carries its messages
    (FunnelError keeps them), so a page says it in the reader's language."""
    return ConfigError(message, hint=hint)


def validate_stage_config(rows: list[dict]) -> list[str]:
    """Problems with an edited stage configuration, as sentences a user can act on."""
    return [m.render("en") for m in _stage_config_problems(rows)]


def _stage_config_problems(rows: list[dict]) -> list[i18n.Message]:
    """:func:`validate_stage_config`'s sentences as messages."""
    problems: list[i18n.Message] = []
    for funnel in ("lead", "opportunity"):
        fr = [r for r in rows if r.get("funnel") == funnel]
        names = [str(r.get("stage") or "").strip() for r in fr]
        if any(not n for n in names):
            problems.append(_problem("no_name", funnel))
        dup = sorted({n for n in names if n and names.count(n) > 1})
        if dup:
            problems.append(_problem("duplicate", funnel, names=", ".join(dup)))
        won = [r for r in fr if r.get("kind") == "won"]
        if len(won) != 1:
            problems.append(_problem("won", funnel, n=str(len(won))))
        positions = [r.get("position") for r in fr if r.get("position") not in (None, "") and not _isnan(r.get("position"))]
        if len(positions) != len(set(positions)):
            problems.append(_problem("position", funnel))
        for r in fr:
            stage = str(r.get("stage"))
            if r.get("kind") not in STAGE_KINDS:
                problems.append(msg("Stage '{stage}': kind must be one of {kinds}.", stage=stage,
                                    kinds=", ".join(STAGE_KINDS)))
            p = r.get("probability")
            if p is not None and not _isnan(p) and not (0.0 <= float(p) <= 1.0):
                problems.append(msg("Stage '{stage}': probability {p} must be between 0 and 1 (e.g. 0.25 for 25%).",
                                    stage=stage, p=str(p)))
            if funnel == "opportunity" and r.get("kind") == "open" and (p is None or _isnan(p)):
                problems.append(msg("Opportunity stage '{stage}' needs a probability between 0 and 1.", stage=stage))
            if r.get("kind") in ("open", "won") and (r.get("position") in (None, "") or _isnan(r.get("position"))):
                problems.append(msg("Stage '{stage}' is a funnel stage ({kind}) and needs a position.", stage=stage,
                                    kind=str(r.get("kind"))))
            cat = r.get("category")
            if cat not in (None, "") and not _isnan(cat) and cat not in FORECAST_CATEGORIES:
                problems.append(msg("Stage '{stage}': forecast category must be one of {categories}.", stage=stage,
                                    categories=", ".join(FORECAST_CATEGORIES)))
    return problems


def _isnan(x) -> bool:
    try:
        return x != x  # NaN is the only value not equal to itself
    except Exception:
        return False


def stage_event_counts(con) -> dict[tuple[str, str], int]:
    """How many events use each (funnel, stage) name."""
    rows = con.execute("""SELECT 'lead', stage, count(*) FROM lead_events GROUP BY stage
                          UNION ALL SELECT 'opportunity', stage, count(*) FROM opportunity_events GROUP BY stage""").fetchall()
    return {(f, s): n for f, s, n in rows}


def rename_stage(con, funnel: str, old: str, new: str, *, actor: access.Actor | None = None) -> None:
    """Rename a stage in the configuration and in every event that uses it, in one transaction.
    Editors and admins only; the rename is in the audit trail."""
    who = access.require(actor, "edit")
    new = (new or "").strip()
    if not new:
        raise _config_error(msg("The new stage name is empty."), msg("Type the name the stage should have."))
    names = {s.stage for s in stages(con, funnel)}
    if old not in names:
        raise _config_error(_problem("missing", funnel, stage=str(old)))
    if new != old and new in names:
        raise _config_error(_problem("exists", funnel, stage=new), msg("Pick another name."))
    table = "lead_events" if funnel == "lead" else "opportunity_events"
    ensure_derived(con)   # the renames below update the derived tables in place
    version_before = data_version(con)
    with transaction(con):
        con.execute("UPDATE stage_config SET stage = ? WHERE funnel = ? AND stage = ?", [new, funnel, old])
        con.execute(f"UPDATE {table} SET stage = ? WHERE stage = ?", [new, old])
        # A rename moves no position: the derived tables only need the new name where they hold one
        # (lead_reach holds positions only) — far cheaper than rebuilding them.
        if funnel == "lead":
            con.execute("UPDATE lead_visits SET stage = ? WHERE stage = ?", [new, old])
            con.execute("UPDATE lead_visits SET next_stage = ? WHERE next_stage = ?", [new, old])
        else:
            con.execute("UPDATE deal_history SET stage = ? WHERE stage = ?", [new, old])
        refresh_derived(con, tables=())
        bump_data_version(con)
        summary = (msg("Renamed the opportunity stage '{old}' to '{new}'", old=old, new=new) if funnel == "opportunity"
                   else msg("Renamed the lead stage '{old}' to '{new}'", old=old, new=new))
        audit.record(con, who, "stage_rename", {"funnel": funnel}, {"stage": old}, {"stage": new},
                     summary=summary, data_version_before=version_before)


def save_stage_config(con, rows: list[dict], *, actor: access.Actor | None = None) -> None:
    """Replace the stage configuration after validating it; rebuilds derived tables.

    A stage that events still use cannot be removed (rename it, or re-import mapped data).
    Editors and admins only; the audit trail keeps the configuration before and after.
    """
    who = access.require(actor, "edit")
    problems = _stage_config_problems(rows)
    used = stage_event_counts(con)
    kept = {(r.get("funnel"), str(r.get("stage") or "").strip()) for r in rows}
    for (funnel, stage), n in sorted(used.items()):
        if (funnel, stage) not in kept:
            problems.append(_problem("in_use", funnel, stage=stage, n=f"{n:,}"))
    if problems:
        raise _config_error(i18n.sentences([msg("The stage settings were not saved:"), *problems]))
    ensure_derived(con)   # lead_visits is kept as it is below: it must exist in the current layout
    clean = []
    for r in rows:
        def val(k):
            v = r.get(k)
            return None if v is None or v == "" or _isnan(v) else v
        clean.append((r["funnel"], str(r["stage"]).strip(),
                      None if val("position") is None else int(val("position")), r["kind"],
                      val("team"), None if val("probability") is None else float(val("probability")),
                      val("category"), None if val("sla_hours") is None else float(val("sla_hours"))))
    before = stage_config_rows(con)
    version_before = data_version(con)
    with transaction(con):
        con.execute("DELETE FROM stage_config")
        con.executemany("INSERT INTO stage_config VALUES (?, ?, ?, ?, ?, ?, ?, ?)", clean)
        refresh_derived(con, tables=DERIVED_FROM_STAGES)
        bump_data_version(con)
        after = stage_config_rows(con)
        changed = sorted({f"{r['funnel']}:{r['stage']}" for r in after if r not in before}
                         | {f"{r['funnel']}:{r['stage']}" for r in before if r not in after})
        audit.record(con, who, "stages", {"changed": changed}, before, after,
                     summary=_stages_saved(changed), data_version_before=version_before)


def _stages_saved(changed: list[str]) -> i18n.Message:
    """The audit trail's sentence for saved stage settings: the stages that changed, as funnel:stage."""
    if not changed:
        return msg("Saved the stage settings (no change)")
    named = [msg("opportunity:{stage}", stage=c.split(":", 1)[1]) if c.startswith("opportunity:")
             else msg("lead:{stage}", stage=c.split(":", 1)[1]) for c in changed]
    return msg("Saved the stage settings ({stages})", stages=i18n.list_of(named))


STAGE_CONFIG_COLUMNS = ("funnel", "stage", "position", "kind", "team", "probability", "category", "sla_hours")


def stage_config_rows(con) -> list[dict]:
    """The stage configuration as plain dicts (what the audit trail keeps before and after)."""
    rows = con.execute("SELECT funnel, stage, position, kind, team, probability, category, sla_hours "
                       "FROM stage_config ORDER BY funnel, position NULLS LAST, stage").fetchall()
    return [dict(zip(STAGE_CONFIG_COLUMNS, r)) for r in rows]


def lead_attribute_columns(con) -> dict[str, str]:
    """Every column of leads with its DuckDB type (the whitelist for filters and rules)."""
    # table_info (cid, name, type, …): the same names and types as information_schema.columns, in
    # a sixth of the time — this runs for every resolved scope, several times per figure
    rows = con.execute("PRAGMA table_info('leads')").fetchall()
    return {row[1]: row[2] for row in rows}


def quote_ident(name: str) -> str:
    """Quote an identifier that was already checked against a whitelist."""
    return '"' + name.replace('"', '""') + '"'


# ---------------------------------------------------------------------------------------------
# Derived tables: computed once per import or stage edit, scanned by every interactive query.

DERIVED_SQL = """
CREATE OR REPLACE TABLE lead_visits AS
SELECT e.lead_id, e.stage, e.entered_at, e.event_seq, e.actor, e.reason,
       LEAD(e.entered_at) OVER w AS next_at,
       LEAD(e.stage) OVER w AS next_stage,
       ROW_NUMBER() OVER w AS event_no,
       l.created_at, l.channel, l.segment, l.region, l.sdr, l.ae
FROM lead_events e JOIN leads l ON l.lead_id = e.lead_id
WINDOW w AS (PARTITION BY e.lead_id ORDER BY e.entered_at, e.event_seq);

CREATE OR REPLACE TABLE lead_reach AS
WITH ev AS (
    SELECT e.lead_id, s.position, min(e.entered_at) AS first_at
    FROM lead_events e
    JOIN stage_config s ON s.funnel = 'lead' AND s.stage = e.stage
    WHERE s.position IS NOT NULL AND s.kind IN ('open', 'won')
    GROUP BY 1, 2
), fs AS (
    SELECT position FROM stage_config
    WHERE funnel = 'lead' AND position IS NOT NULL AND kind IN ('open', 'won')
)
SELECT ev.lead_id, fs.position, min(ev.first_at) AS first_reached_at,
       any_value(l.created_at) AS created_at, any_value(l.channel) AS channel, any_value(l.segment) AS segment,
       any_value(l.region) AS region, any_value(l.sdr) AS sdr, any_value(l.ae) AS ae
FROM ev JOIN fs ON ev.position >= fs.position JOIN leads l ON l.lead_id = ev.lead_id
GROUP BY 1, 2;

CREATE OR REPLACE TABLE deal_history AS
WITH oc AS (
    SELECT stage, CASE WHEN kind IN ('open', 'won') THEN position END AS funnel_position
    FROM stage_config WHERE funnel = 'opportunity'
),
first_stage AS (
    SELECT fp.position, min(c.stage) AS stage
    FROM (SELECT min(funnel_position) AS position FROM oc) fp
    LEFT JOIN oc c ON c.funnel_position = fp.position
    GROUP BY fp.position
),
ev AS (
    SELECT e.opportunity_id, e.stage, e.entered_at, e.event_seq,
           LEAD(e.entered_at) OVER w AS next_at,
           row_number() OVER w AS event_no,
           last_value(e.amount IGNORE NULLS) OVER upto AS amount,
           last_value(e.close_date IGNORE NULLS) OVER upto AS close_date,
           max(oc.funnel_position) OVER upto AS max_position
    FROM opportunity_events e LEFT JOIN oc ON oc.stage = e.stage
    WINDOW w AS (PARTITION BY e.opportunity_id ORDER BY e.entered_at, e.event_seq),
           upto AS (PARTITION BY e.opportunity_id ORDER BY e.entered_at, e.event_seq
                    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
),
spans AS (
    SELECT opportunity_id, stage, entered_at, event_seq, next_at, amount, close_date, max_position FROM ev
    UNION ALL
    -- before its first event (or forever, without events) a deal is in the first funnel stage
    SELECT o.opportunity_id, NULL, NULL, NULL, f.entered_at, NULL, NULL, NULL
    FROM opportunities o LEFT JOIN ev f ON f.opportunity_id = o.opportunity_id AND f.event_no = 1
)
SELECT s.opportunity_id, coalesce(s.stage, fs.stage) AS stage, s.entered_at, s.event_seq, s.next_at,
       o.created_at, coalesce(s.amount, o.amount) AS amount, coalesce(s.close_date, o.close_date) AS close_date,
       coalesce(greatest(s.max_position, fs.position), fs.position) AS max_position
FROM spans s JOIN opportunities o ON o.opportunity_id = s.opportunity_id CROSS JOIN first_stage fs;
"""

#: What DERIVED_SQL builds. deal_history: a deal's whole timeline as spans [entered_at, next_at)
#: (NULL = unbounded): one opening span in the first funnel stage until its first event, then one
#: per event, each with the state known from then on — the amount and close date last set (else
#: the opportunities row's), the furthest positioned stage entered. The state at any moment is
#: then one row per deal found by a range filter, instead of a sort of every event per query.
#: Events at one timestamp give empty spans (next_at = entered_at) but are kept: each is a visit.
DERIVED_TABLES = ("lead_visits", "lead_reach", "deal_history")

#: Lead columns copied into every row of the derived tables: a cohort filtered on these alone is
#: read straight from the derived table, without a join to leads (a third of a query's time at 1M).
DERIVED_LEAD_COLUMNS = ("created_at", "channel", "segment", "region", "sdr", "ae")

#: Bumped when the derived tables change shape, so a database built by an older version rebuilds them.
DERIVED_LAYOUT = "3"


def _derived_statements() -> dict[str, str]:
    """DERIVED_SQL as one CREATE statement per derived table."""
    parts = [p for p in DERIVED_SQL.split("CREATE OR REPLACE TABLE ") if p.strip()]
    return {p.split()[0]: "CREATE OR REPLACE TABLE " + p for p in parts}


#: The derived tables that read stage_config (lead_visits reads only events and leads), so a stage
#: edit rebuilds only these — lead_visits is half of a full rebuild.
DERIVED_FROM_STAGES = ("lead_reach", "deal_history")


def refresh_derived(con, tables: tuple[str, ...] = DERIVED_TABLES) -> None:
    """Rebuild the derived tables (by default all; after a stage edit only those that read the
    stage configuration) and stamp them anew."""
    statements = _derived_statements()
    if set(tables) >= set(DERIVED_TABLES):
        con.execute(DERIVED_SQL)
    else:
        for t in tables:
            con.execute(statements[t])
    set_setting(con, "derived_layout", DERIVED_LAYOUT)
    # Every change of the data or the stage configuration passes here: what is computed from those
    # alone (e.g. presets.limitation_findings) may be kept until this stamp changes.
    set_setting(con, "derived_stamp", uuid.uuid4().hex)


def derived_is_current(con) -> bool:
    have = {r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = current_schema() "
        "AND database_name = current_database()").fetchall()}
    if not set(DERIVED_TABLES) <= have:
        # Served from tables derived elsewhere (funnel/serving.py), they are views over Parquet.
        have |= {r[0] for r in con.execute(
            "SELECT view_name FROM duckdb_views() WHERE schema_name = current_schema() "
            "AND database_name = current_database() AND NOT internal").fetchall()}
    return set(DERIVED_TABLES) <= have and get_setting(con, "derived_layout") == DERIVED_LAYOUT


def ensure_derived(con) -> None:
    if not derived_is_current(con):
        refresh_derived(con)


def schema_is_current(con) -> bool:
    """Has ``con`` every table and column ``init_schema`` makes? A database from an older release
    (or one a reader opened before its first write) lacks them until something writes it."""
    from importlib import resources

    columns_sql = resources.files("funnel.sql").joinpath("schema_columns.sql").read_text(encoding="utf-8")
    reference = duckdb.connect(":memory:", config=CONNECTION_CONFIG)
    try:
        init_schema(reference)
        wanted = set(reference.execute(columns_sql).fetchall())
    finally:
        reference.close()
    return wanted <= set(con.execute(columns_sql).fetchall())


def has_data(con) -> bool:
    return con.execute("SELECT count(*) FROM leads").fetchall()[0][0] > 0 or \
        con.execute("SELECT count(*) FROM opportunities").fetchall()[0][0] > 0


def to_json(obj) -> str:
    return json.dumps(obj, default=str)
