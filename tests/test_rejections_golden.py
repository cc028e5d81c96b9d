"""Golden figures for metrics.md §3 (rejections and recycle loops) on hand-made journeys.

Every expected number below is worked out by hand from the journeys in ``JOURNEYS``; the comment
next to it shows the arithmetic. As-of date D = 2024-03-31 (events on or after 2024-04-01 00:00
are not known yet) unless a test says otherwise.

Leads (created in January 2024 unless noted; channel / segment / SDR / AE):
  A  zero loops, never rejected: Lead → MQL → SAL → SQL → Opportunity → Customer          Sam / Alex
  B  one loop: MQL → Rejected (no budget) → Recycled → MQL exactly 7.0 days later → SQL    Sam / Alex
  C  three loops: MQL → Rej → Recycled → MQL (+1.5 d) → Rej (no reason) → MQL (+10 d)
     → Rej → Recycled → MQL (+0.5 d) → SAL → SQL                                           Sam / Blair
  D  rejection without resubmission (no reason), then a Disqualified exit                  Tess / Alex
  E  rejected; its resubmission (MQL) happens on 2024-04-05, after D                         Tess / Blair
  F  never handed off (Lead only)                                                            Tess / Blair
  H  rejected twice (first by the SDR), resubmitted once, the second rejection not           Tess / Blair
  K  reached SQL, then rejected at SQL and recycled; never handed off again                  Sam / Alex
  G  created 2024-04-02 (after D): not in the cohort at D                                    Tess / Blair
"""
from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from builders import build_db
from funnel import rejections as R
from funnel.query import Scope

D = date(2024, 3, 31)
S = Scope(as_of=D)

LEADS = [
    ("A", "2024-01-01 09:00", "webinar", "SMB", "Sam", "Alex"),
    ("B", "2024-01-02 09:00", "webinar", "SMB", "Sam", "Alex"),
    ("C", "2024-01-03 09:00", "paid_search", "Mid-Market", "Sam", "Blair"),
    ("D", "2024-01-04 09:00", "paid_search", "SMB", "Tess", "Alex"),
    ("E", "2024-01-05 09:00", "organic", "SMB", "Tess", "Blair"),
    ("F", "2024-01-06 09:00", "organic", "SMB", "Tess", "Blair"),
    ("H", "2024-01-07 09:00", "webinar", "Enterprise", "Tess", "Blair"),
    ("K", "2024-01-08 09:00", "event", "SMB", "Sam", "Alex"),
    ("G", "2024-04-02 09:00", "event", "SMB", "Tess", "Blair"),
]

JOURNEYS = [
    # A — zero loops, never rejected
    ("A", "Lead", "2024-01-01 09:00", "system"),
    ("A", "MQL", "2024-01-02 10:00", "Sam"),
    ("A", "SAL", "2024-01-03 10:00", "Alex"),
    ("A", "SQL", "2024-01-05 10:00", "Alex"),
    ("A", "Opportunity", "2024-01-10 10:00", "Alex"),
    ("A", "Customer", "2024-02-15 10:00", "Alex"),
    # B — one loop; resubmitted exactly 7 days after the rejection (01-04 12:00 → 01-11 12:00)
    ("B", "Lead", "2024-01-02 09:00", "system"),
    ("B", "MQL", "2024-01-03 09:00", "Sam"),
    ("B", "Rejected", "2024-01-04 12:00", "Alex", "no budget"),
    ("B", "Recycled", "2024-01-05 12:00", "system", "nurture"),
    ("B", "MQL", "2024-01-11 12:00", "Sam"),
    ("B", "SAL", "2024-01-12 12:00", "Alex"),
    ("B", "SQL", "2024-01-15 12:00", "Alex"),
    # C — three loops
    ("C", "Lead", "2024-01-03 09:00", "system"),
    ("C", "MQL", "2024-01-04 09:00", "Sam"),
    ("C", "Rejected", "2024-01-05 00:00", "Blair", "not ICP"),
    ("C", "Recycled", "2024-01-05 06:00", "system"),
    ("C", "MQL", "2024-01-06 12:00", "Sam"),            # 01-05 00:00 → 01-06 12:00 = 1.5 days
    ("C", "Rejected", "2024-01-07 12:00", "Blair"),     # no reason given
    ("C", "MQL", "2024-01-17 12:00", "Sam"),            # 01-07 12:00 → 01-17 12:00 = 10 days
    ("C", "Rejected", "2024-01-18 00:00", "Blair", "not ICP"),
    ("C", "Recycled", "2024-01-18 06:00", "system"),
    ("C", "MQL", "2024-01-18 12:00", "Sam"),            # 01-18 00:00 → 01-18 12:00 = 0.5 days
    ("C", "SAL", "2024-01-20 12:00", "Blair"),
    ("C", "SQL", "2024-01-25 12:00", "Blair"),
    # D — rejected (no reason), never resubmitted, then Disqualified
    ("D", "Lead", "2024-01-04 09:00", "system"),
    ("D", "MQL", "2024-01-05 09:00", "Tess"),
    ("D", "Rejected", "2024-01-06 09:00", "Alex", ""),  # a blank reason is a missing one
    ("D", "Recycled", "2024-01-06 10:00", "system"),
    ("D", "Disqualified", "2024-01-20 09:00", "Tess", "student"),
    # E — the resubmission comes after D
    ("E", "Lead", "2024-01-05 09:00", "system"),
    ("E", "MQL", "2024-01-06 09:00", "Tess"),
    ("E", "Rejected", "2024-01-08 09:00", "Blair", "timing"),
    ("E", "Recycled", "2024-01-08 10:00", "system"),
    ("E", "MQL", "2024-04-05 09:00", "Tess"),           # after D: not known at D
    ("E", "SAL", "2024-04-06 09:00", "Blair"),
    # F — never handed off
    ("F", "Lead", "2024-01-06 09:00", "system"),
    # H — rejected by the SDR, resubmitted 3 days later, rejected again and recycled
    ("H", "Lead", "2024-01-07 09:00", "system"),
    ("H", "MQL", "2024-01-08 09:00", "Tess"),
    ("H", "Rejected", "2024-01-09 09:00", "Tess", "bad contact data"),
    ("H", "MQL", "2024-01-12 09:00", "Tess"),           # 01-09 09:00 → 01-12 09:00 = 3 days
    ("H", "Rejected", "2024-01-13 09:00", "Blair", "not ICP"),
    ("H", "Recycled", "2024-01-13 10:00", "system"),
    # K — reached SQL, then rejected there; never came back
    ("K", "Lead", "2024-01-08 09:00", "system"),
    ("K", "MQL", "2024-01-09 09:00", "Sam"),
    ("K", "SAL", "2024-01-10 09:00", "Alex"),
    ("K", "SQL", "2024-01-11 09:00", "Alex"),
    ("K", "Rejected", "2024-01-12 09:00", "Alex", "no authority"),
    ("K", "Recycled", "2024-01-12 10:00", "system"),
    # G — created after D
    ("G", "Lead", "2024-04-02 09:00", "system"),
    ("G", "MQL", "2024-04-02 10:00", "Tess"),
    ("G", "Rejected", "2024-04-03 10:00", "Blair", "timing"),
]


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    c = build_db(tmp_path_factory.mktemp("rej") / "golden.duckdb", leads=LEADS, lead_events=JOURNEYS)
    yield c
    c.close()


def rows(df: pd.DataFrame, cols: list[str]) -> list[tuple]:
    return [tuple(None if (isinstance(v, float) and pd.isna(v)) else v for v in r)
            for r in df[cols].itertuples(index=False)]


def test_summary(con):
    s = R.rejection_summary(con, S)
    # hand-offs = MQL events by D: A1 + B2 + C4 + D1 + E1 (its 04-05 MQL is after D) + F0 + H2 + K1 = 12
    assert s["handoffs"] == 12
    # rejections: B1 + C3 + D1 + E1 + H2 + K1 = 9 (G is not in the cohort)
    assert s["rejected"] == 9
    assert s["rejection_rate"] == pytest.approx(9 / 12)          # 0.75
    # resubmissions: B (7.0 d), C (1.5, 10, 0.5 d), H's first (3.0 d) = 5;
    # D never came back, E came back after D, H's second and K's were not followed by an MQL
    assert s["resubmissions"] == 5
    # delay ≤ 7 days: 7.0 (the boundary counts), 1.5, 0.5, 3.0 — not 10 → 4
    assert s["resubmitted_within_7d"] == 4
    assert s["resubmitted_within_7d_share"] == pytest.approx(4 / 5)
    # median of 0.5, 1.5, 3.0, 7.0, 10.0 = 3.0
    assert s["median_resubmit_days"] == pytest.approx(3.0)
    # more than one MQL event by D: B (2), C (4), H (2) → 3; E has only one by D
    assert s["leads_with_loops"] == 3
    # leads with any MQL event by D: A B C D E H K = 7
    assert s["leads_handed_off"] == 7


def test_rejection_events(con):
    ev = R.rejection_events(con, S)
    assert len(ev) == 9
    delays = sorted(ev["resubmit_days"].dropna().tolist())
    assert delays == pytest.approx([0.5, 1.5, 3.0, 7.0, 10.0])
    e = ev[ev["lead_id"] == "E"].iloc[0]
    assert pd.isna(e["resubmitted_at"])                           # 04-05 is after D


def test_by_reason_counts_missing_reasons(con):
    df = R.rejections_by_reason(con, S)
    got = {(r if isinstance(r, str) else None): n for r, n in zip(df["reason"], df["rejected"])}
    # not ICP: C (1st, 3rd) + H (2nd) = 3; missing: C (2nd) + D (blank) = 2; one each for the rest
    assert got == {"not ICP": 3, None: 2, "no budget": 1, "timing": 1, "bad contact data": 1, "no authority": 1}
    assert df["share"].sum() == pytest.approx(1.0)
    assert df.iloc[0]["share"] == pytest.approx(3 / 9)


def test_breakdown_by_ae(con):
    df = R.rejection_breakdown(con, S, "ae").set_index("grp")
    # Alex: A, B, D, K — hand-offs 1 + 2 + 1 + 1 = 5, rejections 0 + 1 + 1 + 1 = 3 → 0.6
    # Blair: C, E, F, H — hand-offs 4 + 1 + 0 + 2 = 7, rejections 3 + 1 + 2 = 6 → 6/7
    assert df.loc["Alex", ["handoffs", "rejected"]].tolist() == [5, 3]
    assert df.loc["Blair", ["handoffs", "rejected"]].tolist() == [7, 6]
    assert df.loc["Alex", "rejection_rate"] == pytest.approx(0.6)
    assert df.loc["Blair", "rejection_rate"] == pytest.approx(6 / 7)
    assert list(df.index) == ["Blair", "Alex"]                    # highest rate first
    assert df["small_sample"].all()                               # 5 and 7 hand-offs < 30


def test_breakdown_by_sdr(con):
    df = R.rejection_breakdown(con, S, "sdr").set_index("grp")
    sam, tess = df.loc["Sam"], df.loc["Tess"]
    # Sam: A, B, C, K — hand-offs 1 + 2 + 4 + 1 = 8; rejections 0 + 1 + 3 + 1 = 5 → 0.625
    assert (sam["handoffs"], sam["rejected"]) == (8, 5)
    assert sam["rejection_rate"] == pytest.approx(0.625)
    # Sam's resubmissions: B 7.0, C 1.5, 10, 0.5 → 4; ≤ 2 d: 1.5, 0.5 → 2; ≤ 7 d: + 7.0 → 3
    assert (sam["resubmissions"], sam["resubmitted_within_2d"], sam["resubmitted_within_7d"]) == (4, 2, 3)
    assert sam["median_resubmit_days"] == pytest.approx((1.5 + 7.0) / 2)     # of 0.5, 1.5, 7, 10
    # reached SQL after the resubmission: B (SQL 01-15 after MQL 01-11), C's three (SQL 01-25 after
    # every one of its MQLs) → 4; the quick ones (C 1.5 d and 0.5 d) both → 2
    assert (sam["resubmissions_converted"], sam["quick_resubmissions_converted"]) == (4, 2)
    # Tess: D, E, F, H — hand-offs 1 + 1 + 0 + 2 = 4; rejections 1 + 1 + 2 = 4 → 1.0
    assert (tess["handoffs"], tess["rejected"]) == (4, 4)
    assert tess["rejection_rate"] == pytest.approx(1.0)
    # Tess's only resubmission: H after 3.0 days, not within 2 days, within 7; H never reached SQL
    assert (tess["resubmissions"], tess["resubmitted_within_2d"], tess["resubmitted_within_7d"]) == (1, 0, 1)
    assert tess["median_resubmit_days"] == pytest.approx(3.0)
    assert (tess["resubmissions_converted"], tess["quick_resubmissions_converted"]) == (0, 0)
    assert set(df["outcome_stage"]) == {"SQL"}


def test_breakdown_by_actor(con):
    df = R.rejection_breakdown(con, S, "actor").set_index("grp")
    # Blair rejected C ×3, E, H's second = 5; Alex B, D, K = 3; Tess H's first = 1
    assert df["rejected"].to_dict() == {"Blair": 5, "Alex": 3, "Tess": 1}
    assert df.loc["Blair", "share"] == pytest.approx(5 / 9)
    # resubmitted afterwards: Blair C ×3 (E after D, H's second never) = 3; Alex B = 1; Tess H = 1
    assert df["resubmissions"].to_dict() == {"Blair": 3, "Alex": 1, "Tess": 1}


def test_breakdown_by_channel_and_unknown_column(con):
    df = R.rejection_breakdown(con, S, "channel").set_index("grp")
    # webinar: A, B, H — hand-offs 1 + 2 + 2 = 5, rejections 0 + 1 + 2 = 3
    assert df.loc["webinar", ["handoffs", "rejected"]].tolist() == [5, 3]
    # organic: E, F — hand-offs 1, rejections 1
    assert df.loc["organic", ["handoffs", "rejected"]].tolist() == [1, 1]
    from funnel.errors import ConfigError
    with pytest.raises(ConfigError):
        R.rejection_breakdown(con, S, "no_such_column")


def test_breakdown_by_an_uncopied_column_equals_the_copied_one(tmp_path):
    # ae is copied into lead_visits (no join to leads); "team_lead" is a column only leads has
    # (joined). Holding the same values, both paths must give the same frame.
    c = build_db(tmp_path / "copy.duckdb", leads=LEADS, lead_events=JOURNEYS)
    c.execute('ALTER TABLE leads ADD COLUMN team_lead VARCHAR')
    c.execute('UPDATE leads SET team_lead = ae')
    pd.testing.assert_frame_equal(R.rejection_breakdown(c, S, "ae"), R.rejection_breakdown(c, S, "team_lead"))
    both = R._breakdowns(c, S, ("ae", "team_lead"), with_totals=True)
    pd.testing.assert_frame_equal(both["ae"], both["team_lead"])
    assert both["_totals"] == R.rejection_summary(c, S)
    c.close()


@pytest.mark.parametrize("by", ["ae", "sdr", "channel", "segment"])
def test_rejection_rates_are_the_breakdowns_first_columns(con, by):
    cols = ["grp", "handoffs", "rejected", "rejection_rate", "small_sample", "stands_out"]
    full = R.rejection_breakdown(con, S, by)[cols].sort_values("grp").reset_index(drop=True)
    lean = R.rejection_rates(con, S, by)[cols].sort_values("grp").reset_index(drop=True)
    pd.testing.assert_frame_equal(lean, full, check_dtype=False)


def test_trend_by_week(con):
    df = R.rejection_trend(con, S, "week")
    got = rows(df.assign(period=df["period"].dt.date), ["period", "handoffs", "rejected"])
    # weeks start on Monday; 2024-01-01 is a Monday.
    # week of 01-01: MQLs A 01-02, B 01-03, C 01-04, D 01-05, C 01-06, E 01-06 = 6;
    #                rejections B 01-04, C 01-05, D 01-06, C 01-07 = 4
    # week of 01-08: MQLs H 01-08, K 01-09, B 01-11, H 01-12 = 4; rejections E 01-08, H 01-09, K 01-12, H 01-13 = 4
    # week of 01-15: MQLs C 01-17, C 01-18 = 2; rejection C 01-18 = 1
    assert got == [(date(2024, 1, 1), 6, 4), (date(2024, 1, 8), 4, 4), (date(2024, 1, 15), 2, 1)]
    assert df["rejection_rate"].tolist() == pytest.approx([4 / 6, 1.0, 0.5])


def test_reasons_over_time_shows_missing_reasons(con):
    df = R.reasons_over_time(con, S, "month")
    assert set(df["period"].dt.date) == {date(2024, 1, 1)}        # all nine rejections in January
    got = dict(zip(df["reason"], df["rejected"]))
    assert got == {"not ICP": 3, "(no reason given)": 2, "no budget": 1, "timing": 1,
                   "bad contact data": 1, "no authority": 1}


def test_resubmit_delays_whole_days(con):
    df = R.resubmit_delays(con, S, "sdr")
    # Sam: 0.5 → day 0, 1.5 → 1, 7.0 → 7, 10 → 10; Tess: 3.0 → 3
    assert rows(df, ["grp", "delay_days", "resubmissions"]) == [
        ("Sam", 0, 1), ("Sam", 1, 1), ("Sam", 7, 1), ("Sam", 10, 1), ("Tess", 3, 1)]
    everyone = R.resubmit_delays(con, S, None)
    assert set(everyone["grp"]) == {"All leads"}
    assert everyone["resubmissions"].sum() == 5


def test_loop_distribution(con):
    df = R.loop_distribution(con, S)
    # loops = MQL events after the first: A 0, B 1, C 3, D 0, E 0 (2nd MQL after D), H 1, K 0
    assert rows(df, ["loops", "leads"]) == [(0, 4), (1, 2), (3, 1)]
    assert df["share"].tolist() == pytest.approx([4 / 7, 2 / 7, 1 / 7])


def test_recycled_outcomes(con):
    df = R.recycled_outcomes(con, S).set_index(["grp", "stage"])
    rec, first = R.RECYCLED_GROUP, R.FIRST_PASS_GROUP
    # rejected at least once (by D): B, C, D, E, H, K = 6; handed off and never rejected: A = 1
    assert df.loc[(rec, "SQL"), "leads"] == 6 and df.loc[(first, "SQL"), "leads"] == 1
    # reached SQL after the first rejection: B (SQL 01-15 > rejection 01-04), C (SQL 01-25) = 2.
    # K reached SQL on 01-11, *before* its rejection on 01-12: not a recycling success.
    assert df.loc[(rec, "SQL"), "reached"] == 2
    assert df.loc[(rec, "SQL"), "share"] == pytest.approx(2 / 6)
    assert df.loc[(rec, "Customer"), "reached"] == 0
    # A reached SQL and Customer
    assert df.loc[(first, "SQL"), "reached"] == 1 and df.loc[(first, "Customer"), "reached"] == 1


def test_transition_flows_include_backward_loops(con):
    df = R.transition_flows(con, S)
    got = {(f, t): n for f, t, n in rows(df, ["from_stage", "to_stage", "transitions"])}
    assert got == {
        ("Lead", "MQL"): 7,               # A B C D E H K
        ("MQL", "Rejected"): 8,           # B1 + C3 + D1 + E1 + H2
        ("Rejected", "Recycled"): 7,      # B, C ×2, D, E, H, K
        ("MQL", "SAL"): 4,                # A, B, C, K
        ("SAL", "SQL"): 4,                # A, B, C, K
        ("Recycled", "MQL"): 3,           # B, C ×2 (E's is after D)
        ("Rejected", "MQL"): 2,           # C, H
        ("SQL", "Opportunity"): 1,        # A
        ("Opportunity", "Customer"): 1,   # A
        ("Recycled", "Disqualified"): 1,  # D
        ("SQL", "Rejected"): 1,           # K
    }
    assert df["transitions"].sum() == 39  # A5 + B6 + C11 + D4 + E3 + H5 + K5


def test_ping_pong_leads(con):
    df = R.ping_pong_leads(con, S)
    assert df["lead_id"].tolist() == ["C", "H"]                   # 3 rejections, then 2
    c, h = df.iloc[0], df.iloc[1]
    assert (c["rejections"], c["handoffs"], c["current_stage"]) == (3, 4, "SQL")
    assert c["path"] == ("Lead → MQL → Rejected → Recycled → MQL → Rejected → MQL → Rejected → Recycled"
                         " → MQL → SAL → SQL")
    assert (h["rejections"], h["handoffs"], h["current_stage"]) == (2, 2, "Recycled")
    assert (h["sdr"], h["ae"]) == ("Tess", "Blair")
    assert R.ping_pong_leads(con, S, min_rejections=3)["lead_id"].tolist() == ["C"]


def test_later_as_of_sees_the_late_resubmission(con):
    s = R.rejection_summary(con, Scope(as_of=date(2024, 4, 30)))
    # now E's MQL on 04-05 counts, and G (created 04-02) joins the cohort:
    # hand-offs 12 + E 1 + G 1 = 14; rejections 9 + G 1 = 10
    assert (s["handoffs"], s["rejected"]) == (14, 10)
    # resubmissions 5 + E (01-08 09:00 → 04-05 09:00 = 23 + 29 + 31 + 5 = 88 days) = 6
    assert s["resubmissions"] == 6
    assert s["resubmitted_within_7d"] == 4
    # median of 0.5, 1.5, 3, 7, 10, 88 = (3 + 7) / 2 = 5
    assert s["median_resubmit_days"] == pytest.approx(5.0)
    # loops: B, C, H, and now E (2 MQLs) = 4
    assert s["leads_with_loops"] == 4


def test_dimension_filter(con):
    s = R.rejection_summary(con, Scope(as_of=D, filters=(("sdr", ("Tess",)),)))
    # Tess's leads D, E, F, H: hand-offs 4, rejections 4, one resubmission (H, 3.0 days), H loops
    assert (s["handoffs"], s["rejected"], s["resubmissions"], s["resubmitted_within_7d"]) == (4, 4, 1, 1)
    assert s["median_resubmit_days"] == pytest.approx(3.0)
    assert s["leads_with_loops"] == 1


def test_cohort_dates(con):
    # leads created 01-05 … 01-07: E, F, H → hand-offs 1 + 0 + 2 = 3, rejections 1 + 2 = 3
    s = R.rejection_summary(con, Scope(as_of=D, date_from=date(2024, 1, 5), date_to=date(2024, 1, 7)))
    assert (s["handoffs"], s["rejected"], s["resubmissions"]) == (3, 3, 1)


def test_no_rejections_at_all(tmp_path):
    """An imported CRM export without rejection events: zeros and no rate, never a crash."""
    c = build_db(tmp_path / "none.duckdb",
                 leads=[("X", "2024-01-01 09:00", "webinar", "SMB", "Sam", "Alex"),
                        ("Y", "2024-01-01 09:00", "webinar", "SMB", "Sam", "Alex")],
                 lead_events=[("X", "Lead", "2024-01-01 09:00"), ("X", "MQL", "2024-01-02 09:00"),
                              ("X", "SQL", "2024-01-03 09:00"), ("Y", "Lead", "2024-01-01 09:00")])
    s = R.rejection_summary(c, S)
    # one hand-off (X), nothing rejected → rate 0 / 1 = 0; no resubmission → no median, no share
    assert (s["handoffs"], s["rejected"], s["resubmissions"], s["leads_with_loops"]) == (1, 0, 0, 0)
    assert s["rejection_rate"] == 0.0
    assert s["median_resubmit_days"] is None and s["resubmitted_within_7d_share"] is None
    assert R.rejections_by_reason(c, S).empty
    assert R.reasons_over_time(c, S).empty
    assert R.resubmit_delays(c, S).empty
    assert R.ping_pong_leads(c, S).empty
    out = R.recycled_outcomes(c, S)
    assert set(out["grp"]) == {R.FIRST_PASS_GROUP}               # only X; Y was never handed off
    by_ae = R.rejection_breakdown(c, S, "ae")
    assert by_ae[["grp", "handoffs", "rejected"]].values.tolist() == [["Alex", 1, 0]]
    c.close()


def test_no_events_at_all(tmp_path):
    c = build_db(tmp_path / "empty.duckdb", leads=[("X", "2024-01-01 09:00", "webinar", "SMB", "Sam", "Alex")])
    s = R.rejection_summary(c, S)
    assert (s["handoffs"], s["rejected"], s["rejection_rate"]) == (0, 0, None)
    assert R.loop_distribution(c, S).empty and R.transition_flows(c, S).empty
    assert R.recycled_outcomes(c, S).empty
    c.close()


# ---------------------------------------------------------------------------------------------
# The verdict at the top of the page


def test_verdict_on_golden_data_names_nobody(con):
    v = R.rejection_verdict(con, S)
    assert v["state"] == "ok"
    # Alex 5 and Blair 7 hand-offs, both under 30: nobody may be judged on them
    assert v["standout_ae"] is None and v["standout_sdr"] is None and v["quick_sdr"] is None
    assert v["sentence"] == "Too few hand-offs per AE to compare them fairly (fewer than 30 each)."
    assert not R.rejection_breakdown(con, S, "ae")["stands_out"].any()
    # the figures it rests on come along, equal to the functions' own (the page reuses them)
    assert v["summary"] == R.rejection_summary(con, S)
    for by in ("ae", "sdr"):
        pd.testing.assert_frame_equal(v["breakdowns"][by], R.rejection_breakdown(con, S, by))


def test_verdict_states(con, tmp_path):
    # cohort of lead A alone (created 01-01): one hand-off, no rejection
    v = R.rejection_verdict(con, Scope(as_of=D, date_from=date(2024, 1, 1), date_to=date(2024, 1, 1)))
    assert v["state"] == "none_in_cohort" and "No rejections among these leads" in v["sentence"]
    c = build_db(tmp_path / "norej.duckdb", leads=[("X", "2024-01-01 09:00", "web", "SMB", "Sam", "Alex")],
                 lead_events=[("X", "Lead", "2024-01-01 09:00"), ("X", "MQL", "2024-01-02 09:00")])
    v = R.rejection_verdict(c, S)
    assert v["state"] == "no_data"
    assert v["sentence"].startswith("Rejections cannot be computed for this data: it holds no rejection events")
    c.execute("UPDATE stage_config SET kind = 'lost' WHERE funnel = 'lead' AND stage = 'Rejected'")
    assert R.rejection_verdict(c, S)["state"] == "no_rejection_stage"
    c.close()
    # leads without any stage history (e.g. an export of deals only)
    c = build_db(tmp_path / "noevents.duckdb", leads=[("X", "2024-01-01 09:00", "web", "SMB", "Sam", "Alex")])
    v = R.rejection_verdict(c, S)
    assert v["state"] == "no_data" and "no lead stage history at all" in v["sentence"]
    c.close()


def _standout_data(path):
    """200 leads created 01-01, each handed off on 01-02. AE Ann owns L000–L099, Bo L100–L199; SDR
    Cy the even ones, Di the odd ones. Rejected (01-03) and all resubmitted: Ann's L000–L059 (60),
    Bo's L100–L119 (20) — Cy's (even) the next day, Di's (odd) after 5 days. Of those, L000, L002
    (Cy) and L001, L003, L005, L007, L009, L011 (Di) reach SQL on 01-20."""
    leads, events = [], []
    for i in range(200):
        lid = f"L{i:03d}"
        leads.append((lid, "2024-01-01 09:00", "web", "SMB", "Cy" if i % 2 == 0 else "Di", "Ann" if i < 100 else "Bo"))
        events.append((lid, "MQL", "2024-01-02 09:00"))
        if i < 60 or 100 <= i < 120:
            events.append((lid, "Rejected", "2024-01-03 09:00", "x", "not ICP"))
            events.append((lid, "MQL", "2024-01-04 09:00" if i % 2 == 0 else "2024-01-08 09:00"))
            if i in (0, 2, 1, 3, 5, 7, 9, 11):
                events.append((lid, "SQL", "2024-01-20 09:00"))
    return build_db(path, leads=leads, lead_events=events)


def test_verdict_names_the_standouts(tmp_path):
    c = _standout_data(tmp_path / "standout.duckdb")
    scope = Scope(as_of=date(2024, 2, 1))
    by_ae = R.rejection_breakdown(c, scope, "ae").set_index("grp")
    # Ann: hand-offs 100 + 60 resubmissions = 160, rejected 60 → 37.5%; Bo: 100 + 20 = 120, 20 → 16.7%;
    # team: 80 / 280 = 28.6%. Ann / team = 0.375 / 0.2857 = 1.31 ≥ 1.3.
    # z (Ann vs Bo): pooled p = 80/280; (0.375 − 0.1667) / sqrt(0.2857 · 0.7143 · (1/160 + 1/120)) = 3.82 ≥ 1.96
    assert by_ae.loc["Ann", "rejection_rate"] == pytest.approx(0.375)
    assert bool(by_ae.loc["Ann", "stands_out"]) and not bool(by_ae.loc["Bo", "stands_out"])
    v = R.rejection_verdict(c, scope)
    assert v["standout_ae"] == "Ann"
    assert "AE Ann's leads are rejected 1.3× the team rate (38% of 160 hand-offs vs 29%)." in v["sentence"]
    # SDRs: Cy and Di each 100 + 40 = 140 hand-offs, 40 rejected — equal, nobody stands out
    assert v["standout_sdr"] is None
    # Cy resubmitted all 40 of theirs within 1 day: 40/40 = 100%; all SDRs 40/80 = 50%; z vs Di (0/40) huge.
    # Of Cy's 40 quick ones, L000 and L002 reached SQL: 2/40 = 5.0%;
    # all resubmissions: 8 of 80 = 10%
    assert v["quick_sdr"] == "Cy"
    assert ("100% of SDR Cy's resubmissions come back within 2 days of the rejection (all SDRs: 50%), "
            "and 5.0% of those reach SQL (all resubmissions: 10%).") in v["sentence"]
    c.close()


def test_ratio_without_significance_is_not_a_standout(tmp_path):
    """1.5× the team rate on 30 hand-offs is well within chance: nobody is named."""
    leads, events = [], []
    # AE Ann: 30 leads, 6 rejected (20%); AE Bo: 300 leads, 39 rejected (13%). Team 45/330 = 13.6%.
    # Ann / team = 0.2 / 0.1364 = 1.47 ≥ 1.3, but z = (0.2 − 0.13) / sqrt(0.1364 · 0.8636 · (1/30 + 1/300)) = 1.06 < 1.96
    for i in range(330):
        lid = f"L{i:03d}"
        leads.append((lid, "2024-01-01 09:00", "web", "SMB", "Cy", "Ann" if i < 30 else "Bo"))
        events.append((lid, "MQL", "2024-01-02 09:00"))
        if i < 6 or 30 <= i < 69:
            events.append((lid, "Rejected", "2024-01-03 09:00"))
    c = build_db(tmp_path / "noise.duckdb", leads=leads, lead_events=events)
    by_ae = R.rejection_breakdown(c, Scope(as_of=date(2024, 2, 1)), "ae")
    assert not by_ae["stands_out"].any()
    v = R.rejection_verdict(c, Scope(as_of=date(2024, 2, 1)))
    assert v["standout_ae"] is None
    assert v["sentence"].startswith("No AE stands out: rejection rates run from 13% to 20% (team 14%).")
    c.close()
