"""Time in stage: how long leads and deals wait in each stage, which targets are missed, and who
is stuck right now (metrics.md §2)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

import ui
from funnel import labels, presets, store, time_in_stage
from funnel.charts import time_in_stage as charts
from funnel.i18n import N_
from i18n_ui import _, fmt_count, fmt_date, fmt_hours, fmt_int, fmt_num, lang, render

K_FUNNEL, K_MIN_DAYS, K_STUCK_STAGES, K_SLA_EDITOR = "tis_funnel", "tis_min_days", "tis_stuck_stages", "tis_sla_editor"
CLEAR_EDITOR = "_tis_sla_saved"
FUNNEL_LABELS = {"lead": N_("Leads"), "opportunity": N_("Opportunities")}



def _days(text: str) -> float:
    """A 'stuck longer than' from a link: days of 0 or more."""
    days = float(text)
    if not days >= 0:
        raise ValueError(text)
    return days


present = ui.presentation()
lg = lang()
TITLE = _("Time in stage")
CANNOT_SHOW = _("What this data cannot show")
FUNNEL_HELP = _("Lead stages (Lead → MQL → … plus Rejected and Recycled) or opportunity stages.")
facts = ui.data_facts()
if facts["as_of"] is None:
    ui.page_header(TITLE)
    ui.empty_state(_("There is no data yet. Import your leads on the Data page, or reset to the sample data there."))
    st.stop()

scope = ui.scope()
funnel = ui.restore_choice(K_FUNNEL, "lead", valid=tuple(FUNNEL_LABELS))
is_lead = funnel == "lead"

# ---- What this data cannot show (funnel.presets.notes_for_page, issue #8) --------------------
# When the data rules out every figure for this funnel (no leads, no dated stage history, …) the page
# says why and what to do instead of drawing empty charts; the funnel switch stays, same widget.
limits = {"notes": [], "blocked": None}
with ui.guard(_("the notes on this data")):
    limits = presets.notes_for_page(ui.call(presets.limitation_findings), "time_in_stage", funnel, lang=lg)
if limits["blocked"]:
    ui.page_header(TITLE, limits["blocked"]["finding"])
    st.segmented_control(_("Funnel"), list(FUNNEL_LABELS), format_func=lambda f: _(FUNNEL_LABELS[f]),
                         required=True, key=K_FUNNEL, help=FUNNEL_HELP)
    if limits["notes"]:
        st.warning(f"**{CANNOT_SHOW}**\n\n" + "\n".join(f"- {ui.md(n)}" for n in limits["notes"]))
    ui.empty_state(limits["blocked"]["todo"])
    st.stop()

finding, measured = None, None
with ui.guard(_("the time-in-stage finding")):
    # the stage table and the survival curves come from one ranking of the visits
    measured = ui.call(time_in_stage.time_in_stage_and_curves, scope, funnel)
    finding = time_in_stage.time_in_stage_finding(measured["stages"], ui.call(time_in_stage.sla_summary, scope, funnel),
                                                  funnel)
ui.page_header(TITLE, render(finding["message"]) if finding else None)
if funnel == "opportunity":
    st.caption(_("Deals: every opportunity created by the as-of date; the sidebar's filters apply through each "
                 "deal's lead."))

st.segmented_control(_("Funnel"), list(FUNNEL_LABELS), format_func=lambda f: _(FUNNEL_LABELS[f]),
                     required=True, key=K_FUNNEL, help=FUNNEL_HELP)
ui.keep_choice(K_FUNNEL, funnel, "lead")
if limits["notes"]:
    st.warning(f"**{CANNOT_SHOW}**\n\n" + "\n".join(f"- {ui.md(n)}" for n in limits["notes"]))

stage_order: list[str] = []
with ui.guard(_("the stage list")):
    stage_order = [s.stage for s in ui.call(store.stages, funnel) if s.kind in ("open", "rejected", "recycled")]

# ---- How long ---------------------------------------------------------------------------------
st.subheader(_("How long items stay in each stage"))
tis = None
with ui.guard(_("the time in stage")):
    tis = (measured or ui.call(time_in_stage.time_in_stage_and_curves, scope, funnel))["stages"].copy()
    if int(tis["visits"].sum()) == 0:
        ui.empty_state(_("No leads entered a stage in this cohort — widen the date range or clear a filter.") if is_lead
                       else _("No deals entered a stage in this cohort — widen the date range or clear a filter."))
    else:
        ui.chart(charts.durations_chart(tis, presentation=present, lang=lg), key="tis_durations")
        left, right = st.columns([2, 3])
        with left:
            st.caption(_("Why three numbers: the median and 90th percentile use only finished stays, so items still "
                         "waiting (often the slow ones) are left out and the stage looks faster than it is. The "
                         "Kaplan–Meier median also counts every item still in the stage for as long as it has waited "
                         "so far; “over half still there” means more than half have not moved on yet."))
        with right:
            table = tis[["stage", "visits", "completed", "censored", "median_hours", "p90_hours", "km_median_hours"]]
            shown = table.assign(**{c: [fmt_hours(v) for v in table[c]]
                                    for c in ("median_hours", "p90_hours", "km_median_hours")})
            shown["km_median_hours"] = [_("over half still there") if v == "–" and n else v
                                        for v, n in zip(shown["km_median_hours"], table["visits"])]
            ui.dataframe(shown, hide_index=True, width="stretch", column_config={
                "stage": st.column_config.TextColumn(_("Stage")),
                "visits": st.column_config.NumberColumn(_("Visits"), format="localized",
                                                        help=_("Entries into the stage by the as-of date.")),
                "completed": st.column_config.NumberColumn(_("Finished"), format="localized",
                                                           help=_("Visits that ended with a next event by the as-of "
                                                                  "date.")),
                "censored": st.column_config.NumberColumn(_("Still there"), format="localized",
                                                          help=_("Visits with no next event yet: counted up to the "
                                                                 "end of the as-of date.")),
                "median_hours": st.column_config.TextColumn(_("Median"), help=_("Of finished stays.")),
                "p90_hours": st.column_config.TextColumn(_("90th percentile"), help=_("Of finished stays.")),
                "km_median_hours": st.column_config.TextColumn(
                    _("Kaplan–Meier median"), help=_("Counting items still in the stage; none when more than half are.")),
            })
            ui.download_csv(table, f"time_in_stage_{funnel}", key="dl_tis")
            st.caption(_("A visit is one entry into a stage; it ends at the item's next event. The CSV gives hours."))

        with ui.guard(_("the survival curves")):
            curves = (measured or ui.call(time_in_stage.time_in_stage_and_curves, scope, funnel))["curves"].copy()
            ui.chart(charts.survival_chart(curves, stage_order, presentation=present, lang=lg), key="tis_survival")
            st.caption(_("Kaplan–Meier curves: of the items that entered the stage, the share still there after N "
                         "days, counting items still waiting until today. Where a curve crosses the dotted line is "
                         "its Kaplan–Meier median; a curve that stays above never got half its items out."))

# ---- Targets ----------------------------------------------------------------------------------
st.subheader(_("Targets (SLA) and breaches"))
summary = None
with ui.guard(_("the SLA summary")):
    summary = ui.call(time_in_stage.sla_summary, scope, funnel)
left, right = st.columns([2, 3])
with left:
    with ui.guard(_("the SLA targets")):
        stage_rows = [s for s in ui.call(store.stages, funnel) if s.kind in ("open", "rejected", "recycled")]
        targets = pd.DataFrame({"stage": [s.stage for s in stage_rows],
                                "sla_days": [None if s.sla_hours is None else round(s.sla_hours / 24.0, 2)
                                             for s in stage_rows]})
        over_now = dict(zip(summary["stage"], summary["over_now"])) if summary is not None else {}
        targets["over_now"] = [int(over_now.get(s, 0)) for s in targets["stage"]]
        config = {
            "stage": st.column_config.TextColumn(_("Stage")),
            "sla_days": st.column_config.NumberColumn(_("Target (days)"), min_value=0.0, step=0.5, format="%.1f",
                                                      help=_("Longest an item should stay; empty = no target.")),
            "over_now": st.column_config.NumberColumn(_("Over it now"), format="%d",
                                                      help=_("Items in the stage right now for longer than the "
                                                             "target.")),
        }
        if present or not ui.can("edit"):   # viewers see the targets, with no control to change them
            ui.dataframe(targets, hide_index=True, width="stretch", column_config=config)
        else:
            if st.session_state.pop(CLEAR_EDITOR, False):
                st.session_state.pop(K_SLA_EDITOR, None)   # the saved values are now the editor's base data
            edited = ui.data_editor(targets, key=K_SLA_EDITOR, hide_index=True, width="stretch", column_config=config,
                                    disabled=["stage", "over_now"])
            changes = {}
            for s, old, new in zip(targets["stage"], targets["sla_days"], edited["sla_days"]):
                if (pd.isna(old) and pd.isna(new)) or (not pd.isna(old) and not pd.isna(new) and abs(float(old) - float(new)) < 1e-9):
                    continue
                changes[s] = None if pd.isna(new) else float(new) * 24.0
            if st.button(_("Save targets"), key="tis_save_sla", type="primary", disabled=not changes,
                         help=_("Store the targets for every page and every user; the breach figures recompute.")):
                saved = False
                with ui.guard(_("saving the targets")):
                    with ui.writer() as w:
                        time_in_stage.save_sla_targets(w, funnel, changes, actor=ui.current_actor())
                    saved = True
                if saved:
                    ui.after_write()
                    st.session_state[CLEAR_EDITOR] = True
                    st.toast(_("Targets saved: breach figures and the stuck list now use them."))
                    st.rerun()
        st.caption(_("Targets are shared with the Stage settings page.")
                   + ("" if present or not ui.can("edit") else _(" Edit a cell, then save.")))
with right, ui.guard(_("the breach chart")):
    ui.chart(charts.sla_bars(summary, presentation=present, lang=lg), key="tis_sla_bars")
    st.caption(_("A visit breaches its target when it lasted longer than the target, or is still open and has already "
                 "waited longer. Counted over every visit that began by the as-of date."))

with ui.guard(_("the breach trend")):
    breaches = ui.call(time_in_stage.sla_breaches, scope, funnel, "month")
    ui.chart(charts.breach_trend_chart(breaches, stage_order, "month", presentation=present, lang=lg),
             key="tis_breach_trend")
    st.caption(_("Each point: of the visits that began that month, the share over target. Dashed, faded points are "
                 "months whose visits have not all had the full target time yet: visits still open may cross their "
                 "target later, so those rates can only rise."))

# ---- Stuck ------------------------------------------------------------------------------------
st.subheader(_("Stuck right now"))
open_stages = []
with ui.guard(_("the stage list")):
    open_stages = [s.stage for s in ui.call(store.stages, funnel) if s.kind == "open"]
c1, c2, _spare = st.columns([1, 2, 1])
ui.restore_choice(K_MIN_DAYS, None, parse=_days)
min_days = c1.number_input(_("Stuck longer than (days)"), min_value=0.0, value=None, step=1.0, key=K_MIN_DAYS,
                           placeholder=_("Over target"),
                           help=_("Empty: list the items that are over their stage's target."))
ui.restore_choice(K_STUCK_STAGES, [], valid=open_stages, many=True)
chosen = c2.multiselect(_("Stages"), open_stages, key=K_STUCK_STAGES, placeholder=_("All stages"))
ui.keep_choice(K_MIN_DAYS, min_days, None)
ui.keep_choice(K_STUCK_STAGES, chosen, [])
with ui.guard(_("the stuck list")):
    stuck = ui.call(time_in_stage.stuck_items, scope, funnel, min_days=min_days,
                    stages=tuple(chosen) if chosen else None, limit=2000)
    rule = (_("for more than {n} days", n=fmt_num(min_days, 0)) if min_days is not None
            else _("longer than their stage's target"))
    as_of = fmt_date(scope.as_of)
    if stuck.empty:
        ui.empty_state(_("No leads have been in a stage {rule} at the end of {as_of}.", rule=rule, as_of=as_of)
                       if is_lead else
                       _("No deals have been in a stage {rule} at the end of {as_of}.", rule=rule, as_of=as_of))
    else:
        total = int(stuck["total"].iloc[0])
        params = {"n": fmt_int(total), "rule": rule, "as_of": as_of}
        line = (_("**{n} leads** have been in their current stage {rule} at the end of {as_of}", **params) if is_lead
                else _("**{n} deals** have been in their current stage {rule} at the end of {as_of}", **params))
        st.markdown(line + (_(" — the {n} longest are listed.", n=fmt_count(len(stuck))) if total > len(stuck)
                            else _(".")))
        table = stuck[["item_id", "stage", "owner", "entered_at", "days_in_stage", "sla_days"]]
        ui.dataframe(labels.blank_missing(table, _("not assigned")), hide_index=True, width="stretch", column_config={
            "item_id": st.column_config.TextColumn(_("Lead") if is_lead else _("Deal")),
            "stage": st.column_config.TextColumn(_("Stage")),
            "owner": st.column_config.TextColumn(_("Owner"), help=_("SDR for marketing and SDR stages, AE for sales "
                                                                  "stages; the deal owner for opportunities.")),
            "entered_at": st.column_config.DatetimeColumn(_("In the stage since"), format="YYYY-MM-DD HH:mm"),
            "days_in_stage": st.column_config.NumberColumn(_("Days in stage"), format="%.1f"),
            "sla_days": st.column_config.NumberColumn(_("Target (days)"), format="%.1f"),
        })
        ui.download_csv(table, f"stuck_{funnel}s", label=_("Download the stuck list (CSV)"), key="dl_tis_stuck")
    st.caption(_("Items whose latest event by the as-of date put them in an open stage, with the time since that "
                 "event up to the end of the as-of date. The “Over it now” column of the targets table counts them "
                 "per stage (it also counts Rejected and Recycled, which are not funnel stages); pick stages above "
                 "to narrow the list."))
