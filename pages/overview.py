"""Overview: the weekly review on one screen — KPIs, funnel, waterfall, forecast, highlights."""
from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

import ui
from funnel import conversion, export, forecast, overview, presets, review_targets
from funnel.charts import conversion as conversion_charts
from funnel.charts import forecast as forecast_charts

scope = ui.scope()
present = ui.presentation()
facts = ui.data_facts()

if facts["as_of"] is None:
    ui.page_header("Weekly review")
    ui.empty_state("There is no data yet. Import your CRM export on the Data page, or reset to the sample data there.")
    st.stop()

with ui.guard("the weekly figures"), st.spinner("Computing this week's figures…"):
    kpis = ui.call(overview.weekly_kpis, scope, 12)
    notes = ui.call(overview.highlights, scope, kpis)   # its week-over-week change reads the last two weeks
    has_deals = facts["opportunities"] > 0
    headline = ui.call(overview.headline_forecast, scope) if has_deals else None
    previous = ui.call_fresh(overview.previous_snapshot, scope)
    # Everyone's month and quarter targets (one Monte Carlo): the target tile, and the highlight
    # when the chance of hitting or the coverage moved since the last saved review.
    target_figs = ui.call(review_targets.snapshot_figures, scope) if has_deals else {}
    target_note = review_targets.target_move(previous, target_figs)
    if target_note:
        notes = [target_note, *notes]

ui.page_header(f"Weekly review — week ending {ui.fmt_date(scope.as_of)}",
               notes[0]["text"] if notes else None)
with ui.guard("the notes on this data"):  # what this data cannot show (funnel.presets.notes_for_page)
    limits = presets.notes_for_page(ui.call(presets.limitation_findings), "overview")
    if limits["notes"]:
        st.warning("**What this data cannot show**\n\n" + "\n".join(f"- {ui.md(n)}" for n in limits["notes"]))

# ---- KPI tiles -------------------------------------------------------------------------------
this, last = kpis.iloc[-1], kpis.iloc[-2]


def _delta(a, b, money=False, pct=False):
    if pd.isna(a) or pd.isna(b):
        return None
    d = float(a) - float(b)
    if pct:
        return f"{d * 100:+.1f} pts"
    # ASCII signs: st.metric reads a leading "-" (not "−") as a fall and colours the arrow.
    return (("+" if d >= 0 else "-") + ui.fmt_money(abs(d))) if money else f"{d:+,.0f}"


tiles = [
    ("New leads", ui.fmt_int(this.new_leads), _delta(this.new_leads, last.new_leads), kpis["new_leads"], "normal",
     "Leads created in the 7 days to the as-of date."),
    ("MQLs", ui.fmt_int(this.mqls), _delta(this.mqls, last.mqls), kpis["mqls"], "normal",
     "Hand-offs to sales: entries into MQL in the week (a resubmitted lead counts again)."),
    ("SQLs", ui.fmt_int(this.sqls), _delta(this.sqls, last.sqls), kpis["sqls"], "normal",
     "Leads that first reached SQL (or a later stage) in the week."),
    ("Rejection rate", ui.fmt_pct(this.rejection_rate), _delta(this.rejection_rate, last.rejection_rate, pct=True),
     kpis["rejection_rate"].fillna(0), "inverse", "Rejections this week ÷ hand-offs this week."),
    ("Pipeline created", ui.fmt_money(this.pipeline_created), _delta(this.pipeline_created, last.pipeline_created, money=True),
     kpis["pipeline_created"], "normal", "Amount of the deals created in the week."),
]
cols = st.columns(len(tiles))
for c, (label, value, delta, series, color, help_) in zip(cols, tiles):
    c.metric(label, value, delta, delta_color=color, chart_data=list(series), chart_type="line", border=True,
             help=help_, delta_description="vs last week")  # short: a longer one is cut off on a projector

tile = None
if headline:
    m, q = headline["month"], headline["quarter"]
    # What the last saved review forecast for this month and quarter (none across a month / quarter change).
    was = overview.compare_with_snapshot(previous, scope.as_of)
    tile = review_targets.month_tile(target_figs, scope.as_of)
    cols = st.columns(4 if tile else 3)
    cols[0].metric(f"Won so far in {headline['month_label']}", ui.fmt_money(headline["won_month"]), border=True,
                   help="Amount of deals whose first won event falls in this month up to the as-of date.")
    for c, label, rng, key in ((cols[1], headline["month_label"], m, "month"),
                               (cols[2], headline["quarter_label"], q, "quarter")):
        delta = None
        if was[key] is not None:
            delta = ("+" if rng.weighted >= was[key] else "-") + ui.fmt_money(abs(rng.weighted - was[key]))
        c.metric(f"Weighted forecast, {label}", ui.fmt_money(rng.weighted), delta, border=True,
                 delta_description=f"vs the review of {ui.fmt_date(was['as_of'])}" if delta else None,
                 help="Σ open amount × stage probability for deals closing in the period (overdue deals count in "
                      "this month). The range is the 10th–90th percentile of 10,000 simulated outcomes.")
        c.caption(f"Range P10–P90: **{ui.fmt_money(rng.p10)} – {ui.fmt_money(rng.p90)}** · {rng.open_deals} open deals")
    if tile:
        pace = tile["ahead"]
        cols[3].metric(
            f"Target, {headline['month_label']}", ui.fmt_pct(tile["attainment"], 0) if tile["attainment"] is not None else "—",
            None if pace is None else ("+" if pace >= 0 else "-") + ui.fmt_money(abs(pace)), border=True,
            delta_description="vs linear pace" if pace is not None else None,
            help="Share of everyone's target for this month won so far (first won event in the month). The change "
                 "is won minus the target × the share of the month gone. Chance of hitting: the share of the "
                 "forecast's 10,000 simulated outcomes in which won + simulated wins reach the target.")
        chance = "—" if tile["p_hit"] is None else ui.fmt_pct(tile["p_hit"], 0)
        cols[3].caption(f"Won {ui.fmt_money(tile['won'])} of {ui.fmt_money(tile['amount'])} · "
                        f"chance of hitting **{chance}**")
    moved = [f"forecast for {lbl} was {ui.fmt_money(was[k])}, now {ui.fmt_money(r.weighted)}"
             for k, lbl, r in (("month", headline["month_label"], m), ("quarter", headline["quarter_label"], q))
             if was[k] is not None]
    if moved:
        st.markdown(f"**Since the review of {ui.fmt_date(was['as_of'])}:** " + "; ".join(moved) + ".")

# ---- Highlights ------------------------------------------------------------------------------
st.subheader("Highlights")
if not notes:
    st.caption("Nothing stands out this week: no change, risk or channel gap large enough to call out.")
for i, note in enumerate(notes):
    c1, c2 = st.columns([6, 1], vertical_alignment="center")
    c1.markdown(f"**{i + 1}.** {ui.md(note['text'])}")
    c2.page_link(note["page"], label="Explain →")

# ---- Funnel and waterfall --------------------------------------------------------------------
left, right = st.columns(2)
figures: list = []
with left, ui.guard("the funnel"):
    conv = ui.call(conversion.stage_conversion, scope)
    fig = conversion_charts.funnel_chart(conv, presentation=present, compact=True)
    ui.chart(fig, key="ov_funnel")
    figures.append(("Funnel", fig))
    st.caption("Cohort leads reaching each stage or a later one (a skipped stage counts as passed); "
               "the % is the share of the stage before. Hover a bar for the share of all leads.")
with right, ui.guard("the pipeline waterfall"):
    if has_deals:
        changes = ui.call(forecast.pipeline_changes, scope, scope.as_of - timedelta(days=7), scope.as_of)
        fig = forecast_charts.waterfall_chart(changes, presentation=present)
        ui.chart(fig, key="ov_waterfall")
        figures.append(("Open pipeline since last week", fig))
        st.caption("Open pipeline amount a week ago → now: new deals add, won and lost leave, amount changes adjust. "
                   "The steps add up exactly.")
    else:
        ui.empty_state("This data has no deals, so there is no pipeline to show. Import opportunities on the Data page.")

# ---- Save, compare, export -------------------------------------------------------------------
st.divider()
c1, c2, c3 = st.columns(3)
if not present:
    if ui.can("edit") and c1.button("Save this week's review", key="save_review", type="primary",
                 help="Stores the as-of date, filters and headline figures so next week's review can compare."):
        with ui.guard("saving the review"), ui.writer() as w:
            figs = overview.review_figures(w, scope)
            overview.save_snapshot(w, scope, figs, actor=ui.current_actor())
            ui.after_write()   # the Review history page's cached figures include the new snapshot
            st.toast(f"Review of {ui.fmt_date(scope.as_of)} saved.")
    c2.page_link("pages/review_history.py", label="Forecast history across reviews →")


def _export_html() -> bytes:
    kpi_rows = [{"label": t[0], "value": t[1], "delta": f"{t[2]} vs the week before" if t[2] else ""} for t in tiles]
    if headline:
        kpi_rows.append({"label": f"Won so far in {headline['month_label']}", "value": ui.fmt_money(headline["won_month"]),
                         "delta": ""})
        for lbl, key in ((headline["month_label"], "month"), (headline["quarter_label"], "quarter")):
            r = headline[key]
            since = (f" · was {ui.fmt_money(was[key])} at the review of {ui.fmt_date(was['as_of'])}"
                     if was[key] is not None else "")
            kpi_rows.append({"label": f"Weighted forecast, {lbl}", "value": ui.fmt_money(r.weighted),
                             "delta": f"P10–P90 {ui.fmt_money(r.p10)} – {ui.fmt_money(r.p90)}{since}"})
        if tile:
            kpi_rows.append({"label": f"Target, {headline['month_label']}", "value": ui.fmt_pct(tile["attainment"], 0),
                             "delta": f"won {ui.fmt_money(tile['won'])} of {ui.fmt_money(tile['amount'])} · chance of "
                                      f"hitting {ui.fmt_pct(tile['p_hit'], 0)}"})
    # Formatted as on screen: the file is read by people, not parsed (the CSV beside the table is for that).
    table = pd.DataFrame({
        "Week": kpis["week"], "New leads": kpis["new_leads"].map(ui.fmt_int), "MQLs": kpis["mqls"].map(ui.fmt_int),
        "SQLs": kpis["sqls"].map(ui.fmt_int), "Rejected": kpis["rejected"].map(ui.fmt_int),
        "Rejection rate": kpis["rejection_rate"].map(ui.fmt_pct),
        "Pipeline created": kpis["pipeline_created"].map(ui.fmt_money), "Won": kpis["won_amount"].map(ui.fmt_money)})
    html = export.review_html(f"Weekly review — week ending {ui.fmt_date(scope.as_of)}", ui.describe_scope(scope),
                              kpi_rows, [n["text"] for n in notes], figures, [("Last 12 weeks", table)])
    return html.encode("utf-8")


(c1 if present else c3).download_button(
    "Export the review (HTML)", _export_html, file_name=f"weekly-review-{scope.as_of}.html", mime="text/html",
    key="export_html", help="One file that opens offline; charts stay interactive.")
with st.expander("Weekly figures (last 12 weeks)"):
    cc = st.column_config
    st.dataframe(kpis, hide_index=True, width="stretch", column_order=[
        "week", "new_leads", "mqls", "sqls", "rejected", "rejection_rate", "pipeline_created", "won_amount", "won_deals"],
        column_config={"week": cc.TextColumn("Week"), "new_leads": cc.NumberColumn("New leads", format="localized"),
                       "mqls": cc.NumberColumn("MQLs", format="localized"),
                       "sqls": cc.NumberColumn("SQLs", format="localized"),
                       "rejected": cc.NumberColumn("Rejected", format="localized"),
                       "rejection_rate": cc.NumberColumn("Rejection rate", format="percent"),
                       "pipeline_created": cc.NumberColumn("Pipeline created", format="dollar"),
                       "won_amount": cc.NumberColumn("Won", format="dollar"),
                       "won_deals": cc.NumberColumn("Deals won", format="localized")})
    ui.download_csv(kpis, f"weekly-kpis-{scope.as_of}")
st.caption("Each chart's menu (top right of the chart) saves it as a PNG.")
