"""Probability-weighted pipeline forecast (metrics.md §4): state as of D, win rates, ranges,
categories, week-over-week changes and the backtest."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from . import store
from .errors import ConfigError
from .query import Resolved, Scope, add_months, month_start, resolve, run, sql

METHODS = ("configured", "historical")
#: Below this many closed deals behind a stage, its historical rate is too noisy to use.
MIN_CLOSED_FOR_HISTORICAL = 20
HISTORY_DAYS = 365
MC_RUNS = 10_000
MC_SEED = 20261123


def _midnight(d: date) -> datetime:
    return datetime.combine(d, datetime.min.time())


def _opps_cte(r: Resolved) -> str:
    base = "SELECT o.* FROM opportunities o"
    if r.has_dimension_filter:
        return (f"opps AS ({base} JOIN leads l ON l.lead_id = o.lead_id "
                f"WHERE o.created_at < $state_end AND {r.dimension_where})")
    return f"opps AS ({base} WHERE o.created_at < $state_end)"


def _state_sql(r: Resolved) -> str:
    return sql("pipeline_state").replace("{opps}", _opps_cte(r))


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ConfigError(f"Unknown forecast method '{method}'.", hint="Use 'configured' or 'historical'.")


@dataclass(frozen=True)
class _Moment:
    """A forecast made at ``state_end`` (exclusive): D+1 midnight normally, the 1st of M in a backtest."""

    state_end: datetime
    overdue_before: date      # an open deal closing before this date is overdue …
    overdue_period: date      # … and counts in this month

    @classmethod
    def as_of(cls, d: date) -> "_Moment":
        return cls(_midnight(d + timedelta(days=1)), d, month_start(d))

    @classmethod
    def start_of_month(cls, m: date) -> "_Moment":
        return cls(_midnight(m), m, m)


def _params(r: Resolved, at: _Moment) -> dict:
    return {**r.params, "state_end": at.state_end, "overdue_before": at.overdue_before,
            "overdue_period": at.overdue_period,
            "window_start": at.state_end - timedelta(days=HISTORY_DAYS)}


def _win_rates(con, r: Resolved, at: _Moment) -> pd.DataFrame:
    q = f"""
    WITH st AS ({_state_sql(r)}),
    stages AS (SELECT stage, position, probability FROM stage_config
               WHERE funnel = 'opportunity' AND position IS NOT NULL AND kind = 'open'),
    closed AS (SELECT * FROM st WHERE kind IN ('won', 'lost')
               AND closed_at >= $window_start AND closed_at < $state_end)
    SELECT s.stage, s.position, s.probability AS configured_probability,
           count(c.opportunity_id) FILTER (WHERE c.kind = 'won') AS won,
           count(c.opportunity_id) FILTER (WHERE c.kind = 'lost') AS lost,
           count(c.opportunity_id) AS closed
    FROM stages s LEFT JOIN closed c ON c.max_position >= s.position
    GROUP BY s.stage, s.position, s.probability ORDER BY s.position
    """
    df = run(con, q, _params(r, at))
    df["historical_rate"] = np.where(df["closed"] > 0, df["won"] / df["closed"].where(df["closed"] > 0, 1), np.nan)
    enough = df["closed"] >= MIN_CLOSED_FOR_HISTORICAL
    df["enough_history"] = enough
    df["historical_probability"] = np.where(enough, df["historical_rate"], df["configured_probability"])
    return df


def stage_win_rates(con, scope: Scope = Scope()) -> pd.DataFrame:
    """Per open stage: configured probability, won/lost/closed deals in the 365 days to D,
    historical rate, and the probability the historical method uses (configured when fewer than
    20 deals closed)."""
    r = resolve(con, scope)
    return _win_rates(con, r, _Moment.as_of(r.as_of))


def _probabilities(con, r: Resolved, at: _Moment, method: str) -> dict[str, float]:
    _check_method(method)
    rates = _win_rates(con, r, at)
    col = "configured_probability" if method == "configured" else "historical_probability"
    return {s: (0.0 if pd.isna(p) else float(p)) for s, p in zip(rates["stage"], rates[col])}


def _open_deals_sql(r: Resolved, probs: dict[str, float]) -> tuple[str, dict]:
    """SQL of the open deals with period and probability; the probabilities are bound values."""
    params: dict = {}
    rows = []
    for i, (stage, p) in enumerate(probs.items()):
        params[f"ps{i}"], params[f"pp{i}"] = stage, p
        rows.append(f"($ps{i}, CAST($pp{i} AS DOUBLE))")
    values = ", ".join(rows) if rows else "(NULL, NULL)"
    q = f"""
    WITH st AS ({_state_sql(r)}),
    probs(stage, p) AS (VALUES {values})
    SELECT st.opportunity_id, st.lead_id, st.account, st.owner, st.segment, st.product, st.stage,
           st.position, st.category, st.amount, st.close_date, st.created_at,
           st.close_date < $overdue_before AS overdue,
           CASE WHEN st.close_date < $overdue_before THEN $overdue_period
                ELSE date_trunc('month', st.close_date) END AS period,
           coalesce(probs.p, 0.0) AS probability,
           st.amount * coalesce(probs.p, 0.0) AS weighted_amount
    FROM st LEFT JOIN probs ON probs.stage = st.stage
    WHERE st.kind = 'open'
    """
    return q, params


def pipeline_as_of(con, scope: Scope = Scope(), method: str = "configured") -> pd.DataFrame:
    """Every deal open at D with its stage, amount, close date, period, probability and weight."""
    r = resolve(con, scope)
    at = _Moment.as_of(r.as_of)
    q, p = _open_deals_sql(r, _probabilities(con, r, at, method))
    return run(con, q + " ORDER BY st.close_date, st.amount DESC", {**_params(r, at), **p})


def deal_states(con, scope: Scope = Scope()) -> pd.DataFrame:
    """Every deal existing at D (open, won or lost) with its reconstructed state."""
    r = resolve(con, scope)
    return run(con, _state_sql(r), _params(r, _Moment.as_of(r.as_of)))


def weighted_forecast(con, scope: Scope = Scope(), method: str = "configured") -> pd.DataFrame:
    """Per close month and stage: open deals, open amount, weighted amount.

    Columns: period (first day of month), quarter (e.g. '2026-Q4'), stage, position, open_deals,
    open_amount, weighted_amount. Aggregate with :func:`by_period` / :func:`by_quarter`.
    """
    r = resolve(con, scope)
    at = _Moment.as_of(r.as_of)
    q, p = _open_deals_sql(r, _probabilities(con, r, at, method))
    q = f"""WITH d AS ({q})
    SELECT period, CAST(year(period) AS VARCHAR) || '-Q' || CAST(quarter(period) AS VARCHAR) AS quarter,
           stage, position, count(*) AS open_deals, sum(amount) AS open_amount, sum(weighted_amount) AS weighted_amount
    FROM d GROUP BY 1, 2, 3, 4 ORDER BY 1, 4"""
    return run(con, q, {**_params(r, at), **p})


def by_period(wf: pd.DataFrame, key: str = "period") -> pd.DataFrame:
    """Sum a :func:`weighted_forecast` frame per period (or per quarter with key='quarter')."""
    cols = ["open_deals", "open_amount", "weighted_amount"]
    if wf.empty:
        return pd.DataFrame(columns=[key, *cols])
    return wf.groupby(key, as_index=False)[cols].sum().sort_values(key).reset_index(drop=True)


def _simulate(amount: np.ndarray, p: np.ndarray, group: np.ndarray, n_groups: int,
              runs: int, seed: int) -> np.ndarray:
    """Won amount per run and group: each deal won independently with its probability.

    Vectorised in chunks of deals: a (runs × chunk) Bernoulli matrix times a (chunk × groups)
    amount matrix, so memory stays ~50 MB whatever the pipeline size.
    """
    rng = np.random.default_rng(seed)
    totals = np.zeros((runs, n_groups), dtype=np.float64)
    chunk = max(1, 4_000_000 // max(runs, 1))
    for start in range(0, len(amount), chunk):
        a = amount[start:start + chunk]
        won = rng.random((runs, len(a)), dtype=np.float32) < p[start:start + chunk].astype(np.float32)
        onehot = np.zeros((len(a), n_groups), dtype=np.float64)
        onehot[np.arange(len(a)), group[start:start + chunk]] = a
        totals += won.astype(np.float64) @ onehot
    return totals


def forecast_ranges(con, scope: Scope = Scope(), method: str = "configured",
                    runs: int = MC_RUNS, seed: int = MC_SEED) -> pd.DataFrame:
    """Monte Carlo P10/P50/P90 of won amount per close month and for the whole horizon.

    Columns: period ('YYYY-MM' or 'total'), open_deals, open_amount, weighted_amount, mean, p10,
    p50, p90, std_error (of the mean). Deals are won independently with the method's probability.
    """
    r = resolve(con, scope)
    at = _Moment.as_of(r.as_of)
    q, p = _open_deals_sql(r, _probabilities(con, r, at, method))
    deals = run(con, f"SELECT amount, probability, period FROM ({q}) d ORDER BY period, opportunity_id",
                {**_params(r, at), **p})
    cols = ["period", "open_deals", "open_amount", "weighted_amount", "mean", "p10", "p50", "p90", "std_error"]
    if deals.empty:
        return pd.DataFrame(columns=cols)
    periods = sorted(deals["period"].unique())
    index = {pd.Timestamp(x): i for i, x in enumerate(periods)}
    group = deals["period"].map(lambda x: index[pd.Timestamp(x)]).to_numpy()
    amount = deals["amount"].to_numpy(dtype=float)
    prob = deals["probability"].to_numpy(dtype=float)
    sims = _simulate(amount, prob, group, len(periods), runs, seed)
    sims = np.column_stack([sims, sims.sum(axis=1)])
    rows = []
    labels = [pd.Timestamp(x).strftime("%Y-%m") for x in periods] + ["total"]
    for i, label in enumerate(labels):
        mask = group == i if label != "total" else np.ones(len(group), dtype=bool)
        s = sims[:, i]
        p10, p50, p90 = np.percentile(s, [10, 50, 90])
        rows.append({"period": label, "open_deals": int(mask.sum()), "open_amount": float(amount[mask].sum()),
                     "weighted_amount": float((amount[mask] * prob[mask]).sum()), "mean": float(s.mean()),
                     "p10": float(p10), "p50": float(p50), "p90": float(p90),
                     "std_error": float(s.std(ddof=1) / np.sqrt(runs))})
    return pd.DataFrame(rows, columns=cols)


def forecast_categories(con, scope: Scope = Scope()) -> pd.DataFrame:
    """Per close month: won in the month, open amount by forecast category, and the roll-ups
    commit_total (Closed + Commit), best_case_total (Closed + Commit + Best case) and
    pipeline_total (Closed + every open deal)."""
    r = resolve(con, scope)
    at = _Moment.as_of(r.as_of)
    q, p = _open_deals_sql(r, _probabilities(con, r, at, "configured"))
    q = f"""
    WITH d AS ({q}), st AS ({_state_sql(r)}),
    open_cat AS (
        SELECT period,
               sum(amount) FILTER (WHERE category = 'commit') AS commit,
               sum(amount) FILTER (WHERE category = 'best_case') AS best_case,
               sum(amount) FILTER (WHERE category = 'pipeline' OR category IS NULL) AS pipeline,
               sum(amount) FILTER (WHERE category = 'omitted') AS omitted
        FROM d GROUP BY period
    ),
    won AS (SELECT date_trunc('month', closed_at) AS period, sum(amount) AS closed_won
            FROM st WHERE kind = 'won' GROUP BY 1)
    SELECT coalesce(o.period, w.period) AS period,
           coalesce(w.closed_won, 0) AS closed_won, coalesce(o.commit, 0) AS commit,
           coalesce(o.best_case, 0) AS best_case, coalesce(o.pipeline, 0) AS pipeline,
           coalesce(o.omitted, 0) AS omitted
    FROM open_cat o FULL OUTER JOIN won w ON w.period = o.period
    WHERE coalesce(o.period, w.period) >= $overdue_period
    ORDER BY period
    """
    df = run(con, q, {**_params(r, at), **p})
    df["commit_total"] = df["closed_won"] + df["commit"]
    df["best_case_total"] = df["commit_total"] + df["best_case"]
    df["pipeline_total"] = df["best_case_total"] + df["pipeline"] + df["omitted"]
    return df


CHANGE_STEPS = ("new", "advanced", "moved back", "pulled in", "pushed out", "amount up", "amount down", "won", "lost")


def pipeline_changes(con, scope: Scope, d1: date, d2: date, *, weighted: bool = False,
                     horizon_end: date | None = None) -> pd.DataFrame:
    """Waterfall of the open pipeline from the end of ``d1`` to the end of ``d2``.

    The pipeline is the open amount (or weighted amount, configured probabilities) of deals whose
    period (overdue deals count in the as-of month) ends on or before ``horizon_end`` (no limit
    when None). Each deal's change is attributed, in this order, so the steps add up exactly:
    won / lost (its start value leaves), new (was not in the pipeline, now is: its end value),
    pulled in / pushed out (crossed the horizon), then for deals in both: the stage move at the
    old amount (advanced / moved back, zero unless weighted) and the amount change at the new
    probability (amount up / down).

    Columns: step, amount, deals — first row 'start', last row 'end'.
    """
    if d2 < d1:
        d1, d2 = d2, d1
    r = resolve(con, scope.with_(as_of=d2))
    probs = _probabilities(con, r, _Moment.as_of(d2), "configured")
    parts = []
    for tag, d in (("a", d1), ("b", d2)):
        at = _Moment.as_of(d)
        q, p = _open_deals_sql(r, probs)
        params = {**_params(r, at), **p}
        renamed = {k: v for k, v in params.items()}
        q2 = q
        for k in ("state_end", "overdue_before", "overdue_period", "window_start"):
            q2 = q2.replace(f"${k}", f"${k}_{tag}")
            renamed[f"{k}_{tag}"] = renamed.pop(k)
        parts.append((q2, renamed))
    st_b = _state_sql(r).replace("$state_end", "$state_end_b")
    params = {**parts[0][1], **parts[1][1]}
    value = "weighted_amount" if weighted else "amount"
    q = f"""
    WITH a AS ({parts[0][0]}), b AS ({parts[1][0]}), sb AS ({st_b}),
    j AS (
        SELECT coalesce(a.opportunity_id, b.opportunity_id) AS opportunity_id,
               a.opportunity_id IS NOT NULL AND a.period <= coalesce($horizon_end, a.period) AS in_a,
               b.opportunity_id IS NOT NULL AND b.period <= coalesce($horizon_end, b.period) AS in_b,
               a.opportunity_id IS NOT NULL AS open_a, b.opportunity_id IS NOT NULL AS open_b,
               coalesce(a.{value}, 0) AS v_a, coalesce(b.{value}, 0) AS v_b,
               a.amount AS amt_a, b.amount AS amt_b, a.probability AS p_a, b.probability AS p_b,
               a.position AS pos_a, b.position AS pos_b, sb.kind AS kind_b
        FROM a FULL OUTER JOIN b ON a.opportunity_id = b.opportunity_id
        LEFT JOIN sb ON sb.opportunity_id = coalesce(a.opportunity_id, b.opportunity_id)
    ),
    steps AS (
        SELECT 'won' AS step, -v_a AS amount FROM j WHERE in_a AND NOT open_b AND kind_b = 'won'
        UNION ALL SELECT 'lost', -v_a FROM j WHERE in_a AND NOT open_b AND coalesce(kind_b, 'lost') <> 'won'
        UNION ALL SELECT 'new', v_b FROM j WHERE in_b AND NOT open_a
        UNION ALL SELECT 'pulled in', v_b FROM j WHERE in_b AND open_a AND NOT in_a
        UNION ALL SELECT 'pushed out', -v_a FROM j WHERE in_a AND open_b AND NOT in_b
        UNION ALL SELECT CASE WHEN pos_b > pos_a THEN 'advanced' ELSE 'moved back' END,
                         {'amt_a * (p_b - p_a)' if weighted else '0.0'}
                  FROM j WHERE in_a AND in_b AND pos_b <> pos_a
        UNION ALL SELECT CASE WHEN amt_b > amt_a THEN 'amount up' ELSE 'amount down' END,
                         {'(amt_b - amt_a) * p_b' if weighted else 'amt_b - amt_a'}
                  FROM j WHERE in_a AND in_b AND amt_b <> amt_a
    )
    SELECT 'start' AS step, (SELECT coalesce(sum(v_a), 0) FROM j WHERE in_a) AS amount,
           (SELECT count(*) FROM j WHERE in_a) AS deals
    UNION ALL
    SELECT step, sum(amount), count(*) FROM steps GROUP BY step
    UNION ALL
    SELECT 'end', (SELECT coalesce(sum(v_b), 0) FROM j WHERE in_b), (SELECT count(*) FROM j WHERE in_b)
    """
    params["horizon_end"] = horizon_end
    df = run(con, q.replace("$horizon_end", "CAST($horizon_end AS DATE)"), params)
    order = {s: i for i, s in enumerate(("start", *CHANGE_STEPS, "end"))}
    full = pd.DataFrame({"step": list(order)})
    df = full.merge(df, on="step", how="left").fillna({"amount": 0.0, "deals": 0})
    df["deals"] = df["deals"].astype(int)
    return df


def forecast_backtest(con, scope: Scope = Scope(), months: int = 12) -> pd.DataFrame:
    """Forecast made at the start of each of the last ``months`` whole months before D's month,
    for deals with that period, against the amount won in it — both methods.

    Columns: period ('YYYY-MM'), method, forecast, actual, error ((forecast − actual) / actual,
    null when nothing was won), open_deals.
    """
    r = resolve(con, scope)
    this_month = month_start(r.as_of)
    actual = _actual_won_by_month(con, r)
    rows = []
    for k in range(months, 0, -1):
        m = add_months(this_month, -k)
        at = _Moment.start_of_month(m)
        for method in METHODS:
            q, p = _open_deals_sql(r, _probabilities(con, r, at, method))
            res = run(con, f"SELECT count(*) AS n, coalesce(sum(weighted_amount), 0) AS f FROM ({q}) d WHERE period = $m",
                      {**_params(r, at), **p, "m": m})
            fc = float(res["f"].iloc[0])
            act = float(actual.get(m, 0.0))
            rows.append({"period": m.strftime("%Y-%m"), "method": method, "forecast": fc, "actual": act,
                         "error": (fc - act) / act if act else None, "open_deals": int(res["n"].iloc[0])})
    return pd.DataFrame(rows, columns=["period", "method", "forecast", "actual", "error", "open_deals"])


def _actual_won_by_month(con, r: Resolved) -> dict[date, float]:
    """Amount (as of the won event) of deals per month of their first won event."""
    q = f"""
    WITH {_opps_cte(r)},
    ev AS (SELECT e.*, s.kind FROM opportunity_events e JOIN opps o ON o.opportunity_id = e.opportunity_id
           JOIN stage_config s ON s.funnel = 'opportunity' AND s.stage = e.stage
           WHERE e.entered_at < $state_end),
    won_ranked AS (SELECT opportunity_id, entered_at, event_seq,
                          row_number() OVER (PARTITION BY opportunity_id ORDER BY entered_at, event_seq) AS rn
                   FROM ev WHERE kind = 'won'),
    first_won AS (SELECT opportunity_id, entered_at AS won_at, event_seq AS won_seq FROM won_ranked WHERE rn = 1),
    amt AS (
        SELECT w.opportunity_id, w.won_at,
               arg_max(e.amount, (e.entered_at, e.event_seq)) FILTER (WHERE e.amount IS NOT NULL) AS amount
        FROM first_won w JOIN ev e ON e.opportunity_id = w.opportunity_id
             AND (e.entered_at < w.won_at OR (e.entered_at = w.won_at AND e.event_seq <= w.won_seq))
        GROUP BY w.opportunity_id, w.won_at
    )
    SELECT date_trunc('month', a.won_at) AS month, sum(coalesce(a.amount, o.amount)) AS actual
    FROM amt a JOIN opportunities o ON o.opportunity_id = a.opportunity_id
    GROUP BY 1
    """
    df = run(con, q, {**r.params, "state_end": _midnight(r.as_of + timedelta(days=1))})
    return {pd.Timestamp(m).date(): float(v) for m, v in zip(df["month"], df["actual"])}


def backtest_summary(bt: pd.DataFrame) -> pd.DataFrame:
    """Per method: months with an actual, MAPE (mean |error|) and bias (mean signed error)."""
    rows = []
    for method, g in bt.groupby("method", sort=False):
        e = pd.to_numeric(g["error"], errors="coerce").dropna()
        rows.append({"method": method, "months": int(len(e)),
                     "mape": float(e.abs().mean()) if len(e) else None,
                     "bias": float(e.mean()) if len(e) else None})
    return pd.DataFrame(rows, columns=["method", "months", "mape", "bias"])
