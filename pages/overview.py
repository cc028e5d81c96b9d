"""Overview: the weekly review on one screen — KPIs, funnel, waterfall, forecast, highlights."""
from __future__ import annotations

from datetime import timedelta

import streamlit as st

import ui
from funnel import conversion, export, fmt, forecast, overview, presets, review, review_targets
from funnel.charts import conversion as conversion_charts
from funnel.charts import forecast as forecast_charts
from i18n_ui import _, currency, fmt_date, fmt_money, lang, ngettext, render

scope = ui.scope()
present = ui.presentation()
facts = ui.data_facts()
lg = lang()
CANNOT_SHOW = _("What this data cannot show")

if facts["as_of"] is None:
    ui.page_header(_("Weekly review"))
    ui.empty_state(_("There is no data yet. Import your CRM export on the Data page, or reset to the sample data there."))
    st.stop()

with ui.guard(_("the weekly figures")), st.spinner(_("Computing this week's figures…")):
    kpis = ui.call(overview.weekly_kpis, scope, 12)
    notes = ui.call(overview.highlights, scope, kpis)   # its week-over-week change reads the last two weeks
    has_deals = facts["opportunities"] > 0
    method = ui.forecast_method()      # the Forecast page's choice: the same forecast on every page
    headline = ui.call(overview.headline_forecast, scope, method) if has_deals else None
    previous = ui.call_fresh(overview.previous_snapshot, scope)
    # Everyone's month and quarter targets (one Monte Carlo): the target tile, and the highlight
    # when the chance of hitting or the coverage moved since the last saved review.
    target_figs = ui.call(review_targets.snapshot_figures, scope, method) if has_deals else {}
    target_note = review_targets.target_move(previous, target_figs)
    if target_note:
        notes = [target_note, *notes]
cur = currency()

ui.page_header(_("Weekly review — week ending {date}", date=fmt_date(scope.as_of)),
               render(notes[0]["message"]) if notes else None)
with ui.guard(_("the notes on this data")):  # what this data cannot show (funnel.presets.notes_for_page)
    limits = presets.notes_for_page(ui.call(presets.limitation_findings), "overview", lang=lg)
    if limits["notes"]:
        st.warning(f"**{CANNOT_SHOW}**\n\n" + "\n".join(f"- {ui.md(n)}" for n in limits["notes"]))

# ---- KPI tiles -------------------------------------------------------------------------------
this, last = kpis.iloc[-1], kpis.iloc[-2]
cols = st.columns(len(overview.TILES))
for c, t in zip(cols, overview.TILES):
    series = kpis[t.column].fillna(0) if t.kind == "pct" else kpis[t.column]
    c.metric(_(t.label), export.tile_value(t, this[t.column], lg, cur),
             export.tile_change(t, this[t.column], last[t.column], lg, cur), delta_color=t.direction,
             chart_data=list(series), chart_type="line", border=True, help=_(t.help),
             delta_description=_("vs last week"))  # short: a longer one is cut off on a projector
# The page's caption names the cohort; the tiles are not the cohort's (issue #18): say so.
st.caption(_("Tiles: what happened in the 7 days to {as_of}, by the date of each event, for every lead that "
             "matches the filters whatever its creation date. The funnel below follows the cohort (leads created "
             "{start} – {end}).", as_of=fmt_date(scope.as_of), start=fmt_date(scope.date_from),
             end=fmt_date(min(scope.date_to, scope.as_of))))

was = overview.compare_with_snapshot(previous, scope.as_of, method)
tile = None
if headline:
    m, q = headline["month"], headline["quarter"]
    month, quarter = export.month_title(headline["month_start"], lg), fmt.quarter(headline["quarter_start"], lg)
    # What the last saved review forecast for this month and quarter (none across a month / quarter change).
    tile = review_targets.month_tile(target_figs, scope.as_of)
    cols = st.columns(4 if tile else 3)
    cols[0].metric(_("Won so far in {month}", month=month), fmt_money(headline["won_month"]), border=True,
                   help=_("Amount of deals whose first won event falls in this month up to the as-of date."))
    for c, label, rng, key in ((cols[1], month, m, "month"), (cols[2], quarter, q, "quarter")):
        delta = None
        if was[key] is not None:
            delta = ("+" if rng.weighted >= was[key] else "-") + fmt_money(abs(rng.weighted - was[key]))
        c.metric(_("Weighted forecast, {period}", period=label), fmt_money(rng.weighted), delta, border=True,
                 delta_description=_("vs the review of {date}", date=fmt_date(was["as_of"])) if delta else None,
                 help=_("Σ open amount × stage probability for deals closing in the period (overdue deals count in "
                        "this month). The range is the 10th–90th percentile of 10,000 simulated outcomes."))
        c.caption(ngettext("Range P10–P90: **{low} – {high}** · {deals} open deal · {method}",
                           "Range P10–P90: **{low} – {high}** · {deals} open deals · {method}", rng.open_deals,
                           low=fmt_money(rng.p10), high=fmt_money(rng.p90), deals=rng.open_deals,
                           method=_(forecast.METHOD_LABELS[method]).lower() if lg == "en"
                           else _(forecast.METHOD_LABELS[method])))
    if tile:
        target = export.target_tile(tile, month, lg, cur)
        pace = tile["ahead"]
        cols[3].metric(target["label"], target["value"],
                       None if pace is None else ("+" if pace >= 0 else "-") + fmt_money(abs(pace)), border=True,
                       delta_description=_("vs linear pace") if pace is not None else None,
                       help=_("Share of everyone's target for this month won so far (first won event in the month). "
                              "The change is won minus the target × the share of the month gone. Chance of hitting: "
                              "the share of the forecast's 10,000 simulated outcomes in which won + simulated wins "
                              "reach the target."))
        cols[3].caption(target["delta"])
    moved = [_("forecast for {period} was {before}, now {now}", period=lbl, before=fmt_money(was[k]),
               now=fmt_money(r.weighted))
             for k, lbl, r in (("month", month, m), ("quarter", quarter, q)) if was[k] is not None]
    if moved:
        st.markdown(_("**Since the review of {date}:** {changes}.", date=fmt_date(was["as_of"]),
                      changes=_("; ").join(moved)))

# ---- Highlights ------------------------------------------------------------------------------
st.subheader(_("Highlights"))
if not notes:
    st.caption(_("Nothing stands out this week: no change, risk or channel gap large enough to call out."))
for i, note in enumerate(notes):
    c1, c2 = st.columns([6, 1], vertical_alignment="center")
    c1.markdown(f"**{i + 1}.** {ui.md(render(note['message']))}")
    c2.page_link(note["page"], label=_("Explain →"))

# ---- Funnel and waterfall --------------------------------------------------------------------
left, right = st.columns(2)
figures: list = []
with left, ui.guard(_("the funnel")):
    conv = ui.call(conversion.stage_conversion, scope)
    fig = conversion_charts.funnel_chart(conv, presentation=present, compact=True, lang=lg)
    ui.chart(fig, key="ov_funnel")
    figures.append((_("Funnel"), fig))
    st.caption(_("Cohort leads reaching each stage or a later one (a skipped stage counts as passed); "
                 "the % is the share of the stage before. Hover a bar for the share of all leads."))
with right, ui.guard(_("the pipeline waterfall")):
    if has_deals:
        changes = ui.call(forecast.pipeline_changes, scope, scope.as_of - timedelta(days=7), scope.as_of)
        fig = forecast_charts.waterfall_chart(changes, presentation=present, lang=lg, currency=cur)
        ui.chart(fig, key="ov_waterfall")
        figures.append((_("Open pipeline since last week"), fig))
        st.caption(_("Open pipeline amount a week ago → now: new deals add, won and lost leave, amount changes "
                     "adjust. The steps add up exactly. A won deal leaves at its open amount, which can differ from "
                     "the amount it was won at (the weekly figures' “Won”)."))
    else:
        ui.empty_state(_("This data has no deals, so there is no pipeline to show. Import opportunities on the Data "
                         "page."))

# ---- Save, compare, export -------------------------------------------------------------------
st.divider()
c1, c2, c3 = st.columns(3)
if not present:
    if ui.can("edit") and c1.button(_("Save this week's review"), key="save_review", type="primary",
                 help=_("Stores the as-of date, filters and headline figures so next week's review can compare.")):
        with ui.guard(_("saving the review")), ui.writer() as w:
            figs = overview.review_figures(w, scope, method)
            overview.save_snapshot(w, scope, figs, actor=ui.current_actor())
            ui.after_write()   # the Review history page's cached figures include the new snapshot
            st.toast(_("Review of {date} saved.", date=fmt_date(scope.as_of)))
    c2.page_link("pages/review_history.py", label=_("Forecast history across reviews →"))


def _export_html() -> bytes:
    """The review as one file in the reader's language — the same file `python -m funnel review`
    writes (funnel.review): this page's figures and where each target stands. Built when clicked."""
    return ui.call_fresh(review.weekly_review_html, scope, method, lg, ui.describe_scope(scope)).encode("utf-8")


(c1 if present else c3).download_button(
    _("Export the review (HTML)"), _export_html, file_name=f"weekly-review-{scope.as_of}.html", mime="text/html",
    key="export_html", help=_("One file that opens offline; charts stay interactive."))
with st.expander(_("Weekly figures (last 12 weeks)")):
    cc = st.column_config
    # Streamlit's own money formats where one fits the currency; otherwise the amount with the
    # currency's symbol in the header.
    money_format = {"USD": "dollar", "EUR": "euro", "JPY": "yen", "CNY": "yen"}.get(cur)
    symbol = fmt.currency_symbol(cur, lg)

    def money_column(label: str):
        return cc.NumberColumn(label if money_format else _("{label} ({currency})", label=label, currency=symbol),
                               format=money_format or "localized")

    shown = kpis.assign(week=[export.week_label(e, lg) for e in kpis["week_end"]])
    ui.dataframe(shown, hide_index=True, width="stretch", column_order=[
        "week", "new_leads", "mqls", "sqls", "rejected", "rejection_rate", "pipeline_created", "won_amount", "won_deals"],
        column_config={"week": cc.TextColumn(_("Week")), "new_leads": cc.NumberColumn(_("New leads"), format="localized"),
                       "mqls": cc.NumberColumn(_("MQLs"), format="localized"),
                       "sqls": cc.NumberColumn(_("SQLs"), format="localized"),
                       "rejected": cc.NumberColumn(_("Rejected"), format="localized"),
                       "rejection_rate": cc.NumberColumn(_("Rejection rate"), format="percent"),
                       "pipeline_created": money_column(_("Pipeline created")),
                       "won_amount": money_column(_("Won (amount at the win)")),
                       "won_deals": cc.NumberColumn(_("Deals won"), format="localized")})
    ui.download_csv(kpis, f"weekly-kpis-{scope.as_of}")
st.caption(_("Each chart's menu (top right of the chart) saves it as a PNG."))
