"""``python -m funnel review --html OUT``: the weekly review as one offline HTML file, from the
command line — the week's figures, the forecast, where each target stands, the plan for the gap
and the manager's calls. Built from the library's results and ``export.review_html``."""
from __future__ import annotations

import pandas as pd

from . import export, labels, overview, targets
from .charts import targets as target_charts
from .query import Scope, resolve


def _pct(x) -> str:
    return "–" if x is None or pd.isna(x) else f"{float(x) * 100:.0f}%"


def weekly_review_html(con, scope: Scope = Scope(), method: str = "configured") -> str:
    r = resolve(con, scope)
    scope = scope.with_(as_of=r.as_of)
    figs = overview.review_figures(con, scope, method)
    money = labels.money
    kpis = [{"label": "New leads (week)", "value": f"{figs['new_leads'] or 0:,}"},
            {"label": "MQLs (week)", "value": f"{figs['mqls'] or 0:,}"},
            {"label": "SQLs (week)", "value": f"{figs['sqls'] or 0:,}"},
            {"label": "Pipeline created (week)", "value": money(figs["pipeline_created"] or 0)}]
    if "forecast_month" in figs:
        kpis.append({"label": "Weighted forecast, this month", "value": money(figs["forecast_month"]),
                     "delta": f"P10–P90 {money(figs['forecast_month_p10'])} – {money(figs['forecast_month_p90'])}"})
    page = targets.targets_page(con, scope, method)
    for row in page["tiles"].itertuples():
        title = f"Target, {targets.period_title(row.period)}"
        if row.has_target:
            kpis.append({"label": title, "value": money(row.amount),
                         "delta": f"{money(row.won)} won ({_pct(row.attainment)}) · expected {money(row.expected)} · "
                                  f"{_pct(row.p_hit)} chance of hitting"})
        else:
            kpis.append({"label": title, "value": "no target", "delta": f"{money(row.won)} won"})
    focus = page["focus"]
    sentences = []
    if focus["has_target"]:
        plan = targets.demand_plan(targets.plan_assumptions(con, scope), focus["gap"], page["period"])
        sentences.append(targets.plan_sentence(plan))
    period_title = targets.period_title(page["period"])
    figures = [("Chance of hitting", target_charts.outcome_chart(page["outcomes"], focus["amount"], focus["p_hit"],
                                                                 period_title)),
               ("Won against the pace", target_charts.cumulative_won_chart(page["won_by_day"], focus["amount"],
                                                                          period_title)),
               ("Teams and owners", target_charts.attainment_chart(page["breakdown"]))]
    bd = page["breakdown"]
    table = pd.DataFrame({"Team / owner": [o or "Everyone" for o in bd["owner"]],
                          "Target": [money(a) if h else "no target" for a, h in zip(bd["amount"], bd["has_target"])],
                          "Won": bd["won"].map(money), "Attainment": bd["attainment"].map(_pct),
                          "Expected": bd["expected"].map(money), "Chance": bd["p_hit"].map(_pct)})
    calls = targets.call_history(con, scope)
    tables = [(f"Targets, {period_title}", table)]
    if len(calls):
        tables.append(("The manager's calls", pd.DataFrame({
            "Period": calls["period"], "Team / owner": [o or "Everyone" for o in calls["owner"]],
            "Commit": calls["commit_amount"].map(money), "Best case": calls["best_case_amount"].map(money),
            "Expected then": calls["weighted_amount"].map(money), "Simulated P50 then": calls["p50"].map(money),
            "Won since": calls["actual"].map(money), "Called by": calls["called_by"], "Note": calls["note"]})))
    return export.review_html(f"Weekly review — week ending {r.as_of:%d %b %Y}",
                              f"Figures as known at the end of {r.as_of:%d %b %Y}.", kpis, sentences, figures, tables)
