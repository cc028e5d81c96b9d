"""Property tests: targets (metrics.md §7) against the plain pandas reading in funnel/reference.py
on random small histories with owners and a team, and p_hit against the forecast's own runs."""
from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders import build_db
from funnel import forecast, reference, store, targets
from funnel.query import Scope, add_months, month_start
from test_forecast_property import STAGES, _day, _ts

OWNERS = ["Ann", "Bob", "Cid", None]
TEAMS = pd.DataFrame({"owner": ["Ann", "Bob"], "team": ["T1", "T1"]})
TARGET_OWNERS = ["", "Ann", "Bob", "Cid", "T1", "Zed"]


@st.composite
def histories(draw):
    n = draw(st.integers(1, 9))
    opps, events = [], []
    for i in range(n):
        created = draw(st.integers(0, 900))
        opps.append((f"O{i}", None, _ts(created), float(draw(st.integers(1, 50)) * 1000),
                     _day(draw(st.integers(0, 560))), draw(st.sampled_from(OWNERS))))
        k = created
        for _ in range(draw(st.integers(0, 5))):
            k += draw(st.sampled_from([0, 0, 1, 2, 3, 10, 30, 60]))
            amount = draw(st.one_of(st.none(), st.integers(1, 60).map(lambda x: float(x * 1000))))
            close = draw(st.one_of(st.none(), st.integers(0, 560).map(_day)))
            events.append((f"O{i}", draw(st.sampled_from(STAGES)), _ts(k), amount, close))
    order = draw(st.permutations(range(len(events))))
    events = [events[j] for j in order]
    as_of = date(2025, 1, 1) + timedelta(days=draw(st.integers(200, 500)))
    m0 = month_start(as_of)
    labels = ([targets.month_label(add_months(m0, k)) for k in range(-3, 4)]
              + [targets.quarter_label(add_months(m0, 3 * k)) for k in range(-1, 2)])
    picked = draw(st.lists(st.tuples(st.sampled_from(labels), st.sampled_from(TARGET_OWNERS)),
                           min_size=1, max_size=8, unique=True))
    rows = [{"period": p, "owner": o, "amount": float(draw(st.sampled_from([0, 1000, 20000, 60000, 150000])))}
            for p, o in picked]
    return opps, events, as_of, pd.DataFrame(rows)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.sampled_from(forecast.METHODS))
def test_target_figures_match_pandas(h, method):
    opps, events, as_of, rows = h
    with tempfile.TemporaryDirectory() as tmp:
        con = build_db(Path(tmp) / "p.duckdb", opportunities=opps, opportunity_events=events)
        targets.save_teams(con, TEAMS)
        got = targets.target_figures(con, Scope(as_of=as_of), method, targets=rows, runs=4000, seed=3)
        want = reference.target_figures(con, rows, TEAMS, as_of, method)
        con.close()
    assert list(zip(got["period"], got["owner"])) == list(zip(want["period"], want["owner"]))
    for col in ("amount", "won", "open_deals", "open_amount", "weighted_amount", "expected", "attainment",
                "expected_attainment", "gap", "coverage", "weighted_coverage", "required_win_rate", "elapsed",
                "pace_amount", "ahead"):
        for g, w in zip(got[col], want[col]):
            if w is None or (isinstance(w, float) and np.isnan(w)):
                assert g is None or pd.isna(g), col
            else:
                assert g == pytest.approx(w, rel=1e-9, abs=1e-6), col
    for g, w in zip(got["p_hit"], want["p_hit"]):
        if w is not None:
            # 4,000 runs: within 4 standard errors (+ the 2^-17 rounding of each probability)
            assert g == pytest.approx(w, abs=4 * np.sqrt(max(w * (1 - w), 1e-4) / 4000) + 1e-3)


def test_p_hit_is_the_share_of_the_forecasts_own_runs(sample_db):
    con = store.connect(sample_db, read_only=True)
    scope = Scope()
    _, deals, months, _group, sims = forecast._simulated_months(con, scope, "configured", forecast.MC_RUNS,
                                                                forecast.MC_SEED)
    ranges = forecast.forecast_ranges(con, scope).set_index("period")
    labels = [targets.month_label(m) for m in months[:3]]
    probe = targets.target_figures(con, scope, targets=pd.DataFrame({"period": labels, "owner": "", "amount": 0.0}))
    won = dict(zip(probe["period"], probe["won"]))
    # amounts at the forecast's own P50 of each month (a quarter past the cent, so no run ties it)
    rows = pd.DataFrame({"period": labels, "owner": "",
                         "amount": [won[lab] + ranges.loc[lab, "p50"] + 0.25 for lab in labels]})
    figs = targets.target_figures(con, scope, targets=rows).set_index("period")
    for k, lab in enumerate(labels):
        share = float(np.mean(won[lab] + sims[:, k] >= rows["amount"].iloc[k]))
        assert figs.loc[lab, "p_hit"] == share
        assert figs.loc[lab, "p50"] - won[lab] == pytest.approx(ranges.loc[lab, "p50"])
        assert figs.loc[lab, "p10"] - won[lab] == pytest.approx(ranges.loc[lab, "p10"])
        assert figs.loc[lab, "weighted_amount"] == pytest.approx(ranges.loc[lab, "weighted_amount"])
    con.close()
