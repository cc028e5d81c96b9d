"""Time in stage: how long leads and deals wait in each stage, which targets are missed, and who
is stuck right now (metrics.md §2)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

import ui
from funnel import labels, presets, store, time_in_stage
from funnel.charts import time_in_stage as charts

K_FUNNEL, K_MIN_DAYS, K_STUCK_STAGES, K_SLA_EDITOR = "tis_funnel", "tis_min_days", "tis_stuck_stages", "tis_sla_editor"
CLEAR_EDITOR = "_tis_sla_saved"
FUNNEL_LABELS = {"lead": "Leads", "opportunity": "Opportunities"}

present = ui.presentation()
facts = ui.data_facts()
if facts["as_of"] is None:
    ui.page_header("Time in stage")
    ui.empty_state("There is no data yet. Import your leads on the Data page, or reset to the sample data there.")
    st.stop()

scope = ui.scope()
funnel = st.session_state.get(K_FUNNEL) or "lead"
noun = "leads" if funnel == "lead" else "deals"

# ---- What this data cannot show (funnel.presets.notes_for_page, issue #8) --------------------
# When the data rules out every figure for this funnel (no leads, no dated stage history, …) the page
# says why and what to do instead of drawing empty charts; the funnel switch stays, same widget.
limits = {"notes": [], "blocked": None}
with ui.guard("the notes on this data"):
    limits = presets.notes_for_page(ui.call(presets.limitation_findings), "time_in_stage", funnel)
if limits["blocked"]:
    ui.page_header("Time in stage", limits["blocked"]["finding"])
    st.segmented_control("Funnel", list(FUNNEL_LABELS), format_func=FUNNEL_LABELS.get, default="lead", required=True,
                         key=K_FUNNEL, help="Lead stages (Lead → MQL → … plus Rejected and Recycled) or opportunity stages.")
    if limits["notes"]:
        st.warning("**What this data cannot show**\n\n" + "\n".join(f"- {ui.md(n)}" for n in limits["notes"]))
    ui.empty_state(limits["blocked"]["todo"])
    st.stop()

finding, measured = None, None
with ui.guard("the time-in-stage finding"):
    # the stage table and the survival curves come from one ranking of the visits
    measured = ui.call(time_in_stage.time_in_stage_and_curves, scope, funnel)
    finding = time_in_stage.time_in_stage_finding(measured["stages"], ui.call(time_in_stage.sla_summary, scope, funnel),
                                                  funnel)
ui.page_header("Time in stage", finding["sentence"] if finding else None)
if funnel == "opportunity":
    st.caption("Deals: every opportunity created by the as-of date; the sidebar's filters apply through each "
               "deal's lead.")

st.segmented_control("Funnel", list(FUNNEL_LABELS), format_func=FUNNEL_LABELS.get, default="lead", required=True,
                     key=K_FUNNEL, help="Lead stages (Lead → MQL → … plus Rejected and Recycled) or opportunity stages.")
if limits["notes"]:
    st.warning("**What this data cannot show**\n\n" + "\n".join(f"- {ui.md(n)}" for n in limits["notes"]))

stage_order: list[str] = []
with ui.guard("the stage list"):
    stage_order = [s.stage for s in ui.call(store.stages, funnel) if s.kind in ("open", "rejected", "recycled")]

# ---- How long ---------------------------------------------------------------------------------
st.subheader("How long items stay in each stage")
tis = None
with ui.guard("the time in stage"):
    tis = (measured or ui.call(time_in_stage.time_in_stage_and_curves, scope, funnel))["stages"].copy()
    if int(tis["visits"].sum()) == 0:
        ui.empty_state(f"No {noun} entered a stage in this cohort — widen the date range or clear a filter.")
    else:
        ui.chart(charts.durations_chart(tis, presentation=present), key="tis_durations")
        left, right = st.columns([2, 3])
        with left:
            st.caption("Why three numbers: the median and 90th percentile use only finished stays, so items still "
                       "waiting (often the slow ones) are left out and the stage looks faster than it is. The "
                       "Kaplan–Meier median also counts every item still in the stage for as long as it has waited "
                       "so far; “over half still there” means more than half have not moved on yet.")
        with right:
            table = tis[["stage", "visits", "completed", "censored", "median_hours", "p90_hours", "km_median_hours"]]
            shown = table.assign(**{c: [ui.fmt_hours(v) for v in table[c]]
                                    for c in ("median_hours", "p90_hours", "km_median_hours")})
            shown["km_median_hours"] = ["over half still there" if v == "–" and n else v
                                        for v, n in zip(shown["km_median_hours"], table["visits"])]
            st.dataframe(shown, hide_index=True, width="stretch", column_config={
                "stage": st.column_config.TextColumn("Stage"),
                "visits": st.column_config.NumberColumn("Visits", format="localized",
                                                        help="Entries into the stage by the as-of date."),
                "completed": st.column_config.NumberColumn("Finished", format="localized",
                                                           help="Visits that ended with a next event by the as-of date."),
                "censored": st.column_config.NumberColumn("Still there", format="localized",
                                                          help="Visits with no next event yet: counted up to the end "
                                                               "of the as-of date."),
                "median_hours": st.column_config.TextColumn("Median", help="Of finished stays."),
                "p90_hours": st.column_config.TextColumn("90th percentile", help="Of finished stays."),
                "km_median_hours": st.column_config.TextColumn(
                    "Kaplan–Meier median", help="Counting items still in the stage; none when more than half are."),
            })
            ui.download_csv(table, f"time_in_stage_{funnel}", key="dl_tis")
            st.caption("A visit is one entry into a stage; it ends at the item's next event. The CSV gives hours.")

        with ui.guard("the survival curves"):
            curves = (measured or ui.call(time_in_stage.time_in_stage_and_curves, scope, funnel))["curves"].copy()
            ui.chart(charts.survival_chart(curves, stage_order, presentation=present), key="tis_survival")
            st.caption("Kaplan–Meier curves: of the items that entered the stage, the share still there after N days, "
                       "counting items still waiting until today. Where a curve crosses the dotted line is its "
                       "Kaplan–Meier median; a curve that stays above never got half its items out.")

# ---- Targets ----------------------------------------------------------------------------------
st.subheader("Targets (SLA) and breaches")
summary = None
with ui.guard("the SLA summary"):
    summary = ui.call(time_in_stage.sla_summary, scope, funnel)
left, right = st.columns([2, 3])
with left:
    with ui.guard("the SLA targets"):
        stage_rows = [s for s in ui.call(store.stages, funnel) if s.kind in ("open", "rejected", "recycled")]
        targets = pd.DataFrame({"stage": [s.stage for s in stage_rows],
                                "sla_days": [None if s.sla_hours is None else round(s.sla_hours / 24.0, 2)
                                             for s in stage_rows]})
        over_now = dict(zip(summary["stage"], summary["over_now"])) if summary is not None else {}
        targets["over_now"] = [int(over_now.get(s, 0)) for s in targets["stage"]]
        config = {
            "stage": st.column_config.TextColumn("Stage"),
            "sla_days": st.column_config.NumberColumn("Target (days)", min_value=0.0, step=0.5, format="%.1f",
                                                      help="Longest an item should stay; empty = no target."),
            "over_now": st.column_config.NumberColumn("Over it now", format="%d",
                                                      help="Items in the stage right now for longer than the target."),
        }
        if present or not ui.can("edit"):   # viewers see the targets, with no control to change them
            st.dataframe(targets, hide_index=True, width="stretch", column_config=config)
        else:
            if st.session_state.pop(CLEAR_EDITOR, False):
                st.session_state.pop(K_SLA_EDITOR, None)   # the saved values are now the editor's base data
            edited = st.data_editor(targets, key=K_SLA_EDITOR, hide_index=True, width="stretch", column_config=config,
                                    disabled=["stage", "over_now"])
            changes = {}
            for s, old, new in zip(targets["stage"], targets["sla_days"], edited["sla_days"]):
                if (pd.isna(old) and pd.isna(new)) or (not pd.isna(old) and not pd.isna(new) and abs(float(old) - float(new)) < 1e-9):
                    continue
                changes[s] = None if pd.isna(new) else float(new) * 24.0
            if st.button("Save targets", key="tis_save_sla", type="primary", disabled=not changes,
                         help="Store the targets for every page and every user; the breach figures recompute."):
                saved = False
                with ui.guard("saving the targets"):
                    with ui.writer() as w:
                        time_in_stage.save_sla_targets(w, funnel, changes, actor=ui.current_actor())
                    saved = True
                if saved:
                    ui.after_write()
                    st.session_state[CLEAR_EDITOR] = True
                    st.toast("Targets saved: breach figures and the stuck list now use them.")
                    st.rerun()
        st.caption("Targets are shared with the Stage settings page."
                   + ("" if present or not ui.can("edit") else " Edit a cell, then save."))
with right, ui.guard("the breach chart"):
    ui.chart(charts.sla_bars(summary, presentation=present), key="tis_sla_bars")
    st.caption("A visit breaches its target when it lasted longer than the target, or is still open and has already "
               "waited longer. Counted over every visit that began by the as-of date.")

with ui.guard("the breach trend"):
    breaches = ui.call(time_in_stage.sla_breaches, scope, funnel, "month")
    ui.chart(charts.breach_trend_chart(breaches, stage_order, "month", presentation=present), key="tis_breach_trend")
    st.caption("Each point: of the visits that began that month, the share over target. Dashed, faded points are "
               "months whose visits have not all had the full target time yet: visits still open may cross their "
               "target later, so those rates can only rise.")

# ---- Stuck ------------------------------------------------------------------------------------
st.subheader("Stuck right now")
open_stages = []
with ui.guard("the stage list"):
    open_stages = [s.stage for s in ui.call(store.stages, funnel) if s.kind == "open"]
c1, c2, _ = st.columns([1, 2, 1])
min_days = c1.number_input("Stuck longer than (days)", min_value=0.0, value=None, step=1.0, key=K_MIN_DAYS,
                           placeholder="Over target",
                           help="Empty: list the items that are over their stage's target.")
if any(s not in open_stages for s in st.session_state.get(K_STUCK_STAGES) or []):
    st.session_state.pop(K_STUCK_STAGES, None)
chosen = c2.multiselect("Stages", open_stages, key=K_STUCK_STAGES, placeholder="All stages")
with ui.guard("the stuck list"):
    stuck = ui.call(time_in_stage.stuck_items, scope, funnel, min_days=min_days,
                    stages=tuple(chosen) if chosen else None, limit=2000)
    rule = f"for more than {ui.fmt_num(min_days, 0)} days" if min_days is not None else "longer than their stage's target"
    if stuck.empty:
        ui.empty_state(f"No {noun} have been in a stage {rule} at the end of {ui.fmt_date(scope.as_of)}.")
    else:
        total = int(stuck["total"].iloc[0])
        st.markdown(f"**{ui.fmt_int(total)} {noun}** have been in their current stage {rule} at the end of "
                    f"{ui.fmt_date(scope.as_of)}" + (f" — the {len(stuck):,} longest are listed." if total > len(stuck) else "."))
        table = stuck[["item_id", "stage", "owner", "entered_at", "days_in_stage", "sla_days"]]
        st.dataframe(labels.blank_missing(table, "not assigned"), hide_index=True, width="stretch", column_config={
            "item_id": st.column_config.TextColumn("Lead" if funnel == "lead" else "Deal"),
            "stage": st.column_config.TextColumn("Stage"),
            "owner": st.column_config.TextColumn("Owner", help="SDR for marketing and SDR stages, AE for sales stages; "
                                                             "the deal owner for opportunities."),
            "entered_at": st.column_config.DatetimeColumn("In the stage since", format="YYYY-MM-DD HH:mm"),
            "days_in_stage": st.column_config.NumberColumn("Days in stage", format="%.1f"),
            "sla_days": st.column_config.NumberColumn("Target (days)", format="%.1f"),
        })
        ui.download_csv(table, f"stuck_{funnel}s", label="Download the stuck list (CSV)", key="dl_tis_stuck")
    st.caption("Items whose latest event by the as-of date put them in an open stage, with the time since that event "
               "up to the end of the as-of date. The “Over it now” column of the targets table counts them per "
               "stage (it also counts Rejected and Recycled, which are not funnel stages); pick stages above to "
               "narrow the list.")
