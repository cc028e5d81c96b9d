"""Golden figures for time in stage (metrics.md §2) on the hand-built journeys of
test_conversion_golden.py (as-of D = 2025-03-31: a visit still open is censored at 2025-04-01 00:00).

Kaplan–Meier medians are checked three ways: against hand arithmetic written below, against a
tiny independent numpy Kaplan–Meier (``km_median`` in this file; lifelines cannot be installed
next to pandas 3), and against the survival curve the app draws.
"""
from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from builders import build_db
from funnel import store, time_in_stage
from funnel.errors import ConfigError
from funnel.query import Scope
from test_conversion_golden import SCOPE, build_golden


def km_median(durations, observed):
    """The first duration at which the Kaplan–Meier survival is at or below 0.5 (lifelines'
    ``median_survival_time_``), or None when it stays above. Ties: events before censoring."""
    t = np.asarray(durations, dtype=float)
    e = np.asarray(observed, dtype=bool)
    s = 1.0
    for u in np.unique(t[e]):
        at_risk = np.sum(t >= u)
        deaths = np.sum((t == u) & e)
        s *= 1.0 - deaths / at_risk
        if s <= 0.5 + 1e-12:
            return float(u)
    return None


def test_km_median_helper_on_textbook_case():
    # Durations 1, 2+, 3, 4, 5+ (+ = censored): S(1) = 4/5 = 0.8; at 3: 3 at risk, S = 0.8 * 2/3 = 0.533;
    # at 4: 2 at risk, S = 0.533 * 1/2 = 0.267 -> median 4.
    assert km_median([1, 2, 3, 4, 5], [1, 0, 1, 1, 0]) == 4.0
    assert km_median([1, 2, 3], [0, 0, 0]) is None
    assert km_median([2, 2], [1, 0]) == 2.0    # S(2) = 1 - 1/2 = 0.5 exactly -> counts as "at or below"


@pytest.fixture
def con(tmp_path):
    c = build_golden(tmp_path / "golden.duckdb")
    yield c
    c.close()


def rows(df):
    return {r.stage: r for r in df.itertuples()}


# stage -> (visits, completed, censored, median_hours, p90_hours, km_median_hours)
EXPECTED_LEAD = {
    # Lead: L11 0.5, L2 12, L1 L3 L4 L9 L12 L13 L14 24 (7 of them), L5 216, L7 1080; none censored.
    # median = 6th of 11 = 24; p90 at rank 0.9 * 10 = 9 -> 216; KM: S(24) = 2/11 -> 24.
    "Lead": (11, 11, 0, 24.0, 216.0, 24.0),
    # MQL completed: L4 0 (same-timestamp SAL), L2 24, L7 24, L9 24, L12 24, L13 24, L1 48;
    # censored: L11 0.5 (23:30 -> midnight), L5 528 (10 Mar -> 1 Apr; its SAL on 5 Apr is after D),
    # L2's second MQL 1692 (20 Jan 12:00 -> 1 Apr = 70.5 days).
    # median = 4th of 7 = 24; p90 at rank 0.9 * 6 = 5.4 -> 24 + 0.4 * (48 - 24) = 33.6;
    # KM: t=0: 10 at risk, 1 event -> 0.9; t=0.5 censored; t=24: 8 at risk, 5 events -> 0.9 * 3/8 = 0.3375 -> 24.
    "MQL": (10, 7, 3, 24.0, 33.6, 24.0),
    # SAL completed: L1 24, L4 72, L9 240; censored: L7 720 (2 Mar -> 1 Apr). L5's SAL is after D.
    # median 72; p90 at rank 1.8 -> 72 + 0.8 * 168 = 206.4; KM: 24: 3/4; 72: 3 at risk -> 0.75 * 2/3 = 0.5 -> 72.
    "SAL": (4, 3, 1, 72.0, 206.4, 72.0),
    # SQL completed: L1 120, L9 168, L3 240, L4 240 (Disqualified ends them); censored: L14 672.
    # median (168 + 240) / 2 = 204; p90 at rank 2.7 -> 240; KM: 120: 4/5 = 0.8; 168: 0.8 * 3/4 = 0.6;
    # 240: 3 at risk, 2 events -> 0.6 * 1/3 = 0.2 -> 240 (above the completed median: L14 is still there).
    "SQL": (5, 4, 1, 204.0, 240.0, 240.0),
    # Opportunity completed: L1 504 (10 -> 31 Jan); censored: L9 744 (1 Mar -> 1 Apr).
    # KM: 504: 2 at risk, 1 event -> exactly 0.5 -> 504.
    "Opportunity": (2, 1, 1, 504.0, 504.0, 504.0),
    # Recycled completed: L2 360 (5 -> 20 Jan); censored: L13 1032, L12 1332.
    # KM: 360: 3 at risk -> 2/3 and never lower: more than half are still there -> no KM median.
    "Recycled": (3, 1, 2, 360.0, 360.0, None),
    # Rejected: L13 0 (Recycled at the same timestamp), L2 24, L12 24. median 24, p90 rank 1.8 -> 24;
    # KM: 0: 2/3; 24: 2 at risk, 2 events -> 0 -> 24.
    "Rejected": (3, 3, 0, 24.0, 24.0, 24.0),
}

# Hand-listed durations (hours, observed?) per stage: the input of the independent KM.
DURATIONS_LEAD = {
    "Lead": ([0.5, 12] + [24] * 7 + [216, 1080], [1] * 11),
    "MQL": ([0, 24, 24, 24, 24, 24, 48, 0.5, 528, 1692], [1] * 7 + [0] * 3),
    "SAL": ([24, 72, 240, 720], [1, 1, 1, 0]),
    "SQL": ([120, 168, 240, 240, 672], [1, 1, 1, 1, 0]),
    "Opportunity": ([504, 744], [1, 0]),
    "Recycled": ([360, 1032, 1332], [1, 0, 0]),
    "Rejected": ([0, 24, 24], [1, 1, 1]),
}


def check(df, expected):
    got = rows(df)
    assert set(got) == set(expected)
    for stage, (visits, completed, censored, med, p90, km) in expected.items():
        r = got[stage]
        assert (r.visits, r.completed, r.censored) == (visits, completed, censored), stage
        for name, want in (("median_hours", med), ("p90_hours", p90), ("km_median_hours", km)):
            val = getattr(r, name)
            if want is None:
                assert val is None or (isinstance(val, float) and math.isnan(val)), (stage, name, val)
            else:
                assert val == pytest.approx(want), (stage, name, val)


def test_lead_funnel(con):
    df = time_in_stage.time_in_stage(con, SCOPE, "lead")
    # Only open, rejected and recycled stages have visits; Customer (won) and Disqualified (lost) do not.
    assert list(df["stage"]) == ["Lead", "MQL", "SAL", "SQL", "Opportunity", "Recycled", "Rejected"]
    check(df, EXPECTED_LEAD)


def test_counts_are_integers(con):
    df = time_in_stage.time_in_stage(con, SCOPE, "lead")
    for col in ("visits", "completed", "censored"):
        assert df[col].dtype.kind in "iu", col


def test_km_against_independent_numpy(con):
    df = time_in_stage.time_in_stage(con, SCOPE, "lead")
    got = rows(df)
    for stage, (durations, observed) in DURATIONS_LEAD.items():
        want = km_median(durations, observed)
        assert want == EXPECTED_LEAD[stage][5]       # the hand arithmetic agrees with numpy
        val = got[stage].km_median_hours
        if want is None:
            assert math.isnan(val)
        else:
            assert val == pytest.approx(want)
        # Completed median/p90 from numpy's continuous ("linear") quantile.
        done = np.asarray(durations, dtype=float)[np.asarray(observed, dtype=bool)]
        assert got[stage].median_hours == pytest.approx(np.quantile(done, 0.5))
        assert got[stage].p90_hours == pytest.approx(np.quantile(done, 0.9))


def test_survival_curve_matches_hand_km(con):
    sc = time_in_stage.survival_curves(con, SCOPE, "lead")
    sql = sc[sc["stage"] == "SQL"]
    assert list(sql["hours"]) == pytest.approx([120, 168, 240])
    assert list(sql["survival"]) == pytest.approx([0.8, 0.6, 0.2])
    assert list(sql["at_risk"]) == [5, 4, 3]
    rej = sc[sc["stage"] == "Rejected"]
    assert list(rej["survival"]) == pytest.approx([2 / 3, 0.0])


def test_opportunity_funnel(con):
    df = time_in_stage.time_in_stage(con, SCOPE, "opportunity")
    assert list(df["stage"]) == ["Qualify", "Discovery", "Proposal", "Negotiation"]
    check(df, {
        # Qualify: O1 48, O2 96, O4 240 (Closed Lost ends it); O3 was created after D.
        # median 96; p90 rank 1.8 -> 96 + 0.8 * 144 = 211.2; KM: 48: 2/3; 96: 2 at risk -> 1/3 -> 96.
        "Qualify": (3, 3, 0, 96.0, 211.2, 96.0),
        # Discovery: O1 192 (12 -> 20 Jan) completed; O2 648 censored (5 Mar -> 1 Apr).
        # KM: 192: 2 at risk -> 0.5 -> 192.
        "Discovery": (2, 1, 1, 192.0, 192.0, 192.0),
        "Proposal": (1, 1, 0, 264.0, 264.0, 264.0),     # O1 20 -> 31 Jan
        "Negotiation": (0, 0, 0, None, None, None),
    })


def test_opportunity_funnel_follows_lead_filters(con):
    # channel = web: O1 (L1) and O2 (L9) stay, O4 (L7, partner) drops out.
    df = time_in_stage.time_in_stage(con, SCOPE.with_(filters=(("channel", ("web",)),)), "opportunity")
    q = rows(df)["Qualify"]
    assert (q.visits, q.median_hours) == (2, pytest.approx(72.0))   # (48 + 96) / 2


def test_filters_and_as_of(con):
    # channel = partner: L7 L8 L12 L14. MQL: L7 24, L12 24 (both completed) -> 2 visits.
    df = time_in_stage.time_in_stage(con, SCOPE.with_(filters=(("channel", ("partner",)),)), "lead")
    m = rows(df)["MQL"]
    assert (m.visits, m.completed, m.censored) == (2, 2, 0)
    # As of 5 April: L5's MQL now ends on 5 April 00:00 (26 days = 624 h, completed) and its SAL
    # (censored 1 day) starts; L6 (created 2 April) adds a Lead visit (24 h) and a censored MQL.
    df = time_in_stage.time_in_stage(con, Scope(as_of=date(2025, 4, 5), date_from=date(2025, 1, 1)), "lead")
    m = rows(df)["MQL"]
    assert (m.visits, m.completed, m.censored) == (11, 8, 3)
    assert rows(df)["SAL"].visits == 5


def test_stuck_items_over_sla(con):
    df = time_in_stage.stuck_items(con, SCOPE, "lead")
    # Still in an open stage at midnight after D and over that stage's SLA:
    # L2 MQL 70.5 d (SLA 2 d), L7 SAL 30 d (SLA 5 d), L14 SQL 28 d (SLA 14 d), L5 MQL 22 d.
    # Not stuck: L11 MQL 0.5 h, L9 Opportunity 31 d (SLA 60 d); Recycled is not an open stage.
    assert list(df["item_id"]) == ["L2", "L7", "L14", "L5"]
    assert list(df["stage"]) == ["MQL", "SAL", "SQL", "MQL"]
    assert list(df["days_in_stage"]) == pytest.approx([70.5, 30.0, 28.0, 22.0])
    assert list(df["sla_days"]) == pytest.approx([2.0, 5.0, 14.0, 2.0])
    assert list(df["owner"]) == ["Ann", "Bob", "Yu", "Ann"]   # SQL is a sales stage: its AE owns it


def test_stuck_items_longer_than_n_days(con):
    df = time_in_stage.stuck_items(con, SCOPE, "lead", min_days=29)
    assert list(df["item_id"]) == ["L2", "L9", "L7"]          # 70.5, 31, 30 days
    df = time_in_stage.stuck_items(con, SCOPE, "lead", min_days=29, stages=("SAL",))
    assert list(df["item_id"]) == ["L7"]
    df = time_in_stage.stuck_items(con, SCOPE, "opportunity", min_days=0)
    assert list(df["item_id"]) == ["O2"] and df["owner"].iloc[0] == "Yu"
    assert df["days_in_stage"].iloc[0] == pytest.approx(27.0)


def test_sla_breaches(con):
    df = time_in_stage.sla_breaches(con, SCOPE, "lead", grain="month")
    key = {(r.stage, r.period.strftime("%Y-%m")): (r.visits, r.breaches) for r in df.itertuples()}
    # Lead (SLA 14 d = 336 h), January entries L1 L2 L3 L4 L7: only L7 (1080 h) breaches.
    assert key[("Lead", "2025-01")] == (5, 1)
    # MQL (SLA 48 h; 48 h exactly is not a breach): January L1 48, L2 24, L4 0, L2 1692 (censored,
    # already over) -> 4 visits, 1 breach. March: L7 24, L5 528 (censored, over), L11 0.5 -> 3, 1.
    assert key[("MQL", "2025-01")] == (4, 1)
    assert key[("MQL", "2025-03")] == (3, 1)
    assert key[("MQL", "2025-02")] == (3, 0)


def test_save_sla_targets_changes_breaches_and_data_version(con):
    v0 = store.data_version(con)
    time_in_stage.save_sla_targets(con, "lead", {"MQL": 24.0 * 30, "SAL": None})
    assert store.data_version(con) == v0 + 1
    st = {s.stage: s.sla_hours for s in store.stages(con, "lead")}
    assert st["MQL"] == 720.0 and st["SAL"] is None and st["SQL"] == 336.0
    df = time_in_stage.stuck_items(con, SCOPE, "lead")
    # MQL SLA now 30 days: only L2 (70.5 d) is over it; SAL has no target any more.
    assert list(df["item_id"]) == ["L2", "L14"]


def test_save_sla_targets_refuses_bad_input(con):
    v0 = store.data_version(con)
    with pytest.raises(ConfigError):
        time_in_stage.save_sla_targets(con, "lead", {"Nope": 10.0})
    with pytest.raises(ConfigError):
        time_in_stage.save_sla_targets(con, "lead", {"MQL": -1.0})
    with pytest.raises(ConfigError):
        time_in_stage.save_sla_targets(con, "sideways", {"MQL": 1.0})
    assert store.data_version(con) == v0
    assert {s.stage: s.sla_hours for s in store.stages(con, "lead")}["MQL"] == 48.0


def test_empty_scope(tmp_path):
    con = build_db(tmp_path / "e.duckdb", leads=[("A", "2025-01-01 00:00", "web", "SMB", "Ann", "Xe")])
    df = time_in_stage.time_in_stage(con, Scope(as_of=date(2025, 1, 31)), "lead")
    assert set(df["visits"]) == {0}
    assert time_in_stage.survival_curves(con, Scope(as_of=date(2025, 1, 31)), "lead").empty
    assert time_in_stage.stuck_items(con, Scope(as_of=date(2025, 1, 31)), "lead").empty


def test_finding_names_the_longest_wait_from_the_frames(con):
    tis = time_in_stage.time_in_stage(con, SCOPE, "lead")
    sla = time_in_stage.sla_summary(con, SCOPE, "lead")
    # With min_visits=2 every stage counts; the longest typical wait is Opportunity's KM median of
    # 504 h (21.0 days); Recycled has no KM median, so its finished-stay median of 360 h stands in.
    f = time_in_stage.time_in_stage_finding(tis, sla, "lead", min_visits=2)
    assert f["longest_stage"] == "Opportunity" and f["longest_hours"] == pytest.approx(504.0)
    assert f["sentence"].startswith("Leads wait longest in Opportunity: half have moved on after 21.0 days")
    worst = sla[sla["visits"] >= 2].sort_values("breach_rate", ascending=False).iloc[0]
    assert f["worst_sla_stage"] == worst["stage"]
    # Every stage has fewer than 12 visits: nothing to compare.
    few = time_in_stage.time_in_stage_finding(tis, sla, "lead", min_visits=12)
    assert few["longest_stage"] is None and "Too few stage visits" in few["sentence"]


def test_table_and_curves_in_one_query_equal_the_two_functions(con):
    both = time_in_stage.time_in_stage_and_curves(con, SCOPE, "lead")
    pd.testing.assert_frame_equal(both["stages"], time_in_stage.time_in_stage(con, SCOPE, "lead"))
    pd.testing.assert_frame_equal(both["curves"], time_in_stage.survival_curves(con, SCOPE, "lead"))
    opp = time_in_stage.time_in_stage_and_curves(con, SCOPE, "opportunity")
    pd.testing.assert_frame_equal(opp["stages"], time_in_stage.time_in_stage(con, SCOPE, "opportunity"))


class _ScalesOut:
    """A DuckDB connection that says it scales out, as the Spark engine's does."""
    scales_out = True

    def __init__(self, con):
        self._con = con

    def __getattr__(self, name):
        return getattr(self._con, name)


@pytest.mark.parametrize("funnel", ["lead", "opportunity"])
def test_ranking_stage_by_stage_gives_the_same_figures(sample_db, funnel):
    """The partitioned ranking Spark runs (time_in_stage_ranked_by_stage) equals the one global sort,
    row for row, on the sample's thousands of visits (ties included) — checked on DuckDB."""
    sample = store.connect(sample_db, read_only=True)
    try:
        one_sort = time_in_stage.time_in_stage_and_curves(sample, Scope(), funnel)
        by_stage = time_in_stage.time_in_stage_and_curves(_ScalesOut(sample), Scope(), funnel)
    finally:
        sample.close()
    assert len(one_sort["curves"]) > 100
    pd.testing.assert_frame_equal(by_stage["stages"], one_sort["stages"], check_exact=False, rtol=1e-12)
    pd.testing.assert_frame_equal(by_stage["curves"], one_sort["curves"], check_exact=False, rtol=1e-12)
