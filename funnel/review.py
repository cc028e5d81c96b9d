"""``python -m funnel review --html OUT``: the weekly review as one offline HTML file, from the
command line — the week's figures, the forecast, where each target stands, the plan for the gap
and the manager's calls. Built from the library's results and ``export.review_html``, in ``lang``
(English by default; the figures are the same in every language)."""
from __future__ import annotations

import pandas as pd

from . import export, fmt, overview, targets
from .charts import targets as target_charts
from .i18n import gettext_for
from .query import Scope, resolve


def _pct(x, lang: str = "en") -> str:
    return "–" if x is None or pd.isna(x) else fmt.pct(x, lang, 0)


def _period_title(label: str, lang: str = "en") -> str:
    """'2026-06' → 'June 2026' / '2026年6月'; '2026-Q2' → 'Q2 2026' / '2026年第二季度'."""
    if lang == "en":
        return targets.period_title(label)
    p = targets.parse_period(label)
    return fmt.month(p.start, lang) if len(p.months) == 1 else fmt.quarter(p.start, lang)


def weekly_review_html(con, scope: Scope = Scope(), method: str = "configured", lang: str = "en") -> str:
    _ = gettext_for(lang)
    r = resolve(con, scope)
    scope = scope.with_(as_of=r.as_of)
    figs = overview.review_figures(con, scope, method)
    cur = fmt.currency(con)

    def money(x) -> str:
        return fmt.money(x, lang, cur)

    def pct(x) -> str:
        return _pct(x, lang)

    kpis = [{"label": _("New leads (week)"), "value": fmt.count(figs["new_leads"] or 0, lang)},
            {"label": _("MQLs (week)"), "value": fmt.count(figs["mqls"] or 0, lang)},
            {"label": _("SQLs (week)"), "value": fmt.count(figs["sqls"] or 0, lang)},
            {"label": _("Pipeline created (week)"), "value": money(figs["pipeline_created"] or 0)}]
    if "forecast_month" in figs:
        kpis.append({"label": _("Weighted forecast, this month"), "value": money(figs["forecast_month"]),
                     "delta": _("P10–P90 {low} – {high}", low=money(figs["forecast_month_p10"]),
                                high=money(figs["forecast_month_p90"]))})
    page = targets.targets_page(con, scope, method)
    for row in page["tiles"].itertuples():
        title = _("Target, {period}", period=_period_title(row.period, lang))
        if row.has_target:
            kpis.append({"label": title, "value": money(row.amount),
                         "delta": _("{won} won ({attainment}) · expected {expected} · {chance} chance of hitting",
                                    won=money(row.won), attainment=pct(row.attainment), expected=money(row.expected),
                                    chance=pct(row.p_hit))})
        else:
            kpis.append({"label": title, "value": _("no target"), "delta": _("{won} won", won=money(row.won))})
    focus = page["focus"]
    sentences = []
    if focus["has_target"]:
        # The plan sentence is written by funnel.targets, in English until the Targets page is converted.
        plan = targets.demand_plan(targets.plan_assumptions(con, scope), focus["gap"], page["period"])
        sentences.append(targets.plan_sentence(plan))
    period_title = targets.period_title(page["period"])     # inside the target charts' (English) titles
    figures = [(_("Chance of hitting"), target_charts.outcome_chart(page["outcomes"], focus["amount"], focus["p_hit"],
                                                                    period_title)),
               (_("Won against the pace"), target_charts.cumulative_won_chart(page["won_by_day"], focus["amount"],
                                                                             period_title)),
               (_("Teams and owners"), target_charts.attainment_chart(page["breakdown"]))]
    everyone = _("Everyone")
    bd = page["breakdown"]
    table = pd.DataFrame({_("Team / owner"): [o or everyone for o in bd["owner"]],
                          _("Target"): [money(a) if h else _("no target") for a, h in zip(bd["amount"], bd["has_target"])],
                          _("Won"): bd["won"].map(money), _("Attainment"): bd["attainment"].map(pct),
                          _("Expected"): bd["expected"].map(money), _("Chance"): bd["p_hit"].map(pct)})
    calls = targets.call_history(con, scope)
    tables = [(_("Targets, {period}", period=_period_title(page["period"], lang)), table)]
    if len(calls):
        tables.append((_("The manager's calls"), pd.DataFrame({
            _("Period"): [_period_title(p, lang) if lang != "en" else p for p in calls["period"]],
            _("Team / owner"): [o or everyone for o in calls["owner"]],
            _("Commit"): calls["commit_amount"].map(money), _("Best case"): calls["best_case_amount"].map(money),
            _("Expected then"): calls["weighted_amount"].map(money), _("Simulated P50 then"): calls["p50"].map(money),
            _("Won since"): calls["actual"].map(money), _("Called by"): calls["called_by"], _("Note"): calls["note"]})))
    day = fmt.date(r.as_of, lang)
    return export.review_html(_("Weekly review — week ending {date}", date=day),
                              _("Figures as known at the end of {date}.", date=day), kpis, sentences, figures, tables,
                              lang=lang)
