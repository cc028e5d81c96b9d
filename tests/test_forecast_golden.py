"""Golden figures for the probability-weighted forecast (metrics.md §4) on hand-built deals.

As-of D = 2026-06-15 (known by D = entered before 2026-06-16 00:00). Stage configuration is the
default: Qualify 10% (pipeline), Discovery 25% (pipeline), Proposal 50% (best case),
Negotiation 75% (commit), Closed Won (position 5), Closed Lost.

The deals and what each one tests:

  O1  amount changes (8k → 12k → 15k) and a close-date slip (30 Jun → 20 Jul); advanced this week
  O2  skipped stage (starts in Discovery); overdue at D (close 10 Jun); amount down this week
  O3  no event by D (its Discovery event is on 16 Jun, after D) → first stage, row values
  O4  won inside the 365-day window (15 Feb 2026), skipped Discovery; won amount from its event
  O5  lost inside the window, reached Discovery only
  O6  won outside the window (1 Jun 2025)
  O7  lost on D − 365 days (15 Jun 2025 23:00): outside (the window is (D − 365 days, D])
  O8  lost on D − 364 days (16 Jun 2025 08:00): inside, reached Proposal
  O9  two events at the same timestamp (Discovery then Qualify: input order decides → Qualify),
      close date pushed from 25 Jun to 5 Sep this week
  O10 won in May (inside the quarter), amount 9k as of the won event
  O11 won this week (12 Jun); no amount on any event → row amount
  O12 new this week (created 10 Jun)
  O13 lost this week
  O14 moved back this week (Proposal → Discovery)
  O15 created after D: does not exist yet
"""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from builders import build_db
from funnel import forecast
from funnel.query import Scope

AS_OF = date(2026, 6, 15)
WEEK_AGO = date(2026, 6, 8)
SCOPE = Scope(as_of=AS_OF)

LEADS = [("L1", "2026-02-20 09:00", "webinar", "SMB", "Ann", "Xe"),
         ("L2", "2026-02-20 09:00", "organic", "SMB", "Ann", "Xe")]

# (opportunity_id, lead_id, created_at, amount, close_date)
OPPS = [
    ("O1", "L1", "2026-03-01 09:00", 10000, "2026-07-20"),
    ("O2", "L1", "2026-04-01 09:00", 20000, "2026-06-10"),
    ("O3", "L2", "2026-06-01 09:00", 5000, "2026-06-30"),
    ("O4", None, "2025-12-01 09:00", 28000, "2026-02-15"),
    ("O5", None, "2026-01-05 09:00", 9000, "2026-03-01"),
    ("O6", None, "2025-03-01 09:00", 11000, "2025-06-01"),
    ("O7", None, "2025-04-01 09:00", 13000, "2025-06-15"),
    ("O8", None, "2025-05-01 09:00", 14000, "2025-06-16"),
    ("O9", None, "2026-04-01 09:00", 40000, "2026-09-05"),
    ("O10", None, "2026-04-01 09:00", 7000, "2026-05-20"),
    ("O11", None, "2026-05-01 09:00", 4000, "2026-06-12"),
    ("O12", None, "2026-06-10 09:00", 8000, "2026-06-28"),
    ("O13", None, "2026-05-15 09:00", 6000, "2026-06-20"),
    ("O14", None, "2026-05-01 09:00", 10000, "2026-07-31"),
    ("O15", None, "2026-06-20 09:00", 99000, "2026-06-30"),
]

# (opportunity_id, stage, entered_at, amount, close_date) in input order
EVENTS = [
    ("O1", "Qualify", "2026-03-01 09:00", 8000, "2026-06-30"),
    ("O1", "Discovery", "2026-04-10 09:00", 12000, None),
    ("O1", "Proposal", "2026-05-20 09:00", None, "2026-07-20"),
    ("O1", "Negotiation", "2026-06-12 09:00", 15000, None),
    ("O2", "Discovery", "2026-04-01 09:00", 20000, "2026-06-10"),
    ("O2", "Negotiation", "2026-05-01 10:00", None, None),
    ("O2", "Negotiation", "2026-06-13 09:00", 18000, None),
    ("O3", "Discovery", "2026-06-16 09:00", None, None),           # after D
    ("O4", "Qualify", "2025-12-01 09:00", None, None),
    ("O4", "Proposal", "2026-01-10 09:00", None, None),
    ("O4", "Closed Won", "2026-02-15 09:00", 30000, None),
    ("O5", "Qualify", "2026-01-05 09:00", None, None),
    ("O5", "Discovery", "2026-02-01 09:00", None, None),
    ("O5", "Closed Lost", "2026-03-01 10:00", None, None),
    ("O6", "Qualify", "2025-03-01 09:00", None, None),
    ("O6", "Closed Won", "2025-06-01 10:00", None, None),
    ("O7", "Qualify", "2025-04-01 09:00", None, None),
    ("O7", "Negotiation", "2025-05-01 09:00", None, None),
    ("O7", "Closed Lost", "2025-06-15 23:00", None, None),
    ("O8", "Qualify", "2025-05-01 09:00", None, None),
    ("O8", "Discovery", "2025-05-10 09:00", None, None),
    ("O8", "Proposal", "2025-06-01 09:00", None, None),
    ("O8", "Closed Lost", "2025-06-16 08:00", None, None),
    ("O9", "Qualify", "2026-04-01 09:00", 40000, "2026-06-25"),
    ("O9", "Discovery", "2026-05-01 09:00", 50000, None),
    ("O9", "Qualify", "2026-05-01 09:00", None, None),              # same time, later input: wins
    ("O9", "Qualify", "2026-06-10 09:00", None, "2026-09-05"),
    ("O10", "Qualify", "2026-04-01 09:00", 7000, None),
    ("O10", "Closed Won", "2026-05-20 09:00", 9000, None),
    ("O11", "Negotiation", "2026-05-01 09:00", None, None),
    ("O11", "Closed Won", "2026-06-12 09:00", None, None),
    ("O12", "Discovery", "2026-06-10 09:00", None, None),
    ("O13", "Proposal", "2026-05-15 09:00", None, None),
    ("O13", "Closed Lost", "2026-06-11 09:00", None, None),
    ("O14", "Discovery", "2026-05-01 09:00", None, None),
    ("O14", "Proposal", "2026-06-01 09:00", None, None),
    ("O14", "Discovery", "2026-06-09 10:00", None, None),
]


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    c = build_db(tmp_path_factory.mktemp("fc") / "golden.duckdb", leads=LEADS, opportunities=OPPS,
                 opportunity_events=EVENTS)
    yield c
    c.close()


def _periods(wf: pd.DataFrame) -> dict[str, float]:
    p = forecast.by_period(wf)
    return {pd.Timestamp(k).strftime("%Y-%m"): round(v, 6) for k, v in zip(p["period"], p["weighted_amount"])}


# ---------------------------------------------------------------------------------------------
# State at D


def test_pipeline_as_of_reconstructs_each_open_deal(con):
    deals = forecast.pipeline_as_of(con, SCOPE).set_index("opportunity_id")
    # open at D: O1, O2, O3, O9, O12, O14 (O4/O5/O6/O7/O8/O10/O11/O13 closed, O15 not created yet)
    assert sorted(deals.index) == ["O1", "O12", "O14", "O2", "O3", "O9"]
    expected = {
        # id: (stage, amount, close date, period, overdue, probability, weighted)
        "O1": ("Negotiation", 15000, "2026-07-20", "2026-07", False, 0.75, 11250),   # 15000 × .75
        "O2": ("Negotiation", 18000, "2026-06-10", "2026-06", True, 0.75, 13500),    # overdue → June
        "O3": ("Qualify", 5000, "2026-06-30", "2026-06", False, 0.10, 500),          # no event by D
        "O9": ("Qualify", 50000, "2026-09-05", "2026-09", False, 0.10, 5000),        # tie → Qualify
        "O12": ("Discovery", 8000, "2026-06-28", "2026-06", False, 0.25, 2000),
        "O14": ("Discovery", 10000, "2026-07-31", "2026-07", False, 0.25, 2500),
    }
    for oid, (stage, amount, close, period, overdue, p, w) in expected.items():
        row = deals.loc[oid]
        assert row["stage"] == stage, oid
        assert row["amount"] == amount, oid
        assert pd.Timestamp(row["close_date"]).date() == date.fromisoformat(close), oid
        assert pd.Timestamp(row["period"]).strftime("%Y-%m") == period, oid
        assert bool(row["overdue"]) is overdue, oid
        assert row["probability"] == pytest.approx(p), oid
        assert row["weighted_amount"] == pytest.approx(w), oid
    assert deals.loc["O2", "days_overdue"] == 5                    # 15 Jun − 10 Jun
    assert pd.isna(deals.loc["O1", "days_overdue"])


def test_deal_states_of_closed_deals(con):
    st = forecast.deal_states(con, SCOPE).set_index("opportunity_id")
    assert "O15" not in st.index                                    # created after D
    assert st.loc["O4", "kind"] == "won" and st.loc["O4", "amount"] == 30000   # amount from the won event
    assert st.loc["O4", "max_position"] == 5                         # entered Closed Won
    assert st.loc["O5", "max_position"] == 2                         # reached Discovery, then lost
    assert st.loc["O8", "max_position"] == 3
    assert st.loc["O11", "amount"] == 4000                           # no event amount → row
    assert st.loc["O9", "max_position"] == 2                         # Discovery before moving back


# ---------------------------------------------------------------------------------------------
# Weighted forecast, both methods


def test_weighted_forecast_configured(con):
    wf = forecast.weighted_forecast(con, SCOPE, "configured")
    # June: O2 13500 + O3 500 + O12 2000 = 16000; July: O1 11250 + O14 2500 = 13750; Sep: O9 5000
    assert _periods(wf) == {"2026-06": 16000, "2026-07": 13750, "2026-09": 5000}
    june = wf[pd.to_datetime(wf["period"]) == "2026-06-01"].set_index("stage")
    assert june.loc["Negotiation", "open_amount"] == 18000 and june.loc["Negotiation", "weighted_amount"] == 13500
    assert june.loc["Discovery", "weighted_amount"] == 2000 and june.loc["Qualify", "weighted_amount"] == 500
    assert int(june["open_deals"].sum()) == 3
    q = forecast.by_quarter(wf).set_index("quarter")["weighted_amount"].to_dict()
    assert q == {"2026-Q2": 16000, "2026-Q3": 18750}                # 13750 + 5000


def test_stage_win_rates_count_the_365_day_window(con):
    rates = forecast.stage_win_rates(con, SCOPE).set_index("stage")
    # closed in (D − 365 d, D]: O4 won (max 5), O5 lost (max 2), O8 lost (max 3), O10 won (max 5),
    # O11 won (max 5), O13 lost (max 3). Not O6 (won 1 Jun 2025) nor O7 (lost 15 Jun 2025 23:00).
    assert rates.loc["Qualify", ["won", "lost", "closed"]].tolist() == [3, 3, 6]       # all six
    assert rates.loc["Discovery", ["won", "lost", "closed"]].tolist() == [3, 3, 6]     # O5 reached it
    assert rates.loc["Proposal", ["won", "lost", "closed"]].tolist() == [3, 2, 5]      # O4 skipped to it
    assert rates.loc["Negotiation", ["won", "lost", "closed"]].tolist() == [3, 0, 3]   # O4, O10, O11
    assert rates.loc["Qualify", "historical_rate"] == pytest.approx(3 / 6)
    assert rates.loc["Proposal", "historical_rate"] == pytest.approx(3 / 5)
    assert rates.loc["Negotiation", "historical_rate"] == pytest.approx(1.0)
    # fewer than 20 closed deals everywhere → the historical method uses the configured probability
    assert not rates["enough_history"].any()
    assert rates["historical_probability"].tolist() == pytest.approx([0.10, 0.25, 0.50, 0.75])
    assert _periods(forecast.weighted_forecast(con, SCOPE, "historical")) == {"2026-06": 16000, "2026-07": 13750,
                                                                                "2026-09": 5000}
    note = forecast.method_note(forecast.stage_win_rates(con, SCOPE), "historical")
    assert "Qualify (6 closed)" in note and "Negotiation (3 closed)" in note
    assert forecast.method_note(rates.reset_index(), "configured") is None


def test_historical_method_uses_rates_with_enough_history(con, monkeypatch):
    # with a threshold of 5 closed deals: Qualify 3/6, Discovery 3/6, Proposal 3/5 qualify;
    # Negotiation (3 closed) keeps its configured 75%.
    monkeypatch.setattr(forecast, "MIN_CLOSED_FOR_HISTORICAL", 5)
    rates = forecast.stage_win_rates(con, SCOPE).set_index("stage")
    assert rates["enough_history"].tolist() == [True, True, True, False]
    assert rates["historical_probability"].tolist() == pytest.approx([0.5, 0.5, 0.6, 0.75])
    wf = forecast.weighted_forecast(con, SCOPE, "historical")
    # June: O2 18000 × .75 = 13500 + O3 5000 × .5 = 2500 + O12 8000 × .5 = 4000 → 20000
    # July: O1 15000 × .75 = 11250 + O14 10000 × .5 = 5000 → 16250;  Sep: O9 50000 × .5 = 25000
    assert _periods(wf) == {"2026-06": 20000, "2026-07": 16250, "2026-09": 25000}


def test_historical_threshold_is_twenty_closed_deals(tmp_path):
    """19 closed deals behind Qualify → configured 10%; 20 → the historical rate."""
    for lost, expected in ((12, 0.10), (13, 7 / 20)):
        opps, events = [("OPEN", None, "2026-06-01 09:00", 1000, "2026-06-30")], []
        for i in range(7 + lost):
            oid = f"C{i}"
            opps.append((oid, None, "2026-01-01 09:00", 100, "2026-03-01"))
            events += [(oid, "Qualify", "2026-01-01 09:00"),
                       (oid, "Closed Won" if i < 7 else "Closed Lost", "2026-03-01 09:00")]
        c = build_db(tmp_path / f"t{lost}.duckdb", opportunities=opps, opportunity_events=events)
        rates = forecast.stage_win_rates(c, SCOPE).set_index("stage")
        assert rates.loc["Qualify", "closed"] == 7 + lost
        assert rates.loc["Qualify", "historical_probability"] == pytest.approx(expected)
        deals = forecast.pipeline_as_of(c, SCOPE, "historical")
        assert deals["weighted_amount"].sum() == pytest.approx(1000 * expected)   # OPEN is in Qualify
        c.close()


def test_dimension_filter_goes_through_the_deals_lead(con):
    wf = forecast.weighted_forecast(con, SCOPE.with_(filters=(("channel", ("webinar",)),)))
    # only O1 and O2 come from the webinar lead L1
    assert _periods(wf) == {"2026-06": 13500, "2026-07": 11250}


# ---------------------------------------------------------------------------------------------
# Ranges


def test_monte_carlo_ranges(con):
    r = forecast.forecast_ranges(con, SCOPE).set_index("period")
    assert list(r.index) == ["2026-06", "2026-07", "2026-09", "total"]
    june = r.loc["2026-06"]
    # June: O2 18000 (p .75), O3 5000 (.10), O12 8000 (.25). Exact distribution of the won amount:
    #   0: .25 × .9 × .75 = .16875      → CDF .16875  (P10 = 0)
    #   5000: .01875, 8000: .05625, 13000: .00625 → CDF .25
    #   18000: .75 × .9 × .75 = .50625  → CDF .75625  (P50 = 18000)
    #   23000: .05625 → .8125;  26000: .75 × .9 × .25 = .16875 → .98125 (P90 = 26000)
    assert (june["p10"], june["p50"], june["p90"]) == (0, 18000, 26000)
    assert june["weighted_amount"] == 16000 and june["open_deals"] == 3 and june["open_amount"] == 31000
    # variance = 18000² × .1875 + 5000² × .09 + 8000² × .1875 = 75,000,000 → SE = 8660 / √10000 ≈ 86.6
    assert june["std_error"] == pytest.approx(86.6, rel=0.05)
    for _, row in r.iterrows():
        assert row["p10"] <= row["p50"] <= row["p90"]
        assert abs(row["mean"] - row["weighted_amount"]) <= 3 * row["std_error"] + 1e-9
    assert r.loc["total", "weighted_amount"] == 34750                # 16000 + 13750 + 5000
    # the same seed gives the same figures
    pd.testing.assert_frame_equal(forecast.forecast_ranges(con, SCOPE).set_index("period"), r)
    q = forecast.forecast_ranges(con, SCOPE, grain="quarter").set_index("period")
    assert list(q.index) == ["2026-Q2", "2026-Q3", "total"]
    assert q.loc["2026-Q2", "p90"] == 26000                          # Q2 is June only


def test_headline_tiles(con):
    h = forecast.forecast_headline(con, SCOPE)
    assert (h["month_label"], h["quarter_label"]) == ("June 2026", "Q2 2026")
    assert h["month"]["weighted"] == 16000 and h["quarter"]["weighted"] == 16000   # Q2 = June only
    assert (h["month"]["p10"], h["month"]["p50"], h["month"]["p90"]) == (0, 18000, 26000)
    assert h["pipeline"] == {"open_amount": 106000, "weighted": 34750, "open_deals": 6}
    # 106000 = 15000 + 18000 + 5000 + 50000 + 8000 + 10000
    assert h["overdue"] == {"deals": 1, "amount": 18000}             # O2


# ---------------------------------------------------------------------------------------------
# Categories


def test_forecast_categories_by_month(con):
    c = forecast.forecast_categories(con, SCOPE)
    c["period"] = pd.to_datetime(c["period"]).dt.strftime("%Y-%m")
    c = c.set_index("period")
    # June: won O11 4000; commit O2 18000; pipeline O3 5000 + O12 8000
    assert c.loc["2026-06", ["closed_won", "commit", "best_case", "pipeline"]].tolist() == [4000, 18000, 0, 13000]
    assert c.loc["2026-06", ["commit_total", "best_case_total", "pipeline_total"]].tolist() == [22000, 22000, 35000]
    # July: commit O1 15000, pipeline O14 10000
    assert c.loc["2026-07", ["commit_total", "best_case_total", "pipeline_total"]].tolist() == [15000, 15000, 25000]
    assert c.loc["2026-09", "pipeline_total"] == 50000


def test_category_rollup_month_and_quarter(con):
    r = forecast.category_rollup(con, SCOPE).set_index("horizon")
    assert r.loc["month", "label"] == "June 2026" and r.loc["quarter", "label"] == "Q2 2026"
    # month: Closed 4000 (O11); + Commit 18000 (O2) = 22000; + Best case 0 = 22000; + Pipeline 13000 = 35000
    assert r.loc["month", ["closed_won", "commit_total", "best_case_total", "pipeline_total"]].tolist() == \
        [4000, 22000, 22000, 35000]
    # quarter: Closed O10 9000 (May, amount of its won event) + O11 4000 = 13000 (O4 won in Q1: no);
    # open deals as in June (overdue deals count in June) → 31000, 31000, 44000
    assert r.loc["quarter", ["closed_won", "commit_total", "best_case_total", "pipeline_total"]].tolist() == \
        [13000, 31000, 31000, 44000]


# ---------------------------------------------------------------------------------------------
# Week-over-week waterfall


def _steps(df: pd.DataFrame) -> dict:
    return {s: (round(a, 6), d) for s, a, d in zip(df["step"], df["amount"], df["deals"]) if d or a}


def test_pipeline_changes_open_amount(con):
    ch = forecast.pipeline_changes(con, SCOPE, WEEK_AGO, AS_OF)
    assert list(ch["step"]) == ["start", *forecast.CHANGE_STEPS, "end"]
    # open at the end of 8 Jun: O1 12000 (Proposal), O2 20000, O3 5000, O9 50000, O11 4000,
    # O13 6000, O14 10000 (Proposal) = 107000 in 7 deals
    assert _steps(ch) == {
        "start": (107000, 7),
        "new": (8000, 1),            # O12
        "advanced": (0, 1),          # O1 Proposal → Negotiation (no change in open amount)
        "moved back": (0, 1),        # O14 Proposal → Discovery
        "amount up": (3000, 1),      # O1 12000 → 15000
        "amount down": (-2000, 1),   # O2 20000 → 18000
        "won": (-4000, 1),           # O11
        "lost": (-6000, 1),          # O13
        "end": (106000, 6),          # 107000 + 8000 + 3000 − 2000 − 4000 − 6000
    }


def test_pipeline_changes_weighted(con):
    ch = forecast.pipeline_changes(con, SCOPE, WEEK_AGO, AS_OF, weighted=True)
    # start (probabilities at D for both dates): O1 12000 × .5 = 6000, O2 20000 × .75 = 15000,
    # O3 500, O9 50000 × .1 = 5000, O11 4000 × .75 = 3000, O13 6000 × .5 = 3000, O14 10000 × .5 = 5000
    assert _steps(ch) == {
        "start": (37500, 7),
        "new": (2000, 1),            # O12 8000 × .25
        "advanced": (3000, 1),       # O1: 12000 × (.75 − .5)
        "moved back": (-2500, 1),    # O14: 10000 × (.25 − .5)
        "amount up": (2250, 1),      # O1: (15000 − 12000) × .75
        "amount down": (-1500, 1),   # O2: (18000 − 20000) × .75
        "won": (-3000, 1),
        "lost": (-3000, 1),
        "end": (34750, 6),           # the weighted forecast at D
    }


def test_pipeline_changes_with_horizon(con):
    ch = forecast.pipeline_changes(con, SCOPE, WEEK_AGO, AS_OF, horizon_end=date(2026, 6, 30))
    # closing by 30 Jun at 8 Jun: O2 20000, O3 5000, O9 50000 (close 25 Jun), O11 4000, O13 6000
    assert _steps(ch) == {
        "start": (85000, 5),
        "new": (8000, 1),            # O12 closes 28 Jun
        "pushed out": (-50000, 1),   # O9 slipped to 5 Sep
        "amount down": (-2000, 1),   # O2
        "won": (-4000, 1),
        "lost": (-6000, 1),
        "end": (31000, 3),           # O2 18000 + O3 5000 + O12 8000
    }


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("horizon", [None, date(2026, 6, 30)])
def test_waterfall_adds_up(con, weighted, horizon):
    ch = forecast.pipeline_changes(con, SCOPE, WEEK_AGO, AS_OF, weighted=weighted, horizon_end=horizon)
    a = dict(zip(ch["step"], ch["amount"]))
    assert a["start"] + sum(a[s] for s in forecast.CHANGE_STEPS) == pytest.approx(a["end"])


# ---------------------------------------------------------------------------------------------
# Backtest


def test_backtest(con):
    bt = forecast.forecast_backtest(con, SCOPE)
    assert len(bt) == 24                                             # 12 months × 2 methods
    periods = list(bt["period"].unique())
    assert periods[0] == "2025-06" and periods[-1] == "2026-05" and len(periods) == 12
    c = bt[bt["method"] == "configured"].set_index("period")
    h = bt[bt["method"] == "historical"].set_index("period")
    # Actual (first won event in the month, amount as of it): Jun 2025 O6 11000 (row amount),
    # Feb 2026 O4 30000 (its won event), May 2026 O10 9000 (its won event); O11 (June 2026) is D's month.
    assert c["actual"].to_dict() == {**{p: 0 for p in periods}, "2025-06": 11000, "2026-02": 30000, "2026-05": 9000}
    # Forecast at 1 Jun 2025: O6 Qualify 11000 × .1 = 1100 (closes 1 Jun: not overdue),
    # O7 Negotiation 13000 × .75 = 9750, O8 Discovery (Proposal only on 1 Jun 09:00) 14000 × .25 = 3500
    assert c.loc["2025-06", "forecast"] == pytest.approx(14350)
    assert c.loc["2025-06", "open_deals"] == 3
    # at 1 Feb 2026: O4 in Proposal, row amount 28000, closes 15 Feb → 14000
    assert c.loc["2026-02", "forecast"] == pytest.approx(14000)
    # at 1 Mar 2026: O5 in Discovery (lost later that day), closes 1 Mar → 9000 × .25
    assert c.loc["2026-03", "forecast"] == pytest.approx(2250)
    # at 1 May 2026: O10 in Qualify 7000, closes 20 May → 700 (O11, O14 created later that day)
    assert c.loc["2026-05", "forecast"] == pytest.approx(700)
    assert c["forecast"].sum() == pytest.approx(14350 + 14000 + 2250 + 700)
    # fewer than 20 closed deals at every start → historical = configured
    assert h["forecast"].tolist() == pytest.approx(c["forecast"].tolist())
    # errors: (14350 − 11000)/11000 = .3045…, (14000 − 30000)/30000 = −.5333…, (700 − 9000)/9000 = −.9222…
    assert c.loc["2025-06", "error"] == pytest.approx(3350 / 11000)
    assert c.loc["2026-02", "error"] == pytest.approx(-16000 / 30000)
    assert c.loc["2026-05", "error"] == pytest.approx(-8300 / 9000)
    assert c["error"].isna().sum() == 9                              # no actual in the other months
    s = forecast.backtest_summary(bt).set_index("method")
    assert s.loc["configured", "months"] == 3
    assert s.loc["configured", "mape"] == pytest.approx((3350 / 11000 + 16000 / 30000 + 8300 / 9000) / 3)
    assert s.loc["configured", "bias"] == pytest.approx((3350 / 11000 - 16000 / 30000 - 8300 / 9000) / 3)
    assert "equally accurate" in forecast.backtest_verdict(forecast.backtest_summary(bt))


def test_backtest_historical_rates_come_from_the_year_before_m(con, monkeypatch):
    monkeypatch.setattr(forecast, "MIN_CLOSED_FOR_HISTORICAL", 5)
    bt = forecast.forecast_backtest(con, SCOPE)
    h = bt[bt["method"] == "historical"].set_index("period")
    # at 1 May 2026 the window is [1 May 2025, 1 May 2026): O4 won, O5 lost, O6 won (1 Jun 2025),
    # O7 lost, O8 lost → 5 closed behind Qualify, 2 won → 40%: O10 7000 × .4 = 2800
    assert h.loc["2026-05", "forecast"] == pytest.approx(2800)
    verdict = forecast.backtest_verdict(forecast.backtest_summary(bt))
    assert verdict.startswith("Over the last 3 months")


def test_backtest_verdict_sentence():
    s = pd.DataFrame({"method": ["configured", "historical"], "months": [12, 12], "mape": [0.053, 0.323],
                      "bias": [0.04, 0.32]})
    assert forecast.backtest_verdict(s) == (
        "Over the last 12 months, configured probabilities have been more accurate: their forecasts missed "
        "what was actually won by 5.3% on average, against 32.3% for historical win rates — "
        "27.0 percentage points closer.")
    empty = pd.DataFrame({"method": ["configured", "historical"], "months": [0, 0], "mape": [None, None],
                          "bias": [None, None]})
    assert "cannot be compared" in forecast.backtest_verdict(empty)


# ---------------------------------------------------------------------------------------------
# Editing probabilities


def test_save_and_reset_probabilities(tmp_path):
    c = build_db(tmp_path / "edit.duckdb", opportunities=OPPS, opportunity_events=EVENTS)
    v0 = int(c.execute("SELECT value FROM settings WHERE key = 'data_version'").fetchone()[0])
    forecast.save_probabilities(c, {"Qualify": 0.5})
    assert int(c.execute("SELECT value FROM settings WHERE key = 'data_version'").fetchone()[0]) == v0 + 1
    # June: O2 13500 + O3 5000 × .5 = 2500 + O12 2000 = 18000; Sep: O9 50000 × .5 = 25000
    assert _periods(forecast.weighted_forecast(c, SCOPE)) == {"2026-06": 18000, "2026-07": 13750, "2026-09": 25000}
    from funnel.errors import ConfigError
    for bad in ({"Qualify": 1.5}, {"Qualify": -0.1}, {"Qualify": float("nan")}, {"Nope": 0.2}, {"Qualify": "x"}):
        with pytest.raises(ConfigError):
            forecast.save_probabilities(c, bad)
    assert forecast.stage_win_rates(c, SCOPE).set_index("stage").loc["Qualify", "configured_probability"] == 0.5
    assert forecast.reset_probabilities(c)["Qualify"] == 0.10
    assert _periods(forecast.weighted_forecast(c, SCOPE)) == {"2026-06": 16000, "2026-07": 13750, "2026-09": 5000}
    c.close()


def test_no_opportunities_gives_empty_frames(tmp_path):
    c = build_db(tmp_path / "leads_only.duckdb", leads=LEADS)
    assert forecast.weighted_forecast(c, SCOPE).empty
    assert forecast.forecast_ranges(c, SCOPE).empty
    assert forecast.pipeline_as_of(c, SCOPE).empty
    ch = forecast.pipeline_changes(c, SCOPE, WEEK_AGO, AS_OF)
    assert (ch["amount"] == 0).all()
    bt = forecast.forecast_backtest(c, SCOPE)
    assert (bt["forecast"] == 0).all() and bt["error"].isna().all()
    h = forecast.forecast_headline(c, SCOPE)
    assert h["month"]["weighted"] == 0 and h["overdue"]["deals"] == 0
    c.close()


def test_overdue_means_close_date_before_d(tmp_path):
    """A deal closing on D itself is not overdue; one closing the day before is, and counts in D's month."""
    c = build_db(tmp_path / "od.duckdb", opportunities=[
        ("ON_D", None, "2026-05-01 09:00", 1000, "2026-06-15"),
        ("DAY_BEFORE", None, "2026-05-01 09:00", 2000, "2026-06-14"),
        ("LAST_MONTH", None, "2026-04-01 09:00", 4000, "2026-05-31")])
    deals = forecast.pipeline_as_of(c, SCOPE).set_index("opportunity_id")
    assert deals["overdue"].to_dict() == {"ON_D": False, "DAY_BEFORE": True, "LAST_MONTH": True}
    assert pd.isna(deals.loc["ON_D", "days_overdue"])
    assert (deals.loc["DAY_BEFORE", "days_overdue"], deals.loc["LAST_MONTH", "days_overdue"]) == (1, 15)
    # all three count in June: 1000 + 2000 + 4000 at Qualify's 10% = 700
    assert _periods(forecast.weighted_forecast(c, SCOPE)) == {"2026-06": 700}
    h = forecast.forecast_headline(c, SCOPE)
    assert h["overdue"] == {"deals": 2, "amount": 6000}
    c.close()
