"""Targets in the weekly review (issue #13): what a saved review keeps of the targets, what moved
since the last review, and how the managers' calls compared with the forecast once a period closed.

The figures are metrics.md §7's (``targets.target_figures``: the forecast's own Monte Carlo runs);
this module only chooses which targets the review looks at — everyone's target for the as-of
date's month and quarter, the two a weekly review asks "will we hit it?" of — and compares saved
reviews with each other and with what was won.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import pandas as pd

from . import fmt, targets
from .i18n import msg
from .query import Scope, resolve

#: The figures of a target a review stores (all JSON numbers or null).
SNAPSHOT_KEYS = ("amount", "won", "attainment", "expected", "gap", "coverage", "weighted_coverage", "p_hit",
                 "pace_amount", "ahead")

#: A move worth a highlight: the chance of hitting by at least this many points (0–1 scale) …
P_HIT_MOVE = 0.05
#: … or the coverage (open pipeline ÷ gap) by at least this much (×).
COVERAGE_MOVE = 0.1


@dataclass(frozen=True)
class PeriodName:
    """A target period as a message parameter: 'November 2026' / '2026年11月', 'Q4 2026' / '2026年第四季度'."""

    label: str

    def format(self, lang: str) -> str:
        p = targets.parse_period(self.label)
        if len(p.months) == 1:
            return pd.Timestamp(p.start).strftime("%B %Y") if lang == "en" else fmt.month(p.start, lang)
        return fmt.quarter(p.start, lang)


def review_periods(as_of: date) -> list[str]:
    """The as-of date's month and quarter: the targets a weekly review reports on."""
    return targets.tile_periods(as_of)[:2]


def snapshot_figures(con, scope: Scope = Scope(), method: str = "configured") -> dict:
    """Everyone's target for the as-of date's month and quarter, where one is stored: {period:
    {amount, won, attainment, expected, gap, coverage, weighted_coverage, p_hit, pace_amount, ahead}}
    (§7), from one Monte Carlo. Empty when neither has a target. JSON-safe: a review snapshot stores
    it under ``targets``, and the Overview's target tile is its month (:func:`month_tile`)."""
    r = resolve(con, scope)
    stored = targets.stored_targets(con)
    wanted = stored[stored["period"].isin(review_periods(r.as_of)) & (stored["owner"] == "")]
    if wanted.empty:
        return {}
    figs = targets.target_figures(con, scope.with_(as_of=r.as_of), method, targets=wanted)
    return {row["period"]: {k: (None if pd.isna(row[k]) else float(row[k])) for k in SNAPSHOT_KEYS}
            for _, row in figs.iterrows()}


def month_tile(figures: dict, as_of: date) -> dict | None:
    """The Overview's target tile: everyone's target for ``as_of``'s month from
    :func:`snapshot_figures`, with its ``period`` label; None when the month has no target."""
    label = targets.month_label(as_of)
    return {"period": label, **figures[label]} if label in figures else None


def target_move(previous: dict | None, current: dict) -> dict | None:
    """The target figure that moved most since the previous saved review, as a highlight, or None.

    ``previous`` is ``overview.previous_snapshot`` (its figures' ``targets``), ``current`` is
    :func:`snapshot_figures` now. Compared per period both hold: the chance of hitting (points)
    and the coverage (×); the largest move past :data:`P_HIT_MOVE` / :data:`COVERAGE_MOVE` wins,
    a chance move before a coverage move of the same size (it is the question the review asks).
    Keys: kind ('target'), page, text (English), message, period, figure ('p_hit' | 'coverage'),
    before, after.
    """
    if not previous or not current:
        return None
    before_all = (previous.get("figures") or {}).get("targets") or {}
    best = None
    for period, now in current.items():
        then = before_all.get(period)
        if not then:
            continue
        for figure, threshold in (("p_hit", P_HIT_MOVE), ("coverage", COVERAGE_MOVE)):
            a, b = then.get(figure), now.get(figure)
            if a is None or b is None or abs(b - a) < threshold:
                continue
            size = abs(b - a) / threshold   # in multiples of "worth saying"
            if best is None or size > best[0]:
                best = (size, period, figure, a, b)
    if best is None:
        return None
    _, period, figure, a, b = best
    since = fmt.Date(previous["as_of"])
    if figure == "p_hit":
        message = (msg("The chance of hitting the {period} target rose from {before} to {after} since the review "
                       "of {since}.", period=PeriodName(period), before=fmt.Pct(a), after=fmt.Pct(b), since=since)
                   if b > a else
                   msg("The chance of hitting the {period} target fell from {before} to {after} since the review "
                       "of {since}.", period=PeriodName(period), before=fmt.Pct(a), after=fmt.Pct(b), since=since))
    else:
        message = (msg("Pipeline coverage of the {period} gap rose from {before} to {after} since the review of "
                       "{since}.", period=PeriodName(period), before=fmt.Times(a), after=fmt.Times(b), since=since)
                   if b > a else
                   msg("Pipeline coverage of the {period} gap fell from {before} to {after} since the review of "
                       "{since}.", period=PeriodName(period), before=fmt.Times(a), after=fmt.Times(b), since=since))
    return {"kind": "target", "page": "pages/targets.py", "text": message.render("en"), "message": message,
            "period": period, "figure": figure, "before": a, "after": b}


def target_history(snapshots: pd.DataFrame, filters: dict | None = None) -> pd.DataFrame:
    """Everyone's month and quarter targets week by week, from saved reviews with ``filters``
    (``{column: [values]}``, default none): one row per review and period. Columns: as_of,
    period, horizon ('month' | 'quarter'), amount, attainment, p_hit. ``snapshots`` is
    ``overview.snapshots(con)``."""
    want = json.dumps(filters or {}, sort_keys=True)
    rows = []
    for snap in snapshots.itertuples(index=False):
        if json.dumps(json.loads(snap.filters_json).get("filters", {}), sort_keys=True) != want:
            continue
        as_of = pd.Timestamp(snap.as_of).date()
        month, quarter = review_periods(as_of)
        for period, figs in (json.loads(snap.figures_json).get("targets") or {}).items():
            rows.append({"as_of": as_of, "period": period, "horizon": "month" if period == month else "quarter",
                         "amount": figs.get("amount"), "attainment": figs.get("attainment"), "p_hit": figs.get("p_hit")})
    columns = ["as_of", "period", "horizon", "amount", "attainment", "p_hit"]
    return pd.DataFrame(rows, columns=columns).sort_values(["horizon", "as_of"], kind="stable").reset_index(drop=True)


SCORECARD_COLUMNS = ["period", "owner", "called_by", "called_at", "call", "forecast", "p50", "actual", "finished",
                     "call_error", "forecast_error", "p50_error", "closest"]


def call_scorecard(calls: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Per period and owner, the latest call made before the period ended (as-of date on or before
    its last day), beside the expected
    amount (won + weighted) and the Monte Carlo P50 the forecast gave at that moment, against what
    was won (``actual``, as known at ``as_of``). ``calls`` is ``targets.call_history``.

    ``call`` is the commit amount (the best case where no commit was given). For a period that is
    over (``finished``), each ``*_error`` is (figure − actual) ÷ actual (None when nothing was won)
    and ``closest`` names the nearest of 'call', 'forecast', 'p50' (the first of them on a tie);
    for a period still running they are None, and ``actual`` is what is won so far. Newest period
    first."""
    if calls.empty:
        return pd.DataFrame(columns=SCORECARD_COLUMNS)
    df = calls.copy()
    df["end"] = [targets.parse_period(p).end for p in df["period"]]
    # A call made when the data already ran past the period's end is no forecast of it. The call's
    # moment is its as-of date (what the forecast beside it saw), not the wall clock.
    df = df[pd.to_datetime(df["as_of"]).dt.date <= df["end"]]
    if df.empty:
        return pd.DataFrame(columns=SCORECARD_COLUMNS)
    df = (df.sort_values(["called_at", "call_id"]).groupby(["period", "owner"], sort=False).tail(1))
    out = pd.DataFrame({
        "period": df["period"], "owner": df["owner"], "called_by": df["called_by"], "called_at": df["called_at"],
        "call": df["commit_amount"].where(df["commit_amount"].notna(), df["best_case_amount"]).astype(float),
        "forecast": df["weighted_amount"].astype(float), "p50": df["p50"].astype(float),
        "actual": df["actual"].astype(float), "finished": df["end"] <= as_of})
    # object columns: None (not NaN) where a period is still running
    for figure in ("call", "forecast", "p50"):
        out[f"{figure}_error"] = pd.Series([((f - a) / a) if done and a else None
                                            for f, a, done in zip(out[figure], out["actual"], out["finished"])],
                                           index=out.index, dtype=object)
    out["closest"] = pd.Series([min(("call", "forecast", "p50"), key=lambda k: abs(row[k] - row["actual"]))
                                if row["finished"] else None for _, row in out.iterrows()], index=out.index, dtype=object)
    return out.sort_values(["period", "owner"], ascending=[False, True]).reset_index(drop=True)[SCORECARD_COLUMNS]


def scorecard_summary(scorecard: pd.DataFrame) -> dict | None:
    """Over the finished periods: how many each figure called closest, and each one's mean absolute
    error (of those with something won). None without a finished period. Keys: periods, closest
    ({'call': n, 'forecast': n, 'p50': n}), mean_abs_error ({same keys: float or None}), message."""
    done = scorecard[scorecard["finished"].astype(bool)] if len(scorecard) else scorecard
    if done.empty:
        return None
    closest = {k: int((done["closest"] == k).sum()) for k in ("call", "forecast", "p50")}
    mae = {}
    for k in ("call", "forecast", "p50"):
        errors = pd.to_numeric(done[f"{k}_error"], errors="coerce").dropna()
        mae[k] = float(errors.abs().mean()) if len(errors) else None
    n = len(done)
    message = msg("Over {n} closed calls: the manager's call was closest {call} times, the weighted forecast "
                  "{forecast} times and the simulated P50 {p50} times.", n=fmt.Count(n), call=fmt.Count(closest["call"]),
                  forecast=fmt.Count(closest["forecast"]), p50=fmt.Count(closest["p50"]))
    return {"periods": n, "closest": closest, "mean_abs_error": mae, "message": message}
