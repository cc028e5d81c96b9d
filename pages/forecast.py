"""Forecast: what will we book this month and quarter, how sure are we, what changed since last
week, and how good have these forecasts been (metrics.md §4)."""
from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

import ui
from funnel import fmt, forecast, i18n, presets
from funnel.charts import forecast as charts
from i18n_ui import _, currency, fmt_date, fmt_int, fmt_money, fmt_pct, lang, ngettext, render

EDITOR_KEY = "forecast_probabilities"
CLEAR_EDITOR = "_forecast_probabilities_saved"

scope = ui.scope()
present = ui.presentation()
lg = lang()
cur = currency()
TITLE = _("Forecast")
facts = ui.data_facts()

if facts["as_of"] is None:
    ui.page_header(TITLE)
    ui.empty_state(_("There is no data yet. Import your CRM export on the Data page, or reset to the sample data "
                     "there."))
    st.stop()

if not facts.get("opportunities"):
    ui.page_header(TITLE, _("The forecast needs deal data: this database holds leads but no opportunities."))
    ui.empty_state(_(
        "To forecast, import two more files on the Data page: **opportunities** (one row per deal: "
        "opportunity_id, created_at, amount, close_date) and **opportunity_events** (its stage history: "
        "opportunity_id, stage, entered_at, and optionally amount and close_date as of each change). "
        "From the command line: `python -m funnel import --opportunities opportunities.csv "
        "--opportunity-events opportunity_events.csv`. A Salesforce OpportunityHistory export has this shape."))
    st.stop()


def month_name(d) -> str:
    """The as-of month as the headline names it ('November 2026' / '2026年11月')."""
    return headline["month_label"] if lg == "en" else fmt.month(d, lg)


def quarter_name(d) -> str:
    return headline["quarter_label"] if lg == "en" else fmt.quarter(d, lg)


#: Money columns of the tables: exact amounts with the database currency's symbol.
MONEY_FORMAT = "dollar" if lg == "en" and cur == "USD" else fmt.currency_symbol(cur, lg) + "%,.0f"

# The header's finding depends on the method chosen below, so it is filled in last.
header = st.container()

# ---- Method and probabilities ----------------------------------------------------------------


# The method is the session's (ui.forecast_method: the link's, else the last choice on any page,
# else configured), so the Overview and Targets & plan show the same forecast as this page.
if ui.K_METHOD not in st.session_state:        # arriving on the page: the session's (or the link's) method
    st.session_state[ui.K_METHOD] = ui.forecast_method()
method = st.segmented_control(
    _("Probabilities from"), list(forecast.METHODS), format_func=lambda m: _(forecast.METHOD_LABELS[m]),
    required=True, key=ui.K_METHOD,
    help=_("Configured: the probability set for each stage (editable below). Historical: the share of deals won "
           "among those that reached the stage and closed in the last 365 days.")) or "configured"
ui.remember_method(method)

rates = None
with ui.guard(_("the stage probabilities")):
    rates = ui.call(forecast.stage_win_rates, scope)

note = forecast.method_note_message(rates, method) if rates is not None else None
if note:
    st.info(ui.md(render(note)))

headline, rollup, outlook = None, None, None
runs = fmt.count(forecast.MC_RUNS, lg)
with ui.guard(_("the forecast figures")), st.spinner(_("Simulating {runs} outcomes…", runs=runs)):
    outlook = ui.call(forecast.forecast_outlook, scope, method)   # the tiles' and the ranges' one simulation
    headline = outlook["headline"]
    rollup = ui.call(forecast.category_rollup, scope)

if headline:
    m, q, pipe, late = headline["month"], headline["quarter"], headline["pipeline"], headline["overdue"]
    won = dict(zip(rollup["horizon"], rollup["closed_won"])) if rollup is not None else {}
    won_m, won_q = float(won.get("month", 0.0)), float(won.get("quarter", 0.0))
    finding = _("Weighted forecast: {weighted} still to close in {month} (likely {low}–{high}) and {quarter_weighted} "
                "in {quarter}, on top of {won} already won this quarter.", weighted=fmt_money(m["weighted"]),
                month=month_name(headline["as_of"]), low=fmt_money(m["p10"]), high=fmt_money(m["p90"]),
                quarter_weighted=fmt_money(q["weighted"]), quarter=quarter_name(headline["as_of"]),
                won=fmt_money(won_q))
else:
    finding = None
with header:
    ui.page_header(TITLE, finding)
    st.caption(_("The forecast covers every deal open at the as-of date, whatever its lead's creation date; "
                 "the sidebar's channel, segment, region and owner filters apply through each deal's lead."))
    with ui.guard(_("the notes on this data")):  # what this data cannot show (funnel.presets.notes_for_page)
        limits = presets.notes_for_page(ui.call(presets.limitation_findings), "forecast", lang=lg)
        if limits["notes"]:
            st.warning(f"**{_('What this data cannot show')}**\n\n" + "\n".join(f"- {ui.md(n)}" for n in limits["notes"]))

if headline:
    c = st.columns(4)
    range_help = _("Weighted forecast: Σ open amount × stage probability for deals whose close date falls in the "
                   "period (overdue deals count in this month). The range is the 10th–90th percentile of {runs} "
                   "simulated outcomes in which each deal is won independently with its probability.", runs=runs)
    short_month = pd.Timestamp(scope.as_of).strftime("%b %Y") if lg == "en" else fmt.month(scope.as_of, lg)
    for col, period, fig, won in ((c[0], short_month, m, won_m), (c[1], quarter_name(scope.as_of), q, won_q)):
        col.metric(_("Forecast, {period}", period=period), fmt_money(fig["weighted"]), border=True, help=range_help)
        col.caption(ngettext("P10–P90 **{low} – {high}** · {n} open deal · {won} already won",
                             "P10–P90 **{low} – {high}** · {n} open deals · {won} already won", fig["open_deals"],
                             low=fmt_money(fig["p10"]), high=fmt_money(fig["p90"]), n=fmt_int(fig["open_deals"]),
                             won=fmt_money(won)))
    c[2].metric(_("Open pipeline"), fmt_money(pipe["open_amount"]), border=True,
                help=_("Amount of every deal open at the as-of date, whatever its close date."))
    c[2].caption(ngettext("{n} deal · weighted {weighted}", "{n} deals · weighted {weighted}", pipe["open_deals"],
                          n=fmt_int(pipe["open_deals"]), weighted=fmt_money(pipe["weighted"])))
    c[3].metric(_("Deals overdue"), fmt_int(late["deals"]), border=True,
                help=_("Open deals whose expected close date is already past; they count in this month's forecast."))
    c[3].caption(_("{amount} with a close date before {date}", amount=fmt_money(late["amount"]),
                   date=fmt_date(scope.as_of)))

# ---- Stage probabilities (editable) ------------------------------------------------------------
st.subheader(_("Stage probabilities"))
if rates is not None and len(rates):
    table = pd.DataFrame({
        "stage": rates["stage"],
        "configured": (rates["configured_probability"] * 100).round(2),
        "historical": (rates["historical_rate"] * 100).round(1),
        "closed": rates["closed"],
        "enough": rates["enough_history"],
    })
    config = {
        "stage": st.column_config.TextColumn(_("Stage")),
        "configured": st.column_config.NumberColumn(_("Probability %"), min_value=0.0, max_value=100.0, step=0.5,
                                                    format="%.1f %%",
                                                    help=_("Chance a deal in this stage is won; used by the "
                                                           "configured method.")),
        "historical": st.column_config.NumberColumn(_("Historical win rate %"), format="%.1f %%",
                                                    help=_("Won ÷ (won + lost) among deals that reached this stage "
                                                           "and closed in the 365 days to the as-of date.")),
        "closed": st.column_config.NumberColumn(_("Closed deals behind it"), format="%d"),
        "enough": st.column_config.CheckboxColumn(_("Enough history"),
                                                  help=_("At least {n} closed deals; otherwise the historical method "
                                                         "uses the configured probability.",
                                                         n=forecast.MIN_CLOSED_FOR_HISTORICAL)),
    }
    if present or not ui.can("edit"):   # viewers see the probabilities, with no control to change them
        ui.dataframe(table, hide_index=True, column_config=config, width="stretch")
    else:
        if st.session_state.pop(CLEAR_EDITOR, False):
            st.session_state.pop(EDITOR_KEY, None)  # the saved values are now the editor's base data
        edited = ui.data_editor(table, key=EDITOR_KEY, hide_index=True, width="stretch", column_config=config,
                                disabled=["stage", "historical", "closed", "enough"])
        changes = {s: float(new) / 100 for s, old, new in zip(table["stage"], table["configured"], edited["configured"])
                   if pd.notna(new) and (pd.isna(old) or abs(float(new) - float(old)) > 1e-9)}
        b1, b2, _spare = st.columns([1, 1, 2])
        adoptable = {r.stage: float(r.historical_rate) for r in rates.itertuples() if r.enough_history}
        adopt = b1.button(_("Adopt historical rates"), key="adopt_historical", disabled=not adoptable,
                          help=_("Copy the historical win rate into the configured probability of every stage with "
                                 "enough history."))
        reset = b2.button(_("Reset to defaults"), key="reset_probabilities",
                          help=_("Put every stage back to the shipped default probability (10% / 25% / 50% / 75%)."))
        action, payload = None, None
        if changes:
            action, payload = "edit", changes
        if adopt:
            action, payload = "adopt", adoptable
        if reset:
            action = "reset"
        if action:
            saved = False
            with ui.guard(_("saving the probabilities")):
                with ui.writer() as w:
                    if action == "reset":
                        forecast.reset_probabilities(w, actor=ui.current_actor())
                    else:
                        forecast.save_probabilities(w, payload, actor=ui.current_actor())
                saved = True
            if saved:
                ui.after_write()
                st.session_state[CLEAR_EDITOR] = True
                st.toast({"edit": _("Probabilities saved: every figure now uses them."),
                          "adopt": _("Historical win rates adopted as the configured probabilities."),
                          "reset": _("Probabilities reset to the defaults.")}[action])
                st.rerun()
    st.caption(_("Edits are saved at once and every figure on this page (and the Overview) recomputes with them. "
                 "The historical rate is shown beside each stage with the number of closed deals behind it."))

# ---- Weighted forecast by month and quarter --------------------------------------------------
st.subheader(_("What we expect to book"))
left, right = st.columns(2)
with ui.guard(_("the weighted forecast")):
    wf = ui.call(forecast.weighted_forecast, scope, method)
    with left:
        ui.chart(charts.forecast_by_period_chart(wf, "month", presentation=present, lang=lg, currency=cur),
                 key="fc_by_month")
        st.caption(_("Each bar: Σ amount × stage probability of the open deals closing that month, split by stage. "
                     "Overdue deals count in the as-of month."))
    with right:
        ui.chart(charts.forecast_by_period_chart(wf, "quarter", presentation=present, lang=lg, currency=cur),
                 key="fc_by_quarter")
        st.caption(_("The same weighted amounts summed per calendar quarter."))

# ---- How sure are we -------------------------------------------------------------------------
st.subheader(_("How sure we are"))
left, right = st.columns(2)
with left, ui.guard(_("the forecast ranges")):
    if outlook:   # else the simulation's error is already shown above
        ui.chart(charts.ranges_chart(outlook["ranges"], presentation=present, lang=lg, currency=cur), key="fc_ranges")
    st.caption(_("{runs} simulated outcomes (fixed seed), each deal won independently with its probability: the bar "
                 "spans the 10th to 90th percentile of the won amount, the tick is the median, ◆ the weighted amount "
                 "(the average outcome).", runs=runs))
with right, ui.guard(_("the forecast categories")):
    ui.chart(charts.category_chart(rollup, presentation=present, lang=lg, currency=cur), key="fc_categories")
    st.caption(_("Closed: won so far in the period. Commit, Best case and Pipeline add the open amount of deals in "
                 "stages of that forecast category (set on the Stage settings page), each on top of the previous."))

# ---- What changed since last week ------------------------------------------------------------
st.subheader(_("What changed since last week"))
d2 = scope.as_of
d1 = d2 - timedelta(days=7)
t1, t2 = st.columns(2)
ui.restore_choice("fc_wf_weighted", False, parse=ui.parse_flag)
ui.restore_choice("fc_wf_horizon", False, parse=ui.parse_flag)
weighted = t1.toggle(_("Weighted by probability"), key="fc_wf_weighted",
                     help=_("Show the change of the weighted pipeline instead of the open amount."))
to_quarter = t2.toggle(_("Only deals closing by the end of this quarter"), key="fc_wf_horizon",
                       help=_("Limit the pipeline to deals whose close month is in this quarter or earlier; deals "
                              "moving across that line show as pulled in / pushed out."))
ui.keep_choice("fc_wf_weighted", weighted, False)
ui.keep_choice("fc_wf_horizon", to_quarter, False)
with ui.guard(_("the pipeline waterfall")):
    horizon = forecast.quarter_end(d2) if to_quarter else None
    changes = ui.call(forecast.pipeline_changes, scope, d1, d2, weighted=weighted, horizon_end=horizon, method=method)
    fig = charts.waterfall_chart(changes, presentation=present, weighted=weighted,
                                 start_label=_("Start ({day})", day=fmt.day_month(d1, lg)),
                                 end_label=_("End ({day})", day=fmt.day_month(d2, lg)), lang=lg, currency=cur)
    ui.chart(fig, key="fc_waterfall")
    span = (_("Open pipeline at the end of {start} → end of {end}, deals closing by {horizon}.", start=fmt_date(d1),
              end=fmt_date(d2), horizon=fmt_date(horizon)) if horizon else
            _("Open pipeline at the end of {start} → end of {end}.", start=fmt_date(d1), end=fmt_date(d2)))
    order = (_("Each deal's change is counted once, in this order: won or lost (its old value leaves), new, pulled "
               "in / pushed out across the horizon, stage moves (old amount × change in probability), then amount "
               "changes. The steps add up exactly from start to end.") if weighted else
             _("Each deal's change is counted once, in this order: won or lost (its old value leaves), new, pulled "
               "in / pushed out across the horizon, stage moves (no change in open amount), then amount changes. "
               "The steps add up exactly from start to end."))
    st.caption(i18n.SENTENCE_SEPARATORS.get(lg, " ").join([span, order]))

# ---- Backtest --------------------------------------------------------------------------------
st.subheader(_("How good our forecasts have been"))
with ui.guard(_("the backtest")), st.spinner(_("Replaying the last 12 months…")):
    bt = ui.call(forecast.forecast_backtest, scope)
    summary = forecast.backtest_summary(bt)
    verdict = forecast.backtest_verdict_message(summary)
    st.markdown(f"**{ui.md(render(verdict))}**")
    ui.chart(charts.backtest_chart(bt, presentation=present, lang=lg, currency=cur), key="fc_backtest")
    st.caption(_("For each of the last 12 whole months: the weighted forecast made on its first day (deal states and "
                 "historical rates as known then, overdue deals counting in that month) against the amount of deals "
                 "first won in it. Average miss (MAPE) = mean of |forecast − actual| ÷ actual; bias = mean of "
                 "(forecast − actual) ÷ actual, positive when the forecast ran high."))
    with st.expander(_("Backtest figures")):
        table = pd.DataFrame({
            "method": [_(forecast.METHOD_LABELS[m_]) for m_ in summary["method"]],
            "months": summary["months"],
            "mape": [fmt_pct(v) for v in summary["mape"]],
            "bias": [fmt_pct(v) for v in summary["bias"]],
        })
        ui.dataframe(table, hide_index=True, column_config={
            "method": st.column_config.TextColumn(_("Method")),
            "months": st.column_config.NumberColumn(_("Months compared")),
            "mape": st.column_config.TextColumn(_("Average miss (MAPE)")),
            "bias": st.column_config.TextColumn(_("Bias"))})
        months = bt.assign(period=[charts.period_label(p + "-01", lg) for p in bt["period"]],
                           method=[_(forecast.METHOD_LABELS[m_]) for m_ in bt["method"]])
        ui.dataframe(months, hide_index=True, width="stretch", column_config={
            "period": st.column_config.TextColumn(_("Month")),
            "method": st.column_config.TextColumn(_("Method")),
            "forecast": st.column_config.NumberColumn(_("Forecast"), format=MONEY_FORMAT),
            "actual": st.column_config.NumberColumn(_("Won"), format=MONEY_FORMAT),
            "error": st.column_config.NumberColumn(_("Error"), format="percent"),
            "open_deals": st.column_config.NumberColumn(_("Open deals"))})
        ui.download_csv(bt, f"forecast-backtest-{scope.as_of}")

# ---- Deal table ------------------------------------------------------------------------------
st.subheader(_("Open deals"))
with ui.guard(_("the deal table")):
    deals = ui.call(forecast.pipeline_as_of, scope, method)
    if deals.empty:
        ui.empty_state(_("No deal is open at this date — pick a later as-of date or widen the filters."))
    else:
        ui.restore_choice("fc_only_overdue", False, parse=ui.parse_flag)
        only_late = st.toggle(_("Only overdue deals ({n})", n=fmt_int(int(deals["overdue"].sum()))),
                              key="fc_only_overdue")
        ui.keep_choice("fc_only_overdue", only_late, False)
        view = deals[deals["overdue"]] if only_late else deals
        # "⚠ 12 days late" around each deal's count, built once for the whole column (65k deals at 5M leads)
        late_before, late_after = _("⚠ {days} days late", days="\0").split("\0")
        periods = pd.to_datetime(view["period"])
        month_names = {p: (p.strftime("%b %Y") if lg == "en" else fmt.month(p, lg)) for p in periods.unique()}
        shown = pd.DataFrame({
            "Deal": view["opportunity_id"],
            "Account": view["account"],
            "Owner": view["owner"],
            "Stage": view["stage"],
            "Amount": view["amount"],
            "Close date": pd.to_datetime(view["close_date"]).dt.date,
            # vectorised: this table lists every open deal (65k at 5M leads)
            "Overdue": (late_before + view["days_overdue"].fillna(0).astype(int).astype(str) + late_after).where(
                view["overdue"].astype(bool), ""),
            "Counts in": periods.map(month_names),
            "Probability": view["probability"],
            "Weighted amount": view["weighted_amount"],
        })
        # The frame keeps its English column names (the CSV's header); the screen names them in the language.
        ui.dataframe(shown, hide_index=True, width="stretch", height=420, column_config={
            "Deal": st.column_config.TextColumn(_("Deal")),
            "Account": st.column_config.TextColumn(_("Account")),
            "Owner": st.column_config.TextColumn(_("Owner")),
            "Stage": st.column_config.TextColumn(_("Stage")),
            "Amount": st.column_config.NumberColumn(_("Amount"), format=MONEY_FORMAT),
            "Close date": st.column_config.DateColumn(_("Close date"),
                                                      format="YYYY年M月D日" if lg == "zh" else None),
            "Overdue": st.column_config.TextColumn(_("Overdue")),
            "Counts in": st.column_config.TextColumn(_("Counts in")),
            "Probability": st.column_config.NumberColumn(_("Probability"), format="percent"),
            "Weighted amount": st.column_config.NumberColumn(_("Weighted amount"), format=MONEY_FORMAT),
        })
        st.caption(_("Click a column header to sort. Overdue: the expected close date is before the as-of date, so "
                     "the deal counts in this month's forecast until someone updates it. Weighted amount = amount × "
                     "the stage probability of the chosen method."))
        ui.download_csv(shown, f"open-deals-{scope.as_of}", label=_("Download these deals (CSV)"))
