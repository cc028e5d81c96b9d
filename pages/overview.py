"""Overview: the weekly review on one screen — KPIs, funnel, waterfall, forecast, highlights."""
from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

import ui
from funnel import conversion, export, forecast, overview
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
    notes = ui.call(overview.highlights, scope)
    has_deals = facts["opportunities"] > 0
    headline = ui.call(overview.headline_forecast, scope) if has_deals else None
    previous = ui.call_fresh(overview.previous_snapshot, scope)

ui.page_header(f"Weekly review — week ending {ui.fmt_date(scope.as_of)}",
               notes[0]["text"] if notes else None)

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
             help=help_, delta_description="vs the week before")

if headline:
    m, q = headline["month"], headline["quarter"]
    prev_figs = (previous or {}).get("figures", {})
    cols = st.columns(3)
    cols[0].metric(f"Won so far in {headline['month_label']}", ui.fmt_money(headline["won_month"]), border=True,
                   help="Amount of deals whose first won event falls in this month up to the as-of date.")
    for c, label, rng, key in ((cols[1], headline["month_label"], m, "forecast_month"),
                               (cols[2], headline["quarter_label"], q, "forecast_quarter")):
        delta = None
        if prev_figs.get(key) is not None:
            delta = ("+" if rng.weighted >= prev_figs[key] else "-") + ui.fmt_money(abs(rng.weighted - prev_figs[key]))
        c.metric(f"Weighted forecast, {label}", ui.fmt_money(rng.weighted), delta, border=True,
                 delta_description=f"vs the review of {ui.fmt_date(previous['as_of'])}" if delta else None,
                 help="Σ open amount × stage probability for deals closing in the period (overdue deals count in "
                      "this month). The range is the 10th–90th percentile of 10,000 simulated outcomes.")
        c.caption(f"Range P10–P90: **{ui.fmt_money(rng.p10)} – {ui.fmt_money(rng.p90)}** · {rng.open_deals} open deals")
    if previous and prev_figs.get("forecast_month") is not None:
        st.markdown(f"**Since the review of {ui.fmt_date(previous['as_of'])}:** forecast for {headline['month_label']} "
                    f"was {ui.fmt_money(prev_figs['forecast_month'])}, now {ui.fmt_money(m.weighted)}; "
                    f"{headline['quarter_label']} was {ui.fmt_money(prev_figs.get('forecast_quarter'))}, "
                    f"now {ui.fmt_money(q.weighted)}.")

# ---- Highlights ------------------------------------------------------------------------------
st.subheader("Highlights")
if not notes:
    st.caption("Nothing stands out this week: no change, risk or channel gap large enough to call out.")
for i, note in enumerate(notes):
    c1, c2 = st.columns([6, 1], vertical_alignment="center")
    c1.markdown(f"**{i + 1}.** {note['text']}")
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
    if c1.button("Save this week's review", key="save_review", type="primary",
                 help="Stores the as-of date, filters and headline figures so next week's review can compare."):
        with ui.guard("saving the review"), ui.writer() as w:
            figs = overview.review_figures(w, scope)
            overview.save_snapshot(w, scope, figs)
            st.toast(f"Review of {ui.fmt_date(scope.as_of)} saved.")
    c2.page_link("pages/review_history.py", label="Forecast history across reviews →")


def _export_html() -> bytes:
    kpi_rows = [{"label": t[0], "value": t[1], "delta": f"{t[2]} vs the week before" if t[2] else ""} for t in tiles]
    if headline:
        kpi_rows += [{"label": f"Weighted forecast, {headline['month_label']}", "value": ui.fmt_money(headline['month'].weighted),
                      "delta": f"P10–P90 {ui.fmt_money(headline['month'].p10)} – {ui.fmt_money(headline['month'].p90)}"},
                     {"label": f"Weighted forecast, {headline['quarter_label']}", "value": ui.fmt_money(headline['quarter'].weighted),
                      "delta": f"P10–P90 {ui.fmt_money(headline['quarter'].p10)} – {ui.fmt_money(headline['quarter'].p90)}"}]
    table = kpis[["week", "new_leads", "mqls", "sqls", "rejected", "rejection_rate", "pipeline_created", "won_amount"]].rename(
        columns={"week": "Week", "new_leads": "New leads", "mqls": "MQLs", "sqls": "SQLs", "rejected": "Rejected",
                 "rejection_rate": "Rejection rate", "pipeline_created": "Pipeline created", "won_amount": "Won"})
    html = export.review_html(f"Weekly review — week ending {ui.fmt_date(scope.as_of)}", ui.describe_scope(scope),
                              kpi_rows, [n["text"] for n in notes], figures, [("Last 12 weeks", table)])
    return html.encode("utf-8")


c3.download_button("Export the review (HTML)", _export_html, file_name=f"weekly-review-{scope.as_of}.html",
                   mime="text/html", key="export_html", help="One file that opens offline; charts stay interactive.")
with st.expander("Weekly figures (last 12 weeks)"):
    st.dataframe(kpis, hide_index=True, width="stretch")
    ui.download_csv(kpis, f"weekly-kpis-{scope.as_of}")
st.caption("Each chart's menu (top right of the chart) saves it as a PNG.")
