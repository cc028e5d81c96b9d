"""The audit trail: who changed what, when, with the values before and after.

One row per stored change, written by the library function that makes the change, in the same
transaction (a change that rolls back leaves no row). Each row keeps the data version the
database had *before* the change, so "restore to before this change" is the version of that
number (see funnel.versions / restore_before).

Actions: ``import``, ``reset``, ``stages``, ``stage_rename``, ``probabilities``, ``sla_targets``,
``rules``, ``scenario_saved``, ``scenario_current``, ``review_saved``, ``mapping_saved``,
``restore``, ``currency`` — and whatever other features record through :func:`record` (e.g.
``target``, ``call``).
"""
from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pandas as pd

from . import stored_messages
from .access import Actor
from .i18n import Message, msg

# No sequence for the ids: a restore carries the current audit_log into an older version of
# the database, whose sequence would be behind (max + 1 under the writers' lock instead).
AUDIT_DDL = """
CREATE TABLE IF NOT EXISTS audit_log (
    audit_id BIGINT PRIMARY KEY,
    changed_at TIMESTAMP NOT NULL,      -- UTC, naive
    actor_name VARCHAR NOT NULL,
    actor_email VARCHAR,
    actor_role VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    summary VARCHAR NOT NULL,           -- one sentence a person reads in the trail
    details_json VARCHAR,               -- what exactly (files and row counts, stage names, ...)
    before_json VARCHAR,
    after_json VARCHAR,
    data_version_before BIGINT,         -- store.data_version before the change: restore point
    data_version_after BIGINT,
    summary_msgid VARCHAR,              -- the summary's message (funnel.stored_messages), so a page
    summary_params VARCHAR              -- says it in the reader's language; NULL in older rows
);
"""

COLUMNS = ["audit_id", "changed_at", "actor_name", "actor_email", "actor_role", "action", "summary",
           "details", "before", "after", "data_version_before", "data_version_after", "summary_msgid",
           "summary_params"]
#: Added after the first release: a database of that release gets them on its next write
#: (store.init_schema), its older rows NULL there.
MESSAGE_COLUMNS = {"summary_msgid": "VARCHAR", "summary_params": "VARCHAR"}


def ensure_table(con) -> None:
    """Create the table if missing (store.init_schema does; readers never create: the app reads
    read-only versions, and a database without it is prepared on first start)."""
    con.execute(AUDIT_DDL)


def _json(value) -> str | None:
    if value is None:
        return None

    def default(o):
        if isinstance(o, (datetime, date)):
            return o.isoformat()
        if hasattr(o, "item"):        # numpy scalars
            return o.item()
        if isinstance(o, (set, tuple)):
            return list(o)
        return str(o)
    return json.dumps(value, default=default, sort_keys=True, ensure_ascii=False)


def _data_version(con) -> int:
    rows = con.execute("SELECT value FROM settings WHERE key = 'data_version'").fetchall()
    return int(rows[0][0]) if rows else 0


def record(con, actor: Actor, action: str, details=None, before=None, after=None, *,
           summary: Message | str | None = None, data_version_before: int | None = None) -> int:
    """Write one audit row and return its id. Call it inside the change's transaction.

    ``details``, ``before`` and ``after`` are anything JSON can hold. ``summary`` is the sentence
    a person reads in the trail: a :class:`~funnel.i18n.Message`, kept as its English text and as
    its message (a page renders it in the reader's language), or plain text. ``data_version_before``
    defaults to the current data version — right when called before the change bumps it; pass it
    explicitly when recording afterwards. The row's ``data_version_after`` is the version at the
    time of the call."""
    ensure_table(con)
    now = _data_version(con)
    text, msgid, params = stored_messages.to_columns(summary)
    audit_id = con.execute("SELECT coalesce(max(audit_id), 0) + 1 FROM audit_log").fetchall()[0][0]
    con.execute("INSERT INTO audit_log (audit_id, changed_at, actor_name, actor_email, actor_role, action, summary, "
                "details_json, before_json, after_json, data_version_before, data_version_after, summary_msgid, "
                "summary_params) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [audit_id, datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0), actor.name, actor.email,
                 actor.role, action, text or action.replace("_", " "), _json(details), _json(before),
                 _json(after), now if data_version_before is None else int(data_version_before), now, msgid, params])
    return audit_id


def summary_message(row) -> Message | str:
    """A trail row's summary (a row of :func:`entries`, or :func:`entry`'s dict) as its message,
    or as the text stored when the row has none (written before summaries kept their message)."""
    try:
        message = stored_messages.from_columns(row.get("summary_msgid"), row.get("summary_params"))
    except (KeyError, TypeError, ValueError):
        message = None
    return message if message is not None else row.get("summary")


def summaries(trail: pd.DataFrame, lang: str) -> list[str]:
    """The ``summary`` of each row of ``trail`` (:func:`entries`, :func:`restore_points`) in
    ``lang``; rows stored as text alone read as stored."""
    return [stored_messages.render(text, msgid, params, lang) for text, msgid, params
            in zip(trail["summary"], trail["summary_msgid"], trail["summary_params"])]


def finish(con, audit_id: int) -> None:
    """Set the row's data version after the change (call after bump_data_version, same transaction)."""
    con.execute("UPDATE audit_log SET data_version_after = ? WHERE audit_id = ?", [_data_version(con), audit_id])


def entries(con, *, actions: list[str] | tuple[str, ...] | None = None, actor: str | None = None,
            since: date | None = None, until: date | None = None, limit: int = 1000) -> pd.DataFrame:
    """The trail, newest first, filtered by action(s), actor (name or e-mail, exact) and UTC dates
    (inclusive). ``details``, ``before``, ``after`` are the stored JSON text."""
    day = lambda d: None if d is None else datetime.combine(d, datetime.min.time())  # noqa: E731
    params = {"actions": list(actions) if actions else None, "actor": actor or None,
              "since": day(since), "until": day(until), "limit": int(limit)}
    from .query import sql   # query imports store, which imports this module

    return con.execute(sql("audit_entries"), params).df()


def entry(con, audit_id: int) -> dict | None:
    """One row as a dict with ``details``/``before``/``after`` parsed from JSON, or None."""
    df = entries_by_id(con, audit_id)
    if df.empty:
        return None
    row = df.iloc[0].to_dict()
    for k in ("details", "before", "after"):
        row[k] = json.loads(row[k]) if isinstance(row[k], str) else None
    return row


def entries_by_id(con, audit_id: int) -> pd.DataFrame:
    return con.execute("SELECT audit_id, changed_at, actor_name, actor_email, actor_role, action, summary, "
                       "details_json AS details, before_json AS before, after_json AS after, "
                       "data_version_before, data_version_after, summary_msgid, summary_params "
                       "FROM audit_log WHERE audit_id = ?", [int(audit_id)]).df()


def actions(con) -> list[str]:
    return [r[0] for r in con.execute("SELECT DISTINCT action FROM audit_log ORDER BY action").fetchall()]


def actors(con) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT DISTINCT coalesce(actor_email, actor_name) AS who FROM audit_log ORDER BY who").fetchall()]


# ---------------------------------------------------------------------------------------------
# Undo: restore to before a change


def restore_points(con, db_path, limit: int = 200) -> pd.DataFrame:
    """Audit rows that can be undone: the version holding the data as it was just before the
    change (its ``data_version_before``) is still kept (funnel.versions keeps the last ten).
    Columns: audit_id, changed_at, who, action, summary (with its summary_msgid and summary_params,
    see :func:`summaries`), data_version_before, size_bytes."""
    from . import versions

    kept = {v.data_version: v for v in versions.list_versions(db_path) if not v.is_current}
    trail = entries(con, limit=limit)
    trail = trail[trail["data_version_before"].isin(list(kept))]
    return pd.DataFrame({
        "audit_id": trail["audit_id"], "changed_at": trail["changed_at"],
        "who": trail["actor_email"].fillna(trail["actor_name"]), "action": trail["action"],
        "summary": trail["summary"], "summary_msgid": trail["summary_msgid"],
        "summary_params": trail["summary_params"], "data_version_before": trail["data_version_before"],
        "size_bytes": [kept[int(v)].size_bytes for v in trail["data_version_before"]],
    }).reset_index(drop=True)


def restore_before(db_path, audit_id: int, *, actor: Actor | None = None, con=None):
    """Put the database back as it was just before the change ``audit_id`` recorded, as a new
    version (every later change stays in the trail and can itself be restored to). Admins only;
    the restore is recorded as a ``restore`` row. Returns the new version (funnel.versions.VersionInfo).

    ``con`` reads the audit row (the app passes its read cursor); without it the live file is
    opened read-only."""
    from . import access, store, versions

    who = access.require(actor, "restore")
    own = con is None
    if own:
        con = store.open_read_only(versions.reader_path(db_path))
    try:
        row = entry(con, audit_id)
        current = _data_version(con)
    finally:
        if own:
            con.close()
    if row is None:
        raise store.FunnelError(msg("There is no change #{id} in the audit trail.", id=str(audit_id)),
                                hint=msg("Pick a change from the audit trail on the Data page."), code="audit_missing")
    target = int(row["data_version_before"])
    info = versions.restore(db_path, target, label=f"restore to before change #{audit_id}")
    with versions.writing(db_path, "restore recorded") as w:
        record(w, who, "restore", {"audit_id": int(audit_id), "undone": row["summary"], "action": row["action"]},
               {"data_version": current}, {"data_version": info.data_version, "restored_version": target},
               summary=msg("Restored the data as it was before change #{id} ({summary})", id=str(audit_id),
                           summary=summary_message(row)),
               data_version_before=current)
    return info
