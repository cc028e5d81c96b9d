"""Data health: what is in the database, where it came from, what the last import left out.

Small read-only queries for the Data page (row counts, date spans, stages seen against the stage
configuration, the import log, the rejected rows of the last import). What the data cannot
support is :func:`funnel.presets.data_limitations`.
"""
from __future__ import annotations

import json

import pandas as pd

from . import fmt, stored_messages
from .i18n import N_, list_of, msg
from .query import run

TABLES = (("leads", "Leads"), ("lead_events", "Lead stage events"), ("opportunities", "Opportunities"),
          ("opportunity_events", "Opportunity stage events"))
#: The tables as the import log's rows column names them (lower case in English).
_ROW_NAMES = {"leads": N_("leads"), "lead_events": N_("lead stage events"), "opportunities": N_("opportunities"),
              "opportunity_events": N_("opportunity stage events")}


def table_counts(con) -> pd.DataFrame:
    """Rows per canonical table: table, label, rows."""
    return run(con, " UNION ALL ".join(
        f"SELECT '{t}' AS \"table\", '{label}' AS label, count(*) AS rows, {i} AS ord FROM {t}"
        for i, (t, label) in enumerate(TABLES)) + " ORDER BY ord").drop(columns="ord")


def date_spans(con) -> pd.DataFrame:
    """First and last timestamp of each dated column: what, first, last, rows (non-null values)."""
    q = """
    SELECT 'Leads created' AS what, min(created_at) AS first, max(created_at) AS last, count(created_at) AS rows, 1 AS ord FROM leads
    UNION ALL SELECT 'Lead stage events', min(entered_at), max(entered_at), count(entered_at), 2 FROM lead_events
    UNION ALL SELECT 'Opportunities created', min(created_at), max(created_at), count(created_at), 3 FROM opportunities
    UNION ALL SELECT 'Opportunity close dates', CAST(min(close_date) AS TIMESTAMP), CAST(max(close_date) AS TIMESTAMP),
                     count(close_date), 4 FROM opportunities
    UNION ALL SELECT 'Opportunity stage events', min(entered_at), max(entered_at), count(entered_at), 5 FROM opportunity_events
    ORDER BY ord"""
    return run(con, q).drop(columns="ord")


def stages_seen(con) -> pd.DataFrame:
    """Every stage configured or used: funnel, stage, position, kind, configured (bool), events.

    A stage used by events but not configured is ``configured = False`` (its events count
    nowhere); a configured stage with 0 events is unused by this data.
    """
    q = """
    WITH used AS (
        SELECT 'lead' AS funnel, stage, count(*) AS events FROM lead_events GROUP BY 2
        UNION ALL SELECT 'opportunity', stage, count(*) FROM opportunity_events GROUP BY 2)
    SELECT coalesce(c.funnel, u.funnel) AS funnel, coalesce(c.stage, u.stage) AS stage, c.position, c.kind,
           c.stage IS NOT NULL AS configured, coalesce(u.events, 0) AS events
    FROM stage_config c FULL OUTER JOIN used u ON u.funnel = c.funnel AND u.stage = c.stage
    ORDER BY funnel, c.position IS NULL, c.position, stage"""
    return run(con, q)


def import_history(con, limit: int = 10, lang: str = "en") -> pd.DataFrame:
    """The latest import runs, newest first: run_id, started_at, run_by, source, status, rows,
    message — the rows loaded and the run's message in ``lang`` (a run logged before messages were
    kept: its message as stored)."""
    df = run(con, """SELECT run_id, started_at, finished_at, run_by, source, status, rows_json, message,
                            message_msgid, message_params
                     FROM import_runs ORDER BY run_id DESC LIMIT $limit""", {"limit": int(limit)})

    def rows(js):
        try:
            d = json.loads(js or "{}")
        except ValueError:
            return ""
        parts = []
        for t in _ROW_NAMES:          # in TABLES order
            if t in d:
                v = d[t]
                table, loaded = msg(_ROW_NAMES[t]), fmt.Count(v.get("loaded", 0))
                parts.append(msg("{table}: {n} (+{rejected} rejected)", table=table, n=loaded,
                                 rejected=fmt.Count(v["rejected"])) if v.get("rejected") else
                             msg("{table}: {n}", table=table, n=loaded))
        return list_of(parts, "; ").render(lang) if parts else ""

    df["rows"] = [rows(js) for js in df["rows_json"]]
    df["message"] = _messages(df, lang)
    return df.drop(columns=["rows_json", "message_msgid", "message_params"])


def latest_run(con, lang: str = "en") -> dict | None:
    """The latest committed import run (what the data on screen came from), or None; its message
    in ``lang``."""
    df = run(con, """SELECT run_id, started_at, run_by, source, message, message_msgid, message_params
                     FROM import_runs WHERE status = 'committed' ORDER BY run_id DESC LIMIT 1""")
    if df.empty:
        return None
    df["message"] = _messages(df, lang)
    return df.drop(columns=["message_msgid", "message_params"]).iloc[0].to_dict()


def _messages(runs: pd.DataFrame, lang: str) -> list[str]:
    """Each run's message in ``lang`` (funnel.stored_messages)."""
    return [stored_messages.render(text, msgid, params, lang)
            for text, msgid, params in zip(runs["message"], runs["message_msgid"], runs["message_params"])]


def rejected_rows(con, run_id: int | None = None, limit: int = 5000) -> pd.DataFrame:
    """Rows the given run (default: the latest committed import) set aside, with the reason.

    Columns: run_id, file, table_name, row_number, column_name, value, reason, raw_json.
    """
    if run_id is None:
        last = latest_run(con)
        if last is None:
            return pd.DataFrame(columns=["run_id", "file", "table_name", "row_number", "column_name", "value",
                                         "reason", "raw_json"])
        run_id = int(last["run_id"])
    return run(con, """SELECT run_id, file, table_name, row_number, column_name, value, reason, raw_json
                       FROM rejected_rows WHERE run_id = $run_id ORDER BY table_name, row_number LIMIT $limit""",
               {"run_id": int(run_id), "limit": int(limit)})


def rejected_count(con, run_id: int | None = None) -> int:
    if run_id is None:
        last = latest_run(con)
        if last is None:
            return 0
        run_id = int(last["run_id"])
    return int(con.execute("SELECT count(*) FROM rejected_rows WHERE run_id = ?", [int(run_id)]).fetchone()[0])
