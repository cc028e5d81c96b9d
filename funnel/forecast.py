"""Probability-weighted pipeline forecast (metrics.md §4): state as of D, win rates, ranges,
categories, week-over-week changes and the backtest.

Every figure starts from one definition of a deal's state at a moment (``sql/pipeline_state.sql``)
and one definition of the stage probabilities (``sql/stage_win_rates.sql``). A function that needs
several moments (the waterfall needs two, the backtest twelve) asks for all of them in one query,
so each public function is a single round trip to DuckDB. Each of those queries is a named file of
funnel/sql/ (open_deals, weighted_forecast, forecast_backtest, …) that reads the two definitions
through its ``-- uses:`` header; :func:`_forecast_sql` sets its moments and scope as a syntax tree.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import numpy as np
import pandas as pd

from sqlglot import exp

from . import access, audit, fmt, sqlcompose, store
from .errors import ConfigError
from .i18n import N_, Message, list_of, msg, sentences
from .query import Resolved, Scope, add_months, month_start, opportunity_scope, resolve, run

METHODS = ("configured", "historical")
METHOD_LABELS = {"configured": N_("Configured probabilities"), "historical": N_("Historical win rates")}
#: The methods' names inside a sentence (lower case in English).
METHOD_NAMES = {"configured": N_("configured probabilities"), "historical": N_("historical win rates")}
#: Below this many closed deals behind a stage, its historical rate is too noisy to use.
MIN_CLOSED_FOR_HISTORICAL = 20
HISTORY_DAYS = 365
MC_RUNS = 10_000
MC_SEED = 20261123

#: Columns of :func:`pipeline_as_of` (funnel/sql/pipeline_deals.sql lists them in this order).
DEAL_COLUMNS = ["opportunity_id", "lead_id", "account", "owner", "segment", "product", "stage", "position",
                "category", "amount", "close_date", "created_at", "overdue", "days_overdue", "period",
                "probability", "weighted_amount"]


def _midnight(d: date) -> datetime:
    return datetime.combine(d, datetime.min.time())


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ConfigError(f"Unknown forecast method '{method}'.", hint="Use 'configured' or 'historical'.")


def quarter_start(d: date) -> date:
    return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


def quarter_end(d: date) -> date:
    """The last day of ``d``'s quarter (the waterfall's optional horizon)."""
    return add_months(quarter_start(d), 3) - timedelta(days=1)


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

    @property
    def window_start(self) -> datetime:
        """Start of the 365-day window of closed deals behind the historical win rates."""
        return self.state_end - timedelta(days=HISTORY_DAYS)


# ---------------------------------------------------------------------------------------------
# Query assembly
#
# Every statement is a named query of funnel/sql/ built on pipeline_state (the deals' state at
# one or more moments) and, for the open pipeline, open_deals and stage_win_rates. A call sets
# two things on it, as syntax trees: the moments it is made at (one row of bound values each) and,
# with a dimension filter, the deals in scope. The text is generated once per query shape.

#: The columns of pipeline_state's moments relation, in order.
_MOMENT_COLUMNS = ("moment_no", "state_end", "overdue_before", "overdue_period", "window_start")


def _moments_body(n_moments: int) -> exp.Query:
    """``moments`` for ``n_moments`` moments: row i is ``(i, $mi_end, $mi_ob, $mi_op, $mi_ws)``."""
    rows = [exp.tuple_(exp.Literal.number(i), exp.cast(sqlcompose.param(f"m{i}_end"), "TIMESTAMP"),
                       exp.cast(sqlcompose.param(f"m{i}_ob"), "DATE"), exp.cast(sqlcompose.param(f"m{i}_op"), "DATE"),
                       exp.cast(sqlcompose.param(f"m{i}_ws"), "TIMESTAMP"))
            for i in range(n_moments)]
    return exp.select("*").from_(exp.values(rows, alias="_values", columns=list(_MOMENT_COLUMNS)))


def _moment_params(moments: list[_Moment]) -> dict:
    """The values :func:`_moments_body`'s placeholders bind."""
    params: dict = {}
    for i, m in enumerate(moments):
        params.update({f"m{i}_end": m.state_end, f"m{i}_ob": m.overdue_before, f"m{i}_op": m.overdue_period,
                       f"m{i}_ws": m.window_start})
    return params


def _in_scope(q: exp.Query, cte: str, filter_params: tuple, deals: str = "opportunity_scope") -> exp.Query:
    """``q`` with its CTE ``cte`` (reading deal_history ``h``) keeping only deals in scope: no join
    without a dimension filter (every deal is; the join would cost a third of the query), else
    the join to ``deals`` (the relation of the deals in scope). Changes ``q``."""
    if filter_params:
        body = sqlcompose.ctes(q)[cte]
        join = exp.Join(this=exp.to_table(deals),
                        on=exp.column("opportunity_id", deals).eq(exp.column("opportunity_id", "h")))
        body.set("joins", [join, *(body.args.get("joins") or [])])   # first, where the slot was
    return q


def _by_owner(q: exp.Select) -> exp.Select:
    """monte_carlo_deals with each deal's owner, joined from the deals in scope (same rows, same
    order): for the targets' per-owner split. Changes ``q``."""
    deal = exp.Table(this=exp.to_identifier("opportunity_scope"), alias=exp.TableAlias(this=exp.to_identifier("o")))
    q.select(exp.column("owner", "o"), copy=False)
    return q.join(deal, on=exp.column("opportunity_id", "o").eq(exp.column("opportunity_id", "d")), copy=False)


def _weighted(q: exp.Query) -> exp.Query:
    """pipeline_changes valuing each deal at its weighted amount: a stage move is worth the old
    amount times the change of probability, an amount change the change times the new
    probability. Changes ``q``."""
    j = sqlcompose.ctes(q)["j"]
    a, b = (lambda c: exp.column(c, "a")), (lambda c: exp.column(c, "b"))
    for side, value in (("v_a", a), ("v_b", b)):
        sqlcompose.replace_projection(j, side, exp.func("coalesce", value("weighted_amount"), exp.Literal.number(0)))
    sqlcompose.replace_projection(j, "stage_move", exp.Mul(
        this=a("amount"), expression=exp.paren(exp.Sub(this=b("probability"), expression=a("probability")))))
    sqlcompose.replace_projection(j, "amount_change", exp.Mul(
        this=exp.paren(exp.Sub(this=b("amount"), expression=a("amount"))), expression=b("probability")))
    return q


#: The variants of a query's shape: what changes its columns rather than its scope.
_VARIANTS = {"by_owner": _by_owner, "weighted": _weighted}


@lru_cache(maxsize=128)
def _forecast_sql(name: str, filter_params: tuple, n_moments: int, variant: str = "") -> str:
    """The text of the named forecast query for one shape: ``n_moments`` moments, the scope's
    filters (the deals in scope replace the default opportunity_scope and are joined to the
    deal states and first won events) and an optional variant (:data:`_VARIANTS`)."""
    q = sqlcompose.query(name)
    if variant:
        q = _VARIANTS[variant](q)
    q = sqlcompose.with_cte(q, "moments", _moments_body(n_moments))
    # The deals in scope replace the default opportunity_scope where a query lists deals (its uses
    # name opportunity_scope first, so it stands ahead of the deal states that join it), else go
    # in front; pipeline_state's and first_won's reads of deal_history then join them.
    if filter_params or any(t.name == "opportunity_scope" for t in q.find_all(exp.Table)):
        q = sqlcompose.with_cte(q, "opportunity_scope", opportunity_scope(filter_params))
    ctes = sqlcompose.ctes(q)
    for used, reader in (("pipeline_state", "state"), ("first_won", "won")):
        if used in ctes:
            q = _in_scope(q, reader, filter_params)
    return sqlcompose.to_sql(q, name)


def _run(con, r: Resolved, name: str, moments: list[_Moment], method: str = "configured", *,
         variant: str = "", **params) -> pd.DataFrame:
    """Run the named forecast query at ``moments`` for the scope ``r``, with the probabilities of
    ``method`` (open_deals' probability), and ``params`` for the query's own parameters."""
    _check_method(method)
    store.ensure_derived(con)
    q = _forecast_sql(name, r.filter_params, len(moments), variant)
    return run(con, q, {**r.params, **_moment_params(moments), "method": method,
                        "min_closed": MIN_CLOSED_FOR_HISTORICAL, **params})


# ---------------------------------------------------------------------------------------------
# Stage probabilities


def stage_win_rates(con, scope: Scope = Scope()) -> pd.DataFrame:
    """Per open stage: configured probability, won/lost/closed deals in the 365 days to D,
    historical rate, and the probability the historical method uses (configured when fewer than
    20 deals closed).

    Columns: stage, position, configured_probability, won, lost, closed, historical_rate,
    enough_history, historical_probability.
    """
    r = resolve(con, scope)
    df = _run(con, r, "stage_probabilities", [_Moment.as_of(r.as_of)])
    for c in ("won", "lost", "closed"):
        df[c] = df[c].astype(int)
    df["enough_history"] = df["enough_history"].astype(bool)
    return df


def save_probabilities(con, probabilities: dict[str, float], *, actor: access.Actor | None = None,
                       _action: str = "probabilities") -> None:
    """Store edited stage probabilities (fractions 0–1) for opportunity stages.

    All-or-nothing: every value is checked first; the data version is bumped so every cached
    figure recomputes with the new probabilities. Editors and admins only; the audit trail keeps
    each changed stage's probability before and after.
    """
    who = access.require(actor, "edit")
    known = {s.stage: s for s in store.stages(con, "opportunity")}
    problems, clean = [], []
    for stage, p in probabilities.items():
        if stage not in known:
            problems.append(msg("There is no opportunity stage called '{stage}'.", stage=stage))
            continue
        try:
            value = float(p)
        except (TypeError, ValueError):
            problems.append(msg("Stage '{stage}': '{value}' is not a number.", stage=stage, value=str(p)))
            continue
        if math.isnan(value) or not 0.0 <= value <= 1.0:
            problems.append(msg("Stage '{stage}': probability {value} must be between 0 and 1 (0% to 100%).",
                                stage=stage, value=str(p)))
            continue
        clean.append((value, stage))
    if problems:
        raise ConfigError(msg("The probabilities were not saved: {problems}", problems=sentences(problems)),
                          hint=msg("Enter each probability as a percentage between 0 and 100."))
    if not clean:
        return
    before = {stage: known[stage].probability for _, stage in clean}
    after = {stage: value for value, stage in clean}
    changed = sorted(s for s in after if before[s] != after[s])
    version_before = store.data_version(con)
    with store.transaction(con):
        con.executemany("UPDATE stage_config SET probability = ? WHERE funnel = 'opportunity' AND stage = ?", clean)
        store.bump_data_version(con)
        shown = (list_of([f"{s} {_pct(before[s])} → {_pct(after[s])}" for s in changed]) if changed
                 else msg("no change"))
        audit.record(con, who, _action, {"stages": changed}, {s: before[s] for s in changed},
                     {s: after[s] for s in changed},
                     summary=(msg("Reset the stage probabilities to the defaults: {changes}", changes=shown)
                              if _action == "probabilities_reset"
                              else msg("Changed stage probabilities: {changes}", changes=shown)),
                     data_version_before=version_before)


def _pct(p) -> str:
    return "–" if p is None else f"{float(p) * 100:g}%"


def default_probabilities(con) -> dict[str, float]:
    """The shipped default probability of each configured opportunity stage that has one."""
    defaults = {s[1]: s[5] for s in store.DEFAULT_STAGES if s[0] == "opportunity"}
    return {s.stage: defaults[s.stage] for s in store.stages(con, "opportunity")
            if s.stage in defaults and defaults[s.stage] is not None}


def reset_probabilities(con, *, actor: access.Actor | None = None) -> dict[str, float]:
    """Put every opportunity stage that has a shipped default back to that default probability.

    Stages the user added or renamed have no default and keep their value. Returns what was set.
    Editors and admins only (audited as ``probabilities_reset``).
    """
    who = access.require(actor, "edit")
    defaults = default_probabilities(con)
    save_probabilities(con, defaults, actor=who, _action="probabilities_reset")
    return defaults


# ---------------------------------------------------------------------------------------------
# State at D


def pipeline_as_of(con, scope: Scope = Scope(), method: str = "configured") -> pd.DataFrame:
    """Every deal open at D with its stage, amount, close date, period, probability and weight.

    ``overdue``: its close date is before D (it then counts in D's month); ``days_overdue``: by
    how many days. Sorted by close date, then amount (largest first).
    """
    r = resolve(con, scope)
    df = _run(con, r, "pipeline_deals", [_Moment.as_of(r.as_of)], method)
    df["overdue"] = df["overdue"].astype(bool)
    return df


def overdue_pipeline(con, scope: Scope = Scope()) -> dict:
    """Open deals at D whose close date is already past: ``{"deals": n, "amount": open amount}``."""
    r = resolve(con, scope)
    df = _run(con, r, "overdue_pipeline", [_Moment.as_of(r.as_of)])
    return {"deals": int(df["deals"].iloc[0]), "amount": float(df["amount"].iloc[0])}


def deal_states(con, scope: Scope = Scope()) -> pd.DataFrame:
    """Every deal existing at D (open, won or lost) with its reconstructed state."""
    r = resolve(con, scope)
    return _run(con, r, "deal_states", [_Moment.as_of(r.as_of)])


def weighted_forecast(con, scope: Scope = Scope(), method: str = "configured") -> pd.DataFrame:
    """Per close month and stage: open deals, open amount, weighted amount.

    Columns: period (first day of month), quarter (e.g. '2026-Q4'), stage, position, open_deals,
    open_amount, weighted_amount. Aggregate with :func:`by_period` / :func:`by_quarter`.
    """
    r = resolve(con, scope)
    return _run(con, r, "weighted_forecast", [_Moment.as_of(r.as_of)], method)


def by_period(wf: pd.DataFrame, key: str = "period") -> pd.DataFrame:
    """Sum a :func:`weighted_forecast` frame per period (or per quarter with key='quarter')."""
    cols = ["open_deals", "open_amount", "weighted_amount"]
    if wf.empty:
        return pd.DataFrame(columns=[key, *cols])
    return wf.groupby(key, as_index=False)[cols].sum().sort_values(key).reset_index(drop=True)


def by_quarter(wf: pd.DataFrame) -> pd.DataFrame:
    return by_period(wf, "quarter")


# ---------------------------------------------------------------------------------------------
# Ranges (Monte Carlo)


def _simulate(amount: np.ndarray, p: np.ndarray, group: np.ndarray, n_groups: int,
              runs: int = MC_RUNS, seed: int = MC_SEED, *, cells: np.ndarray | None = None,
              n_cells: int = 0):
    """Won amount per run and group (shape runs × n_groups): each deal won independently with
    its probability.

    Vectorised over blocks of deals, never a Python loop over deals. A deal is won in a run when
    a uniform 16-bit random integer is below p·2¹⁶ (p exact to 2⁻¹⁷ — a hundred times finer than
    the simulation's own noise at 10,000 runs — and eight times cheaper than drawing floats: the
    random bits are most of the time); the won amounts of each group's deals are then summed with
    one matrix-vector product per group and block. Blocks of about a million draws stay in the
    CPU cache (twice as fast as larger ones) and keep memory near 10 MB whatever the pipeline size.

    With ``cells`` (a second, finer grouping of the same deals, e.g. close month × owner, for the
    targets' chance of hitting, metrics.md §7) it returns ``(per group, per cell)``: the cells'
    sums come from the very same draws, so a cell total adds up to its group's in every run. The
    draws do not depend on ``cells``: the per-group result is identical with or without it.
    """
    amount = np.asarray(amount, dtype=np.float64)
    p = np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0)
    group = np.asarray(group, dtype=np.int64)
    totals = np.zeros((n_groups, runs), dtype=np.float64)
    cell_totals = np.zeros((n_cells, runs), dtype=np.float64) if cells is not None else None
    rng = np.random.default_rng(seed)
    # deals won in every run need no random numbers; deals never won add nothing
    sure = p >= 1.0
    if sure.any():
        totals += np.bincount(group[sure], weights=amount[sure], minlength=n_groups)[:, None]
        if cell_totals is not None:
            cell_totals += np.bincount(cells[sure], weights=amount[sure], minlength=n_cells)[:, None]
    live = (p > 0.0) & ~sure
    order = np.argsort(group[live], kind="stable")          # each group's deals become contiguous
    a = amount[live][order]
    g = group[live][order]
    c = np.asarray(cells, dtype=np.int64)[live][order] if cell_totals is not None else None
    thr = np.minimum(np.round(p[live][order] * 65536.0), 65535.0).astype(np.uint16)
    bounds = np.searchsorted(g, np.arange(n_groups + 1))
    block = max(1, 1_000_000 // max(runs, 1))
    for s in range(0, len(a), block):
        e = min(len(a), s + block)
        n = (e - s) * runs
        u = rng.bit_generator.random_raw((n + 3) // 4).view(np.uint16)[:n].reshape(e - s, runs)
        won = (u < thr[s:e, None]).view(np.uint8).astype(np.float64)
        for k in range(n_groups):
            gs, ge = max(bounds[k], s), min(bounds[k + 1], e)
            if gs < ge:
                totals[k] += a[gs:ge] @ won[gs - s:ge - s]
        if c is not None:
            # the cells present in the block (a few: one month, a handful of owners) as the rows
            # of a small amount matrix; one matrix product sums every cell over the same draws
            present, local = np.unique(c[s:e], return_inverse=True)
            weights = np.zeros((len(present), e - s))
            weights[local, np.arange(e - s)] = a[s:e]
            cell_totals[present] += weights @ won
    if cell_totals is not None:
        return totals.T, cell_totals.T
    return totals.T


def _simulated_months(con, scope: Scope, method: str, runs: int, seed: int, *, by_owner: bool = False):
    """The open deals at D and their simulated won amounts per close month, drawn once.

    Returns (resolved scope, deals frame [amount, probability, period, overdue], month starts in
    order, each deal's month index, sims runs × months). Deals are ordered by period then id, so a
    deal's draws do not depend on how months are later combined into quarters or horizons.

    With ``by_owner`` the deals frame also has ``owner`` and ``cell`` (index into a sixth item,
    the list of (month, owner) cells), and a seventh item holds the same runs' won amount per
    cell (runs × cells) — what :mod:`funnel.targets` sums into each target's chance of hitting.
    """
    r = resolve(con, scope)
    # the deals in the order their draws are made (funnel/sql/monte_carlo_deals.sql): period, then id
    deals = _run(con, r, "monte_carlo_deals", [_Moment.as_of(r.as_of)], method, variant="by_owner" if by_owner else "")
    periods = pd.to_datetime(deals["period"]).dt.date.to_numpy() if len(deals) else np.array([], dtype=object)
    months = sorted(set(periods))
    index = {m: i for i, m in enumerate(months)}
    group = np.array([index[p] for p in periods], dtype=np.int64)
    amount = deals["amount"].to_numpy(dtype=float)
    prob = deals["probability"].to_numpy(dtype=float)
    if not by_owner:
        sims = _simulate(amount, prob, group, len(months), runs, seed) if len(deals) else np.zeros((runs, 0))
        return r, deals, months, group, sims
    owners = deals["owner"].astype(object).where(deals["owner"].notna(), None).tolist()
    keys = list(zip(group.tolist(), owners))
    cell_keys = list(dict.fromkeys(keys))
    cell_index = {k: i for i, k in enumerate(cell_keys)}
    cells = np.array([cell_index[k] for k in keys], dtype=np.int64)
    deals = deals.assign(cell=cells)
    if len(deals):
        sims, cell_sims = _simulate(amount, prob, group, len(months), runs, seed, cells=cells, n_cells=len(cell_keys))
    else:
        sims, cell_sims = np.zeros((runs, 0)), np.zeros((runs, 0))
    cells_out = [(months[m], o) for m, o in cell_keys]
    return r, deals, months, group, sims, cells_out, cell_sims


def _ranges_frame(deals: pd.DataFrame, months: list[date], group: np.ndarray, sims: np.ndarray,
                  runs: int, grain: str) -> pd.DataFrame:
    cols = ["period", "open_deals", "open_amount", "weighted_amount", "mean", "p10", "p50", "p90", "std_error"]
    if deals.empty:
        return pd.DataFrame(columns=cols)
    if grain == "month":
        names = [f"{m:%Y-%m}" for m in months]
    else:
        names = [f"{m.year}-Q{(m.month - 1) // 3 + 1}" for m in months]
    labels = sorted(set(names))
    to_label = np.array([labels.index(n) for n in names], dtype=np.int64)
    # a quarter's outcome in a run is the sum of its months' outcomes in that run
    combine = np.zeros((len(months), len(labels)))
    combine[np.arange(len(months)), to_label] = 1.0
    per_label = sims @ combine if grain != "month" else sims
    per_label = np.column_stack([per_label, sims.sum(axis=1)])
    deal_label = to_label[group]
    amount = deals["amount"].to_numpy(dtype=float)
    prob = deals["probability"].to_numpy(dtype=float)
    q = np.percentile(per_label, [10, 50, 90], axis=0)
    rows = []
    for i, label in enumerate([*labels, "total"]):
        mask = deal_label == i if label != "total" else np.ones(len(deal_label), dtype=bool)
        s = per_label[:, i]
        rows.append({"period": label, "open_deals": int(mask.sum()), "open_amount": float(amount[mask].sum()),
                     "weighted_amount": float((amount[mask] * prob[mask]).sum()), "mean": float(s.mean()),
                     "p10": float(q[0, i]), "p50": float(q[1, i]), "p90": float(q[2, i]),
                     "std_error": float(s.std(ddof=1) / np.sqrt(runs)) if runs > 1 else float("nan")})
    return pd.DataFrame(rows, columns=cols)


def _headline(r: Resolved, method: str, deals: pd.DataFrame, months: list[date], group: np.ndarray,
              sims: np.ndarray, runs: int) -> dict:
    m0, q0 = month_start(r.as_of), quarter_start(r.as_of)
    q1 = add_months(q0, 3)
    out: dict = {"as_of": r.as_of, "method": method, "month_label": f"{m0:%B %Y}",
                 "quarter_label": f"Q{(q0.month - 1) // 3 + 1} {q0.year}"}
    amount = deals["amount"].to_numpy(dtype=float)
    prob = deals["probability"].to_numpy(dtype=float)
    in_month = np.array([m == m0 for m in months], dtype=bool)
    in_quarter = np.array([m < q1 for m in months], dtype=bool)   # overdue deals count in D's month
    for name, cols in (("month", in_month), ("quarter", in_quarter)):
        s = sims[:, cols].sum(axis=1) if runs else np.zeros(0)
        mask = cols[group] if len(group) else np.zeros(0, dtype=bool)
        p10, p50, p90 = np.percentile(s, [10, 50, 90]) if runs else (np.nan,) * 3
        out[name] = {"weighted": float((amount[mask] * prob[mask]).sum()), "open_amount": float(amount[mask].sum()),
                     "open_deals": int(mask.sum()), "p10": float(p10), "p50": float(p50), "p90": float(p90)}
    overdue = deals["overdue"].astype(bool).to_numpy() if len(deals) else np.zeros(0, dtype=bool)
    out["pipeline"] = {"open_amount": float(amount.sum()), "weighted": float((amount * prob).sum()),
                       "open_deals": int(len(amount))}
    out["overdue"] = {"deals": int(overdue.sum()), "amount": float(amount[overdue].sum())}
    return out


def forecast_ranges(con, scope: Scope = Scope(), method: str = "configured",
                    runs: int = MC_RUNS, seed: int = MC_SEED, grain: str = "month") -> pd.DataFrame:
    """Monte Carlo P10/P50/P90 of won amount per close month (or quarter) and for the whole horizon.

    Columns: period ('YYYY-MM', or 'YYYY-Qn' with grain='quarter', then 'total'), open_deals,
    open_amount, weighted_amount, mean, p10, p50, p90, std_error (of the mean). Deals are won
    independently with the method's probability; the same runs give every grain, so a quarter's
    range is the range of the sum of its months (ranges do not add up).
    """
    if grain not in ("month", "quarter"):
        raise ConfigError(f"Unknown grain '{grain}'.", hint="Use 'month' or 'quarter'.")
    _, deals, months, group, sims = _simulated_months(con, scope, method, runs, seed)
    return _ranges_frame(deals, months, group, sims, runs, grain)


def forecast_headline(con, scope: Scope = Scope(), method: str = "configured",
                      runs: int = MC_RUNS, seed: int = MC_SEED) -> dict:
    """The figures of the page's tiles: weighted forecast with P10/P50/P90 for D's month and D's
    quarter (open deals only; overdue deals count in D's month), the whole open pipeline, and the
    overdue deals.

    The simulation is the one of :func:`forecast_ranges` (same deals, order and seed), so the
    month's range here equals that function's row for the month, and the quarter's equals its
    quarter row.
    """
    r, deals, months, group, sims = _simulated_months(con, scope, method, runs, seed)
    return _headline(r, method, deals, months, group, sims, runs)


def forecast_outlook(con, scope: Scope = Scope(), method: str = "configured",
                     runs: int = MC_RUNS, seed: int = MC_SEED) -> dict:
    """``{"headline": forecast_headline(...), "ranges": forecast_ranges(...)}`` (monthly) from one
    simulation — what the Forecast page shows, at the cost of one of the two."""
    r, deals, months, group, sims = _simulated_months(con, scope, method, runs, seed)
    return {"headline": _headline(r, method, deals, months, group, sims, runs),
            "ranges": _ranges_frame(deals, months, group, sims, runs, "month")}


# ---------------------------------------------------------------------------------------------
# Forecast categories


def forecast_categories(con, scope: Scope = Scope()) -> pd.DataFrame:
    """Per close month from D's month on: won in the month, open amount by forecast category,
    and the roll-ups commit_total (Closed + Commit), best_case_total (Closed + Commit + Best case)
    and pipeline_total (Closed + every open deal)."""
    r = resolve(con, scope)
    df = _run(con, r, "forecast_categories", [_Moment.as_of(r.as_of)], month_start=month_start(r.as_of))
    return _rollups(df)


def _rollups(df: pd.DataFrame) -> pd.DataFrame:
    df["commit_total"] = df["closed_won"] + df["commit"]
    df["best_case_total"] = df["commit_total"] + df["best_case"]
    df["pipeline_total"] = df["best_case_total"] + df["pipeline"] + df["omitted"]
    return df


def category_rollup(con, scope: Scope = Scope()) -> pd.DataFrame:
    """The forecast categories for D's month and D's quarter, with the cumulative roll-ups.

    Rows: horizon 'month' and 'quarter' (label e.g. 'November 2026', 'Q4 2026'). Closed = deals
    won from the first day of the horizon to D (a won deal's closed_at); open deals count by the
    period of their close date (overdue deals in D's month). Columns as :func:`forecast_categories`
    plus horizon, label, start.
    """
    r = resolve(con, scope)
    m0 = month_start(r.as_of)
    q0 = quarter_start(r.as_of)
    df = _run(con, r, "category_rollup", [_Moment.as_of(r.as_of)], month_start=m0, month_end=add_months(m0, 1),
              quarter_start=q0, quarter_end=add_months(q0, 3))
    df["label"] = [f"{m0:%B %Y}" if h == "month" else f"Q{(q0.month - 1) // 3 + 1} {q0.year}" for h in df["horizon"]]
    return _rollups(df)


# ---------------------------------------------------------------------------------------------
# Week-over-week changes


CHANGE_STEPS = ("new", "advanced", "moved back", "pulled in", "pushed out", "amount up", "amount down", "won", "lost")


def pipeline_changes(con, scope: Scope, d1: date, d2: date, *, weighted: bool = False,
                     horizon_end: date | None = None, method: str = "configured") -> pd.DataFrame:
    """Waterfall of the open pipeline from the end of ``d1`` to the end of ``d2``.

    The pipeline is the open amount (or weighted amount, with ``method``'s probabilities at
    ``d2`` applied at both dates) of deals whose period (overdue deals count in that date's month)
    starts on or before ``horizon_end`` (no limit when None). Each deal's change is attributed,
    in this order, so the steps add up exactly: won / lost (its start value leaves), new (was not
    open at d1, is now: its end value), pulled in / pushed out (crossed the horizon), then for
    deals in both: the stage move at the old amount (advanced / moved back, zero unless
    weighted) and the amount change at the new probability (amount up / down).

    Columns: step, amount, deals — first row 'start', last row 'end'.
    """
    if d2 < d1:
        d1, d2 = d2, d1
    r = resolve(con, scope.with_(as_of=d2))
    df = _run(con, r, "pipeline_changes", [_Moment.as_of(d1), _Moment.as_of(d2)], method,
              variant="weighted" if weighted else "", horizon_end=horizon_end)
    order = ("start", *CHANGE_STEPS, "end")
    full = pd.DataFrame({"step": list(order)})
    df = full.merge(df, on="step", how="left").fillna({"amount": 0.0, "deals": 0})
    df["amount"] = df["amount"].astype(float)
    df["deals"] = df["deals"].astype(int)
    return df


# ---------------------------------------------------------------------------------------------
# Backtest


def forecast_backtest(con, scope: Scope = Scope(), months: int = 12) -> pd.DataFrame:
    """Forecast made at the start of each of the last ``months`` whole months before D's month,
    for deals with that period, against the amount won in it — both methods.

    At the start of month M: deal state from events before the 1st of M, a deal whose close date
    is before the 1st of M counts in M, historical rates from the 365 days before M. Actual: the
    amount (as of the won event) of deals whose first won event falls in M.

    Columns: period ('YYYY-MM'), method, forecast, actual, error ((forecast − actual) / actual,
    null when nothing was won), open_deals.
    """
    r = resolve(con, scope)
    this_month = month_start(r.as_of)
    starts = [add_months(this_month, -k) for k in range(months, 0, -1)]
    cols = ["period", "method", "forecast", "actual", "error", "open_deals"]
    if not starts:
        return pd.DataFrame(columns=cols)
    df = _run(con, r, "forecast_backtest", [_Moment.start_of_month(m) for m in starts])
    rows = []
    for row in df.itertuples():
        act = float(row.actual)
        for method in METHODS:
            fcst = float(getattr(row, method))
            rows.append({"period": pd.Timestamp(row.period).strftime("%Y-%m"), "method": method, "forecast": fcst,
                         "actual": act, "error": (fcst - act) / act if act else None,
                         "open_deals": int(row.open_deals)})
    return pd.DataFrame(rows, columns=cols)


def backtest_summary(bt: pd.DataFrame) -> pd.DataFrame:
    """Per method: months with an actual, MAPE (mean |error|) and bias (mean signed error)."""
    rows = []
    for method, g in bt.groupby("method", sort=False):
        e = pd.to_numeric(g["error"], errors="coerce").dropna()
        rows.append({"method": method, "months": int(len(e)),
                     "mape": float(e.abs().mean()) if len(e) else None,
                     "bias": float(e.mean()) if len(e) else None})
    return pd.DataFrame(rows, columns=["method", "months", "mape", "bias"])


# ---------------------------------------------------------------------------------------------
# Sentences the page shows next to the figures


@dataclass(frozen=True)
class _Points:
    """A difference of two rates in percentage points, for a message: ``27.0`` (both languages)."""
    value: float

    def format(self, lang: str) -> str:
        return fmt.number(self.value * 100, lang, 1)


def backtest_verdict_message(summary: pd.DataFrame) -> Message:
    """:func:`backtest_verdict` as a message, rendered in the reader's language by the page."""
    s = summary.dropna(subset=["mape"]) if len(summary) else summary
    if len(s) < 2:
        return (msg("No past month had won deals to compare with, so the two methods cannot be compared yet.")
                if s.empty else msg("Only one method could be scored, so the two cannot be compared yet."))
    s = s.sort_values("mape", kind="stable")
    best, other = s.iloc[0], s.iloc[1]
    months = fmt.Count(int(best["months"]))
    if abs(float(best["mape"]) - float(other["mape"])) < 0.0005:
        return msg("Over the last {months} months both methods have been about equally accurate: their forecasts "
                   "missed what was won by {mape} on average.", months=months, mape=fmt.Pct(float(best["mape"]), 1))
    return msg("Over the last {months} months, {best} have been more accurate: their forecasts missed what was "
               "actually won by {best_mape} on average, against {other_mape} for {other} — {points} percentage "
               "points closer.", months=months, best=msg(METHOD_NAMES[best["method"]]),
               other=msg(METHOD_NAMES[other["method"]]), best_mape=fmt.Pct(float(best["mape"]), 1),
               other_mape=fmt.Pct(float(other["mape"]), 1),
               points=_Points(abs(float(other["mape"]) - float(best["mape"]))))


def backtest_verdict(summary: pd.DataFrame) -> str:
    """One sentence: which method has been more accurate (lower MAPE) and by how much (English;
    :func:`backtest_verdict_message` for the reader's language)."""
    return backtest_verdict_message(summary).render("en")


def _listed(items: list[Message]) -> Message:
    """Several messages as one list (``A, B, C`` / ``A、B、C``)."""
    out = items[-1]
    for item in reversed(items[:-1]):
        out = msg("{item}, {rest}", item=item, rest=out)
    return out


def method_note_message(rates: pd.DataFrame, method: str) -> Message | None:
    """:func:`method_note` as a message, rendered in the reader's language by the page."""
    if method != "historical" or rates is None or rates.empty:
        return None
    short = rates[~rates["enough_history"].astype(bool)]
    if short.empty:
        return None
    names = _listed([msg("{stage} ({closed} closed)", stage=str(r.stage), closed=fmt.Count(int(r.closed)))
                     for r in short.itertuples()])
    return msg("Too little history for {names}: fewer than {minimum} deals that reached the stage closed in the "
               "last 365 days, so the configured probability is used there.", names=names,
               minimum=fmt.Count(MIN_CLOSED_FOR_HISTORICAL))


def method_note(rates: pd.DataFrame, method: str) -> str | None:
    """Which stages the historical method fills in with configured probabilities (too few closed
    deals), in English; :func:`method_note_message` for the reader's language."""
    note = method_note_message(rates, method)
    return None if note is None else note.render("en")
