"""Review history: saved weekly reviews, how each month's forecast moved, and where it landed."""
from __future__ import annotations

import json

import pandas as pd
import streamlit as st

import ui
from funnel import overview
from funnel.charts import overview as overview_charts

scope = ui.scope()
with ui.guard("the review history"):
    hist = ui.call(overview.forecast_history, scope)
    snaps = ui.call(overview.snapshots)
    if hist.empty:
        ui.page_header("Review history")
        ui.empty_state("No saved reviews for these filters yet. On the Overview page, press "
                       "“Save this week's review”; next week's review will compare against it.")
    else:
        landed = overview.forecast_landing(hist)
        errors = pd.to_numeric(landed["error"], errors="coerce").dropna()
        finding = (f"The last forecast before each month closed was off by {errors.abs().mean():.0%} on average."
                   if len(errors) else None)
        ui.page_header("Review history", finding)
        ui.chart(overview_charts.forecast_history(hist, presentation=ui.presentation()), key="hist_chart")
        st.caption("Each line is one close month; each point is that month's weighted forecast at a saved review. "
                   "The diamond is what was actually won in the month (months not over yet have none).")
        if len(landed):
            show = landed.assign(**{"Last forecast": landed["last_forecast"].map(ui.fmt_money),
                                    "Actually won": landed["actual"].map(ui.fmt_money),
                                    "Error": landed["error"].map(lambda e: ui.fmt_pct(e, 0))})
            st.dataframe(show[["period", "Last forecast", "Actually won", "Error"]].rename(columns={"period": "Month"}),
                         hide_index=True)
    if len(snaps):
        st.subheader("Saved reviews")
        rows = []
        for r in snaps.itertuples():
            figs = json.loads(r.figures_json)
            rows.append({"As of": r.as_of, "Saved by": r.saved_by, "Saved at": r.saved_at,
                         "Filters": ", ".join(f"{k}: {'/'.join(v)}" for k, v in json.loads(r.filters_json)["filters"].items()) or "none",
                         "Forecast this month": ui.fmt_money(figs.get("forecast_month")),
                         "Forecast this quarter": ui.fmt_money(figs.get("forecast_quarter")),
                         "MQLs": figs.get("mqls"), "SQLs": figs.get("sqls")})
        table = pd.DataFrame(rows)
        st.dataframe(table, hide_index=True, width="stretch")
        ui.download_csv(table, "saved-reviews")
