"""The weekly review as one offline HTML file — the Overview's export button and ``python -m funnel
review --html OUT`` write the same one: the week's figures, the forecast, the highlights, the funnel
and the waterfall, where each target stands, the plan for the gap and the managers' calls. Built
from the library's results and ``export.overview_html``, in ``lang`` (English by default; the
figures are the same in every language)."""
from __future__ import annotations

import pandas as pd

from datetime import datetime, timedelta

from . import conversion, export, fmt, forecast, overview, review_targets, targets
from .charts import conversion as conversion_charts
from .charts import forecast as forecast_charts
from .charts import targets as target_charts
from .i18n import gettext_for, render
from .query import Scope, resolve


def _pct(x, lang: str = "en") -> str:
    return "–" if x is None or pd.isna(x) else fmt.pct(x, lang, 0)


def _period_title(label: str, lang: str = "en") -> str:
    """'2026-06' → 'June 2026' / '2026年6月'; '2026-Q2' → 'Q2 2026' / '2026年第二季度'."""
    if lang == "en":
        return targets.period_title(label)
    p = targets.parse_period(label)
    return fmt.month(p.start, lang) if len(p.months) == 1 else fmt.quarter(p.start, lang)


def weekly_review_html(con, scope: Scope = Scope(), method: str = "configured", lang: str = "en",
                       scope_sentence: str | None = None, exported_at: datetime | None = None) -> str:
    """The weekly review as one offline file: what the Overview shows (tiles with the week-over-week
    change, won so far, the month's and quarter's weighted forecast with its range, the target
    tile, the highlights, the funnel and the pipeline waterfall, the last 12 weeks) and where each
    target stands (the targets' tiles and table, the chance-of-hitting and pace charts, the plan's
    sentence, the managers' calls). The Overview's export button and ``python -m funnel review``
    both write this, so the two files hold the same content. ``scope_sentence``: the page's own
    description of the filters (default: the as-of date)."""
    _ = gettext_for(lang)
    r = resolve(con, scope)
    scope = scope.with_(as_of=r.as_of)
    cur = fmt.currency(con)
    has_deals = con.execute("SELECT count(*) FROM opportunities").fetchone()[0] > 0

    # ---- what the Overview shows
    kpis = overview.weekly_kpis(con, scope, 12)
    notes = overview.highlights(con, scope, kpis)
    headline = overview.headline_forecast(con, scope, method) if has_deals else None
    previous = overview.previous_snapshot(con, scope)
    target_figs = review_targets.snapshot_figures(con, scope, method) if has_deals else {}
    move = review_targets.target_move(previous, target_figs)
    if move:
        notes = [move, *notes]
    was = overview.compare_with_snapshot(previous, scope.as_of, method)
    figures = [(_("Funnel"), conversion_charts.funnel_chart(conversion.stage_conversion(con, scope), compact=True,
                                                             lang=lang))]
    if has_deals:
        changes = forecast.pipeline_changes(con, scope, scope.as_of - timedelta(days=7), scope.as_of)
        figures.append((_("Open pipeline since last week"),
                        forecast_charts.waterfall_chart(changes, lang=lang, currency=cur)))

    # ---- where each target stands
    def money(x) -> str:
        return fmt.money(x, lang, cur)

    def pct(x) -> str:
        return _pct(x, lang)

    target_rows, sentences, more_figures, tables = [], [], [], []
    if has_deals:
        page = targets.targets_page(con, scope, method)
        everyone = _("Everyone")
        # The Targets page's tiles: this month, this quarter, the next quarter.
        for row in page["tiles"].itertuples():
            title = _("Target, {period}", period=_period_title(row.period, lang))
            if row.has_target:
                target_rows.append({"label": title, "value": money(row.amount),
                                    "delta": _("{won} won ({attainment}) · expected {expected} · {chance} chance of "
                                               "hitting", won=money(row.won), attainment=pct(row.attainment),
                                               expected=money(row.expected), chance=pct(row.p_hit))})
            else:
                target_rows.append({"label": title, "value": _("no target"), "delta": _("{won} won", won=money(row.won))})
        focus = page["focus"]
        if focus["has_target"]:
            plan = targets.demand_plan(targets.plan_assumptions(con, scope), focus["gap"], page["period"])
            sentences.append(render(targets.plan_messages(plan, cur), lang))
        period_title = _period_title(page["period"], lang)
        more_figures = [
            (_("Chance of hitting"), target_charts.outcome_chart(page["outcomes"], focus["amount"], focus["p_hit"],
                                                                  period_title, lang=lang, currency=cur)),
            (_("Won against the pace"), target_charts.cumulative_won_chart(page["won_by_day"], focus["amount"],
                                                                          period_title, lang=lang, currency=cur)),
            (_("Teams and owners"), target_charts.attainment_chart(page["breakdown"], lang=lang, currency=cur))]
        bd = page["breakdown"]
        tables.append((_("Targets, {period}", period=period_title), pd.DataFrame({
            _("Team / owner"): [o or everyone for o in bd["owner"]],
            _("Target"): [money(a) if h else _("no target") for a, h in zip(bd["amount"], bd["has_target"])],
            _("Won"): bd["won"].map(money), _("Attainment"): bd["attainment"].map(pct),
            _("Expected"): bd["expected"].map(money), _("Chance"): bd["p_hit"].map(pct)})))
        calls = targets.call_history(con, scope)
        if len(calls):
            tables.append((_("The manager's calls"), pd.DataFrame({
                _("Period"): [_period_title(p, lang) for p in calls["period"]],
                _("Team / owner"): [o or everyone for o in calls["owner"]],
                _("Commit"): calls["commit_amount"].map(money), _("Best case"): calls["best_case_amount"].map(money),
                _("Expected then"): calls["weighted_amount"].map(money),
                _("Simulated P50 then"): calls["p50"].map(money),
                _("Won since"): calls["actual"].map(money), _("Called by"): calls["called_by"],
                _("Note"): calls["note"]})))
    sentence = scope_sentence or _("Figures as known at the end of {date}.", date=fmt.date(r.as_of, lang))
    return export.overview_html(kpis, notes, headline, was, figures, sentence, lang=lang, currency=cur,
                                exported_at=exported_at, more_kpis=target_rows, more_sentences=sentences,
                                more_figures=more_figures, more_tables=tables)
