"""Dry run: validate an import against a throw-away database with this one's stage configuration."""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import ingest, store
from ..errors import FunnelError
from ..limitations import limitations as limitation_notes
from ..mapping import TABLE_ORDER
from .importer import import_preset
from .scoring_seed import SCORING_SEED_KEY


@dataclass
class DryRun:
    ok: bool
    result: ingest.ImportResult | None
    error: FunnelError | None
    preview: dict[str, pd.DataFrame]
    counts: dict[str, int]
    limitations: list[str]                      # what the data would not show, in English
    # the same as notes ({"topic", "text", "message"}: funnel.limitations.note_text says each in a
    # reader's language)
    notes: list[dict] = field(default_factory=list)


def _copy(src_con, dst_con, select: str, table: str, columns: str) -> None:
    tbl = src_con.sql(select).to_arrow_table()
    dst_con.register("_dry_copy", tbl)
    try:
        dst_con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM _dry_copy")
    finally:
        dst_con.unregister("_dry_copy")


def dry_run(con, *, preset: str | None = None, directory=None, preset_files: dict | None = None,
            options: dict | None = None, mapping=None, skip_bad_rows: bool = False, preview_rows: int = 20,
            **files) -> DryRun:
    """Run the import into a throw-away database that has this one's stage configuration.

    With ``preset`` the preset's import runs (it replaces every table). Otherwise ``files`` are
    the canonical files (leads=…, lead_events=…, …) with ``mapping``; the stored rows the import
    checks references against are copied across first, so the result is what a real import would
    report. Nothing in ``con`` changes.
    """
    tmp = Path(tempfile.mkdtemp(prefix="funnel-dryrun-"))
    tcon = store.connect(tmp / "dry.duckdb")
    try:
        rows = con.execute("SELECT funnel, stage, position, kind, team, probability, category, sla_hours "
                           "FROM stage_config").fetchall()
        tcon.execute("DELETE FROM stage_config")
        tcon.executemany("INSERT INTO stage_config VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        # The scoring rules too, so the result says what a real import would do with them.
        rules = con.execute("SELECT * FROM scoring_rules ORDER BY rule_id").fetchall()
        tcon.execute("DELETE FROM scoring_rules")
        if rules:
            tcon.executemany(f"INSERT INTO scoring_rules VALUES ({', '.join('?' * len(rules[0]))})", rules)
        for key in ("mql_threshold", SCORING_SEED_KEY):
            value = store.get_setting(con, key)
            if value is not None:
                store.set_setting(tcon, key, value)
        if preset is None:
            given = {t for t, f in files.items() if f is not None}
            if "lead_events" in given and "leads" not in given:
                _copy(con, tcon, "SELECT lead_id, created_at FROM leads", "leads", "lead_id, created_at")
            if "leads" in given and "lead_events" not in given:
                _copy(con, tcon, "SELECT lead_id, stage, entered_at, event_seq FROM lead_events", "lead_events",
                      "lead_id, stage, entered_at, event_seq")
            if "opportunity_events" in given and "opportunities" not in given:
                _copy(con, tcon, "SELECT opportunity_id, created_at, amount, close_date FROM opportunities",
                      "opportunities", "opportunity_id, created_at, amount, close_date")
            if "opportunities" in given and "opportunity_events" not in given:
                _copy(con, tcon, "SELECT opportunity_id, stage, entered_at, event_seq FROM opportunity_events",
                      "opportunity_events", "opportunity_id, stage, entered_at, event_seq")
        try:
            if preset is not None:
                result = import_preset(tcon, preset, directory, files=preset_files, skip_bad_rows=skip_bad_rows,
                                       options=options)
                result.message = (result.message.replace("Scoring rules for this data were set up",
                                                         "Scoring rules for this data would be set up")
                                  .replace("Your edited scoring rules were kept", "Your edited scoring rules would be kept"))
                tables = list(TABLE_ORDER)
            else:
                result = ingest.import_files(tcon, **files, mapping=mapping, skip_bad_rows=skip_bad_rows)
                tables = [t for t in TABLE_ORDER if files.get(t) is not None]
        except FunnelError as e:
            return DryRun(False, None, e, {}, {}, [])
        preview, counts = {}, {}
        for t in tables:
            order = " ORDER BY event_seq" if t.endswith("events") else ""
            preview[t] = tcon.execute(f"SELECT * FROM {t}{order} LIMIT {int(preview_rows)}").df()
            counts[t] = tcon.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        notes = limitation_notes(tcon) if preset is not None else []
        return DryRun(True, result, None, preview, counts, [n["text"] for n in notes], notes)
    finally:
        tcon.close()
        shutil.rmtree(tmp, ignore_errors=True)


