"""Golden figures for stage conversion (metrics.md §1) on a hand-built journey set.

The data set (also used by test_time_in_stage_golden.py) covers: skipped stages (L3, L14 jump
from Lead to SQL), two events at the same timestamp (L4 MQL+SAL, L13 Rejected+Recycled), censored
visits (L2, L5, L7, L9, L11, L12, L13, L14), terminal stages (L1 Customer, L3/L4 Disqualified,
O1 Closed Won, O4 Closed Lost), events after the as-of date (L5's SAL on 5 April), a lead
created after the as-of date (L6), a lead created just before the cohort (L10), a lead created in
the last hour of the cohort's last day (L11), a lead with no event at all (L8) and a conversion
window boundary (L1's Customer exactly 30 days after creation; L7's MQL 45 days after).

As-of D = 2025-03-31 (so "known by D" means entered before 2025-04-01 00:00), cohort from
2025-01-01 to D. Every expected number below is written out by hand, with the arithmetic.
"""
from __future__ import annotations

from datetime import date

import pytest

from builders import build_db
from funnel import conversion
from funnel.query import Scope

AS_OF = date(2025, 3, 31)
SCOPE = Scope(as_of=AS_OF, date_from=date(2025, 1, 1))

# (lead_id, created_at, channel, segment, sdr, ae)
LEADS = [
    ("L1", "2025-01-01 00:00", "web", "SMB", "Ann", "Xe"),
    ("L2", "2025-01-03 00:00", "web", "SMB", "Ann", "Xe"),
    ("L3", "2025-01-05 00:00", "event", "Enterprise", "Bob", "Yu"),
    ("L4", "2025-01-10 00:00", "event", "SMB", "Bob", "Yu"),
    ("L5", "2025-03-01 00:00", "web", "Enterprise", "Ann", "Xe"),
    ("L6", "2025-04-02 00:00", "web", "SMB", "Ann", "Xe"),        # created after D
    ("L7", "2025-01-15 00:00", "partner", "SMB", "Bob", "Yu"),
    ("L8", "2025-02-01 00:00", "partner", "Enterprise", "Ann", "Xe"),  # no events at all
    ("L9", "2025-02-10 00:00", "web", "Enterprise", "Bob", "Yu"),
    ("L10", "2024-12-31 23:00", "web", "SMB", "Ann", "Xe"),       # before the cohort starts
    ("L11", "2025-03-31 23:00", "event", "SMB", "Ann", "Xe"),     # last hour of the cohort
    ("L12", "2025-02-01 12:00", "partner", "SMB", "Ann", "Xe"),
    ("L13", "2025-02-15 00:00", "web", "SMB", "Bob", "Yu"),
    ("L14", "2025-03-03 00:00", "partner", "Enterprise", "Bob", "Yu"),
]

# (lead_id, stage, entered_at) in input order (event_seq)
LEAD_EVENTS = [
    ("L1", "Lead", "2025-01-01 00:00"), ("L1", "MQL", "2025-01-02 00:00"), ("L1", "SAL", "2025-01-04 00:00"),
    ("L1", "SQL", "2025-01-05 00:00"), ("L1", "Opportunity", "2025-01-10 00:00"),
    ("L1", "Customer", "2025-01-31 00:00"),                     # exactly created + 30 days
    ("L2", "Lead", "2025-01-03 00:00"), ("L2", "MQL", "2025-01-03 12:00"), ("L2", "Rejected", "2025-01-04 12:00"),
    ("L2", "Recycled", "2025-01-05 12:00"), ("L2", "MQL", "2025-01-20 12:00"),
    ("L3", "Lead", "2025-01-05 00:00"), ("L3", "SQL", "2025-01-06 00:00"),   # skips MQL and SAL
    ("L3", "Disqualified", "2025-01-16 00:00"),
    ("L4", "Lead", "2025-01-10 00:00"), ("L4", "MQL", "2025-01-11 00:00"),
    ("L4", "SAL", "2025-01-11 00:00"),                          # same timestamp as the MQL, later in input
    ("L4", "SQL", "2025-01-14 00:00"), ("L4", "Disqualified", "2025-01-24 00:00"),
    ("L5", "Lead", "2025-03-01 00:00"), ("L5", "MQL", "2025-03-10 00:00"),
    ("L5", "SAL", "2025-04-05 00:00"),                          # after D: not known yet
    ("L6", "Lead", "2025-04-02 00:00"), ("L6", "MQL", "2025-04-03 00:00"),
    ("L7", "Lead", "2025-01-15 00:00"), ("L7", "MQL", "2025-03-01 00:00"),   # 45 days after creation
    ("L7", "SAL", "2025-03-02 00:00"),
    ("L9", "Lead", "2025-02-10 00:00"), ("L9", "MQL", "2025-02-11 00:00"), ("L9", "SAL", "2025-02-12 00:00"),
    ("L9", "SQL", "2025-02-22 00:00"), ("L9", "Opportunity", "2025-03-01 00:00"),
    ("L10", "Lead", "2024-12-31 23:00"), ("L10", "MQL", "2025-01-01 01:00"),
    ("L11", "Lead", "2025-03-31 23:00"), ("L11", "MQL", "2025-03-31 23:30"),
    ("L12", "Lead", "2025-02-01 12:00"), ("L12", "MQL", "2025-02-02 12:00"), ("L12", "Rejected", "2025-02-03 12:00"),
    ("L12", "Recycled", "2025-02-04 12:00"),
    ("L13", "Lead", "2025-02-15 00:00"), ("L13", "MQL", "2025-02-16 00:00"), ("L13", "Rejected", "2025-02-17 00:00"),
    ("L13", "Recycled", "2025-02-17 00:00"),                    # same timestamp as the rejection
    ("L14", "Lead", "2025-03-03 00:00"), ("L14", "SQL", "2025-03-04 00:00"),  # skips MQL and SAL
]

# (opportunity_id, lead_id, created_at, amount, close_date, owner)
OPPORTUNITIES = [
    ("O1", "L1", "2025-01-10 00:00", 1000.0, "2025-01-31", "Xe"),
    ("O2", "L9", "2025-03-01 00:00", 2000.0, "2025-05-31", "Yu"),
    ("O3", "L5", "2025-04-03 00:00", 500.0, "2025-06-30", "Xe"),     # created after D
    ("O4", "L7", "2025-02-01 00:00", 800.0, "2025-02-11", "Yu"),
]
OPPORTUNITY_EVENTS = [
    ("O1", "Qualify", "2025-01-10 00:00"), ("O1", "Discovery", "2025-01-12 00:00"),
    ("O1", "Proposal", "2025-01-20 00:00"), ("O1", "Closed Won", "2025-01-31 00:00"),
    ("O2", "Qualify", "2025-03-01 00:00"), ("O2", "Discovery", "2025-03-05 00:00"),
    ("O3", "Qualify", "2025-04-03 00:00"),
    ("O4", "Qualify", "2025-02-01 00:00"), ("O4", "Closed Lost", "2025-02-11 00:00"),
]

STAGES = ["Lead", "MQL", "SAL", "SQL", "Opportunity", "Customer"]


def build_golden(path):
    return build_db(path, leads=LEADS, lead_events=LEAD_EVENTS, opportunities=OPPORTUNITIES,
                    opportunity_events=OPPORTUNITY_EVENTS)


@pytest.fixture
def con(tmp_path):
    c = build_golden(tmp_path / "golden.duckdb")
    yield c
    c.close()


def by_stage(df, col):
    return dict(zip(df["stage"], df[col]))


def test_cohort_reached_and_rates(con):
    df = conversion.stage_conversion(con, SCOPE)
    assert list(df["stage"]) == STAGES
    # Cohort: L1 L2 L3 L4 L5 L7 L8 L9 L11 L12 L13 L14 = 12 (L6 created after D, L10 before 1 Jan).
    assert set(df["leads"]) == {12}
    assert by_stage(df, "reached") == {
        "Lead": 12,          # every cohort lead, L8 (no events) included
        "MQL": 11,           # all but L8; L3 and L14 count through their SQL event (skipped stage)
        "SAL": 6,            # L1 L3 L4 L7 L9 L14; L5's SAL is on 5 April, after D
        "SQL": 5,            # L1 L3 L4 L9 L14
        "Opportunity": 2,    # L1 L9
        "Customer": 1,       # L1
    }
    step = by_stage(df, "step_rate")
    assert step["Lead"] != step["Lead"]  # NaN: no step into the first stage
    assert step["MQL"] == pytest.approx(11 / 12)
    assert step["SAL"] == pytest.approx(6 / 11)
    assert step["SQL"] == pytest.approx(5 / 6)
    assert step["Opportunity"] == pytest.approx(2 / 5)
    assert step["Customer"] == pytest.approx(1 / 2)
    overall = by_stage(df, "overall_rate")
    assert [overall[s] for s in STAGES] == pytest.approx([1, 11 / 12, 6 / 12, 5 / 12, 2 / 12, 1 / 12])


def test_median_days_to_reach(con):
    df = conversion.stage_conversion(con, SCOPE)
    med = by_stage(df, "median_days_to_reach")
    # MQL: L11 0.5 h = 0.0208 d, L2 0.5, L1 L3 L4 L9 L12 L13 L14 1 each, L5 9, L7 45 -> 6th of 11 = 1
    assert med["MQL"] == pytest.approx(1.0)
    # SAL: L3 1, L4 1 (same-timestamp event), L14 1 (via SQL), L9 2, L1 3, L7 46 -> (1 + 2) / 2
    assert med["SAL"] == pytest.approx(1.5)
    # SQL: L3 1, L14 1, L1 4, L4 4, L9 12 -> 4
    assert med["SQL"] == pytest.approx(4.0)
    # Opportunity: L1 9, L9 19 -> 14
    assert med["Opportunity"] == pytest.approx(14.0)
    assert med["Customer"] == pytest.approx(30.0)


def test_time_to_convert_is_the_same_median(con):
    df = conversion.time_to_convert(con, SCOPE)
    assert list(df["stage"]) == STAGES[1:]
    assert by_stage(df, "median_days_to_reach")["SAL"] == pytest.approx(1.5)


def test_conversion_window_30_days_is_inclusive(con):
    df = conversion.stage_conversion(con, SCOPE.with_(window_days=30))
    assert by_stage(df, "reached") == {
        "Lead": 12,
        "MQL": 10,           # L7's MQL (45 days after creation) falls outside; L8 has none
        "SAL": 5,            # L1 L3 L4 L9 L14 (L7's SAL is 46 days after creation)
        "SQL": 5,            # L1 L3 L4 L9 L14
        "Opportunity": 2,    # L1 (day 9) L9 (day 19)
        "Customer": 1,       # L1 on day 30 exactly: entered_at <= created_at + W counts
    }
    assert by_stage(df, "step_rate")["SAL"] == pytest.approx(5 / 10)


def test_conversion_window_29_days_drops_the_boundary_event(con):
    df = conversion.stage_conversion(con, SCOPE.with_(window_days=29))
    assert by_stage(df, "reached")["Customer"] == 0
    assert by_stage(df, "step_rate")["Customer"] == pytest.approx(0.0)
    assert by_stage(df, "median_days_to_reach")["Customer"] != by_stage(df, "median_days_to_reach")["Customer"]


def test_breakdown_by_channel(con):
    df = conversion.stage_conversion(con, SCOPE, breakdown="channel")
    got = {g: [int(x) for x in part.sort_values("position")["reached"]] for g, part in df.groupby("grp")}
    assert got == {
        "web": [5, 5, 2, 2, 2, 1],       # L1 L2 L5 L9 L13; SAL/SQL/Opp: L1 L9; Customer: L1
        "event": [3, 3, 2, 2, 0, 0],     # L3 L4 L11; SAL/SQL: L3 (skipped) L4
        "partner": [4, 3, 2, 1, 0, 0],   # L7 L8 L12 L14; MQL: L7 L12 L14; SAL: L7 L14; SQL: L14
    }
    partner = df[df["grp"] == "partner"].set_index("stage")
    assert partner.loc["SQL", "step_rate"] == pytest.approx(1 / 2)
    assert partner.loc["SQL", "overall_rate"] == pytest.approx(1 / 4)
    assert set(partner["leads"]) == {4}


def test_breakdown_with_blank_values_and_filter(tmp_path):
    con = build_db(tmp_path / "b.duckdb",
                   leads=[("A", "2025-01-01 00:00", None, "SMB", "Ann", "Xe"),
                          ("B", "2025-01-01 00:00", "web", "SMB", "Ann", "Xe")],
                   lead_events=[("A", "MQL", "2025-01-02 00:00")])
    df = conversion.stage_conversion(con, Scope(as_of=date(2025, 1, 31)), breakdown="channel")
    assert by_stage(df[df["grp"] == "(blank)"], "reached")["MQL"] == 1
    assert by_stage(df[df["grp"] == "web"], "reached")["MQL"] == 0
    df = conversion.stage_conversion(con, Scope(as_of=date(2025, 1, 31), filters=(("channel", ("web",)),)))
    assert by_stage(df, "reached") == {"Lead": 1, "MQL": 0, "SAL": 0, "SQL": 0, "Opportunity": 0, "Customer": 0}


def test_later_as_of_brings_in_late_events_and_lead(con):
    # D = 5 April: L6 (created 2 April, MQL 3 April) joins; L5's SAL on 5 April is now known.
    df = conversion.stage_conversion(con, Scope(as_of=date(2025, 4, 5), date_from=date(2025, 1, 1)))
    assert by_stage(df, "reached") == {"Lead": 13, "MQL": 12, "SAL": 7, "SQL": 5, "Opportunity": 2, "Customer": 1}


def test_earlier_as_of_ignores_later_events(con):
    # D = 31 January: cohort L1 L2 L3 L4 L7 (5). L2's resubmitted MQL (20 Jan) changes nothing:
    # reach counts leads, not events. L7's MQL (1 March) is not known yet; L1's Customer (31 Jan) is.
    df = conversion.stage_conversion(con, Scope(as_of=date(2025, 1, 31), date_from=date(2025, 1, 1)))
    assert by_stage(df, "reached") == {"Lead": 5, "MQL": 4, "SAL": 3, "SQL": 3, "Opportunity": 1, "Customer": 1}


def test_conversion_trend_by_month(con):
    df = conversion.conversion_trend(con, SCOPE, grain="month")
    mql = df[df["stage"] == "MQL"].set_index(df[df["stage"] == "MQL"]["period"].dt.strftime("%Y-%m"))
    # January: L1 L2 L3 L4 L7 = 5 leads, all reach MQL by D (L7 on 1 March).
    # February: L8 L9 L12 L13 = 4 leads, MQL: L9 L12 L13 = 3. March: L5 L11 L14 = 3, all reach MQL.
    assert mql["leads"].to_dict() == {"2025-01": 5, "2025-02": 4, "2025-03": 3}
    assert mql["reached"].to_dict() == {"2025-01": 5, "2025-02": 3, "2025-03": 3}
    assert mql.loc["2025-02", "overall_rate"] == pytest.approx(3 / 4)
    # Without a window a cohort matures 90 days after its period ends: none has by 31 March.
    assert not df["complete"].any()
    # With a 30-day window a period is complete when its end + 30 days <= the end of D (1 April 00:00):
    # January ends 1 Feb, + 30 days = 3 March -> complete; February ends 1 March, + 30 days =
    # 31 March 00:00 -> complete; March ends 1 April, + 30 days = 1 May -> incomplete.
    dw = conversion.conversion_trend(con, SCOPE.with_(window_days=30), grain="month")
    comp = dw.groupby(dw["period"].dt.strftime("%Y-%m"))["complete"].first().to_dict()
    assert comp == {"2025-01": True, "2025-02": True, "2025-03": False}
    # January with the window: L7's MQL (45 days) no longer counts -> 4 of 5.
    jan = dw[(dw["period"].dt.strftime("%Y-%m") == "2025-01") & (dw["stage"] == "MQL")]
    assert int(jan["reached"].iloc[0]) == 4


def test_conversion_trend_by_week(con):
    df = conversion.conversion_trend(con, SCOPE, grain="week")
    lead = df[df["stage"] == "Lead"]
    assert int(lead["leads"].sum()) == 12
    # ISO weeks start on Monday: the week of 30 Dec 2024 holds L1 (Wed 1 Jan), L2 (Fri 3 Jan), L3 (Sun 5 Jan).
    first = lead.iloc[0]
    assert first["period"].strftime("%Y-%m-%d") == "2024-12-30" and int(first["leads"]) == 3


def test_time_to_convert_histogram(con):
    df = conversion.time_to_convert_histogram(con, SCOPE)
    mql = dict(zip(df[df["stage"] == "MQL"]["band"], df[df["stage"] == "MQL"]["leads"]))
    # MQL days: L11 0.02, L2 0.5 -> "0–1 d"; seven at exactly 1 day -> "1–3 d"; L5 9 -> "7–14 d"; L7 45 -> "30–60 d"
    assert mql == {"0–1 d": 2, "1–3 d": 7, "7–14 d": 1, "30–60 d": 1}
    assert int(df[df["stage"] == "Customer"]["leads"].sum()) == 1
    assert int(df.groupby("stage")["leads"].sum()["SAL"]) == 6


def test_biggest_drop_off(con):
    # Overall step rates: MQL 11/12, SAL 6/11 = 0.545, SQL 5/6, Opportunity 2/5 = 0.4, Customer 1/2.
    # Biggest drop: SQL -> Opportunity (60% lost). No channel has 30 leads, so no "worst" channel.
    f = conversion.drop_off_finding(con, SCOPE, breakdown="channel", min_leads=30)
    assert f["from_stage"] == "SQL" and f["to_stage"] == "Opportunity"
    assert f["lost_share"] == pytest.approx(0.6)
    assert f["worst_group"] is None
    assert "SQL" in f["sentence"] and "Opportunity" in f["sentence"]
    # With a threshold of 2 leads entering the step: web 2/2 kept, event 0/2 lost all, partner
    # has 1 lead at SQL (too few). Worst: event (100% lost).
    f = conversion.drop_off_finding(con, SCOPE, breakdown="channel", min_leads=2)
    assert f["worst_group"] == "event"
    assert f["worst_lost_share"] == pytest.approx(1.0)
    assert "worst for channel Event: 100% lost (2 of 2)" in f["sentence"]   # the code "event", readable


def test_empty_cohort_gives_empty_frame(con):
    df = conversion.stage_conversion(con, Scope(as_of=AS_OF, date_from=date(2025, 3, 20), date_to=date(2025, 3, 25)))
    assert df.empty
    f = conversion.drop_off_finding(con, Scope(as_of=AS_OF, date_from=date(2025, 3, 20), date_to=date(2025, 3, 25)))
    assert f["from_stage"] is None and "no leads" in f["sentence"].lower()
