"""Rejections & recycling: how often sales turns hand-offs down, whose leads and why, how fast they
come back, whether recycled leads ever convert, and which leads bounce back and forth (metrics.md §3)."""
from __future__ import annotations

import streamlit as st

import ui
from funnel import presets, rejections, store
from funnel.charts import rejections as charts
from funnel.i18n import N_
from funnel.labels import readable_columns
from i18n_ui import _, fmt_date, fmt_days, fmt_int, fmt_pct, glossed, lang, render

K_DELAY_SDR, K_OTHER_BY, K_PP_MIN = "rej_delay_sdr", "rej_other_by", "rej_pp_min"
ALL_SDRS = N_("All SDRs")   # the option's value; shown through the catalog
OTHER_BREAKDOWNS = {"actor": N_("Who rejected"), "channel": N_("Channel"), "segment": N_("Segment"),
                    "region": N_("Region")}

present = ui.presentation()
lg = lang()
TITLE = _("Rejections & recycling")
facts = ui.data_facts()
if facts["as_of"] is None:
    ui.page_header(TITLE)
    ui.empty_state(_("There is no data yet. Import your leads on the Data page, or reset to the sample data there."))
    st.stop()

scope = ui.scope()
verdict = None
with ui.guard(_("the verdict")):
    verdict = ui.call(rejections.rejection_verdict, scope)
ui.page_header(TITLE, render(verdict["messages"]) if verdict else None)
if verdict is None:
    st.stop()
handoff = verdict["handoff_stage"]
handoff_md = ui.md(handoff)   # a stage name from the data, shown in Markdown text below


def breakdown(dim: str):
    """By AE and by SDR the verdict has already computed them; anything else is one cached call."""
    got = verdict.get("breakdowns", {}).get(dim)
    return got.copy() if got is not None else ui.call(rejections.rejection_breakdown, scope, dim)


if verdict["state"] in ("no_rejection_stage", "no_data"):
    notes = []
    with ui.guard(_("the notes on this data")):
        notes = ui.call(presets.data_limitations, "leads", lang=lg) + ui.call(presets.data_limitations, "rejections", lang=lg)
    if notes:
        st.warning(_("What this data lacks:") + "\n\n" + "\n".join(f"- {ui.md(n)}" for n in dict.fromkeys(notes)))
    st.info(_("This page follows each lead through the hand-off from marketing to sales: every entry into "
              "{handoff} offers the lead to sales, sales may reject it, and marketing may recycle it and hand it "
              "off again. That needs the lead's status history with its Rejected entries. "
              "What to do: re-import the lead events with your CRM's rejected status mapped to the Rejected stage "
              "(Data page), or give a stage the kind 'rejected' on the Stage settings page.", handoff=handoff_md))
    st.stop()
if verdict["state"] == "none_in_cohort":
    ui.empty_state(_("Nothing to show for these leads — widen the date range or clear a filter in the sidebar."))
    st.stop()

st.caption(_("**Hand-off**: each entry of a lead into {handoff_glossed}. **Rejection**: an entry into Rejected. "
             "**Resubmission**: a rejected lead entering {handoff} again later; its delay is the time in between. "
             "**Loop**: every {handoff} entry after a lead's first.", handoff=handoff_md, handoff_glossed=ui.md(glossed(handoff))))

columns = set()
with ui.guard(_("the list of lead attributes")):
    columns = set(ui.call(store.lead_attribute_columns))

# ---- KPI tiles --------------------------------------------------------------------------------
summary = None
with ui.guard(_("the rejection summary")):
    summary = verdict.get("summary") or ui.call(rejections.rejection_summary, scope)
if summary:
    # seven tiles fit one row on a desk screen; on the projector, with big type, two rows keep labels whole
    tiles = st.columns(7) if not present else [*st.columns(4), *st.columns(4)[:3]]
    tiles[0].metric(_("Hand-offs"), fmt_int(summary["handoffs"]),
                    help=_("Entries into {handoff} by the as-of date, for the leads in this cohort.", handoff=handoff_md))
    tiles[1].metric(_("Rejected"), fmt_int(summary["rejected"]), help=_("Entries into Rejected by the as-of date."))
    tiles[2].metric(_("Rejection rate"), fmt_pct(summary["rejection_rate"]), help=_("Rejected ÷ hand-offs."))
    tiles[3].metric(_("Resubmissions"), fmt_int(summary["resubmissions"]),
                    help=_("Rejections followed later by a new {handoff} entry of the same lead.", handoff=handoff_md))
    tiles[4].metric(_("Back within 7 days"), fmt_pct(summary["resubmitted_within_7d_share"]),
                    help=_("Resubmissions that came back at most 7 days after the rejection: {n} of {total}.",
                           n=fmt_int(summary["resubmitted_within_7d"]), total=fmt_int(summary["resubmissions"])))
    tiles[5].metric(_("Median resubmit delay"), fmt_days(summary["median_resubmit_days"]),
                    help=_("Half of the resubmissions came back sooner than this, half later."))
    tiles[6].metric(_("Leads with loops"), fmt_int(summary["leads_with_loops"]),
                    help=_("Leads handed off more than once ({handoff} entered two or more times).", handoff=handoff_md))
    # One question, one answer per definition: these tiles follow the cohort's leads; the Overview's
    # weekly tile counts what happened in one week. Say which this is (issue #18).
    st.caption(_("These figures follow the leads created {start} – {end} (the cohort in the sidebar) through every "
                 "hand-off up to {as_of}. The Overview's weekly rejection rate counts instead the hand-offs and "
                 "rejections that happened in one week, whatever the lead's age.",
                 start=fmt_date(scope.date_from), end=fmt_date(min(scope.date_to, scope.as_of)),
                 as_of=fmt_date(scope.as_of)))

# ---- Whose leads get rejected -----------------------------------------------------------------
st.subheader(_("Whose leads get rejected"))
team_rate = summary["rejection_rate"] if summary else None
left, right = st.columns(2)
for col, dim, role in ((left, "ae", "AE"), (right, "sdr", "SDR")):
    with col:
        if dim not in columns:
            ui.empty_state(_("This data has no {role} column, so rejections cannot be split by {role}.", role=role))
            continue
        with ui.guard(_("the rejection rate by {role}", role=role)):
            df = breakdown(dim)
            ui.chart(charts.rate_by_owner(df, role=role, team_rate=team_rate, presentation=present, lang=lg),
                     key=f"rej_rate_{dim}")
st.caption(_("Rate = rejections of the leads each person owns ÷ those leads' hand-offs (entries into {handoff}); "
             "the count is “rejected of hand-offs”. Red-orange: at least 1.3× the team rate (dashed line) and too "
             "large a gap to be chance (a two-proportion test against everyone else at the 5% level). "
             "Grey: fewer than {n} hand-offs — too few to judge anyone on.", handoff=handoff_md,
             n=rejections.SMALL_SAMPLE))

if not present:
    with st.expander(_("Other breakdowns: who rejected, channel, segment")):
        options = [k for k in OTHER_BREAKDOWNS if k == "actor" or k in columns]
        ui.restore_choice(K_OTHER_BY, options[0], valid=options)
        other = st.selectbox(_("Break down by"), options, format_func=lambda k: _(OTHER_BREAKDOWNS[k]), key=K_OTHER_BY)
        ui.keep_choice(K_OTHER_BY, other, options[0])
        with ui.guard(_("the breakdown table")):
            table = breakdown(other)
            if other == "actor":   # actors are codes (sdr, sales): shown as SDR, Sales
                ui.dataframe(readable_columns(table, ["grp"]), hide_index=True, width="stretch", column_config={
                    "grp": st.column_config.TextColumn(_("Rejected by")),
                    "rejected": st.column_config.NumberColumn(_("Rejections"), format="%d"),
                    "share": st.column_config.NumberColumn(_("Share of all rejections"), format="percent"),
                    "resubmissions": st.column_config.NumberColumn(_("Later resubmitted"), format="%d"),
                })
                st.caption(_("Who moved each lead into Rejected (the event's actor), and how many of those leads "
                             "were handed off again afterwards."))
            else:
                shown = table[["grp", "handoffs", "rejected", "rejection_rate", "resubmissions",
                               "resubmitted_within_7d", "median_resubmit_days", "small_sample"]]
                ui.dataframe(readable_columns(shown, ["grp"]), hide_index=True, width="stretch", column_config={
                    "grp": st.column_config.TextColumn(_(OTHER_BREAKDOWNS[other])),
                    "handoffs": st.column_config.NumberColumn(_("Hand-offs"), format="%d"),
                    "rejected": st.column_config.NumberColumn(_("Rejected"), format="%d"),
                    "rejection_rate": st.column_config.NumberColumn(_("Rejection rate"), format="percent"),
                    "resubmissions": st.column_config.NumberColumn(_("Resubmissions"), format="%d"),
                    "resubmitted_within_7d": st.column_config.NumberColumn(_("Back within 7 days"), format="%d"),
                    "median_resubmit_days": st.column_config.NumberColumn(_("Median delay (days)"), format="%.1f"),
                    "small_sample": st.column_config.CheckboxColumn(
                        _("Too few to judge"), help=_("Fewer than {n} hand-offs.", n=rejections.SMALL_SAMPLE)),
                })
                st.caption(_("Same definitions as the charts above, per value of the lead's attribute."))
            ui.download_csv(table, f"rejections_by_{other}", key="dl_rej_other")

# ---- Why --------------------------------------------------------------------------------------
st.subheader(_("Why leads are rejected"))
with ui.guard(_("the reasons over time")):
    reasons = ui.call(rejections.reasons_over_time, scope, "month")
    ui.chart(charts.reasons_over_time(reasons, presentation=present, lang=lg), key="rej_reasons")
    st.caption(_("Rejections per calendar month of the rejection, by the reason given on the Rejected entry. "
                 "“{no_reason}” counts rejections recorded without a reason.", no_reason=_(charts.NO_REASON)))

# ---- Flows ------------------------------------------------------------------------------------
st.subheader(_("How leads move between stages"))
with ui.guard(_("the stage flows")):
    flows = ui.call(rejections.transition_flows, scope)
    stage_list = ui.call(store.stages, "lead")
    ui.chart(charts.flow_sankey(flows, stages=stage_list, handoff=handoff, presentation=present, lang=lg),
             key="rej_flows")
    st.caption(_("Each band is the number of times a lead moved from one stage straight to the next, by the "
                 "as-of date. Orange bands go backwards — Rejected → Recycled → {handoff} is the recycle loop; "
                 "red bands are hand-offs refused; grey bands leave the funnel or go back to nurture.",
                 handoff=handoff_md))

# ---- How fast ---------------------------------------------------------------------------------
st.subheader(_("How fast rejected leads come back"))
by_sdr = None
if "sdr" in columns:
    with ui.guard(_("the SDR list")):
        by_sdr = breakdown("sdr")
sdr_options = [ALL_SDRS] + ([str(g) for g in by_sdr.loc[by_sdr["resubmissions"] > 0, "grp"]]
                            if by_sdr is not None else [])
ui.restore_choice(K_DELAY_SDR, ALL_SDRS, valid=sdr_options)
c1, _spare = st.columns([1, 3])
who = c1.selectbox(_("SDR"), sdr_options, key=K_DELAY_SDR, format_func=lambda o: _(ALL_SDRS) if o == ALL_SDRS else o,
                   help=_("Show the resubmissions of one SDR's leads, or of everyone's."))
ui.keep_choice(K_DELAY_SDR, who, ALL_SDRS)
with ui.guard(_("the resubmission delays")):
    if who == ALL_SDRS:
        delays = ui.call(rejections.resubmit_delays, scope, None)
        fig = charts.resubmit_delay_histogram(
            delays, who=None, within_7d=summary["resubmitted_within_7d"] if summary else None,
            resubmissions=summary["resubmissions"] if summary else None,
            median_days=summary["median_resubmit_days"] if summary else None, presentation=present, lang=lg)
    else:
        delays = ui.call(rejections.resubmit_delays, scope, "sdr")
        delays = delays[delays["grp"] == who]
        row = by_sdr[by_sdr["grp"] == who].iloc[0]
        fig = charts.resubmit_delay_histogram(
            delays, who=who, within_7d=int(row["resubmitted_within_7d"]), resubmissions=int(row["resubmissions"]),
            median_days=row["median_resubmit_days"], presentation=present, lang=lg)
    ui.chart(fig, key="rej_delays")
    st.caption(_("Each bar counts resubmissions by whole days between the rejection and the next {handoff} entry "
                 "(the bar at 3 covers 3 to 4 days; 90+ collects the rest). Left of the dashed line: back within "
                 "7 days.", handoff=handoff_md))

# ---- Outcomes ---------------------------------------------------------------------------------
st.subheader(_("Do recycled leads ever convert?"))
left, right = st.columns([3, 2])
with left, ui.guard(_("the outcome comparison")):
    outcomes = ui.call(rejections.recycled_outcomes, scope)
    ui.chart(charts.outcomes_bar(outcomes, presentation=present, lang=lg), key="rej_outcomes")
    st.caption(_("Recycled: leads rejected at least once; they count as reaching a stage only when they reach it "
                 "after their first rejection. First-pass: leads handed off ({handoff}) and never rejected. "
                 "Reaching a stage includes skipping past it; everything as known at the as-of date.",
                 handoff=handoff_md))
with right, ui.guard(_("the loop distribution")):
    loops = ui.call(rejections.loop_distribution, scope)
    ui.chart(charts.loop_distribution_bar(loops, presentation=present, lang=lg), key="rej_loops")
    st.caption(_("Handed-off leads by how many times they were handed off again after the first {handoff}.",
                 handoff=handoff_md))

# ---- Ping-pong --------------------------------------------------------------------------------
st.subheader(_("Ping-pong leads"))
c1, _spare = st.columns([1, 3])
ui.restore_choice(K_PP_MIN, 2, valid=(2, 3, 4, 5), parse=int)
min_rej = c1.selectbox(_("Rejected at least"), [2, 3, 4, 5], format_func=lambda n: _("{n} times", n=n), key=K_PP_MIN,
                       help=_("Leads rejected this many times or more by the as-of date."))
ui.keep_choice(K_PP_MIN, min_rej, 2)
with ui.guard(_("the ping-pong list")):
    pp = ui.call(rejections.ping_pong_leads, scope, min_rejections=int(min_rej))
    if pp.empty:
        ui.empty_state(_("No lead was rejected {n} times or more — nothing bounces back and forth here.", n=min_rej))
    else:
        st.caption((_("{n} leads (the first 2,000) rejected {min} times or more by the as-of date, most rejections "
                      "first. The path lists every stage the lead entered, in order.", n=fmt_int(len(pp)), min=min_rej)
                    if len(pp) >= 2000 else
                    _("{n} leads rejected {min} times or more by the as-of date, most rejections first. The path "
                      "lists every stage the lead entered, in order.", n=fmt_int(len(pp)), min=min_rej)))
        ui.dataframe(readable_columns(pp, ["channel", "segment"]), hide_index=True, width="stretch", column_config={
            "lead_id": st.column_config.TextColumn(_("Lead")),
            "channel": st.column_config.TextColumn(_("Channel")),
            "segment": st.column_config.TextColumn(_("Segment")),
            "sdr": st.column_config.TextColumn(_("SDR")),
            "ae": st.column_config.TextColumn(_("AE")),
            "rejections": st.column_config.NumberColumn(_("Rejections"), format="%d"),
            "handoffs": st.column_config.NumberColumn(_("Hand-offs"), format="%d"),
            "current_stage": st.column_config.TextColumn(_("Now in")),
            "last_event_at": st.column_config.DatetimeColumn(_("Last moved"),
                                                             format="DD MMM YYYY" if lg == "en" else "YYYY-MM-DD"),
            "path": st.column_config.TextColumn(_("Path"), width="large"),
        })
        ui.download_csv(pp, "ping_pong_leads", key="dl_rej_pingpong")
