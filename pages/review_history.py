"""Review history: saved weekly reviews, how each month's forecast moved, and where it landed."""
from __future__ import annotations

import json

import pandas as pd
import streamlit as st

import ui
from funnel import overview, presets
from funnel.charts import overview as overview_charts
from funnel.labels import readable

scope = ui.scope()


def _data_notes() -> None:
    """What this data cannot show (funnel.presets.notes_for_page), under the page header."""
    with ui.guard("the notes on this data"):
        limits = presets.notes_for_page(ui.call(presets.limitation_findings), "review_history")
        if limits["notes"]:
            st.warning("**What this data cannot show**\n\n" + "\n".join(f"- {ui.md(n)}" for n in limits["notes"]))


with ui.guard("the review history"):
    hist = ui.call(overview.forecast_history, scope)
    snaps = ui.call(overview.snapshots)
    if hist.empty:
        ui.page_header("Review history")
        _data_notes()
        ui.empty_state("No saved reviews for these filters yet. On the Overview page, press "
                       "“Save this week's review”; next week's review will compare against it.")
    else:
        landed = overview.forecast_landing(hist)
        errors = pd.to_numeric(landed["error"], errors="coerce").dropna()
        finding = (f"The last forecast before each month closed was off by {errors.abs().mean():.0%} on average."
                   if len(errors) else None)
        ui.page_header("Review history", finding)
        _data_notes()
        ui.chart(overview_charts.forecast_history(hist, presentation=ui.presentation()), key="hist_chart")
        st.caption("Each line is one close month (up to two months after the latest review); each point is that "
                   "month's weighted forecast at a saved review. The diamond is what was actually won in the month "
                   "(months not over yet have none).")
        if len(landed):
            show = landed.assign(**{"Last forecast": landed["last_forecast"].map(ui.fmt_money),
                                    "Actually won": landed["actual"].map(ui.fmt_money),
                                    "Error": landed["error"].map(lambda e: ui.fmt_pct(e, 0))})
            show["Month"] = [pd.Timestamp(p + "-01").strftime("%b %Y") for p in show["period"]]
            st.dataframe(show[["Month", "Last forecast", "Actually won", "Error"]], hide_index=True)
            st.caption("Per month that is over: the forecast of the last review saved before it ended, what was "
                       "actually won in it, and the error (forecast − won) ÷ won; negative means the forecast ran low.")
    if len(snaps):
        st.subheader("Saved reviews")
        rows = []
        for r in snaps.itertuples():
            figs = json.loads(r.figures_json)
            filters = json.loads(r.filters_json)["filters"]
            rows.append({"As of": ui.fmt_date(r.as_of), "Saved by": r.saved_by,
                         "Saved at": pd.Timestamp(r.saved_at).strftime("%d %b %Y %H:%M"),
                         "Filters": ", ".join(f"{ui.DIMENSION_LABELS.get(k, k)}: {' / '.join(readable(x) for x in v)}"
                                              for k, v in filters.items()) or "none",
                         "Forecast this month": ui.fmt_money(figs.get("forecast_month")),
                         "Forecast this quarter": ui.fmt_money(figs.get("forecast_quarter")),
                         "MQLs": figs.get("mqls"), "SQLs": figs.get("sqls")})
        table = pd.DataFrame(rows)
        latest = snaps.iloc[-1]
        st.caption(f"{len(snaps)} saved review{'s' if len(snaps) != 1 else ''}, for any filters; the latest is the "
                   f"review of {ui.fmt_date(latest['as_of'])}, saved by {latest['saved_by']}. Each stores its as-of "
                   "date, filters and headline figures; the Overview compares against the latest earlier one with "
                   "the same filters.")
        st.dataframe(table, hide_index=True, width="stretch")
        ui.download_csv(table, "saved-reviews")
