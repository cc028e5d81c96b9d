"""Property tests: the forecast functions against a plain pandas reading of metrics.md §4 on random
small deal histories (same-timestamp events, missing amounts and close dates, deals created after
D, reopened deals, events after D), plus the invariants the issue asks for: the waterfall adds up
from start to end, the Monte Carlo mean lies within three standard errors of the weighted amount,
and P10 ≤ P50 ≤ P90.
"""
from __future__ import annotations

import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders import build_db
from funnel import forecast, store
from funnel.query import Scope, add_months, month_start

STAGES = ["Qualify", "Discovery", "Proposal", "Negotiation", "Closed Won", "Closed Lost"]
CONFIG = {s[1]: {"position": s[2], "kind": s[3], "p": s[5]} for s in store.DEFAULT_STAGES if s[0] == "opportunity"}
OPEN = [s for s in STAGES if CONFIG[s]["kind"] == "open"]
FIRST = "Qualify"
BASE = datetime(2025, 1, 1)
SPAN_HALF_DAYS = 2 * 520            # timestamps on a 12-hour grid over ~520 days: ties happen


def _ts(k: int) -> str:
    return (BASE + timedelta(hours=12 * k)).strftime("%Y-%m-%d %H:%M")


def _day(k: int) -> str:
    return (BASE.date() + timedelta(days=k)).isoformat()


@st.composite
def histories(draw):
    n = draw(st.integers(1, 10))
    opps, events, closing_days = [], [], []
    for i in range(n):
        created = draw(st.integers(0, SPAN_HALF_DAYS - 40))
        opps.append((f"O{i}", None, _ts(created), float(draw(st.integers(1, 50)) * 1000),
                     _day(draw(st.integers(0, 560)))))
        k = created
        stage = None
        for _ in range(draw(st.integers(0, 5))):
            k += draw(st.sampled_from([0, 0, 1, 2, 3, 10, 30, 60]))   # 0 → same timestamp as before
            amount = draw(st.one_of(st.none(), st.integers(1, 60).map(lambda x: float(x * 1000))))
            close = draw(st.one_of(st.none(), st.integers(0, 560).map(_day)))
            stage = draw(st.sampled_from(STAGES))
            events.append((f"O{i}", stage, _ts(k), amount, close))
        if stage is not None and CONFIG[stage]["kind"] in ("won", "lost"):
            closing_days.append(k // 2)     # the deal ends closed: a candidate for the window's edge
    # shuffle input order across deals (event_seq is global input order)
    order = draw(st.permutations(range(len(events))))
    events = [events[j] for j in order]
    # D at random, or right at the edge of a closed deal's 365-day window
    edge = draw(st.sampled_from([None, 364, 365, 365]))
    if edge is not None and closing_days:
        as_of = BASE.date() + timedelta(days=draw(st.sampled_from(closing_days)) + edge)
    else:
        as_of = BASE.date() + timedelta(days=draw(st.integers(200, 540)))
    threshold = draw(st.sampled_from([1, 2, 3, 20]))
    return opps, events, as_of, threshold


# ---------------------------------------------------------------------------------------------
# A plain pandas reading of metrics.md §4


def _frames(opps, events):
    o = pd.DataFrame(opps, columns=["opportunity_id", "lead_id", "created_at", "amount", "close_date"])
    o["created_at"] = pd.to_datetime(o["created_at"])
    o["close_date"] = pd.to_datetime(o["close_date"]).dt.date
    e = pd.DataFrame(events, columns=["opportunity_id", "stage", "entered_at", "amount", "close_date"], dtype=object)
    e["event_seq"] = np.arange(1, len(e) + 1)
    e["entered_at"] = pd.to_datetime(e["entered_at"])
    e["amount"] = pd.to_numeric(e["amount"])
    e["close_date"] = [None if c is None or pd.isna(c) else date.fromisoformat(c) for c in e["close_date"]]
    return o, e


def pandas_state(o, e, state_end: datetime, overdue_before: date, overdue_period: date) -> pd.DataFrame:
    """Each deal existing at the moment: stage, amount, close date, furthest stage, closed_at, period."""
    rows = []
    for deal in o[o["created_at"] < state_end].itertuples():
        ev = e[(e["opportunity_id"] == deal.opportunity_id) & (e["entered_at"] < state_end)]
        ev = ev.sort_values(["entered_at", "event_seq"])
        stage = ev["stage"].iloc[-1] if len(ev) else FIRST
        amounts = ev["amount"].dropna()
        closes = [c for c in ev["close_date"] if c is not None]
        positions = [CONFIG[s]["position"] for s in ev["stage"] if CONFIG[s]["kind"] in ("open", "won")]
        kind = CONFIG[stage]["kind"]
        close = closes[-1] if closes else deal.close_date
        overdue = close < overdue_before
        rows.append({"opportunity_id": deal.opportunity_id, "stage": stage, "kind": kind,
                     "amount": float(amounts.iloc[-1]) if len(amounts) else float(deal.amount),
                     "close_date": close, "max_position": max([1, *positions]),
                     "closed_at": ev["entered_at"].iloc[-1] if kind in ("won", "lost") else None,
                     "overdue": overdue,
                     "period": overdue_period if overdue else close.replace(day=1)})
    return pd.DataFrame(rows, columns=["opportunity_id", "stage", "kind", "amount", "close_date", "max_position",
                                       "closed_at", "overdue", "period"])


def pandas_closed_counts(state: pd.DataFrame, state_end: datetime) -> dict:
    """{stage: (won, lost)} among deals whose won/lost event lies in the 365 days before state_end
    and that entered the stage or a later positioned one."""
    closed = state[state["kind"].isin(["won", "lost"])]
    closed = closed[(closed["closed_at"] >= state_end - timedelta(days=365)) & (closed["closed_at"] < state_end)]
    out = {}
    for s in OPEN:
        behind = closed[closed["max_position"] >= CONFIG[s]["position"]]
        out[s] = (int((behind["kind"] == "won").sum()), int((behind["kind"] == "lost").sum()))
    return out


def pandas_probabilities(state: pd.DataFrame, state_end: datetime, method: str, threshold: int) -> dict:
    probs = {}
    for s, (won, lost) in pandas_closed_counts(state, state_end).items():
        if method == "historical" and won + lost >= threshold:
            probs[s] = won / (won + lost)
        else:
            probs[s] = CONFIG[s]["p"]
    return probs


def pandas_weighted(o, e, as_of: date, method: str, threshold: int) -> dict:
    end = datetime.combine(as_of + timedelta(days=1), datetime.min.time())
    state = pandas_state(o, e, end, as_of, month_start(as_of))
    probs = pandas_probabilities(state, end, method, threshold)
    open_ = state[state["kind"] == "open"]
    out: dict = {}
    for r in open_.itertuples():
        key = r.period.strftime("%Y-%m")
        out[key] = out.get(key, 0.0) + r.amount * probs[r.stage]
    return out


def pandas_backtest(o, e, as_of: date, threshold: int) -> dict:
    """{(period, method): (forecast, actual)} for the 12 whole months before D's month."""
    fw = {}
    known = e[e["entered_at"] < datetime.combine(as_of + timedelta(days=1), datetime.min.time())]
    for oid, ev in known.sort_values(["entered_at", "event_seq"]).groupby("opportunity_id", sort=False):
        won = [i for i, s in enumerate(ev["stage"]) if CONFIG[s]["kind"] == "won"]
        if not won:
            continue
        upto = ev.iloc[: won[0] + 1]
        amounts = upto["amount"].dropna()
        deal = o[o["opportunity_id"] == oid].iloc[0]
        amount = float(amounts.iloc[-1]) if len(amounts) else float(deal["amount"])
        m = upto["entered_at"].iloc[-1].date().replace(day=1)
        fw[m] = fw.get(m, 0.0) + amount
    out = {}
    for k in range(12, 0, -1):
        m = add_months(month_start(as_of), -k)
        start = datetime.combine(m, datetime.min.time())
        state = pandas_state(o, e, start, m, m)
        for method in forecast.METHODS:
            probs = pandas_probabilities(state, start, method, threshold)
            open_ = state[(state["kind"] == "open") & (state["period"] == m)]
            out[(m.strftime("%Y-%m"), method)] = (float(sum(r.amount * probs[r.stage] for r in open_.itertuples())),
                                                  fw.get(m, 0.0))
    return out


# ---------------------------------------------------------------------------------------------


def _db(tmp: str, opps, events):
    return build_db(Path(tmp) / "p.duckdb", opportunities=opps,
                    opportunity_events=[(oid, s, t, a, c) for oid, s, t, a, c in events])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_state_and_weighted_forecast_match_pandas(h):
    opps, events, as_of, threshold = h
    o, e = _frames(opps, events)
    old = forecast.MIN_CLOSED_FOR_HISTORICAL
    forecast.MIN_CLOSED_FOR_HISTORICAL = threshold
    try:
        with tempfile.TemporaryDirectory() as tmp:
            con = _db(tmp, opps, events)
            scope = Scope(as_of=as_of)
            # every deal's state
            end = datetime.combine(as_of + timedelta(days=1), datetime.min.time())
            expect = pandas_state(o, e, end, as_of, month_start(as_of)).set_index("opportunity_id").sort_index()
            got = forecast.deal_states(con, scope).set_index("opportunity_id").sort_index()
            assert list(got.index) == list(expect.index)
            assert list(got["stage"]) == list(expect["stage"])
            assert list(got["amount"]) == pytest.approx(list(expect["amount"]))
            assert [pd.Timestamp(x).date() for x in got["close_date"]] == list(expect["close_date"])
            assert list(got["max_position"]) == list(expect["max_position"])
            is_open = expect["kind"] == "open"
            assert list(got["overdue"][is_open]) == list(expect["overdue"][is_open])
            # the closed deals behind each stage's historical rate
            rates = forecast.stage_win_rates(con, scope)
            counts = pandas_closed_counts(pandas_state(o, e, end, as_of, month_start(as_of)), end)
            assert {r.stage: (r.won, r.lost) for r in rates.itertuples()} == counts
            # pipeline_as_of = the open deals
            deals = forecast.pipeline_as_of(con, scope)
            assert sorted(deals["opportunity_id"]) == sorted(expect.index[expect["kind"] == "open"])
            for method in forecast.METHODS:
                wf = forecast.by_period(forecast.weighted_forecast(con, scope, method))
                got_p = {pd.Timestamp(p).strftime("%Y-%m"): v for p, v in zip(wf["period"], wf["weighted_amount"])}
                want = pandas_weighted(o, e, as_of, method, threshold)
                assert got_p.keys() == want.keys()
                for k in want:
                    assert got_p[k] == pytest.approx(want[k]), (method, k)
            con.close()
    finally:
        forecast.MIN_CLOSED_FOR_HISTORICAL = old


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_backtest_matches_pandas(h):
    opps, events, as_of, threshold = h
    o, e = _frames(opps, events)
    old = forecast.MIN_CLOSED_FOR_HISTORICAL
    forecast.MIN_CLOSED_FOR_HISTORICAL = threshold
    try:
        with tempfile.TemporaryDirectory() as tmp:
            con = _db(tmp, opps, events)
            bt = forecast.forecast_backtest(con, Scope(as_of=as_of))
            want = pandas_backtest(o, e, as_of, threshold)
            assert len(bt) == len(want) == 24
            for row in bt.itertuples():
                f, a = want[(row.period, row.method)]
                assert row.forecast == pytest.approx(f), (row.period, row.method)
                assert row.actual == pytest.approx(a), row.period
                if a:
                    assert row.error == pytest.approx((f - a) / a)
                else:
                    assert row.error is None or pd.isna(row.error)
            con.close()
    finally:
        forecast.MIN_CLOSED_FOR_HISTORICAL = old


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.integers(1, 60), st.booleans(), st.booleans())
def test_waterfall_adds_up_on_random_histories(h, days_back, weighted, with_horizon):
    opps, events, as_of, _ = h
    o, e = _frames(opps, events)
    d1 = as_of - timedelta(days=days_back)
    horizon = add_months(month_start(as_of), 2) - timedelta(days=1) if with_horizon else None
    with tempfile.TemporaryDirectory() as tmp:
        con = _db(tmp, opps, events)
        ch = forecast.pipeline_changes(con, Scope(as_of=as_of), d1, as_of, weighted=weighted, horizon_end=horizon)
        a = dict(zip(ch["step"], ch["amount"]))
        assert a["start"] + sum(a[s] for s in forecast.CHANGE_STEPS) == pytest.approx(a["end"], abs=1e-6)
        # start and end are the pipeline at each date (open amount, or weighted with the probabilities at D)
        probs = {s: CONFIG[s]["p"] for s in OPEN}

        def pipeline(d: date) -> tuple[float, int]:
            end = datetime.combine(d + timedelta(days=1), datetime.min.time())
            st_ = pandas_state(o, e, end, d, month_start(d))
            st_ = st_[st_["kind"] == "open"]
            if horizon is not None:
                st_ = st_[[p <= horizon for p in st_["period"]]]
            vals = [r.amount * (probs[r.stage] if weighted else 1.0) for r in st_.itertuples()]
            return float(sum(vals)), len(vals)

        deals = dict(zip(ch["step"], ch["deals"]))
        assert (a["start"], deals["start"]) == (pytest.approx(pipeline(d1)[0]), pipeline(d1)[1])
        assert (a["end"], deals["end"]) == (pytest.approx(pipeline(as_of)[0]), pipeline(as_of)[1])
        assert a["won"] <= 1e-9 and a["lost"] <= 1e-9 and a["new"] >= -1e-9
        con.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(1, 200_000), st.sampled_from([0.0, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0]),
                          st.integers(0, 3)), min_size=1, max_size=40))
def test_monte_carlo_mean_and_order(deals):
    """The simulation (production seed and run count) is unbiased: its mean lies within five
    standard errors of Σ amount × p for any deal set — a bound that a correct simulation breaks
    with probability 6·10⁻⁷, so this test does not flake while hypothesis searches. The
    three-standard-error check of the issue runs on fixed data in test_forecast_golden.py and on
    the sample data below."""
    amount = np.array([d[0] / 100 for d in deals])          # cents
    p = np.array([d[1] for d in deals])
    group = np.array([d[2] for d in deals])
    runs = forecast.MC_RUNS
    sims = forecast._simulate(amount, p, group, 4, runs, forecast.MC_SEED)
    assert sims.shape == (runs, 4)
    for g in range(4):
        m = group == g
        weighted = float((amount[m] * p[m]).sum())
        s = sims[:, g]
        se = s.std(ddof=1) / np.sqrt(runs)
        # a group of sure or impossible deals has no spread: the mean is then exact
        assert abs(s.mean() - weighted) <= 5 * se + 1e-9 * max(1.0, weighted)
        p10, p50, p90 = np.percentile(s, [10, 50, 90])
        assert p10 <= p50 <= p90
        assert s.min() >= amount[m & (p >= 1)].sum() - 1e-6 and s.max() <= amount[m & (p > 0)].sum() + 1e-6


def test_monte_carlo_is_reproducible_and_independent_of_group_order():
    rng = np.random.default_rng(3)
    amount = rng.integers(1, 100, 500) * 1000.0
    p = rng.choice([0.1, 0.25, 0.5, 0.75], 500)
    group = np.sort(rng.integers(0, 5, 500))
    a = forecast._simulate(amount, p, group, 5, 2000, 11)
    b = forecast._simulate(amount, p, group, 5, 2000, 11)
    np.testing.assert_array_equal(a, b)
    # summing the per-group runs gives the one-group run with the same draws per deal
    one = forecast._simulate(amount, p, np.zeros(500, dtype=int), 1, 2000, 11)
    np.testing.assert_allclose(a.sum(axis=1), one[:, 0], rtol=1e-6)


def test_monte_carlo_on_sample_data_within_three_standard_errors(sample_db):
    con = store.connect(sample_db, read_only=True)
    try:
        for method in forecast.METHODS:
            r = forecast.forecast_ranges(con, Scope(), method)
            assert len(r) > 2
            for row in r.itertuples():
                assert row.p10 <= row.p50 <= row.p90
                assert abs(row.mean - row.weighted_amount) <= 3 * row.std_error + 1e-6, (method, row.period)
            total = r[r["period"] == "total"].iloc[0]
            assert total["weighted_amount"] == pytest.approx(r[r["period"] != "total"]["weighted_amount"].sum())
    finally:
        con.close()
