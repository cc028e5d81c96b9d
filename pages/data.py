"""Data: what is in the database, what it cannot show, and importing CRM exports or our CSV contract."""
from __future__ import annotations

import pandas as pd
import streamlit as st

import ui
from funnel import access, audit, health, ingest, limitations, presets
from funnel.errors import FunnelError, ImportValidationError
from funnel.labels import blank_missing, readable_columns
from funnel.mapping import STAGE_FUNNEL, TABLE_ORDER, TABLES, validate_mapping

ss = st.session_state
present = ui.presentation()

TOPICS = limitations.TOPICS
FILE_TYPES = ["csv", "tsv", "txt", "xlsx", "parquet"]
CANONICAL = "canonical"
AUTO = "auto"
# What each preset maps by default (the "Custom stage names" box adds to it).
STAGE_HELP = {
    "salesforce": "Standard Salesforce stages are mapped already (Prospecting and Qualification → Qualify; Needs "
                  "Analysis, Value Proposition, Id. Decision Makers, Perception Analysis → Discovery; Proposal/Price "
                  "Quote → Proposal; Negotiation/Review → Negotiation), and so are the standard lead statuses (Open - "
                  "Not Contacted → Lead, Working - Contacted → SAL, Closed - Converted → Opportunity, Closed - Not "
                  "Converted → Disqualified). ",
    "hubspot_deals": "HubSpot's default pipeline is mapped already (Appointment Scheduled → Qualify; Qualified To "
                     "Buy, Presentation Scheduled → Discovery; Decision Maker Bought-In → Proposal; Contract Sent → "
                     "Negotiation). ",
}


@st.cache_data(show_spinner=False, max_entries=16)
def _read_file(name: str, data: bytes, nrows: int | None = None):
    """A file as strings (page-local cache: the same upload is read once)."""
    return ingest.read_table_file((name, data), nrows=nrows)


def _flash(kind: str, text: str) -> None:
    ss["data_flash"] = (kind, text)


def _show_error(e: FunnelError) -> None:
    st.error(ui.md(e.message + (f" — {e.hint}" if e.hint else "")))
    problems = getattr(e, "problems", None)
    if problems:
        df = presets.problems_frame(problems)
        st.markdown(f"**{len(df):,} problem{'s' if len(df) != 1 else ''} found** "
                    f"{'(the first 50 below)' if len(df) > 50 else ''} — each names the file, row, column and value:")
        st.dataframe(blank_missing(df.head(50)), hide_index=True, width="stretch")
        ui.download_csv(df, "import-problems", label="Download every problem (CSV)", key="dl_import_problems")


def _show_warnings(warnings, key: str) -> None:
    """Values an import loads but flags (a date far from the rest, an event before its lead's
    creation, a workbook's other sheets): listed row by row, as the import's message says."""
    if not warnings:
        return
    df = presets.problems_frame(warnings)
    st.warning(f"{len(df):,} value{'s' if len(df) != 1 else ''} loaded but worth a look:")
    st.dataframe(blank_missing(df.head(50)), hide_index=True, width="stretch")
    ui.download_csv(df, "import-warnings", label="Download the warnings (CSV)", key=key)


def _show_outcome(key: str) -> None:
    """The last validation or import attempt for this source, kept across reruns."""
    out = ss.get("imp_outcome")
    if not out or out.get("key") != key:
        return
    if out["kind"] == "error":
        _show_error(out["error"])
        return
    dry = out["dry"]
    res = dry.result
    st.success("Validation passed: " + res.message.replace("Imported", "an import would load", 1) +
               " Nothing was written yet.")
    _show_warnings(getattr(res, "warnings", None), "dl_dry_warnings")
    if res.problem_count:
        st.warning(f"{res.rejected:,} bad row{'s' if res.rejected != 1 else ''} would be skipped "
                   f"({res.problem_count:,} problems) and kept in the rejected rows list.")
        df = presets.problems_frame(res.problems)
        st.dataframe(blank_missing(df.head(50)), hide_index=True, width="stretch")
        ui.download_csv(df, "skipped-rows", label="Download the rows that would be skipped (CSV)", key="dl_dry_skipped")
    if dry.limitations:
        st.markdown("**After this import, these figures will not be available:**")
        st.markdown("\n".join(f"- {ui.md(t)}" for t in dry.limitations))
    if dry.preview:
        st.markdown("**Preview: the first rows as they would be stored**")
        tabs = st.tabs([f"{presets.TABLE_LABELS[t]} ({dry.counts.get(t, 0):,} rows)" for t in dry.preview])
        for tab, (t, df) in zip(tabs, dry.preview.items()):
            with tab:
                st.dataframe(blank_missing(df), hide_index=True, width="stretch")


# ---- Data health (also in presentation mode) -------------------------------------------------

with ui.guard("the data health figures"):
    counts = ui.call(health.table_counts)
    last = ui.call(health.latest_run)
    n = dict(zip(counts["table"], counts["rows"]))
    source = presets.source_label(last["source"]) if last else "nothing imported yet"
    finding = (f"{ui.fmt_int(n['leads'])} leads and {ui.fmt_int(n['opportunities'])} opportunities; "
               f"last loaded from {source}.")
    ui.page_header("Data", finding)

    if ss.get("data_flash"):
        kind, text = ss.pop("data_flash")
        (st.success if kind == "ok" else st.warning)(ui.md(text))
        _show_warnings(ss.pop("data_flash_warnings", None), "dl_import_warnings")

    cols = st.columns(4)
    helps = {"leads": "One row per lead.", "lead_events": "Entries of leads into stages (their lifecycle history).",
             "opportunities": "One row per deal.", "opportunity_events": "Stage changes of deals (with amount and "
                                                                         "close date as of each change)."}
    for c, row in zip(cols, counts.itertuples()):
        c.metric(row.label, ui.fmt_int(row.rows), border=True, help=helps[row.table])
    if last:
        st.caption(ui.md(f"Latest import: {source}, loaded {ui.fmt_date(last['started_at'])} by {last['run_by']} "
                         f"(import run {last['run_id']}). {last['message']}"))

with ui.guard("the data limitations"):
    lims = ui.call(limitations.limitation_findings)["notes"]   # one look per data version, shared with the pages
    st.subheader("What this data cannot show")
    if lims:
        order = list(TOPICS)
        ranked = sorted(lims, key=lambda x: order.index(x["topic"]) if x["topic"] in order else len(order))
        st.info("\n".join(f"- **{TOPICS.get(x['topic'], x['topic'])}** — {ui.md(x['text'])}" for x in ranked))
        st.caption("Found by looking at the data itself (which stages, dates, outcomes and owners it holds) and "
                   "from the notes of the preset that imported it. Read the other pages' figures with these in mind.")
    else:
        st.caption("Nothing missing: the data has lead histories, rejections, won and lost deals and an open "
                   "pipeline, so every page can compute its figures.")

left, right = st.columns(2)
with left, ui.guard("the date spans"):
    st.subheader("Date span")
    spans = ui.call(health.date_spans)
    st.dataframe(spans.rename(columns={"what": "What", "first": "First", "last": "Last", "rows": "Values"}),
                 hide_index=True, width="stretch",
                 column_config={"First": st.column_config.DatetimeColumn(format="D MMM YYYY, HH:mm"),
                                "Last": st.column_config.DatetimeColumn(format="D MMM YYYY, HH:mm"),
                                "Values": st.column_config.NumberColumn(format="localized")})
    st.caption("Earliest and latest timestamp of each dated column; the as-of date defaults to the latest of all.")

with right, ui.guard("the stages seen"):
    st.subheader("Stages seen")
    seen = ui.call(health.stages_seen)
    table = seen.rename(columns={"funnel": "Funnel", "stage": "Stage", "position": "Order", "kind": "Kind",
                                 "configured": "In stage settings", "events": "Events"})
    table["Order"] = ["" if pd.isna(x) else str(int(x)) for x in table["Order"]]  # side states have no place
    table = readable_columns(table, ["Funnel", "Kind"])                                 # "lead" -> "Lead"
    st.dataframe(table, hide_index=True, width="stretch", height=min(35 * (len(table) + 1) + 3, 600),
                 column_config={"Events": st.column_config.NumberColumn(format="localized")})
    unknown = seen[~seen["configured"]]
    unused = seen[seen["configured"] & (seen["events"] == 0)]
    if len(unknown):
        st.warning("Stages used by the data but not in the stage settings (their events count nowhere): "
                   + ", ".join(f"{ui.md(r.stage)} ({r.funnel})" for r in unknown.itertuples()))
    st.caption("Events per stage. " + ("Configured but never entered by this data: "
                                       + ", ".join(ui.md(r.stage) for r in unused.itertuples())
                                       + " — a skipped stage still counts as passed in the funnel."
                                       if len(unused) else "Every configured stage is used."))

with ui.guard("the import log"):
    st.subheader("Last imports")
    runs = ui.call(health.import_history, 10)
    if runs.empty:
        ui.empty_state("No import has run yet.")
    else:
        view = runs.assign(source=[presets.source_label(s) for s in runs["source"]])[
            ["run_id", "started_at", "run_by", "source", "status", "rows", "message"]]
        st.dataframe(view.rename(columns={"run_id": "Run", "started_at": "Started", "run_by": "By", "source": "Source",
                                          "status": "Status", "rows": "Rows loaded", "message": "Message"}),
                     hide_index=True, width="stretch",
                     column_config={"Started": st.column_config.DatetimeColumn(format="D MMM YYYY, HH:mm")})
        st.caption("Every import is logged, failed ones too (a failed import changes nothing).")

with ui.guard("the rejected rows"):
    n_rej = ui.call(health.rejected_count)
    if last and n_rej:
        st.subheader("Rows set aside by the last import")
        rej = ui.call(health.rejected_rows, None, 5000)
        st.caption(f"{n_rej:,} problem{'s' if n_rej != 1 else ''} in run {last['run_id']}: these rows were skipped "
                   "(skip bad rows was on) and are kept here with the reason, so they can be fixed and imported again.")
        st.dataframe(blank_missing(rej.rename(columns={"file": "File", "table_name": "Table", "row_number": "Row",
                                                       "column_name": "Column", "value": "Value", "reason": "Reason",
                                                       "raw_json": "Whole row"}).drop(columns="run_id").head(200)),
                     hide_index=True, width="stretch")
        ui.download_csv(rej, f"rejected-rows-run-{last['run_id']}", label="Download the rejected rows (CSV)",
                        key="dl_rejected")
    elif last:
        st.caption("The last import set no row aside.")

# ---- Audit trail -----------------------------------------------------------------------------

AUDIT_ACTIONS = {"import": "Import", "reset": "Reset to sample", "sample_created": "Sample data (first start)",
                 "stages": "Stage settings", "stage_rename": "Stage renamed", "probabilities": "Probabilities",
                 "probabilities_reset": "Probabilities reset", "sla_targets": "SLA targets", "rules": "Scoring rules",
                 "scenario_saved": "Scenario saved", "scenario_current": "Scenario made current",
                 "review_saved": "Review saved", "mapping_saved": "Mapping saved", "restore": "Restore"}

st.divider()
st.header("Audit trail")
st.caption("Every stored change: who made it, when (UTC), what it was, and the values before and after. "
           "Written by the library in the same transaction as the change itself.")
with ui.guard("the audit trail"):
    # Read fresh, not through the cache: some changes (a saved scenario or review) add a row
    # without changing any figure, so the data version does not move.
    known_actions = ui.call_fresh(audit.actions)
    known_actors = ui.call_fresh(audit.actors)
    f1, f2, f3 = st.columns([2, 2, 2])
    chosen_actions = f1.multiselect("What", known_actions, key="audit_actions", placeholder="Every change",
                                    format_func=lambda a: AUDIT_ACTIONS.get(a, a))
    chosen_actor = f2.selectbox("Who", known_actors, index=None, key="audit_actor", placeholder="Anyone")
    period = f3.date_input("When (UTC)", value=(), key="audit_dates", format="YYYY-MM-DD",
                           help="A day, or a first and a last day; empty: any time.")
    since = until = None
    if isinstance(period, (list, tuple)) and period:
        since, until = period[0], period[-1]
    trail = ui.call_fresh(audit.entries, actions=tuple(chosen_actions) or None, actor=chosen_actor,
                          since=since, until=until, limit=1000)
    if trail.empty:
        st.caption("No change matches these filters.")
    else:
        shown = trail.assign(who=trail["actor_email"].fillna(trail["actor_name"]),
                             action=trail["action"].map(lambda a: AUDIT_ACTIONS.get(a, a)))
        st.dataframe(shown[["audit_id", "changed_at", "who", "actor_role", "action", "summary", "before", "after"]],
                     hide_index=True, width="stretch", column_config={
                         "audit_id": st.column_config.NumberColumn("#", format="%d"),
                         "changed_at": st.column_config.DatetimeColumn("When (UTC)", format="D MMM YYYY, HH:mm:ss"),
                         "who": st.column_config.TextColumn("Who"),
                         "actor_role": st.column_config.TextColumn("Role"),
                         "action": st.column_config.TextColumn("What"),
                         "summary": st.column_config.TextColumn("Change"),
                         "before": st.column_config.TextColumn("Before"),
                         "after": st.column_config.TextColumn("After")})
        ui.download_csv(trail, "audit-trail", label="Download the audit trail (CSV)", key="dl_audit")

# ---- Undo: restore to before a change (admins) -------------------------------------------------
if ui.can("restore") and not present:
    with ui.guard("the restore points"):
        points = ui.call_fresh(audit.restore_points, ui.db_path())
        st.subheader("Restore to before a change")
        if points.empty:
            st.caption("No earlier version is kept yet: each change keeps the version before it (the last ten).")
        else:
            st.caption("Each import, reset and configuration change keeps the database as it was before it (the "
                       "last ten versions). Restoring puts that version back as a new one: every figure returns to "
                       "what it was, the audit trail keeps every row, and the restore itself can be undone.")
            labels_by_id = {int(r.audit_id): f"#{int(r.audit_id)} · {ui.fmt_date(r.changed_at)} · {r.who} · "
                                              f"{r.summary} ({r.size_bytes / 1e6:,.1f} MB)"
                            for r in points.itertuples()}
            chosen = st.selectbox("Change to undo", list(labels_by_id), format_func=labels_by_id.get,
                                  key="restore_pick", index=None, placeholder="Choose a change")
            if chosen is not None:
                if st.button("Restore to before this change", key="restore_go", type="primary",
                             help="Puts back the data and settings as they were just before this change."):
                    done = False
                    with ui.guard("the restore"), st.spinner("Restoring…"):
                        # A read cursor to look the change up; the restore writes a new version itself.
                        cur = ui.con()
                        try:
                            audit.restore_before(ui.db_path(), chosen, actor=ui.current_actor(), con=cur)
                        finally:
                            cur.close()
                        done = True
                    if done:
                        ui.after_write()
                        ss.pop("restore_pick", None)
                        _flash("ok", f"Restored: the data is as it was before change #{chosen}.")
                        st.rerun()

if present:
    st.stop()
if not ui.can("import"):
    st.info("Imports and resets are for admins"
            + ("; you can change stage settings, probabilities and scoring on their pages." if ui.can("edit") else ".")
            + f" You are signed in as {ui.current_actor().role}.")
    st.stop()

# ---- Import ----------------------------------------------------------------------------------

st.divider()
st.header("Import data")
MAX_UPLOAD_MB = st.get_option("server.maxUploadSize")
st.caption("An import replaces the tables it covers, all or nothing: if anything is wrong you get a list of the "
           "problems and the database stays as it is. Validate first to see what would be loaded. "
           f"Files: CSV, TSV, TXT, XLSX or Parquet, up to {MAX_UPLOAD_MB:,} MB each (a larger file is refused "
           "when you drop it; the limit is server.maxUploadSize in .streamlit/config.toml).")

saved = presets.saved_mappings(presets.mappings_dir(ui.db_path()))
choices = [AUTO] + [f"preset:{k}" for k in presets.PRESETS] + [f"saved:{m['name']}" for m in saved] + [CANONICAL]
labels = {AUTO: "Detect from the files (upload several at once)"}
labels.update({f"preset:{k}": p.title for k, p in presets.PRESETS.items()})
labels.update({f"saved:{m['name']}": f"Saved mapping: {m['title']}" for m in saved})
labels[CANONICAL] = "Canonical files (our CSV contract) — or any other file, with the mapping assistant"
choice = st.selectbox("What are you importing?", choices, format_func=lambda k: labels[k], key="imp_source",
                      help="Shipped presets know the shape of common exports; saved mappings are ones you confirmed "
                           "here before; anything else goes through the mapping assistant.")
skip_bad = st.checkbox("Skip bad rows", key="imp_skip",
                       help="Load the good rows and keep each bad one aside with its reason (listed above after the "
                            "import). Off: any bad row stops the whole import.")


def _validate(key: str, **dry_run_args) -> None:
    """Run the import against a throw-away copy; its outcome shows under the buttons."""
    with st.spinner("Validating…"):
        dry = ui.call_fresh(presets.dry_run, **dry_run_args)
    ss["imp_outcome"] = ({"key": key, "kind": "dry", "dry": dry} if dry.ok
                         else {"key": key, "kind": "error", "error": dry.error})


def _commit(key: str, do_import) -> None:
    """Run ``do_import(cursor)`` in one write (all or nothing); on success say so and rerun, else
    keep the error under the buttons."""
    try:
        # The import acts as this session's user: import_files checks the role and names them
        # in the import run and the audit trail (presets call it inside).
        who = access.require(ui.current_actor(), "import")
        # A refused import still commits its 'failed' run log (the database is otherwise as it was).
        with st.spinner("Importing…"), ui.writer("import", commit_on=(ImportValidationError,)) as cur, \
                access.acting(who):
            result = do_import(cur)
    except FunnelError as e:
        ss["imp_outcome"] = {"key": key, "kind": "error", "error": e}
    except Exception as e:  # noqa: BLE001 - what failed, in words, under the buttons; the trace in the log
        ss["imp_outcome"] = {"key": key, "kind": "error", "error": ui.import_failure(e)}
    else:
        ui.after_write()
        ss.pop("imp_outcome", None)
        _flash("ok", result.message)
        ss["data_flash_warnings"] = getattr(result, "warnings", None)
        st.rerun()


def _preset_options(name: str, p) -> dict:
    """The preset's import options (date format, decimal mark, stage names, deals without an amount)."""
    options: dict = {}
    if "date_format" in p.options:
        fmt = st.selectbox("Date format", ["auto", "day-first", "month-first"], key=f"datefmt_{name}",
                           format_func={"auto": "Detect (ISO 8601, or day/month order from the data)",
                                        "day-first": "Day first: 31/12/2025, 31.12.2025 14:05",
                                        "month-first": "Month first: 12/31/2025 2:05 PM"}.get,
                           help="CRM exports write dates in the user's locale. Detection refuses dates it cannot "
                                "tell apart (03/04/2025) rather than guess.")
        options["date_format"] = fmt
    if "decimal" in p.options:
        dec = st.radio("Amounts are written like", [".", ","], horizontal=True, key=f"decimal_{name}",
                       format_func={".": "1,234.50", ",": "1.234,50"}.get)
        options["decimal"] = dec
    if "stage_map" in p.options:
        lines = st.text_area("Custom stage names (optional)", key=f"stagemap_{name}", height=90,
                             placeholder="Verbal Commit = Negotiation\nOn Hold = Discovery",
                             help=STAGE_HELP.get(name, "") + "Add your own, one per line: your stage = configured "
                                                             "stage (lead statuses too).")
        options["stage_map"] = presets.parse_stage_lines(lines)
        if "status_map" in p.options:   # lead statuses are named in the same box
            options["status_map"] = options["stage_map"]
    if "missing_amount" in p.options:
        options["missing_amount"] = st.radio(
            "Deals without an amount", ["zero", "skip"], horizontal=True, key=f"noamount_{name}",
            format_func={"zero": "Count them with 0", "skip": "Leave them out"}.get,
            help="A deal with no amount anywhere in the export. Either way the import says how many there were.")
    return options


def _preset_flow(name: str) -> None:
    p = presets.PRESETS[name]
    st.markdown(p.description)
    with st.expander("What this data cannot show"):
        st.markdown("\n".join(f"- {ui.md(t)}" for t in presets.preset_notes(name)))
    default_dir = presets.default_directory(name)
    # The importer reads uploads, or a folder an admin set up (ui.import_folders) — plus the
    # shipped public data set's own folder — never a path typed into a box.
    folders = [str(f) for f in ([default_dir] if default_dir else []) + ui.import_folders()]
    folders = list(dict.fromkeys(folders))
    modes = ["Upload them"] + (["In a folder on this server"] if folders else [])
    mode = st.radio("Where are the files?", modes, index=1 if default_dir and folders else 0, horizontal=True,
                    key=f"pmode_{name}",
                    help="Folders on the server are the ones an admin listed in [funnelcast] import_folders "
                         "(.streamlit/secrets.toml) or $FUNNEL_IMPORT_DIRS.")
    files: dict = {}
    folder = None
    if mode == "Upload them":
        cols = st.columns(len(p.roles))
        for c, role in zip(cols, p.roles):
            f = c.file_uploader(role.label + ("" if role.required else " (optional)"), type=FILE_TYPES,
                                key=f"up_{name}_{role.key}", help=role.help)
            if f is not None:
                files[role.key] = f
        ready = all(r.key in files for r in p.roles if r.required)
        if not ready:
            st.caption("Upload " + ", ".join(r.label.lower() for r in p.roles if r.required and r.key not in files)
                       + " to continue.")
    else:
        folder = st.selectbox("Folder", folders, key=f"dir_{name}",
                              help="A folder an admin set up for imports; its files are found by their usual names.")
        found = presets.find_preset_files(name, folder) if folder else {}
        for role in p.roles:
            hit = found.get(role.key)
            st.caption(f"{role.label}: " + (ui.md(hit.name) if hit else
                                            ("not found" if role.required else "not found (optional)")))
        ready = bool(folder) and all(r.key in found for r in p.roles if r.required)
    options = _preset_options(name, p)
    key = f"preset:{name}"
    c1, c2 = st.columns([1, 6])
    if c1.button("Validate", key=f"imp_check_{name}", disabled=not ready,
                 help="Runs the whole import against a throw-away copy: problems, preview, what will be missing."):
        _validate(key, preset=name, directory=folder, preset_files=files or None, options=options,
                  skip_bad_rows=skip_bad)
    if c2.button("Import", key=f"imp_go_{name}", type="primary", disabled=not ready,
                 help="Replaces every table with this data set."):
        _commit(key, lambda cur: presets.import_preset(cur, name, folder, files=files or None,
                                                       skip_bad_rows=skip_bad, options=options))
    _show_outcome(key)


def _auto_flow() -> None:
    st.markdown("Upload every file of your export at once (CSV, Excel or Parquet). Each file's columns tell which "
                "CRM export and which part of it it is — Salesforce in report labels or API field names, HubSpot "
                "contacts and deals, the public data sets, or our canonical files; anything not recognised goes to "
                "the mapping assistant.")
    ups = st.file_uploader("Files", type=FILE_TYPES, accept_multiple_files=True, key="up_auto")
    if not ups:
        return
    det = presets.detect([(f.name, f.getvalue()) for f in ups])
    if det.recognised:
        st.info("**Recognised:**\n" + "\n".join(f"- {s}" for s in det.sentences()[:len(det.recognised)]))
    if det.left_out:
        st.warning("\n".join(f"- {n}: {why}" for n, why in det.left_out))
        st.button("Open the mapping assistant", key="auto_to_assistant",
                  on_click=lambda: ss.update(imp_source=CANONICAL),
                  help="Upload the files that were not recognised there; it guesses their columns.")
    if det.preset is None:
        return
    key = f"auto:{det.preset}:{'|'.join(sorted(f.name for f in ups))}"
    if det.preset == presets.CANONICAL:
        files = dict(det.files)
        c1, c2 = st.columns([1, 6])
        if c1.button("Validate", key="auto_check"):
            _validate(key, skip_bad_rows=skip_bad, **files)
        if c2.button("Import", key="auto_go", type="primary"):
            _commit(key, lambda cur: presets.import_detected(cur, det, skip_bad_rows=skip_bad))
        _show_outcome(key)
        return
    p = presets.PRESETS[det.preset]
    st.markdown(f"**{p.title}** — {p.description}")
    options = _preset_options(det.preset, p)
    c1, c2 = st.columns([1, 6])
    if c1.button("Validate", key="auto_check",
                 help="Runs the whole import against a throw-away copy: problems, preview, what will be missing."):
        _validate(key, preset=det.preset, preset_files=det.files, options=options, skip_bad_rows=skip_bad)
    if c2.button("Import", key="auto_go", type="primary", help="Replaces every table with this data."):
        _commit(key, lambda cur: presets.import_detected(cur, det, skip_bad_rows=skip_bad, options=options))
    _show_outcome(key)


def _canonical_flow(saved_map: dict | None) -> None:
    if saved_map:
        st.markdown(f"Saved mapping **{saved_map['title']}** for "
                    f"{', '.join(presets.TABLE_LABELS[t].lower() for t in saved_map['tables'] if t in presets.TABLE_LABELS) or 'your files'}."
                    " Upload the files; the choices below start from the saved mapping.")
        m0 = saved_map["mapping"] or {}
    else:
        st.markdown("Upload one to four files. A table you give is replaced; a table you leave out stays as it is. "
                    "Columns are matched by name and by their values; check the guesses, fix any, then validate. "
                    "Templates of the canonical files are in `data/templates/`.")
        m0 = {}
    uploads = {}
    cols = st.columns(4)
    for c, t in zip(cols, TABLE_ORDER):
        f = c.file_uploader(presets.TABLE_LABELS[t], type=FILE_TYPES, key=f"up_canon_{t}",
                            help=f"{t}.csv in the data contract, or your own file for it.")
        if f is not None:
            uploads[t] = f
    if not uploads:
        return
    configured = {f: ui.call(presets.configured_stage_names, f) for f in ("lead", "opportunity")}
    columns, stages, formats = {}, {}, {}
    for t, f in uploads.items():
        fid = getattr(f, "file_id", f.name)
        try:
            df = _read_file(f.name, f.getvalue(), 2000)
        except FunnelError as e:
            _show_error(e)
            continue
        with st.expander(f"{presets.TABLE_LABELS[t]}: {ui.md(f.name)}", expanded=True):
            headers = [str(h) for h in df.columns]
            initial = dict((m0.get("columns") or {}).get(t) or {})
            if not initial:
                initial = presets.guess_columns(df, t, configured.get(STAGE_FUNNEL.get(t, "lead"), []))
            initial = {k: v for k, v in initial.items() if v in headers}
            st.markdown("**Columns** — which column of your file holds each field (required ones first):")
            edited = st.data_editor(
                presets.assistant_frame(t, initial), key=f"map_{t}_{fid}", hide_index=True, width="stretch",
                disabled=["field", "required", "meaning"],
                column_config={"field": st.column_config.TextColumn("Field"),
                               "required": st.column_config.TextColumn("Required"),
                               "meaning": st.column_config.TextColumn("Meaning"),
                               "column": st.column_config.SelectboxColumn("Column in your file", options=[""] + headers)})
            colmap = {r["field"]: r["column"] for r in edited.to_dict("records") if r.get("column")}
            columns[t] = colmap
            if t == "leads":
                st.caption("Every other column of a leads file is kept as a lead attribute (usable in filters, "
                           "breakdowns and scoring rules).")
            with st.popover("Columns of this file"):
                st.dataframe(blank_missing(presets.column_samples(df)), hide_index=True,
                             column_config={"blank_share": st.column_config.ProgressColumn("Blank", format="percent",
                                                                                           min_value=0, max_value=1)})
            time_cols = [colmap[c] for c in ("created_at", "entered_at", "close_date") if colmap.get(c)]
            own = [c for c, kind, _ in TABLES[t] if kind in ("timestamp", "date")] + ["*"]
            saved_formats = m0.get("timestamp_formats") or {}
            saved_fmt = next((saved_formats[c][0] for c in own if saved_formats.get(c)), "")
            guess = saved_fmt or presets.suggest_timestamp_format(
                [v for c in time_cols for v in df[c].head(500)]) or ""
            formats[t] = st.text_input("Date format", value=guess, key=f"fmt_{t}_{fid}",
                                       placeholder="empty = YYYY-MM-DD or ISO 8601",
                                       help="A strptime format for dates written otherwise, e.g. %d/%m/%Y %H:%M "
                                            "(31/12/2025 14:05) or %m/%d/%Y (12/31/2025).")
            funnel = STAGE_FUNNEL.get(t)
            if funnel and colmap.get("stage"):
                full = _read_file(f.name, f.getvalue(), None)
                values = presets.distinct_values(full, colmap["stage"])
                saved_stages = (m0.get("stages") or {}).get(funnel) or {}
                guess_map = presets.guess_stage_map(values["value"], configured[funnel], funnel)
                values["stage"] = [saved_stages.get(v) or guess_map.get(v, "") for v in values["value"]]
                st.markdown(f"**Stages** — which configured {funnel} stage each value of “{ui.md(colmap['stage'])}” means "
                            "(leave empty for values that already match a stage name):")
                sedit = st.data_editor(
                    values, key=f"stages_{t}_{fid}_{colmap['stage']}", hide_index=True, width="stretch",
                    disabled=["value", "rows"],
                    column_config={"value": st.column_config.TextColumn("Value in your file"),
                                   "rows": st.column_config.NumberColumn("Rows", format="localized"),
                                   "stage": st.column_config.SelectboxColumn("Configured stage",
                                                                             options=[""] + configured[funnel])})
                stages.setdefault(funnel, {}).update(
                    {r["value"]: r["stage"] for r in sedit.to_dict("records") if r.get("stage")})
            st.markdown("**Preview after mapping** (first rows):")
            st.dataframe(blank_missing(presets.apply_column_mapping(df, colmap, t)), hide_index=True, width="stretch")
    decimal = st.radio("Amounts are written like", [".", ","], horizontal=True, key="canon_decimal",
                       index=1 if (m0.get("options") or {}).get("decimal") == "," else 0,
                       format_func={".": "1234.50 (decimal point)", ",": "1.234,50 (decimal comma)"}.get)
    mapping = presets.build_mapping(columns, stages, formats, decimal)
    problems = validate_mapping(mapping)
    if problems:
        st.warning(ui.md("Fix the mapping first: " + " ".join(problems)))
    key = f"{CANONICAL}:{saved_map['name'] if saved_map else ''}"
    source = f"mapping:{saved_map['name']}" if saved_map else "files"
    c1, c2, c3 = st.columns([1, 1.3, 5])
    if c1.button("Validate", key="canon_check", disabled=bool(problems)):
        _validate(key, mapping=mapping, skip_bad_rows=skip_bad, **uploads)
    if c2.button("Commit import", key="canon_go", type="primary", disabled=bool(problems)):
        def import_files(cur):
            result = ingest.import_files(cur, **uploads, mapping=mapping, skip_bad_rows=skip_bad, source=source)
            presets.clear_data_notes(cur)   # a preset's notes no longer describe this data
            return result

        _commit(key, import_files)
    with c3.popover("Save as preset", disabled=bool(problems)):
        name = st.text_input("Name", key="save_name", placeholder="e.g. pipedrive-leads",
                             help="Letters, digits and dashes. It is listed next to the shipped presets.")
        if st.button("Save mapping", key="save_go"):
            try:
                access.require(ui.current_actor(), "import")
                path = presets.save_mapping(presets.mappings_dir(ui.db_path()), name, mapping,
                                            files={t: f.name for t, f in uploads.items()})
            except FunnelError as e:
                st.error(ui.md(str(e)))
            else:
                with ui.writer("mapping saved") as w:
                    audit.record(w, ui.current_actor(), "mapping_saved", {"name": name, "path": str(path)},
                                 None, mapping, summary=f"Saved the mapping '{name}' as a preset")
                st.success(f"Saved as {path.name} in {path.parent}. It now appears under “What are you importing?”; "
                           f"on the command line: python -m funnel import --mapping {path} …")
    _show_outcome(key)


with ui.guard("the import"):
    if choice == AUTO:
        _auto_flow()
    elif choice.startswith("preset:"):
        _preset_flow(choice.split(":", 1)[1])
    elif choice.startswith("saved:"):
        _canonical_flow(next(m for m in saved if m["name"] == choice.split(":", 1)[1]))
    else:
        _canonical_flow(None)

# ---- Reset -----------------------------------------------------------------------------------

st.divider()
st.header("Reset to sample data")
st.caption("Replaces every lead, event and opportunity with the generated sample (20,000 leads, seed 7). Stage "
           "settings, saved reviews and scoring rules you edited stay; scoring rules a preset set up for its data "
           "go back to the sample's defaults.")
if not ss.get("reset_confirm"):
    if st.button("Reset to sample data…", key="reset_ask"):
        ss["reset_confirm"] = True
        st.rerun()
else:
    st.warning("This replaces ALL imported data with the sample data and cannot be undone. Continue?")
    c1, c2 = st.columns([2, 5])
    if c1.button("Yes, replace everything", key="reset_yes", type="primary"):
        with ui.guard("the reset"), st.spinner("Generating the sample data…"), ui.writer("reset to sample") as cur:
            from funnel.sample import generate_sample
            generate_sample(cur, leads=20000, seed=7, actor=ui.current_actor())
            presets.clear_data_notes(cur)
            presets.restore_default_scoring(cur)   # only if the rules are a preset's untouched seed
            ss["reset_confirm"] = False
            ss.pop("imp_outcome", None)
            ui.after_write()
            _flash("ok", "The sample data is back: 20,000 generated leads (seed 7).")
            st.rerun()
    if c2.button("Cancel", key="reset_no"):
        ss["reset_confirm"] = False
        st.rerun()
