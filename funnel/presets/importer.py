"""Importing a preset: read its files, build the canonical tables, validate and replace all four.

The built tables go through :func:`funnel.ingest.import_files`, so validation, all-or-nothing and
the ``import_runs`` log apply exactly as for a hand-made import (``source = "preset:NAME"``). A
preset REPLACES all four tables: a table the source has nothing for is emptied after the import
committed, in the same write, so no figure mixes the new data with what was there before. The
preset's notes are stored with the import (see :mod:`funnel.limitations`).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from .. import fmt, i18n, ingest, store, stored_messages
from ..errors import ConfigError, ImportValidationError
from ..i18n import Joined, msg, msg_n
from ..limitations import NOTES_KEY, clear_data_notes
from ..mapping import TABLE_ORDER
from .base import Built, Note, problem, refuse, source_name, stage_mapping
from .registry import PRESETS, default_directory, find_preset_files, resolve_name
from .prose import is_prose
from .saved import mappings_dir, saved_mappings
from .scoring_seed import seed_scoring


def import_preset(con, name: str, directory=None, files: dict | None = None, skip_bad_rows: bool = False,
                  options: dict | None = None) -> ingest.ImportResult:
    """Import a preset's source files: build the canonical tables, validate and replace all four.

    ``files`` maps a role key (see ``PRESETS[name].roles``) to a path, a ``(name, bytes)`` tuple or
    an uploaded file; otherwise the files are looked up in ``directory`` by their usual names.
    ``name`` may also be a mapping saved from the Data page (``<database folder>/mappings/NAME.toml``).
    Raises ImportValidationError (nothing changed) when a file is missing or invalid.
    """
    name = resolve_name(name)
    if name not in PRESETS:
        saved = {m["name"]: m for m in saved_mappings(mappings_dir(con))}
        if name in saved:
            return _import_saved(con, saved[name], directory, files, skip_bad_rows)
        raise ConfigError(msg("There is no preset called '{name}'.", name=name),
                          hint=msg("Use one of: {names}.", names=Joined((*PRESETS, *sorted(saved)), ", ")))
    preset = PRESETS[name]
    options = dict(options or {})
    given = dict(files or {})
    if not given:
        folder = directory or default_directory(name)
        if folder is None:
            raise ImportValidationError(msg("No files were given for the {title} preset.", title=preset.title),
                                        hint=msg("Name the folder holding them (--dir FOLDER) or upload them on the "
                                                 "Data page."))
        if not Path(folder).is_dir():
            raise ImportValidationError(msg("The folder {folder} does not exist.", folder=str(folder)),
                                        hint=msg("Check the path."))
        given = find_preset_files(name, folder)
    missing = [r for r in preset.roles if r.required and given.get(r.key) is None]
    if missing:
        def not_found(r):
            expected = r.help or r.patterns[0]
            if directory and not files:
                return msg("the {role} file was not found in {folder}. Expected {expected}.", role=r.label.lower(),
                           folder=str(directory), expected=expected)
            return msg("the {role} file was not found. Expected {expected}.", role=r.label.lower(), expected=expected)
        refuse([problem(r.label, "", not_found(r), code="unreadable_file") for r in missing],
               hint=msg("Give every required file, then import again; the database was not changed."))
    src: dict[str, tuple[str, pd.DataFrame]] = {}
    for role in preset.roles:
        f = given.get(role.key)
        if f is None:
            continue
        df = ingest.read_table_file(f)
        if df.empty:
            refuse([problem(source_name(f), "", msg("has a header but no data rows."), code="empty_file")])
        src[role.key] = (source_name(f), df)
    built = preset.build(src, options)
    return _import_built(con, f"preset:{name}", built,
                         [*preset.notes, *built.notes], skip_bad_rows)


def _derived_name(source: str, table: str) -> str:
    stem = Path(source).stem
    return f"{stem} ({table}).csv"


def _import_built(con, source: str, built: Built, notes: list[Note], skip_bad_rows: bool):
    mapping = {"stages": {f: stage_mapping(con, f, m) for f, m in built.stages.items() if m}}
    files = {}
    for table, df in built.tables.items():
        data = df.to_csv(index=False, lineterminator="\n").encode("utf-8")
        files[table] = (_derived_name(built.names.get(table, table), table), data)
    derived = {name: table for table, (name, _) in files.items()}
    try:
        result = ingest.import_files(con, **files, mapping=mapping, skip_bad_rows=skip_bad_rows, source=source)
    except ImportValidationError as e:
        problems = [_translate(p, built, derived) for p in e.problems]
        m = re.search(r"([\d,]+) problems? found", e.message)
        total = int(m.group(1).replace(",", "")) if m else len(problems)
        first = Joined(tuple(p.text_message() for p in problems[:3]), "; ", clauses=True)
        refusal = (msg_n("Nothing was imported: {n} problem found. {problems} (and {more} more).",
                         "Nothing was imported: {n} problems found. {problems} (and {more} more).", total,
                         n=fmt.Count(total), problems=first, more=fmt.Count(total - 3)) if total > 3 else
                   msg_n("Nothing was imported: {n} problem found. {problems}.",
                         "Nothing was imported: {n} problems found. {problems}.", total,
                         n=fmt.Count(total), problems=first))
        raise ImportValidationError(refusal, problems=problems, hint=e.hint_obj) from None
    original = result.problems
    result.problems = [_translate(p, built, derived) for p in original]
    # Warnings too name the user's file, row and column (an event dated before its deal's creation
    # was reported at the row of the preset's assembled history, under its internal name).
    if result.warnings:
        told = ingest._warning_msg(result.warnings, result.warning_count)
        result.warnings = [_translate(p, built, derived) for p in result.warnings]
        retold = ingest._warning_msg(result.warnings, result.warning_count)
        result.message = result.message.replace(told.render("en"), retold.render("en"))
        result.message_obj = _replaced(result.message_obj, told, retold)
    _finish(con, result, source, set(built.tables), notes, derived,
            [(o, t) for o, t in zip(original, result.problems) if o.reason != t.reason])
    return result


def _replaced(message, old: i18n.Message, new: i18n.Message):
    """``message`` with its part ``old`` (a sentence it was composed of) replaced by ``new``."""
    if message == old:
        return new
    if not isinstance(message, i18n.Message):
        return message
    return i18n.Message(message.msgid, tuple((k, _replaced(v, old, new)) for k, v in message.params),
                        message.plural, message.n)


#: The tables a source may have nothing for, as a sentence names them (lower case in English).
EMPTIED_NAMES = {"leads": i18n.N_("leads"), "lead_events": i18n.N_("lead stage history"),
                 "opportunities": i18n.N_("opportunities"), "opportunity_events": i18n.N_("opportunity stage history")}


def _translate(p, built: Built, derived: dict[str, str]):
    """A problem found in a preset's derived file, told in terms of the user's own file."""
    table = derived.get(p.file)
    if table is None:
        return p
    df = built.tables[table]
    src_file, row = built.names.get(table, p.file), p.row
    col = (built.columns.get(table) or {}).get(p.column) if p.column else None
    if p.row is not None and "source_row" in df.columns and 1 <= p.row <= len(df):
        rec = df.iloc[p.row - 1]
        src_file = str(rec.get("source_file") or src_file)
        row = int(rec["source_row"])
        sc = rec.get("source_column") if "source_column" in df.columns else None
        if p.column == "entered_at" and isinstance(sc, str) and sc:
            col = sc
    elif table != "leads":
        row = None  # a row of a table the preset assembled: its number would mean nothing to the user
    reason = p.message if p.message is not None else p.reason
    if p.code == "bad_timestamp":
        reason = msg('"{value}" is not a date that can be read. Export dates as YYYY-MM-DD HH:MM, or choose the date '
                     "format (day first, month first, or a format such as {example}) and import again.",
                     value=p.value, example="%d.%m.%Y %H:%M")
    elif p.code == "unknown_stage":
        reason = msg('"{value}" is not a stage this preset knows. Map it onto a configured stage (custom stage '
                     "names, e.g. {example}), or add the stage on the Stage settings page.", value=p.value,
                     example="Verbal Commit = Negotiation")
    return ingest.Problem(src_file, p.table, row, p.column, p.value, reason, p.code,
                          source_column=col or p.source_column)


def _finish(con, result, source: str, produced: set[str], notes: list[Note],
            derived: dict[str, str] | None = None, reworded: list | None = None) -> None:
    """Empty the tables the source has nothing for and store its notes, in one transaction."""
    cleared = [t for t in ("opportunity_events", "opportunities", "lead_events", "leads") if t not in produced]
    counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in cleared}
    to_clear = [t for t in cleared if counts[t] or t == "leads"]
    payload = {"source": source, "run_id": result.run_id,
               "notes": [_stored_note(n) for n in notes]}
    with store.transaction(con):
        for t in to_clear:
            if t == "leads":
                # Recreate it with the core columns only: attributes of earlier data must not linger.
                con.execute("DROP TABLE leads")
                store.init_schema(con)
            else:
                con.execute(f"DELETE FROM {t}")
        store.set_setting(con, NOTES_KEY, json.dumps(payload))
        # Rejected rows name the user's file, row and column, not the preset's derived file.
        if reworded:
            con.executemany("UPDATE rejected_rows SET reason = ? WHERE run_id = ? AND file = ? AND row_number = ? "
                            "AND column_name = ? AND reason = ?",
                            [[t.reason, result.run_id, o.file, o.row, o.column, o.reason] for o, t in reworded])
        for name in (derived or {}):
            con.execute("""UPDATE rejected_rows SET
                               file = coalesce(json_extract_string(raw_json, '$.source_file'), file),
                               row_number = coalesce(TRY_CAST(json_extract_string(raw_json, '$.source_row') AS BIGINT),
                                                     row_number),
                               column_name = CASE WHEN column_name = 'entered_at' THEN coalesce(
                                   json_extract_string(raw_json, '$.source_column'), column_name) ELSE column_name END
                           WHERE run_id = ? AND file = ?""", [result.run_id, name])
        said = result.message_obj
        emptied = [i18n.msg(EMPTIED_NAMES[t]) for t in reversed(cleared) if counts.get(t)]
        if emptied:
            said = i18n.msg("{first} {then}", first=said, then=i18n.msg(
                "This source has no {tables}: those tables were emptied.", tables=i18n.list_of(emptied, " or ")))
        preset = PRESETS.get(source.split(":", 1)[1]) if source.startswith("preset:") else None
        seeded = (seed_scoring(con, preset.scoring_rules, preset.scoring_threshold, source)
                  if preset is not None and preset.scoring_rules else None)
        if seeded is not None:
            said = i18n.msg("{first} {then}", first=said, then=seeded)
        result.message, result.message_obj = said.render("en"), said
        store.set_import_run_message(con, result.run_id, said)
        store.refresh_derived(con)
        store.bump_data_version(con)


def _stored_note(note: Note) -> dict:
    """A note as the import keeps it (setting ``data_notes``): its English text, which the CLI and
    older versions read, and the message it was rendered from (:mod:`funnel.stored_messages`), which
    a page says in the reader's language: a builder's message with its parameters, or a sentence of
    prose.toml (in the catalogs) as its own message id. Other text is kept as text alone."""
    text, message = note.text, None
    if isinstance(text, i18n.Message):
        text, message = text.render("en"), stored_messages.encode(text)
    elif is_prose(text):
        message = {"msgid": text, "params": {}}
    return {"topic": note.topic, "text": text, "covers": list(note.covers), **({"message": message} if message else {})}


def _import_saved(con, saved: dict, directory, files, skip_bad_rows):
    if saved.get("mapping") is None:
        raise ConfigError(msg("The saved mapping {path} cannot be read.", path=str(saved["path"])),
                          hint=msg("Fix or delete the file."))
    given = dict(files or {})
    if not given:
        if not directory:
            raise ImportValidationError(msg("No files were given for the saved mapping '{name}'.", name=saved["name"]),
                                        hint=msg("Name the folder holding them with --dir FOLDER."))
        for table, fname in saved["files"].items():
            p = Path(directory) / fname
            if p.is_file():
                given[table] = p
        if not given:
            names = (Joined(tuple(saved["files"].values()), ", ") if ", ".join(saved["files"].values())
                     else msg("its files"))
            raise ImportValidationError(msg("None of {files} is in {folder}.", files=names, folder=str(directory)),
                                        hint=msg("Put the files there under the names they had when the mapping was "
                                                 "saved."))
    result = ingest.import_files(con, **{t: f for t, f in given.items() if t in TABLE_ORDER},
                                 mapping=saved["mapping"], skip_bad_rows=skip_bad_rows,
                                 source=f"mapping:{saved['name']}")
    clear_data_notes(con)
    return result


