"""Review history: saved weekly reviews, how each month's forecast moved, and where it landed."""
from __future__ import annotations

import json

import pandas as pd
import streamlit as st

import ui
from funnel import fmt, overview, presets, review_targets, targets
from funnel.charts import overview as overview_charts
from funnel.charts import review as review_charts
from funnel.labels import readable
from i18n_ui import _, currency, fmt_date, fmt_money, fmt_pct, lang, ngettext, render

scope = ui.scope()
lg = lang()
TITLE = _("Review history")
CANNOT_SHOW = _("What this data cannot show")


def _data_notes() -> None:
    """What this data cannot show (funnel.presets.notes_for_page), under the page header."""
    with ui.guard(_("the notes on this data")):
        limits = presets.notes_for_page(ui.call(presets.limitation_findings), "review_history", lang=lg)
        if limits["notes"]:
            st.warning(f"**{CANNOT_SHOW}**\n\n" + "\n".join(f"- {ui.md(n)}" for n in limits["notes"]))


def _saved_at(ts) -> str:
    """When a review was saved: ``13 Nov 2026 09:30`` / ``2026年11月13日 09:30``."""
    t = pd.Timestamp(ts)
    return f"{fmt_date(t)} {t:%H:%M}"


def _filters(filters: dict) -> str:
    """A saved review's filters as the sidebar names them: ``Channel: Webinar / Event, Region: EMEA``."""
    return _(", ").join(_("{dimension}: {values}", dimension=_(ui.DIMENSION_LABELS[k]) if k in ui.DIMENSION_LABELS else k,
                          values=" / ".join(readable(x) for x in v))
                        for k, v in filters.items()) or _("none")


with ui.guard(_("the review history")):
    hist = ui.call(overview.forecast_history, scope)
    snaps = ui.call(overview.snapshots)
    if hist.empty:
        ui.page_header(TITLE)
        _data_notes()
        ui.empty_state(_("No saved reviews for these filters yet. On the Overview page, press "
                         "“Save this week's review”; next week's review will compare against it."))
    else:
        landed = overview.forecast_landing(hist)
        errors = pd.to_numeric(landed["error"], errors="coerce").dropna()
        finding = (_("The last forecast before each month closed was off by {error} on average.",
                     error=fmt_pct(errors.abs().mean(), 0)) if len(errors) else None)
        ui.page_header(TITLE, finding)
        _data_notes()
        ui.chart(overview_charts.forecast_history(hist, presentation=ui.presentation(), lang=lg, currency=currency()),
                 key="hist_chart")
        st.caption(_("Each line is one close month (up to two months after the latest review); each point is that "
                     "month's weighted forecast at a saved review. The diamond is what was actually won in the month "
                     "(months not over yet have none)."))
        if len(landed):
            month, last_forecast, won, error = _("Month"), _("Last forecast"), _("Actually won"), _("Error")
            show = pd.DataFrame({month: [fmt.month(pd.Timestamp(p + "-01"), lg) for p in landed["period"]],
                                 last_forecast: landed["last_forecast"].map(fmt_money).to_list(),
                                 won: landed["actual"].map(fmt_money).to_list(),
                                 error: landed["error"].map(lambda e: fmt_pct(e, 0)).to_list()})
            ui.dataframe(show, hide_index=True)
            st.caption(_("Per month that is over: the forecast of the last review saved before it ended, what was "
                         "actually won in it, and the error (forecast − won) ÷ won; negative means the forecast ran low."))
    if len(snaps):
        st.subheader(_("Saved reviews"))
        rows = []
        for r in snaps.itertuples():
            figs = json.loads(r.figures_json)
            rows.append({_("As of"): fmt_date(r.as_of), _("Saved by"): r.saved_by, _("Saved at"): _saved_at(r.saved_at),
                         _("Filters"): _filters(json.loads(r.filters_json)["filters"]),
                         _("Forecast this month"): fmt_money(figs.get("forecast_month")),
                         _("Forecast this quarter"): fmt_money(figs.get("forecast_quarter")),
                         _("MQLs"): figs.get("mqls"), _("SQLs"): figs.get("sqls")})
        table = pd.DataFrame(rows)
        latest = snaps.iloc[-1]
        st.caption(ngettext(
            "{n} saved review, for any filters; the latest is the review of {date}, saved by {who}. Each stores its "
            "as-of date, filters and headline figures; the Overview compares against the latest earlier one with the "
            "same filters.",
            "{n} saved reviews, for any filters; the latest is the review of {date}, saved by {who}. Each stores its "
            "as-of date, filters and headline figures; the Overview compares against the latest earlier one with the "
            "same filters.", len(snaps), n=len(snaps), date=fmt_date(latest["as_of"]), who=latest["saved_by"]))
        ui.dataframe(table, hide_index=True, width="stretch")
        ui.download_csv(table, "saved-reviews")

# ---- Targets across reviews, and the managers' calls against the forecast (issue #13) ----------
with ui.guard(_("the targets across reviews")):
    target_hist = review_targets.target_history(snaps, {k: list(v) for k, v in scope.filters if v})
    if len(target_hist):
        st.subheader(_("Targets across reviews"))
        ui.chart(review_charts.target_history_chart(target_hist, presentation=ui.presentation(), lang=lang()),
                 key="target_hist_chart")
        st.caption(_("At each saved review: the share of everyone's target for that month and quarter won so far "
                     "(solid) and the chance of hitting it — the share of the forecast's simulated outcomes that "
                     "reach it (dotted)."))

with ui.guard(_("the managers' calls")):
    scorecard = review_targets.call_scorecard(ui.call(targets.call_history, scope), scope.as_of)
    if len(scorecard):
        st.subheader(_("Calls against the forecast"))
        summary = review_targets.scorecard_summary(scorecard)
        if summary:
            st.markdown(render(summary["message"]))
        names = {"call": _("The call"), "forecast": _("Weighted forecast"), "p50": _("Simulated P50")}
        shown = pd.DataFrame({
            _("Period"): [review_targets.PeriodName(p).format(lang()) for p in scorecard["period"]],
            _("Owner or team"): [o or _("everyone") for o in scorecard["owner"]],
            _("Called by"): scorecard["called_by"],
            _("Called on"): [fmt_date(pd.Timestamp(t).date()) for t in scorecard["called_at"]],
            _("The call"): scorecard["call"].map(fmt_money),
            _("Weighted forecast"): scorecard["forecast"].map(fmt_money),
            _("Simulated P50"): scorecard["p50"].map(fmt_money),
            _("Won"): scorecard["actual"].map(fmt_money),
            _("Closest"): [names[c] if isinstance(c, str) else _("period not over") for c in scorecard["closest"]],
        })
        ui.dataframe(shown, hide_index=True, width="stretch")
        st.caption(_("Per period and owner, the latest call made before the period ended (the commit; the best case "
                     "where no commit was given), beside what the forecast said at that moment — won so far plus "
                     "the weighted open pipeline, and the median of the simulated outcomes — against what was won. "
                     "Calls are recorded on the Targets & plan page."))
        ui.download_csv(scorecard, "calls-against-the-forecast", key="dl_call_scorecard")
