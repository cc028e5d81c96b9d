"""Conversion: how many of the cohort's leads reach each stage, where they drop off and for whom,
how the monthly cohorts compare, and how long conversion takes (metrics.md §1)."""
from __future__ import annotations

import streamlit as st

import ui
from funnel import conversion, labels, presets, store
from funnel.charts import conversion as charts
from funnel.i18n import N_
from i18n_ui import _, fmt_days, fmt_int, fmt_pct, lang, ngettext, render

K_BREAKDOWN, K_WINDOW, K_GRAIN, K_STAGE, K_HIST = "conv_breakdown", "conv_window", "conv_grain", "conv_stage", "conv_hist"
NO_BREAKDOWN = "(none)"
HIDDEN_COLUMNS = {"lead_id", "created_at"}

present = ui.presentation()
lg = lang()
TITLE = _("Conversion")
CANNOT_SHOW = _("What this data cannot show")
facts = ui.data_facts()
if facts["as_of"] is None:
    ui.page_header(TITLE)
    ui.empty_state(_("There is no data yet. Import your leads on the Data page, or reset to the sample data there."))
    st.stop()


# What this data cannot show (funnel.presets.notes_for_page): no leads at all → say so and stop;
# otherwise the notes go under the header and sections the data rules out are replaced by a sentence.
limits = {"notes": [], "blocked": None, "codes": []}
with ui.guard(_("the notes on this data")):
    limits = presets.notes_for_page(ui.call(presets.limitation_findings), "conversion", lang=lg)
if limits["blocked"]:
    ui.page_header(TITLE, limits["blocked"]["finding"])
    if limits["notes"]:
        st.warning(f"**{CANNOT_SHOW}**\n\n" + "\n".join(f"- {ui.md(n)}" for n in limits["notes"]))
    ui.empty_state(limits["blocked"]["todo"])
    st.stop()
one_date = "one_date" in limits["codes"]          # every lead created the same day: no cohorts, no trend
no_durations = "no_durations" in limits["codes"]  # events carry no real times: no time to convert


# The data contract's optional lead columns; any other attribute is named as the data names it.
CONTRACT_COLUMNS = {"industry": N_("Industry"), "company_size": N_("Company size"), "job_title": N_("Job title")}


def _window_days(text: str) -> int:
    """A conversion window from a link: whole days the window box accepts (0–3650)."""
    days = int(text)
    if not 0 <= days <= 3650:
        raise ValueError(text)
    return days


def attr_label(col: str) -> str:
    """A lead attribute's name: the known columns translated, any other column as the data names it."""
    known = ui.DIMENSION_LABELS.get(col) or CONTRACT_COLUMNS.get(col)
    return _(known) if known else col.replace("_", " ").capitalize()


def attr_in_sentence(col: str) -> str:
    """The attribute's name inside a sentence: lower case in English except acronyms (SDR, AE)."""
    label = attr_label(col)
    return label if col in ("sdr", "ae") or lg != "en" else label.lower()


# The finding in the header depends on the controls below it: read their state first, draw them after.
window = ui.restore_choice(K_WINDOW, None, parse=_window_days)
scope = ui.scope(window_days=int(window)) if window is not None else ui.scope()
columns = []
with ui.guard(_("the list of lead attributes")):
    columns = [c for c in ui.call(store.lead_attribute_columns) if c not in HIDDEN_COLUMNS]
dims = [d for d in ui.DIMENSION_LABELS if d in columns]
options = [NO_BREAKDOWN] + dims + sorted(c for c in columns if c not in dims)
default_breakdown = "channel" if "channel" in options else NO_BREAKDOWN
breakdown_choice = ui.restore_choice(K_BREAKDOWN, default_breakdown, valid=options)
breakdown = None if breakdown_choice == NO_BREAKDOWN else breakdown_choice

finding = None
with ui.guard(_("the drop-off finding")):
    finding = ui.call(conversion.drop_off_finding, scope, breakdown=breakdown)
ui.page_header(TITLE, render(finding["messages"]) if finding else None)
if window is not None:
    st.caption(ngettext("Conversion window: a stage counts only when it was entered within {n} day of the lead's "
                        "creation.", "Conversion window: a stage counts only when it was entered within {n} days of "
                        "the lead's creation.", int(window), n=int(window)))
if limits["notes"]:
    st.warning(f"**{CANNOT_SHOW}**\n\n" + "\n".join(f"- {ui.md(n)}" for n in limits["notes"]))

# ---- Controls ---------------------------------------------------------------------------------
c1, c2, _spare = st.columns([1, 1, 2])
c1.selectbox(_("Break down by"), options, key=K_BREAKDOWN,
             format_func=lambda c: _("No breakdown") if c == NO_BREAKDOWN else attr_label(c),
             help=_("Compare the funnel across the values of a lead attribute (the finding above names the worst one)."))
c2.number_input(_("Conversion window (days)"), min_value=0, max_value=3650, value=None, step=1, key=K_WINDOW,
                placeholder=_("No window"),
                help=_("Count a stage only when the lead entered it within this many days of being created. "
                       "Empty: any time up to the as-of date."))
ui.keep_choice(K_BREAKDOWN, breakdown_choice, default_breakdown)
ui.keep_choice(K_WINDOW, window, None)

# ---- The funnel -------------------------------------------------------------------------------
st.subheader(_("The funnel"))
funnel_df = None
with ui.guard(_("the funnel")):
    funnel_df = ui.call(conversion.stage_conversion, scope)
    if funnel_df.empty:
        ui.empty_state(_("No leads were created in this period with these filters — widen the date range or clear "
                         "a filter in the sidebar."))
    else:
        top = funnel_df.sort_values("position")
        last = top.iloc[-1]
        m = st.columns(3)
        m[0].metric(_("Leads in the cohort"), fmt_int(top.iloc[0]["reached"]), border=True,
                    help=_("Leads created in the sidebar's date range, on or before the as-of date, that pass the "
                           "filters."))
        m[1].metric(_("Reached {stage}", stage=ui.md(last["stage"])), fmt_int(last["reached"]), border=True,
                    help=_("Cohort leads with an event into {stage} known by the end of the as-of date.",
                           stage=ui.md(last["stage"])))
        m[2].metric(_("{first} → {stage}", first=ui.md(top.iloc[0]["stage"]), stage=ui.md(last["stage"])),
                    fmt_pct(last["overall_rate"]), border=True,
                    help=_("Overall conversion: reached the last stage ÷ leads in the cohort."))
        ui.chart(charts.funnel_chart(funnel_df, presentation=present, lang=lg), key="conv_funnel")
        left, right = st.columns([2, 3])
        with left:
            st.caption(_("A lead counts as reaching a stage when it entered that stage or any later one by the end of "
                         "the as-of date (a skipped stage counts as passed). Step % = reached ÷ reached the previous "
                         "stage; overall % = reached ÷ leads in the cohort."))
        with right:
            table = top[["stage", "reached", "step_rate", "overall_rate", "median_days_to_reach"]]
            if no_durations:  # every "time to reach" would read 0 h: a figure the data cannot give
                table = table.drop(columns="median_days_to_reach")
            shown = table.assign(reached=[fmt_int(v) for v in table["reached"]],
                                 step_rate=[fmt_pct(v) for v in table["step_rate"]],
                                 overall_rate=[fmt_pct(v) for v in table["overall_rate"]])
            if not no_durations:
                shown["median_days_to_reach"] = [fmt_days(v) for v in table["median_days_to_reach"]]
            ui.dataframe(shown, hide_index=True, width="stretch", column_config={
                "stage": st.column_config.TextColumn(_("Stage")),
                "reached": st.column_config.TextColumn(_("Leads reaching it")),
                "step_rate": st.column_config.TextColumn(_("Step conversion"),
                                                         help=_("Reached ÷ reached the previous stage.")),
                "overall_rate": st.column_config.TextColumn(_("Overall conversion"),
                                                            help=_("Reached ÷ leads in the cohort.")),
                "median_days_to_reach": st.column_config.TextColumn(
                    _("Median time to reach"),
                    help=_("From the lead's creation to its first entry into the stage or a later one.")),
            })
            ui.download_csv(table, "conversion_funnel", key="dl_conv_funnel")

# ---- Breakdown --------------------------------------------------------------------------------
if breakdown is not None and funnel_df is not None and not funnel_df.empty:
    label = attr_label(breakdown)
    st.subheader(_("By {breakdown}", breakdown=ui.md(attr_in_sentence(breakdown))))
    with ui.guard(_("the breakdown")):
        by = ui.call(conversion.stage_conversion, scope, breakdown=breakdown)
        groups = by["grp"].nunique()
        ui.chart(charts.breakdown_chart(by, breakdown_label=attr_in_sentence(breakdown), presentation=present,
                                        lang=lg), key="conv_breakdown_chart")
        shown = min(groups, 8)
        st.caption(_("One funnel per {breakdown} value: the share of its leads reaching each stage (same definition "
                     "as above). Showing the {shown} largest of {groups} values; the table has all of them. The "
                     "finding at the top ignores values with fewer than {min_leads} leads entering the step — their "
                     "rates swing too much to compare.", breakdown=ui.md(label), shown=shown, groups=groups,
                     min_leads=conversion.MIN_GROUP_LEADS))
        with st.expander(_("All {groups} {breakdown} values as a table", groups=groups, breakdown=ui.md(label))):
            table = by[["grp", "stage", "leads", "reached", "step_rate", "overall_rate"]].assign(
                grp=labels.readable_list(by["grp"]))
            ui.dataframe(table, hide_index=True, width="stretch", column_config={
                "grp": st.column_config.TextColumn(label),
                "stage": st.column_config.TextColumn(_("Stage")),
                "leads": st.column_config.NumberColumn(_("Leads"), format="localized"),
                "reached": st.column_config.NumberColumn(_("Reached"), format="localized"),
                "step_rate": st.column_config.NumberColumn(_("Step conversion"), format="percent"),
                "overall_rate": st.column_config.NumberColumn(_("Overall conversion"), format="percent"),
            })
            ui.download_csv(table, f"conversion_by_{breakdown}", key="dl_conv_breakdown")

# ---- Cohorts ----------------------------------------------------------------------------------
if funnel_df is not None and not funnel_df.empty and not one_date:
    stages = list(funnel_df.sort_values("position")["stage"])[1:]
    st.subheader(_("Cohorts"))
    with ui.guard(_("the cohort heatmap")):
        monthly = ui.call(conversion.conversion_trend, scope, "month")
        ui.chart(charts.cohort_heatmap(monthly, presentation=present, lang=lg), key="conv_heatmap")
        maturity = _("{n}-day conversion window", n=int(window)) if window is not None else \
            _("{n} days", n=conversion.DEFAULT_MATURITY_DAYS)
        st.caption(_("Each row is the leads created in one month (count in brackets); each cell the share of them "
                     "that reached the stage by the as-of date. Grey rows are still maturing: their month ended less "
                     "than {maturity} before the as-of date, so their leads have not had the full time to convert — "
                     "read them as “so far”, not as worse.", maturity=maturity))

    st.subheader(_("Trend"))
    t1, t2, _spare = st.columns([1, 1, 2])
    ui.restore_choice(K_GRAIN, "month", valid=("week", "month"))
    grain = t1.segmented_control(_("Cohorts by"), ["week", "month"], required=True, key=K_GRAIN,
                                 format_func=lambda g: _("Week") if g == "week" else _("Month")) or "month"
    default_stage = "SQL" if "SQL" in stages else stages[-1]
    ui.restore_choice(K_STAGE, default_stage, valid=stages)
    stage = t2.selectbox(_("Conversion to"), stages, key=K_STAGE)
    ui.keep_choice(K_GRAIN, grain, "month")
    ui.keep_choice(K_STAGE, stage, default_stage)
    with ui.guard(_("the conversion trend")):
        trend = monthly if grain == "month" else ui.call(conversion.conversion_trend, scope, grain)
        ui.chart(charts.trend_chart(trend, stage, grain, presentation=present, lang=lg), key="conv_trend")
        st.caption(_("Share of each month's new leads that reached {stage} (or a later stage) by the as-of date. "
                     "The dashed grey part is cohorts still maturing: their number can only go up.", stage=ui.md(stage))
                   if grain == "month" else
                   _("Share of each week's new leads that reached {stage} (or a later stage) by the as-of date. "
                     "The dashed grey part is cohorts still maturing: their number can only go up.", stage=ui.md(stage)))

# ---- Sections this data cannot support, said where they would be ------------------------------
if funnel_df is not None and not funnel_df.empty and (one_date or no_durations):
    st.subheader(_("Cohorts, trend and time to convert") if one_date and no_durations
                 else _("Cohorts and trend") if one_date else _("Time to convert"))
    missing = []
    if one_date:
        missing.append(_("every lead was created on the same day, so there are no monthly or weekly cohorts to "
                         "compare and no trend"))
    if no_durations:
        missing.append(_("every stage event carries its lead's creation time, so no lead took a measurable time to "
                         "convert"))
    ui.empty_state(_("Not shown for this data: {reasons}. See the notes at the top of the page.",
                     reasons=_("; ").join(missing)))

if funnel_df is not None and not funnel_df.empty and not no_durations:
    stages = list(funnel_df.sort_values("position")["stage"])[1:]
    default_stage = "SQL" if "SQL" in stages else stages[-1]
    # ---- Time to convert ------------------------------------------------------------------------
    st.subheader(_("Time to convert"))
    left, right = st.columns(2)
    with left, ui.guard(_("the time to convert")):
        ttc = ui.call(conversion.time_to_convert, scope)
        ui.chart(charts.time_to_convert_chart(ttc, presentation=present, lang=lg), key="conv_ttc")
        st.caption(_("Median days from a lead's creation to its first entry into the stage (or a later one), "
                     "among the leads that got there."))
    with right:
        ui.restore_choice(K_HIST, default_stage, valid=stages)
        hist_stage = st.selectbox(_("Spread of days to reach"), stages, key=K_HIST)
        ui.keep_choice(K_HIST, hist_stage, default_stage)
        with ui.guard(_("the time-to-convert histogram")):
            hist = ui.call(conversion.time_to_convert_histogram, scope)
            ui.chart(charts.time_to_convert_histogram_chart(hist, hist_stage, presentation=present, lang=lg),
                     key="conv_hist_chart")
            st.caption(_("How many leads first reached {stage} within each band of days after they were created; "
                         "the percentage is the band's share of those leads.", stage=ui.md(hist_stage)))
