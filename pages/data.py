"""Data: what is in the database, what it cannot show, and importing CRM exports or our CSV contract."""
from __future__ import annotations

import streamlit as st

import ui
from funnel import access, audit, health, i18n, ingest, limitations, presets
from funnel.errors import FunnelError, ImportValidationError
from funnel.i18n import N_
from funnel.mapping import STAGE_FUNNEL, TABLE_ORDER, TABLES, mapping_problems
from i18n_ui import _, fmt_count, fmt_date, fmt_int, lang, ngettext, render

ss = st.session_state
present = ui.presentation()
lg = lang()
# Table timestamps (moment.js formats): "1 May 2025, 12:53" / "2025年5月1日 12:53" (fmt.date's long dates).
DATETIME = "YYYY年M月D日 HH:mm" if lg == "zh" else "D MMM YYYY, HH:mm"

TOPICS = limitations.TOPICS
#: What the page shows for codes and fixed labels the library returns (the library keeps English).
TABLE_NAMES = {"leads": N_("Leads"), "lead_events": N_("Lead stage history"), "opportunities": N_("Opportunities"),
               "opportunity_events": N_("Opportunity stage history")}
SPANS = {"Leads created": N_("Leads created"), "Lead stage events": N_("Lead stage events"),
         "Opportunities created": N_("Opportunities created"), "Opportunity close dates": N_("Opportunity close dates"),
         "Opportunity stage events": N_("Opportunity stage events")}
FUNNEL_NAMES = {"lead": N_("Lead"), "opportunity": N_("Opportunity")}
KINDS = {"open": N_("Open"), "won": N_("Won"), "lost": N_("Lost"), "rejected": N_("Rejected"), "recycled": N_("Recycled")}
RUN_STATUS = {"committed": N_("committed"), "failed": N_("failed"), "running": N_("running")}
ROLES = {"viewer": N_("viewer"), "editor": N_("editor"), "admin": N_("admin")}


def _tr(labels: dict, code) -> str:
    """A code or fixed library label as the reader reads it (anything unknown: as it is)."""
    return _(labels[code]) if code in labels else ("" if code is None else str(code))


def _preset_title(name: str) -> str:
    """A preset's title (prose.toml, in the catalogs) in the reader's language."""
    p = presets.PRESETS.get(name)
    return name if p is None else _(p.title)


def _source(source: str | None) -> str:
    """Where an import run's data came from (presets.source_label, in the reader's language)."""
    if not source:
        return _("unknown")
    if source == "sample":
        return _("the generated sample data")
    if source == "files":
        return _("files in the canonical format")
    if source.startswith("preset:") and source.split(":", 1)[1] in presets.PRESETS:
        return _("the {title} preset", title=_preset_title(source.split(":", 1)[1]))
    if source.startswith("mapping:"):
        return _("the saved mapping “{name}”", name=source.split(":", 1)[1])
    return source

FILE_TYPES = ["csv", "tsv", "txt", "xlsx", "parquet"]
CANONICAL = "canonical"
AUTO = "auto"
SAMPLE_LEADS, SAMPLE_SEED = 20000, 7     # what "Reset to sample data" generates (as `make run` does)
# What each preset maps by default (the "Custom stage names" box adds to it).
# (The CRM's own stage names are quoted as the export writes them, in every language.)
STAGE_HELP = {
    "salesforce": N_("Standard Salesforce stages are mapped already ({stages}), and so are the standard lead "
                     "statuses ({statuses}). "),
    "hubspot_deals": N_("HubSpot's default pipeline is mapped already ({stages}). "),
}
STAGE_HELP_STAGES = {
    "salesforce": ("Prospecting, Qualification → Qualify; Needs Analysis, Value Proposition, Id. Decision Makers, "
                   "Perception Analysis → Discovery; Proposal/Price Quote → Proposal; Negotiation/Review → Negotiation",
                   "Open - Not Contacted → Lead, Working - Contacted → SAL, Closed - Converted → Opportunity, "
                   "Closed - Not Converted → Disqualified"),
    "hubspot_deals": ("Appointment Scheduled → Qualify; Qualified To Buy, Presentation Scheduled → Discovery; "
                      "Decision Maker Bought-In → Proposal; Contract Sent → Negotiation", ""),
}


@st.cache_data(show_spinner=False, max_entries=16)
def _read_file(name: str, data: bytes, nrows: int | None = None):
    """A file as strings (page-local cache: the same upload is read once)."""
    return ingest.read_table_file((name, data), nrows=nrows)


def _flash(kind: str, text: str) -> None:
    ss["data_flash"] = (kind, text)


def _show_error(e: FunnelError) -> None:
    st.error(ui.md(ui.error_text(e)))
    problems = getattr(e, "problems", None)
    if problems:
        df = presets.problems_frame(problems, lg)
        st.markdown(ngettext("**{n} problem found**", "**{n} problems found**", len(df), n=fmt_count(len(df)))
                    + (_(" (the first 50 below)") if len(df) > 50 else "")
                    + _(" — each names the file, row, column and value:"))
        ui.dataframe(df.head(50), hide_index=True, width="stretch")
        ui.download_csv(df, "import-problems", label=_("Download every problem (CSV)"), key="dl_import_problems")


def _show_warnings(warnings, key: str) -> None:
    """Values an import loads but flags (a date far from the rest, an event before its lead's
    creation, a workbook's other sheets): listed row by row, as the import's message says."""
    if not warnings:
        return
    df = presets.problems_frame(warnings, lg)
    st.warning(ngettext("{n} value loaded but worth a look:", "{n} values loaded but worth a look:", len(df),
                        n=fmt_count(len(df))))
    ui.dataframe(df.head(50), hide_index=True, width="stretch")
    ui.download_csv(df, "import-warnings", label=_("Download the warnings (CSV)"), key=key)


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
    st.success(ui.md(_("Validation passed: an import would load {rows}. Nothing was written yet.",
                       rows=render(ingest.rows_summary(res.rows)))))
    _show_warnings(getattr(res, "warnings", None), "dl_dry_warnings")
    if res.problem_count:
        st.warning(ngettext("{n} bad row would be skipped ({problems} problems) and kept in the rejected rows list.",
                            "{n} bad rows would be skipped ({problems} problems) and kept in the rejected rows list.",
                            res.rejected, n=fmt_count(res.rejected), problems=fmt_count(res.problem_count)))
        df = presets.problems_frame(res.problems, lg)
        ui.dataframe(df.head(50), hide_index=True, width="stretch")
        ui.download_csv(df, "skipped-rows", label=_("Download the rows that would be skipped (CSV)"),
                        key="dl_dry_skipped")
    if dry.notes:
        st.markdown(_("**After this import, these figures will not be available:**"))
        st.markdown("\n".join(f"- {ui.md(limitations.note_text(x, lg))}" for x in dry.notes))
    if dry.preview:
        st.markdown(_("**Preview: the first rows as they would be stored**"))
        tabs = st.tabs([_("{table} ({n} rows)", table=_tr(TABLE_NAMES, t), n=fmt_count(dry.counts.get(t, 0)))
                        for t in dry.preview])
        for tab, (t, df) in zip(tabs, dry.preview.items()):
            with tab:
                ui.dataframe(df, hide_index=True, width="stretch")


# ---- Data health (also in presentation mode) -------------------------------------------------

with ui.guard(_("the data health figures")):
    counts = ui.call(health.table_counts)
    last = ui.call(health.latest_run, lang=lg)
    n = dict(zip(counts["table"], counts["rows"]))
    finding = (_("{leads} leads and {opportunities} opportunities; last loaded from {source}.",
                 leads=fmt_int(n["leads"]), opportunities=fmt_int(n["opportunities"]), source=_source(last["source"]))
               if last else
               _("{leads} leads and {opportunities} opportunities; nothing imported yet.", leads=fmt_int(n["leads"]),
                 opportunities=fmt_int(n["opportunities"])))
    ui.page_header(_("Data"), finding)

    if ss.get("data_flash"):
        kind, text = ss.pop("data_flash")
        (st.success if kind == "ok" else st.warning)(ui.md(text))
        _show_warnings(ss.pop("data_flash_warnings", None), "dl_import_warnings")

    cols = st.columns(4)
    helps = {"leads": _("One row per lead."),
             "lead_events": _("Entries of leads into stages (their lifecycle history)."),
             "opportunities": _("One row per deal."),
             "opportunity_events": _("Stage changes of deals (with amount and close date as of each change).")}
    for c, row in zip(cols, counts.itertuples()):
        c.metric(_tr(TABLE_NAMES, row.table) if row.table in TABLE_NAMES else row.label, fmt_int(row.rows),
                 border=True, help=helps[row.table])
    if last:
        # the run's own message is the import's (or the sample's) record, in the reader's language
        st.caption(ui.md(_("Latest import: {source}, loaded {day} by {who} (import run {run}).",
                           source=_source(last["source"]), day=fmt_date(last["started_at"]), who=last["run_by"],
                           run=last["run_id"]) + " " + str(last["message"] or "")))

with ui.guard(_("the data limitations")):
    lims = ui.call(limitations.limitation_findings)["notes"]   # one look per data version, shared with the pages
    st.subheader(_("What this data cannot show"))
    if lims:
        order = list(TOPICS)
        ranked = sorted(lims, key=lambda x: order.index(x["topic"]) if x["topic"] in order else len(order))
        st.info("\n".join(f"- **{_tr(TOPICS, x['topic'])}** — {ui.md(limitations.note_text(x, lg))}" for x in ranked))
        st.caption(_("Found by looking at the data itself (which stages, dates, outcomes and owners it holds) and "
                     "from the notes of the preset that imported it. Read the other pages' figures with these in "
                     "mind."))
    else:
        st.caption(_("Nothing missing: the data has lead histories, rejections, won and lost deals and an open "
                     "pipeline, so every page can compute its figures."))

left, right = st.columns(2)
with left, ui.guard(_("the date spans")):
    st.subheader(_("Date span"))
    spans = ui.call(health.date_spans)
    spans["what"] = [_tr(SPANS, w) for w in spans["what"]]
    ui.dataframe(spans, hide_index=True, width="stretch",
                 column_config={"what": st.column_config.TextColumn(_("What")),
                                "first": st.column_config.DatetimeColumn(_("First"), format=DATETIME),
                                "last": st.column_config.DatetimeColumn(_("Last"), format=DATETIME),
                                "rows": st.column_config.NumberColumn(_("Values"), format="localized")})
    st.caption(_("Earliest and latest timestamp of each dated column; the as-of date defaults to the latest of all."))

with right, ui.guard(_("the stages seen")):
    st.subheader(_("Stages seen"))
    seen = ui.call(health.stages_seen)
    table = seen.copy()
    table["position"] = table["position"].astype("Int64")     # side states have no place: a dash
    table["funnel"] = [_tr(FUNNEL_NAMES, f) for f in table["funnel"]]                     # "lead" -> "Lead"
    table["kind"] = [_tr(KINDS, k) for k in table["kind"]]
    ui.dataframe(table, hide_index=True, width="stretch", height=min(35 * (len(table) + 1) + 3, 600),
                 column_config={"funnel": st.column_config.TextColumn(_("Funnel")),
                                "stage": st.column_config.TextColumn(_("Stage")),
                                "position": st.column_config.NumberColumn(_("Order"), format="%d"),
                                "kind": st.column_config.TextColumn(_("Kind")),
                                "configured": st.column_config.CheckboxColumn(_("In stage settings")),
                                "events": st.column_config.NumberColumn(_("Events"), format="localized")})
    unknown = seen[~seen["configured"]]
    unused = seen[seen["configured"] & (seen["events"] == 0)]
    if len(unknown):
        st.warning(_("Stages used by the data but not in the stage settings (their events count nowhere): {stages}",
                     stages=_(", ").join(_("{stage} ({funnel})", stage=ui.md(r.stage),
                                           funnel=_tr(FUNNEL_NAMES, r.funnel).lower() if lg == "en"
                                           else _tr(FUNNEL_NAMES, r.funnel))
                                         for r in unknown.itertuples())))
    st.caption(_("Events per stage.") + i18n.SENTENCE_SEPARATORS.get(lg, " ") + (
        _("Configured but never entered by this data: {stages} — a skipped stage still counts as passed in the "
          "funnel.", stages=_(", ").join(ui.md(r.stage) for r in unused.itertuples()))
        if len(unused) else _("Every configured stage is used.")))

with ui.guard(_("the import log")):
    st.subheader(_("Last imports"))
    runs = ui.call(health.import_history, 10, lang=lg)
    if runs.empty:
        ui.empty_state(_("No import has run yet."))
    else:
        view = runs.assign(source=[_source(s) for s in runs["source"]],
                           status=[_tr(RUN_STATUS, x) for x in runs["status"]])[
            ["run_id", "started_at", "run_by", "source", "status", "rows", "message"]]
        ui.dataframe(view, hide_index=True, width="stretch", column_config={
            "run_id": st.column_config.NumberColumn(_("Run"), format="%d"),
            "started_at": st.column_config.DatetimeColumn(_("Started"), format=DATETIME),
            "run_by": st.column_config.TextColumn(_("By")), "source": st.column_config.TextColumn(_("Source")),
            "status": st.column_config.TextColumn(_("Status")), "rows": st.column_config.TextColumn(_("Rows loaded")),
            "message": st.column_config.TextColumn(_("Message"))})
        st.caption(_("Every import is logged, failed ones too (a failed import changes nothing)."))

with ui.guard(_("the rejected rows")):
    n_rej = ui.call(health.rejected_count)
    if last and n_rej:
        st.subheader(_("Rows set aside by the last import"))
        rej = ui.call(health.rejected_rows, None, 5000)
        st.caption(ngettext("{n} problem in run {run}: these rows were skipped (skip bad rows was on) and are kept here "
                            "with the reason, so they can be fixed and imported again.",
                            "{n} problems in run {run}: these rows were skipped (skip bad rows was on) and are kept "
                            "here with the reason, so they can be fixed and imported again.",
                            n_rej, n=fmt_count(n_rej), run=last["run_id"]))
        ui.dataframe(rej.drop(columns="run_id").head(200), hide_index=True, width="stretch",
                     column_config={"file": st.column_config.TextColumn(_("File")),
                                    "table_name": st.column_config.TextColumn(_("Table")),
                                    "row_number": st.column_config.NumberColumn(_("Row")),
                                    "column_name": st.column_config.TextColumn(_("Column")),
                                    "value": st.column_config.TextColumn(_("Value")),
                                    "reason": st.column_config.TextColumn(_("Reason")),
                                    "raw_json": st.column_config.TextColumn(_("Whole row"))})
        ui.download_csv(rej, f"rejected-rows-run-{last['run_id']}", label=_("Download the rejected rows (CSV)"),
                        key="dl_rejected")
    elif last:
        st.caption(_("The last import set no row aside."))

# ---- Audit trail -----------------------------------------------------------------------------

AUDIT_ACTIONS = {"import": N_("Import"), "reset": N_("Reset to sample"), "sample_created": N_("Sample data (first start)"),
                 "stages": N_("Stage settings"), "stage_rename": N_("Stage renamed"),
                 "probabilities": N_("Probabilities"), "probabilities_reset": N_("Probabilities reset"),
                 "sla_targets": N_("SLA targets"), "rules": N_("Scoring rules"), "scenario_saved": N_("Scenario saved"),
                 "scenario_current": N_("Scenario made current"), "review_saved": N_("Review saved"),
                 "mapping_saved": N_("Mapping saved"), "restore": N_("Restore"), "currency": N_("Currency"),
                 "targets": N_("Targets"), "teams": N_("Teams"), "targets_import": N_("Targets imported"),
                 "call": N_("Manager's call")}

st.divider()
st.header(_("Audit trail"))
st.caption(_("Every stored change: who made it, when (UTC), what it was, and the values before and after. "
             "Written by the library in the same transaction as the change itself."))
with ui.guard(_("the audit trail")):
    # Read fresh, not through the cache: some changes (a saved scenario or review) add a row
    # without changing any figure, so the data version does not move.
    known_actions = ui.call_fresh(audit.actions)
    known_actors = ui.call_fresh(audit.actors)
    f1, f2, f3 = st.columns([2, 2, 2])
    chosen_actions = f1.multiselect(_("What"), known_actions, key="audit_actions", placeholder=_("Every change"),
                                    format_func=lambda a: _tr(AUDIT_ACTIONS, a))
    chosen_actor = f2.selectbox(_("Who"), known_actors, index=None, key="audit_actor", placeholder=_("Anyone"))
    period = f3.date_input(_("When (UTC)"), value=(), key="audit_dates", format="YYYY-MM-DD",
                           help=_("A day, or a first and a last day; empty: any time."))
    since = until = None
    if isinstance(period, (list, tuple)) and period:
        since, until = period[0], period[-1]
    trail = ui.call_fresh(audit.entries, actions=tuple(chosen_actions) or None, actor=chosen_actor,
                          since=since, until=until, limit=1000)
    if trail.empty:
        st.caption(_("No change matches these filters."))
    else:
        # the summary in the reader's language (a row older than that: as stored); the values
        # before and after are the trail's record, kept as the library wrote them
        shown = trail.assign(who=trail["actor_email"].fillna(trail["actor_name"]),
                             action=trail["action"].map(lambda a: _tr(AUDIT_ACTIONS, a)),
                             actor_role=trail["actor_role"].map(lambda r: _tr(ROLES, r)),
                             summary=audit.summaries(trail, lg))
        ui.dataframe(shown[["audit_id", "changed_at", "who", "actor_role", "action", "summary", "before", "after"]],
                     hide_index=True, width="stretch", column_config={
                         "audit_id": st.column_config.NumberColumn("#", format="%d"),
                         "changed_at": st.column_config.DatetimeColumn(_("When (UTC)"), format=DATETIME + ":ss"),
                         "who": st.column_config.TextColumn(_("Who")),
                         "actor_role": st.column_config.TextColumn(_("Role")),
                         "action": st.column_config.TextColumn(_("What")),
                         "summary": st.column_config.TextColumn(_("Change")),
                         "before": st.column_config.TextColumn(_("Before")),
                         "after": st.column_config.TextColumn(_("After"))})
        # the file is the record as written (English summaries, like the CLI's)
        ui.download_csv(trail.drop(columns=["summary_msgid", "summary_params"]), "audit-trail",
                        label=_("Download the audit trail (CSV)"), key="dl_audit")

# ---- Undo: restore to before a change (admins) -------------------------------------------------
if ui.can("restore") and not present:
    with ui.guard(_("the restore points")):
        points = ui.call_fresh(audit.restore_points, ui.db_path())
        st.subheader(_("Restore to before a change"))
        if points.empty:
            st.caption(_("No earlier version is kept yet: each change keeps the version before it (the last ten)."))
        else:
            st.caption(_("Each import, reset and configuration change keeps the database as it was before it (the "
                         "last ten versions). Restoring puts that version back as a new one: every figure returns to "
                         "what it was, the audit trail keeps every row, and the restore itself can be undone."))
            labels_by_id = {int(r.audit_id): _("#{id} · {day} · {who} · {summary} ({size} MB)", id=int(r.audit_id),
                                               day=fmt_date(r.changed_at), who=r.who, summary=summary,
                                               size=f"{r.size_bytes / 1e6:,.1f}")
                            for r, summary in zip(points.itertuples(), audit.summaries(points, lg))}
            chosen = st.selectbox(_("Change to undo"), list(labels_by_id), format_func=labels_by_id.get,
                                  key="restore_pick", index=None, placeholder=_("Choose a change"))
            if chosen is not None:
                if st.button(_("Restore to before this change"), key="restore_go", type="primary",
                             help=_("Puts back the data and settings as they were just before this change.")):
                    done = False
                    with ui.guard(_("the restore")), st.spinner(_("Restoring…")):
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
                        _flash("ok", _("Restored: the data is as it was before change #{id}.", id=chosen))
                        st.rerun()

if present:
    st.stop()
if not ui.can("import"):
    role = _tr(ROLES, ui.current_actor().role)
    st.info(_("Imports and resets are for admins; you can change stage settings, probabilities and scoring on their "
              "pages. You are signed in as {role}.", role=role) if ui.can("edit") else
            _("Imports and resets are for admins. You are signed in as {role}.", role=role))
    st.stop()

# ---- Import ----------------------------------------------------------------------------------

st.divider()
st.header(_("Import data"))
MAX_UPLOAD_MB = st.get_option("server.maxUploadSize")
st.caption(_("An import replaces the tables it covers, all or nothing: if anything is wrong you get a list of the "
             "problems and the database stays as it is. Validate first to see what would be loaded. Files: {types}, "
             "up to {mb} MB each (a larger file is refused when you drop it; the limit is {option} in {config}).",
             types="CSV, TSV, TXT, XLSX, Parquet", mb=f"{MAX_UPLOAD_MB:,}", option="`server.maxUploadSize`",
             config="`.streamlit/config.toml`"))

saved = presets.saved_mappings(presets.mappings_dir(ui.db_path()))
choices = [AUTO] + [f"preset:{k}" for k in presets.PRESETS] + [f"saved:{m['name']}" for m in saved] + [CANONICAL]
labels = {AUTO: _("Detect from the files (upload several at once)")}
labels.update({f"preset:{k}": _preset_title(k) for k in presets.PRESETS})
labels.update({f"saved:{m['name']}": _("Saved mapping: {title}", title=m["title"]) for m in saved})
labels[CANONICAL] = _("Canonical files (our CSV contract) — or any other file, with the mapping assistant")
choice = st.selectbox(_("What are you importing?"), choices, format_func=lambda k: labels[k], key="imp_source",
                      help=_("Shipped presets know the shape of common exports; saved mappings are ones you confirmed "
                             "here before; anything else goes through the mapping assistant."))
skip_bad = st.checkbox(_("Skip bad rows"), key="imp_skip",
                       help=_("Load the good rows and keep each bad one aside with its reason (listed above after the "
                              "import). Off: any bad row stops the whole import."))


def _validate(key: str, **dry_run_args) -> None:
    """Run the import against a throw-away copy; its outcome shows under the buttons."""
    with st.spinner(_("Validating…")):
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
        with st.spinner(_("Importing…")), ui.writer("import", commit_on=(ImportValidationError,)) as cur, \
                access.acting(who):
            result = do_import(cur)
    except FunnelError as e:
        ss["imp_outcome"] = {"key": key, "kind": "error", "error": e}
    except Exception as e:  # noqa: BLE001 - what failed, in words, under the buttons; the trace in the log
        ss["imp_outcome"] = {"key": key, "kind": "error", "error": ui.import_failure(e)}
    else:
        ui.after_write()
        ss.pop("imp_outcome", None)
        _flash("ok", render(getattr(result, "message_obj", None) or result.message))
        ss["data_flash_warnings"] = getattr(result, "warnings", None)
        st.rerun()


def _preset_options(name: str, p) -> dict:
    """The preset's import options (date format, decimal mark, stage names, deals without an amount)."""
    options: dict = {}
    if "date_format" in p.options:
        date_labels = {"auto": _("Detect (ISO 8601, or day/month order from the data)"),
                       "day-first": _("Day first: 31/12/2025, 31.12.2025 14:05"),
                       "month-first": _("Month first: 12/31/2025 2:05 PM")}
        fmt = st.selectbox(_("Date format"), ["auto", "day-first", "month-first"], key=f"datefmt_{name}",
                           format_func=date_labels.get,
                           help=_("CRM exports write dates in the user's locale. Detection refuses dates it cannot "
                                  "tell apart (03/04/2025) rather than guess."))
        options["date_format"] = fmt
    if "decimal" in p.options:
        dec = st.radio(_("Amounts are written like"), [".", ","], horizontal=True, key=f"decimal_{name}",
                       format_func={".": "1,234.50", ",": "1.234,50"}.get)
        options["decimal"] = dec
    if "stage_map" in p.options:
        mapped = (_(STAGE_HELP[name], stages=STAGE_HELP_STAGES[name][0], statuses=STAGE_HELP_STAGES[name][1])
                  if name in STAGE_HELP else "")
        lines = st.text_area(_("Custom stage names (optional)"), key=f"stagemap_{name}", height=90,
                             placeholder="Verbal Commit = Negotiation\nOn Hold = Discovery",
                             help=mapped + _("Add your own, one per line: your stage = configured stage (lead "
                                             "statuses too)."))
        options["stage_map"] = presets.parse_stage_lines(lines)
        if "status_map" in p.options:   # lead statuses are named in the same box
            options["status_map"] = options["stage_map"]
    if "missing_amount" in p.options:
        amount_labels = {"zero": _("Count them with 0"), "skip": _("Leave them out")}
        options["missing_amount"] = st.radio(
            _("Deals without an amount"), ["zero", "skip"], horizontal=True, key=f"noamount_{name}",
            format_func=amount_labels.get,
            help=_("A deal with no amount anywhere in the export. Either way the import says how many there were."))
    return options


def _preset_flow(name: str) -> None:
    p = presets.PRESETS[name]
    st.markdown(_(p.description))
    with st.expander(_("What this data cannot show")):
        st.markdown("\n".join(f"- {ui.md(_(t))}" for t in presets.preset_notes(name)))
    default_dir = presets.default_directory(name)
    # The importer reads uploads, or a folder an admin set up (ui.import_folders) — plus the
    # shipped public data set's own folder — never a path typed into a box.
    folders = [str(f) for f in ([default_dir] if default_dir else []) + ui.import_folders()]
    folders = list(dict.fromkeys(folders))
    # The radio's values stay the English codes (tests and links pick them); the reader reads them translated.
    modes = ["Upload them"] + (["In a folder on this server"] if folders else [])
    mode_labels = {"Upload them": _("Upload them"), "In a folder on this server": _("In a folder on this server")}
    mode = st.radio(_("Where are the files?"), modes, index=1 if default_dir and folders else 0, horizontal=True,
                    key=f"pmode_{name}", format_func=mode_labels.get,
                    help=_("Folders on the server are the ones an admin listed in {setting} ({file}) or {env}.",
                           setting="`[funnelcast] import_folders`", file="`.streamlit/secrets.toml`",
                           env="`$FUNNEL_IMPORT_DIRS`"))
    files: dict = {}
    folder = None
    if mode == "Upload them":
        cols = st.columns(len(p.roles))
        for c, role in zip(cols, p.roles):
            f = c.file_uploader(_(role.label) if role.required else _("{file} (optional)", file=_(role.label)),
                                type=FILE_TYPES, key=f"up_{name}_{role.key}", help=_(role.help) if role.help else None)
            if f is not None:
                files[role.key] = f
        ready = all(r.key in files for r in p.roles if r.required)
        if not ready:
            st.caption(_("Upload {files} to continue.", files=_(", ").join(
                _(r.label).lower() for r in p.roles if r.required and r.key not in files)))
    else:
        folder = st.selectbox(_("Folder"), folders, key=f"dir_{name}",
                              help=_("A folder an admin set up for imports; its files are found by their usual names."))
        found = presets.find_preset_files(name, folder) if folder else {}
        for role in p.roles:
            hit = found.get(role.key)
            st.caption(_("{file}: {found}", file=_(role.label), found=ui.md(hit.name) if hit else
                         (_("not found") if role.required else _("not found (optional)"))))
        ready = bool(folder) and all(r.key in found for r in p.roles if r.required)
    options = _preset_options(name, p)
    key = f"preset:{name}"
    c1, c2 = st.columns([1, 6])
    if c1.button(_("Validate"), key=f"imp_check_{name}", disabled=not ready,
                 help=_("Runs the whole import against a throw-away copy: problems, preview, what will be missing.")):
        _validate(key, preset=name, directory=folder, preset_files=files or None, options=options,
                  skip_bad_rows=skip_bad)
    if c2.button(_("Import"), key=f"imp_go_{name}", type="primary", disabled=not ready,
                 help=_("Replaces every table with this data set.")):
        _commit(key, lambda cur: presets.import_preset(cur, name, folder, files=files or None,
                                                       skip_bad_rows=skip_bad, options=options))
    _show_outcome(key)


def _auto_flow() -> None:
    st.markdown(_("Upload every file of your export at once ({types}). Each file's columns tell which CRM export and "
                  "which part of it it is — {salesforce} in report labels or API field names, {hubspot} contacts and "
                  "deals, the public data sets, or our canonical files; anything not recognised goes to the mapping "
                  "assistant.", types="CSV, Excel, Parquet", salesforce="Salesforce", hubspot="HubSpot"))
    ups = st.file_uploader(_("Files"), type=FILE_TYPES, accept_multiple_files=True, key="up_auto")
    if not ups:
        return
    det = presets.detect([(f.name, f.getvalue()) for f in ups])
    if det.recognised:
        st.info(_("**Recognised:**") + "\n" + "\n".join(f"- {ui.md(render(m))}"
                                                        for m in det.messages()[:len(det.recognised)]))
    if det.left_out:
        st.warning("\n".join(f"- {ui.md(n)}: {ui.md(render(why))}" for n, why in det.left_out_reasons))
        st.button(_("Open the mapping assistant"), key="auto_to_assistant",
                  on_click=lambda: ss.update(imp_source=CANONICAL),
                  help=_("Upload the files that were not recognised there; it guesses their columns."))
    if det.preset is None:
        return
    key = f"auto:{det.preset}:{'|'.join(sorted(f.name for f in ups))}"
    if det.preset == presets.CANONICAL:
        files = dict(det.files)
        c1, c2 = st.columns([1, 6])
        if c1.button(_("Validate"), key="auto_check"):
            _validate(key, skip_bad_rows=skip_bad, **files)
        if c2.button(_("Import"), key="auto_go", type="primary"):
            _commit(key, lambda cur: presets.import_detected(cur, det, skip_bad_rows=skip_bad))
        _show_outcome(key)
        return
    p = presets.PRESETS[det.preset]
    st.markdown(f"**{_preset_title(det.preset)}** — {_(p.description)}")
    options = _preset_options(det.preset, p)
    c1, c2 = st.columns([1, 6])
    if c1.button(_("Validate"), key="auto_check",
                 help=_("Runs the whole import against a throw-away copy: problems, preview, what will be missing.")):
        _validate(key, preset=det.preset, preset_files=det.files, options=options, skip_bad_rows=skip_bad)
    if c2.button(_("Import"), key="auto_go", type="primary", help=_("Replaces every table with this data.")):
        _commit(key, lambda cur: presets.import_detected(cur, det, skip_bad_rows=skip_bad, options=options))
    _show_outcome(key)


def _canonical_flow(saved_map: dict | None) -> None:
    if saved_map:
        tables = _(", ").join(_tr(TABLE_NAMES, t).lower() if lg == "en" else _tr(TABLE_NAMES, t)
                              for t in saved_map["tables"] if t in TABLE_NAMES)
        st.markdown(_("Saved mapping **{title}** for {tables}. Upload the files; the choices below start from the "
                      "saved mapping.", title=ui.md(saved_map["title"]), tables=tables or _("your files")))
        m0 = saved_map["mapping"] or {}
    else:
        st.markdown(_("Upload one to four files. A table you give is replaced; a table you leave out stays as it is. "
                      "Columns are matched by name and by their values; check the guesses, fix any, then validate. "
                      "Templates of the canonical files are in {folder}.", folder="`data/templates/`"))
        m0 = {}
    uploads = {}
    cols = st.columns(4)
    for c, t in zip(cols, TABLE_ORDER):
        f = c.file_uploader(_tr(TABLE_NAMES, t), type=FILE_TYPES, key=f"up_canon_{t}",
                            help=_("{file} in the data contract, or your own file for it.", file=f"`{t}.csv`"))
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
        with st.expander(_("{table}: {file}", table=_tr(TABLE_NAMES, t), file=ui.md(f.name)), expanded=True):
            headers = [str(h) for h in df.columns]
            initial = dict((m0.get("columns") or {}).get(t) or {})
            if not initial:
                initial = presets.guess_columns(df, t, configured.get(STAGE_FUNNEL.get(t, "lead"), []))
            initial = {k: v for k, v in initial.items() if v in headers}
            st.markdown(_("**Columns** — which column of your file holds each field (required ones first):"))
            edited = ui.data_editor(
                presets.assistant_frame(t, initial), key=f"map_{t}_{fid}", hide_index=True, width="stretch",
                disabled=["field", "required", "meaning"],
                column_config={"field": st.column_config.TextColumn(_("Field")),
                               "required": st.column_config.TextColumn(_("Required")),
                               "meaning": st.column_config.TextColumn(_("Meaning")),
                               "column": st.column_config.SelectboxColumn(_("Column in your file"),
                                                                          options=[""] + headers)})
            colmap = {r["field"]: r["column"] for r in edited.to_dict("records") if r.get("column")}
            columns[t] = colmap
            if t == "leads":
                st.caption(_("Every other column of a leads file is kept as a lead attribute (usable in filters, "
                             "breakdowns and scoring rules)."))
            with st.popover(_("Columns of this file")):
                ui.dataframe(presets.column_samples(df), hide_index=True,
                             column_config={"blank_share": st.column_config.ProgressColumn(
                                 _("Blank"), format="percent", min_value=0, max_value=1)})
            time_cols = [colmap[c] for c in ("created_at", "entered_at", "close_date") if colmap.get(c)]
            own = [c for c, kind, _ in TABLES[t] if kind in ("timestamp", "date")] + ["*"]
            saved_formats = m0.get("timestamp_formats") or {}
            saved_fmt = next((saved_formats[c][0] for c in own if saved_formats.get(c)), "")
            guess = saved_fmt or presets.suggest_timestamp_format(
                [v for c in time_cols for v in df[c].head(500)]) or ""
            formats[t] = st.text_input(_("Date format"), value=guess, key=f"fmt_{t}_{fid}",
                                       placeholder=_("empty = YYYY-MM-DD or ISO 8601"),
                                       help=_("A strptime format for dates written otherwise, e.g. {day_first} "
                                              "(31/12/2025 14:05) or {month_first} (12/31/2025).",
                                              day_first="%d/%m/%Y %H:%M", month_first="%m/%d/%Y"))
            funnel = STAGE_FUNNEL.get(t)
            if funnel and colmap.get("stage"):
                full = _read_file(f.name, f.getvalue(), None)
                values = presets.distinct_values(full, colmap["stage"])
                saved_stages = (m0.get("stages") or {}).get(funnel) or {}
                guess_map = presets.guess_stage_map(values["value"], configured[funnel], funnel)
                values["stage"] = [saved_stages.get(v) or guess_map.get(v, "") for v in values["value"]]
                which = (_("**Stages** — which configured lead stage each value of “{column}” means (leave empty for "
                           "values that already match a stage name):", column=ui.md(colmap["stage"]))
                         if funnel == "lead" else
                         _("**Stages** — which configured opportunity stage each value of “{column}” means (leave "
                           "empty for values that already match a stage name):", column=ui.md(colmap["stage"])))
                st.markdown(which)
                sedit = ui.data_editor(
                    values, key=f"stages_{t}_{fid}_{colmap['stage']}", hide_index=True, width="stretch",
                    disabled=["value", "rows"],
                    column_config={"value": st.column_config.TextColumn(_("Value in your file")),
                                   "rows": st.column_config.NumberColumn(_("Rows"), format="localized"),
                                   "stage": st.column_config.SelectboxColumn(_("Configured stage"),
                                                                             options=[""] + configured[funnel])})
                stages.setdefault(funnel, {}).update(
                    {r["value"]: r["stage"] for r in sedit.to_dict("records") if r.get("stage")})
            st.markdown(_("**Preview after mapping** (first rows):"))
            ui.dataframe(presets.apply_column_mapping(df, colmap, t), hide_index=True, width="stretch")
    decimal_labels = {".": _("1234.50 (decimal point)"), ",": _("1.234,50 (decimal comma)")}
    decimal = st.radio(_("Amounts are written like"), [".", ","], horizontal=True, key="canon_decimal",
                       index=1 if (m0.get("options") or {}).get("decimal") == "," else 0,
                       format_func=decimal_labels.get)
    mapping = presets.build_mapping(columns, stages, formats, decimal)
    problems = mapping_problems(mapping)
    if problems:
        st.warning(ui.md(_("Fix the mapping first: {problems}", problems=render(problems))))
    key = f"{CANONICAL}:{saved_map['name'] if saved_map else ''}"
    source = f"mapping:{saved_map['name']}" if saved_map else "files"
    c1, c2, c3 = st.columns([1, 1.3, 5])
    if c1.button(_("Validate"), key="canon_check", disabled=bool(problems)):
        _validate(key, mapping=mapping, skip_bad_rows=skip_bad, **uploads)
    if c2.button(_("Commit import"), key="canon_go", type="primary", disabled=bool(problems)):
        def import_files(cur):
            result = ingest.import_files(cur, **uploads, mapping=mapping, skip_bad_rows=skip_bad, source=source)
            presets.clear_data_notes(cur)   # a preset's notes no longer describe this data
            return result

        _commit(key, import_files)
    with c3.popover(_("Save as preset"), disabled=bool(problems)):
        name = st.text_input(_("Name"), key="save_name", placeholder=_("e.g. pipedrive-leads"),
                             help=_("Letters, digits and dashes. It is listed next to the shipped presets."))
        if st.button(_("Save mapping"), key="save_go"):
            try:
                access.require(ui.current_actor(), "import")
                path = presets.save_mapping(presets.mappings_dir(ui.db_path()), name, mapping,
                                            files={t: f.name for t, f in uploads.items()})
            except FunnelError as e:
                st.error(ui.md(ui.error_text(e)))
            else:
                with ui.writer("mapping saved") as w:
                    audit.record(w, ui.current_actor(), "mapping_saved", {"name": name, "path": str(path)},
                                 None, mapping, summary=i18n.msg("Saved the mapping '{name}' as a preset", name=name))
                st.success(ui.md(_("Saved as {file} in {folder}. It now appears under “{question}”; on the command "
                                   "line: {command}", file=path.name, folder=path.parent,
                                   question=_("What are you importing?"),
                                   command=f"python -m funnel import --mapping {path} …")))
    _show_outcome(key)


with ui.guard(_("the import")):
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
st.header(_("Reset to sample data"))
st.caption(_("Replaces every lead, event and opportunity with the generated sample ({n} leads, seed {seed}). Stage "
             "settings, saved reviews and scoring rules you edited stay; scoring rules a preset set up for its data "
             "go back to the sample's defaults.", n=fmt_count(SAMPLE_LEADS), seed=SAMPLE_SEED))
if not ss.get("reset_confirm"):
    if st.button(_("Reset to sample data…"), key="reset_ask"):
        ss["reset_confirm"] = True
        st.rerun()
else:
    st.warning(_("This replaces ALL imported data with the sample data and cannot be undone. Continue?"))
    c1, c2 = st.columns([2, 5])
    if c1.button(_("Yes, replace everything"), key="reset_yes", type="primary"):
        with ui.guard(_("the reset")), st.spinner(_("Generating the sample data…")), ui.writer("reset to sample") as cur:
            from funnel.sample import generate_sample
            generate_sample(cur, leads=SAMPLE_LEADS, seed=SAMPLE_SEED, actor=ui.current_actor())
            presets.clear_data_notes(cur)
            presets.restore_default_scoring(cur)   # only if the rules are a preset's untouched seed
            ss["reset_confirm"] = False
            ss.pop("imp_outcome", None)
            ui.after_write()
            _flash("ok", _("The sample data is back: {n} generated leads (seed {seed}).", n=fmt_count(SAMPLE_LEADS),
                             seed=SAMPLE_SEED))
            st.rerun()
    if c2.button(_("Cancel"), key="reset_no"):
        ss["reset_confirm"] = False
        st.rerun()
