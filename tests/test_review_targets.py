"""Targets in the weekly review (issue #13): the target tile on the Overview, the highlight when the
chance of hitting or the coverage moved since the last review, snapshots that keep the target
figures, and Review history's targets chart and calls-against-the-forecast table."""
from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from conftest import assert_clean, run_app
from funnel import i18n, overview, review_targets, store, targets, versions
from funnel.query import Scope

D = date(2026, 11, 20)            # the sample's as-of date


# ---- the figures a review keeps ------------------------------------------------------------------


def test_snapshot_figures_are_the_section_7_figures_of_everyones_month_and_quarter(sample_db):
    con = store.connect(sample_db)
    try:
        figs = review_targets.snapshot_figures(con, Scope())
        stored = targets.stored_targets(con)
        want = targets.target_figures(con, Scope(as_of=D), "configured",
                                      targets=stored[stored["period"].isin(["2026-11", "2026-Q4"]) & (stored["owner"] == "")])
    finally:
        con.close()
    assert sorted(figs) == ["2026-11", "2026-Q4"]
    for row in want.itertuples():
        for key in review_targets.SNAPSHOT_KEYS:
            assert figs[row.period][key] == pytest.approx(getattr(row, key), nan_ok=True), (row.period, key)
    tile = review_targets.month_tile(figs, D)
    assert tile["period"] == "2026-11" and tile["amount"] == figs["2026-11"]["amount"]


def test_a_saved_review_stores_the_target_figures(sample_copy):
    with versions.writing(sample_copy, "test: save a review") as con:
        figs = overview.review_figures(con, Scope(as_of=date(2026, 11, 13)))
        overview.save_snapshot(con, Scope(as_of=date(2026, 11, 13)), figs)
        snaps = overview.snapshots(con)
    assert set(figs["targets"]) == {"2026-11", "2026-Q4"}
    hist = review_targets.target_history(snaps)
    assert list(hist["horizon"]) == ["month", "quarter"] and list(hist["period"]) == ["2026-11", "2026-Q4"]
    assert hist["p_hit"].tolist() == [figs["targets"]["2026-11"]["p_hit"], figs["targets"]["2026-Q4"]["p_hit"]]
    # Another filter set's reviews are not this view's history.
    assert review_targets.target_history(snaps, {"channel": ["webinar"]}).empty


# ---- what moved since the last review ------------------------------------------------------------


def _previous(**targets_figs):
    return {"as_of": date(2026, 11, 13), "figures": {"targets": targets_figs}}


def test_the_largest_move_past_its_threshold_is_the_highlight():
    before = _previous(**{"2026-11": {"p_hit": 0.62, "coverage": 1.5}, "2026-Q4": {"p_hit": 0.40, "coverage": 2.0}})
    now = {"2026-11": {"p_hit": 0.41, "coverage": 1.45}, "2026-Q4": {"p_hit": 0.43, "coverage": 2.6}}
    # Month chance −21 pts = 4.2 thresholds; quarter coverage +0.6× = 6 thresholds: the coverage wins.
    note = review_targets.target_move(before, now)
    assert (note["period"], note["figure"], note["before"], note["after"]) == ("2026-Q4", "coverage", 2.0, 2.6)
    assert note["text"] == "Pipeline coverage of the Q4 2026 gap rose from 2.0× to 2.6× since the review of 13 Nov 2026."
    assert note["page"] == "pages/targets.py"
    now["2026-Q4"]["coverage"] = 2.05
    note = review_targets.target_move(before, now)
    assert note["text"] == ("The chance of hitting the November 2026 target fell from 62% to 41% since the review "
                            "of 13 Nov 2026.")


def test_small_moves_and_missing_reviews_make_no_highlight():
    before = _previous(**{"2026-11": {"p_hit": 0.62, "coverage": 1.5}})
    assert review_targets.target_move(before, {"2026-11": {"p_hit": 0.60, "coverage": 1.45}}) is None
    assert review_targets.target_move(None, {"2026-11": {"p_hit": 0.1, "coverage": 0.1}}) is None
    assert review_targets.target_move(before, {"2026-12": {"p_hit": 0.1, "coverage": 0.1}}) is None   # other period
    assert review_targets.target_move(before, {"2026-11": {"p_hit": None, "coverage": None}}) is None


# ---- the managers' calls against the forecast ---------------------------------------------------


def _calls(rows) -> pd.DataFrame:
    cols = ["call_id", "period", "owner", "commit_amount", "best_case_amount", "called_at", "weighted_amount", "p50",
            "actual"]
    df = pd.DataFrame(rows, columns=cols)
    df["note"], df["called_by"] = None, "ana@example.com"
    df["as_of"] = [t.date() for t in df["called_at"]]      # each call made on the data of its day
    return df[targets.CALL_COLUMNS]


def test_scorecard_takes_the_last_call_before_the_period_ended_and_names_the_closest():
    calls = _calls([
        # September: two calls, the later one counts; 100k won. Call 95k (−5%), forecast 80k, P50 90k.
        (1, "2026-09", "", 120000.0, None, datetime(2026, 9, 1, 9), 70000.0, 85000.0, 100000.0),
        (2, "2026-09", "", 95000.0, 130000.0, datetime(2026, 9, 15, 9), 80000.0, 90000.0, 100000.0),
        # A call made after September ended is no forecast of it.
        (3, "2026-09", "", 100000.0, None, datetime(2026, 10, 2, 9), 100000.0, 100000.0, 100000.0),
        # October, a team: best case only (60k); won 50k; forecast 52k is closest.
        (4, "2026-10", "East", None, 60000.0, datetime(2026, 10, 3, 9), 52000.0, 45000.0, 50000.0),
        # November is not over at D: no errors, no verdict.
        (5, "2026-11", "", 200000.0, None, datetime(2026, 11, 2, 9), 210000.0, 190000.0, 80000.0),
    ])
    card = review_targets.call_scorecard(calls, D)
    assert card[["period", "owner", "call", "closest"]].values.tolist() == [
        ["2026-11", "", 200000.0, None], ["2026-10", "East", 60000.0, "forecast"], ["2026-09", "", 95000.0, "call"]]
    sep = card.set_index("period").loc["2026-09"]
    assert (sep["call_error"], sep["forecast_error"], sep["p50_error"]) == pytest.approx((-0.05, -0.2, -0.1))
    assert card.set_index("period").loc["2026-11", "call_error"] is None
    summary = review_targets.scorecard_summary(card)
    assert summary["periods"] == 2 and summary["closest"] == {"call": 1, "forecast": 1, "p50": 0}
    assert summary["mean_abs_error"]["call"] == pytest.approx((0.05 + 0.2) / 2)
    assert i18n.render(summary["message"]) == ("Over 2 closed calls: the manager's call was closest 1 times, the "
                                               "weighted forecast 1 times and the simulated P50 0 times.")
    assert review_targets.scorecard_summary(review_targets.call_scorecard(calls[calls["period"] == "2026-11"], D)) is None
    assert review_targets.call_scorecard(calls.iloc[0:0], D).empty


# ---- on the pages ----------------------------------------------------------------------------------


def test_overview_shows_the_target_tile_and_the_move_since_the_last_review(sample_copy):
    with versions.writing(sample_copy, "test: last week's review") as con:
        last_week = Scope(as_of=date(2026, 11, 13))
        figs = overview.review_figures(con, last_week)
        # Last week's review believed in the month far more than today's figures do.
        figs["targets"]["2026-11"]["p_hit"] = 0.97
        overview.save_snapshot(con, last_week, figs)
        now = review_targets.snapshot_figures(con, Scope())
    at = run_app(sample_copy)
    assert_clean(at)
    tile = next(m for m in at.metric if m.label == "Target, November 2026")
    assert tile.value == f"{now['2026-11']['attainment']:.0%}"
    texts = " ".join(str(m.value) for m in at.markdown)
    assert "The chance of hitting the November 2026 target fell from 97%" in texts


def test_review_history_shows_targets_across_reviews_and_the_calls(sample_copy):
    with versions.writing(sample_copy, "test: reviews and a call") as con:
        for day in (date(2026, 11, 6), date(2026, 11, 13), D):
            overview.save_snapshot(con, Scope(as_of=day), overview.review_figures(con, Scope(as_of=day)))
    with versions.writing(sample_copy, "test: a call") as con:
        targets.record_call(con, "2026-11", commit_amount=310000.0, best_case_amount=420000.0, note="renewal slips")
    at = run_app(sample_copy, "pages/review_history.py")
    assert_clean(at)
    assert [s.value for s in at.subheader][-2:] == ["Targets across reviews", "Calls against the forecast"]
    table = next(d.value for d in at.dataframe if "The call" in d.value.columns)
    assert table[["Period", "The call", "Closest"]].values.tolist() == [["November 2026", "$310k", "period not over"]]
