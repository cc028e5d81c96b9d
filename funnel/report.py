"""``python -m funnel report --json``: every headline figure of metrics.md §6 in one object."""
from __future__ import annotations

import math

import pandas as pd

from . import conversion, forecast, rejections, scoring, store, targets, time_in_stage
from .query import Scope, resolve


def _num(x):
    """JSON-safe number: NaN/NA → None, numpy scalars → Python."""
    if x is None:
        return None
    try:
        if pd.isna(x):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(x, bool):
        return x
    if hasattr(x, "item"):
        x = x.item()
    if isinstance(x, float) and (math.isnan(x) or math.isinf(x)):
        return None
    return x


def _int(x):
    v = _num(x)
    return None if v is None else int(v)


def _float(x):
    v = _num(x)
    return None if v is None else float(v)


def build_report(con, scope: Scope = Scope(), *, method: str = "configured", rules=None,
                 threshold: float | None = None, outcome_stage: str = "SQL", target_rows=None) -> dict:
    """§6's object. ``target_rows`` (period, owner, amount) replace the stored targets for this run."""
    r = resolve(con, scope)
    conv = conversion.stage_conversion(con, scope)
    cohort_leads = int(conv["leads"].iloc[0]) if len(conv) else 0
    out: dict = {
        "as_of": r.as_of.isoformat(),
        "cohort": {"from": r.date_from.isoformat(), "to": r.date_to.isoformat(), "leads": cohort_leads,
                   "filters": {k: list(v) for k, v in r.filters}, "window_days": r.window_days},
    }
    out["conversion"] = [
        {"stage": row.stage, "reached": _int(row.reached), "step_rate": _float(row.step_rate),
         "overall_rate": _float(row.overall_rate), "median_days_to_reach": _float(row.median_days_to_reach)}
        for row in conv.itertuples()
    ]
    tis = []
    for funnel in time_in_stage.FUNNELS:
        for row in time_in_stage.time_in_stage(con, scope, funnel).itertuples():
            tis.append({"stage": row.stage, "funnel": funnel, "visits": _int(row.visits),
                        "completed": _int(row.completed), "censored": _int(row.censored),
                        "median_hours": _float(row.median_hours), "p90_hours": _float(row.p90_hours),
                        "km_median_hours": _float(row.km_median_hours)})
    out["time_in_stage"] = tis

    summ = rejections.rejection_summary(con, scope)
    reasons = rejections.rejections_by_reason(con, scope)
    out["rejections"] = {
        "handoff_stage": store.handoff_stage(con),
        "handoffs": summ["handoffs"], "rejected": summ["rejected"], "rejection_rate": _float(summ["rejection_rate"]),
        "resubmissions": summ["resubmissions"], "resubmitted_within_7d": summ["resubmitted_within_7d"],
        "median_resubmit_days": _float(summ["median_resubmit_days"]), "leads_with_loops": summ["leads_with_loops"],
        "by_reason": [{"reason": _num(row.reason), "rejected": _int(row.rejected)} for row in reasons.itertuples()],
    }

    if con.execute("SELECT count(*) FROM opportunities").fetchall()[0][0] == 0:
        _add_scoring(out, con, scope, rules, threshold, outcome_stage)
        _add_targets(out, con, scope, method, target_rows)
        return out  # no deals: the forecast sections do not exist for this data
    ranges = forecast.forecast_ranges(con, scope, method)
    rates = forecast.stage_win_rates(con, scope)
    periods = ranges[ranges["period"] != "total"] if len(ranges) else ranges
    total = ranges[ranges["period"] == "total"] if len(ranges) else ranges
    out["forecast"] = {
        "method": method,
        "periods": [{"period": row.period, "open_deals": _int(row.open_deals), "open_amount": _float(row.open_amount),
                     "weighted_amount": _float(row.weighted_amount), "p10": _float(row.p10), "p50": _float(row.p50),
                     "p90": _float(row.p90)} for row in periods.itertuples()],
        "total": ({"open_deals": _int(total["open_deals"].iloc[0]), "open_amount": _float(total["open_amount"].iloc[0]),
                   "weighted_amount": _float(total["weighted_amount"].iloc[0]), "p10": _float(total["p10"].iloc[0]),
                   "p50": _float(total["p50"].iloc[0]), "p90": _float(total["p90"].iloc[0])} if len(total) else None),
        "probabilities": [{"stage": row.stage, "configured": _float(row.configured_probability),
                           "historical_rate": _float(row.historical_rate), "closed_deals": _int(row.closed),
                           "used": _float(row.configured_probability if method == "configured" else row.historical_probability),
                           "enough_history": bool(row.enough_history)} for row in rates.itertuples()],
    }
    bt = forecast.forecast_backtest(con, scope)
    out["backtest"] = [{"period": row.period, "method": row.method, "forecast": _float(row.forecast),
                        "actual": _float(row.actual), "error": _float(row.error)} for row in bt.itertuples()]

    _add_scoring(out, con, scope, rules, threshold, outcome_stage)
    _add_targets(out, con, scope, method, target_rows)
    return out


_TARGET_KEYS = ("amount", "won", "open_amount", "weighted_amount", "expected", "attainment", "expected_attainment",
                "gap", "coverage", "weighted_coverage", "required_win_rate", "p_hit", "elapsed", "pace_amount", "ahead")


def _add_targets(out: dict, con, scope: Scope, method: str, target_rows) -> None:
    """§7 ``targets`` (one entry per target, by period then owner, empty owner first) and §8 ``plan``
    (each target with a gap)."""
    figs = targets.target_figures(con, scope, method, targets=target_rows)
    out["targets"] = [{"period": row.period, "owner": row.owner, "kind": row.kind,
                       "open_deals": _int(row.open_deals), "won_deals": _int(row.won_deals),
                       **{k: _float(getattr(row, k)) for k in _TARGET_KEYS}} for row in figs.itertuples()]
    plans = targets.demand_plans(con, scope, figs, method)
    out["plan"] = [{"period": p["period"], "owner": p["owner"], "gap": _float(p["gap"]),
                    "avg_won_amount": _float(p["avg_won_amount"]), "win_rate": _float(p["win_rate"]),
                    "won_deals_needed": _float(p["won_deals_needed"]),
                    "opportunities_needed": _float(p["opportunities_needed"]),
                    "needed": [{"stage": n["stage"], "needed": _float(n["needed"])} for n in p["needed"]],
                    "lead_to_won_days": _float(p["lead_to_won_days"]),
                    "leads_by": p["leads_by"].isoformat() if p["leads_by"] else None,
                    "run_rate": _float(p["run_rate"]), "reasons": p["reasons"]} for p in plans]


def _add_scoring(out: dict, con, scope: Scope, rules, threshold, outcome_stage: str) -> None:
    rule_set = rules if rules is not None else scoring.stored_rules(con)
    missing = scoring.unknown_attributes(con, rule_set)
    rule_set = scoring.applicable_rules(con, rule_set)
    thr = float(threshold) if threshold is not None else scoring.stored_threshold(con)
    ev = scoring.evaluate_scenario(con, rule_set, thr, scope, outcome_stage)
    out["scoring"] = {"threshold": thr, "outcome_stage": outcome_stage, "leads": ev["leads"], "above": ev["above"],
                      "precision": _float(ev["precision"]), "recall": _float(ev["recall"]), "auc": _float(ev["auc"]),
                      "mqls_per_week": _float(ev["mqls_per_week"])}
    if missing:
        out["scoring"]["warnings"] = [f"Rules on {', '.join(missing)} match no lead: this data has no such column."]
