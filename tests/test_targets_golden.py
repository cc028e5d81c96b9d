"""Golden figures for targets (metrics.md §7) and the demand plan (§8) on hand-built journeys.

As-of D = 2026-06-15 (known by D = entered before 2026-06-16 00:00). Default stage
configuration: Qualify 10%, Discovery 25%, Proposal 50%, Negotiation 75%, Closed Won, Closed Lost.
Teams: North = Ann + Bob. Cid has deals but no target; Dee has a zero target.

The deals (owner) and what each one tests:

  A1 (Ann) won 5 Jun with 30k on the won event; a later Closed Won event sets 35k → won uses 30k
  A2 (Ann) open in Proposal, 20k, close 20 May → overdue: counts in June (and so in Q2)
  A3 (Ann) open in Negotiation, 40k, close 10 Aug → Q3, a quarter wholly after D
  B1 (Bob) won 20 Apr, 20k → Q2, not June
  B2 (Bob) open in Qualify, 10k, close 25 Jun → June
  B3 (Bob) first won 30 Mar (18k), reopened, won again 5 Apr (22k) → counts once, in Q1, at 18k
  C1 (Cid) open in Discovery, 8k, close 30 Jun → June, everyone only
  D1 (Dee) open in Proposal, 12k, close 20 Jun → June
  X1 (no owner) won 14 Jun, 10k → everyone only
  X2 (Ann) won 16 Jun: after D, not counted as won (open at D, closing in October: no target)
  X3 (Ann) created 20 Jun: does not exist at D
  Y1 (Cid) lost 1 Feb: only the win rate sees it

Leads (for the plan): mature cohort = created 18 Mar 2025 … 17 Mar 2026 (the 365 days ending
90 days before D); run-rate window = 18 Mar … 15 Jun 2026 (90 days up to D).

  L1  Lead → MQL → SAL → SQL → Opportunity → Customer after 40 days (webinar, linked to A1, A2)
  L2  Lead → MQL → SQL (skips SAL) → Opportunity → Customer after 60 days
  L3  … → SQL;  L4 → MQL → SQL (skips SAL);  L5, L6 → MQL;  L7–L10 Lead only
  L13 created 17 Mar 2026: last day of the mature cohort, one day before the run-rate window
  L14 created 17 Mar 2025: one day before the mature cohort (reaches Customer; must not count)
  L11 created 1 Apr 2026, L12 created 15 Jun 2026 23:00: the run rate's two leads
"""
from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from builders import build_db
from funnel.access import Actor
from funnel import forecast, report, targets
from funnel.errors import ConfigError
from funnel.query import Scope

AS_OF = date(2026, 6, 15)
SCOPE = Scope(as_of=AS_OF)

_COHORT = "2026-01-05 09:00"
LEADS = ([("L1", _COHORT, "webinar", "SMB", "S", "Ann")]
         + [(f"L{i}", _COHORT, "organic", "SMB", "S", "Ann") for i in range(2, 11)]
         + [("L11", "2026-04-01 09:00", "organic", "SMB", "S", "Ann"),
            ("L12", "2026-06-15 23:00", "organic", "SMB", "S", "Ann"),
            ("L13", "2026-03-17 09:00", "organic", "SMB", "S", "Ann"),
            ("L14", "2025-03-17 09:00", "organic", "SMB", "S", "Ann")])


def _lead_events():
    ev = []
    for i in range(1, 15):
        created = dict((row[0], row[1]) for row in LEADS)[f"L{i}"]
        ev.append((f"L{i}", "Lead", created))
    ev += [("L1", "MQL", "2026-01-06 09:00"), ("L1", "SAL", "2026-01-07 09:00"), ("L1", "SQL", "2026-01-10 09:00"),
           ("L1", "Opportunity", "2026-01-20 09:00"), ("L1", "Customer", "2026-02-14 09:00"),
           ("L2", "MQL", "2026-01-06 09:00"), ("L2", "SQL", "2026-01-08 09:00"),
           ("L2", "Opportunity", "2026-01-25 09:00"), ("L2", "Customer", "2026-03-06 09:00"),
           ("L3", "MQL", "2026-01-06 09:00"), ("L3", "SAL", "2026-01-07 09:00"), ("L3", "SQL", "2026-01-09 09:00"),
           ("L4", "MQL", "2026-01-06 09:00"), ("L4", "SQL", "2026-01-09 09:00"),
           ("L5", "MQL", "2026-01-06 09:00"), ("L6", "MQL", "2026-01-06 09:00"),
           ("L14", "Customer", "2025-04-01 09:00")]
    return ev


OPPS = [  # (opportunity_id, lead_id, created_at, amount, close_date, owner)
    ("A1", "L1", "2026-05-01 09:00", 25000, "2026-06-30", "Ann"),
    ("A2", "L1", "2026-03-01 09:00", 20000, "2026-05-20", "Ann"),
    ("A3", None, "2026-05-01 09:00", 40000, "2026-08-10", "Ann"),
    ("B1", None, "2026-02-01 09:00", 20000, "2026-04-20", "Bob"),
    ("B2", None, "2026-06-01 09:00", 10000, "2026-06-25", "Bob"),
    ("B3", None, "2026-01-10 09:00", 18000, "2026-03-30", "Bob"),
    ("C1", None, "2026-05-10 09:00", 8000, "2026-06-30", "Cid"),
    ("D1", None, "2026-05-10 09:00", 12000, "2026-06-20", "Dee"),
    ("X1", None, "2026-05-01 09:00", 10000, "2026-06-14", None),
    ("X2", None, "2026-05-01 09:00", 5000, "2026-10-16", "Ann"),
    ("X3", None, "2026-06-20 09:00", 7000, "2026-06-30", "Ann"),
    ("Y1", None, "2026-01-02 09:00", 5000, "2026-02-01", "Cid"),
]

EVENTS = [  # (opportunity_id, stage, entered_at, amount, close_date)
    ("A1", "Qualify", "2026-05-01 09:00", None, None),
    ("A1", "Closed Won", "2026-06-05 10:00", 30000, None),
    ("A1", "Closed Won", "2026-06-10 10:00", 35000, None),
    ("A2", "Qualify", "2026-03-01 09:00", None, None),
    ("A2", "Proposal", "2026-04-01 09:00", None, None),
    ("A3", "Qualify", "2026-05-01 09:00", None, None),
    ("A3", "Negotiation", "2026-06-01 09:00", None, None),
    ("B1", "Qualify", "2026-02-01 09:00", None, None),
    ("B1", "Closed Won", "2026-04-20 09:00", None, None),
    ("B2", "Qualify", "2026-06-01 09:00", None, None),
    ("B3", "Qualify", "2026-01-10 09:00", None, None),
    ("B3", "Closed Won", "2026-03-30 09:00", None, None),
    ("B3", "Negotiation", "2026-04-01 09:00", None, None),
    ("B3", "Closed Won", "2026-04-05 09:00", 22000, None),
    ("C1", "Discovery", "2026-05-10 09:00", None, None),
    ("D1", "Proposal", "2026-05-10 09:00", None, None),
    ("X1", "Qualify", "2026-05-01 09:00", None, None),
    ("X1", "Closed Won", "2026-06-14 09:00", None, None),
    ("X2", "Qualify", "2026-05-01 09:00", None, None),
    ("X2", "Closed Won", "2026-06-16 09:00", None, None),
    ("Y1", "Qualify", "2026-01-02 09:00", None, None),
    ("Y1", "Closed Lost", "2026-02-01 09:00", None, None),
]

TARGETS = [
    ("2026-06", "", 100000), ("2026-06", "Ann", 30000), ("2026-06", "North", 60000), ("2026-06", "Dee", 0),
    ("2026-Q2", "Ann", 80000), ("2026-Q2", "Bob", 10000),
    ("2026-Q1", "Bob", 15000), ("2026-Q1", "", 50000),
    ("2026-Q3", "Ann", 50000),
]
TEAMS = [("Ann", "North"), ("Bob", "North")]


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    c = build_db(tmp_path_factory.mktemp("targets") / "t.duckdb", leads=LEADS, lead_events=_lead_events(),
                 opportunities=OPPS, opportunity_events=EVENTS)
    targets.save_teams(c, [{"owner": o, "team": t} for o, t in TEAMS])
    targets.save_targets(c, [{"period": p, "owner": o, "amount": a} for p, o, a in TARGETS])
    yield c
    c.close()


@pytest.fixture(scope="module")
def figs(con):
    return targets.target_figures(con, SCOPE).set_index(["period", "owner"])


def test_order_is_period_then_owner_with_everyone_first(figs):
    assert list(figs.index) == [("2026-06", ""), ("2026-06", "Ann"), ("2026-06", "Dee"), ("2026-06", "North"),
                                ("2026-Q1", ""), ("2026-Q1", "Bob"), ("2026-Q2", "Ann"), ("2026-Q2", "Bob"),
                                ("2026-Q3", "Ann")]


def test_everyone_in_june(figs):
    f = figs.loc[("2026-06", "")]
    assert f["kind"] == "everyone"
    assert f["won"] == 40000             # A1 30k (as of its first won event) + X1 10k; X2 is after D
    assert f["won_deals"] == 2
    assert f["open_deals"] == 4          # A2 (overdue), B2, C1, D1; X3 does not exist yet
    assert f["open_amount"] == 50000
    assert f["weighted_amount"] == pytest.approx(10000 + 1000 + 2000 + 6000)
    assert f["expected"] == pytest.approx(59000)
    assert f["attainment"] == pytest.approx(0.4)
    assert f["expected_attainment"] == pytest.approx(0.59)
    assert f["gap"] == 60000
    assert f["coverage"] == pytest.approx(50000 / 60000)
    assert f["weighted_coverage"] == pytest.approx(19000 / 60000)
    assert f["required_win_rate"] == pytest.approx(1.2)   # above 1: cannot be met from the pipeline
    assert f["p_hit"] == 0.0                               # 40k + every open deal = 90k < 100k
    assert f["elapsed"] == pytest.approx(15 / 30)
    assert f["pace_amount"] == pytest.approx(50000)
    assert f["ahead"] == pytest.approx(-10000)


def test_target_met_mid_period(figs):
    f = figs.loc[("2026-06", "Ann")]
    assert f["won"] == 30000 and f["attainment"] == pytest.approx(1.0)     # met on 5 June
    assert f["gap"] == 0
    assert pd.isna(f["coverage"]) and pd.isna(f["weighted_coverage"])       # no gap: null
    assert f["required_win_rate"] == 0.0                                    # 0 of A2's 20k needed
    assert f["p_hit"] == 1.0
    assert f["expected_attainment"] == pytest.approx(40000 / 30000)
    assert f["ahead"] == pytest.approx(30000 - 15000)


def test_team_of_two_owners_counts_both_owners_deals(figs):
    f = figs.loc[("2026-06", "North")]
    assert f["kind"] == "team"
    assert f["won"] == 30000                         # A1; B1 is April
    assert f["open_deals"] == 2 and f["open_amount"] == 30000   # A2 + B2
    assert f["weighted_amount"] == pytest.approx(11000)
    assert f["gap"] == 30000 and f["coverage"] == pytest.approx(1.0)
    # hit only when both A2 (50%) and B2 (10%) are won: 5% of the runs, within 4 standard errors
    assert f["p_hit"] == pytest.approx(0.05, abs=4 * (0.05 * 0.95 / 10000) ** 0.5)


def test_zero_target(figs):
    f = figs.loc[("2026-06", "Dee")]
    assert pd.isna(f["attainment"]) and pd.isna(f["expected_attainment"])   # amount 0: null
    assert f["gap"] == 0 and pd.isna(f["coverage"])
    assert f["required_win_rate"] == 0.0 and f["p_hit"] == 1.0
    assert f["weighted_amount"] == pytest.approx(6000)


def test_quarter_with_an_overdue_deal(figs):
    f = figs.loc[("2026-Q2", "Ann")]
    assert f["won"] == 30000                          # A1 in June
    assert f["open_deals"] == 1 and f["open_amount"] == 20000   # A2, overdue → June → Q2; A3 is Q3
    assert f["gap"] == 50000 and f["required_win_rate"] == pytest.approx(2.5)
    assert f["p_hit"] == 0.0
    assert f["elapsed"] == pytest.approx(76 / 91)     # 1 Apr … 15 Jun of 1 Apr … 30 Jun
    assert f["pace_amount"] == pytest.approx(80000 * 76 / 91)


def test_first_won_event_decides_the_period(figs):
    assert figs.loc[("2026-Q2", "Bob"), "won"] == 20000    # B1 only: B3's second win (5 Apr) does not count
    assert figs.loc[("2026-Q1", "Bob"), "won"] == 18000    # B3 at its first won amount


def test_period_wholly_in_the_past(figs):
    met, missed = figs.loc[("2026-Q1", "Bob")], figs.loc[("2026-Q1", "")]
    assert met["p_hit"] == 1.0 and missed["p_hit"] == 0.0
    assert met["open_deals"] == 0 and pd.isna(met["required_win_rate"])   # nothing open: null
    assert met["elapsed"] == 1.0 and met["ahead"] == pytest.approx(3000)
    assert missed["won"] == 18000 and missed["gap"] == 32000 and missed["coverage"] == 0.0


def test_period_wholly_in_the_future(figs):
    f = figs.loc[("2026-Q3", "Ann")]
    assert f["won"] == 0 and f["elapsed"] == 0.0 and f["pace_amount"] == 0.0 and f["ahead"] == 0.0
    assert f["open_deals"] == 1 and f["weighted_amount"] == pytest.approx(30000)   # A3 at 75%
    assert f["required_win_rate"] == pytest.approx(1.25) and f["p_hit"] == 0.0


def test_dimension_filter_applies_through_the_lead(con):
    f = targets.target_figures(con, SCOPE.with_(filters=(("channel", ("webinar",)),))).set_index(["period", "owner"])
    assert f.loc[("2026-06", ""), "won"] == 30000          # A1 only (lead L1 is webinar)
    assert f.loc[("2026-06", ""), "open_deals"] == 1        # A2 only


def test_owner_without_target_shows_in_the_breakdown(con):
    page = targets.targets_page(con, SCOPE, period="2026-06")
    bd = page["breakdown"].set_index("owner")
    assert not bd.loc["Cid", "has_target"] and not bd.loc["Bob", "has_target"]
    assert bd.loc["Cid", "open_deals"] == 1 and bd.loc["Cid", "team"] == ""
    assert bd.loc["Bob", "team"] == "North"
    # sorted by gap, largest first; no target last
    assert list(bd.index[:4]) == ["", "North", "Ann", "Dee"]
    assert set(bd.index[4:]) == {"Bob", "Cid"}
    assert list(page["tiles"]["period"]) == ["2026-06", "2026-Q2", "2026-Q3"]
    won = page["won_by_day"]
    assert won["cumulative_won"].iloc[-1] == 40000 and len(won) == 15
    assert won.set_index("day").loc[date(2026, 6, 5), "cumulative_won"] == 30000
    assert won["pace_amount"].iloc[-1] == pytest.approx(50000)


# ---------------------------------------------------------------------------------------------
# §8


def test_plan_assumptions(con):
    a = targets.plan_assumptions(con, SCOPE)
    assert a["won_deals"] == 4 and a["avg_won_amount"] == pytest.approx((30000 + 20000 + 18000 + 10000) / 4)
    assert a["win_rate"] == pytest.approx(4 / 5)          # A1, B1, B3, X1 won; Y1 lost
    assert [s["reached"] for s in a["stages"]] == [11, 6, 4, 4, 2, 2]    # L13 in, L14 out
    assert a["lead_to_won_days"] == pytest.approx(50)     # median of 40 and 60 days
    assert a["cohort_from"] == date(2025, 3, 18) and a["cohort_to"] == date(2026, 3, 17)
    assert a["run_rate_leads"] == 2 and a["run_rate"] == pytest.approx(2 * 30 / 90)


def test_plan_for_the_june_gap(con, figs):
    plans = {(p["period"], p["owner"]): p for p in targets.demand_plans(con, SCOPE, figs.reset_index())}
    # every target with a gap, none without
    assert set(plans) == {("2026-06", ""), ("2026-06", "North"), ("2026-Q1", ""), ("2026-Q2", "Ann"),
                          ("2026-Q3", "Ann")}
    p = plans[("2026-06", "")]
    wins = 60000 / 19500
    assert p["won_deals_needed"] == pytest.approx(wins)
    assert p["opportunities_needed"] == pytest.approx(wins / 0.8)
    assert [n["needed"] for n in p["needed"]] == pytest.approx([wins * r / 2 for r in (11, 6, 4, 4, 2, 2)])
    assert p["leads_by"] == date(2026, 4, 12)             # 1 June − 50 days


def test_plan_sentence(con, figs):
    plan = targets.demand_plans(con, SCOPE, figs.reset_index())[0]
    # 3.08 wins, 3.85 opportunities, 16.9 leads by 12 April; 2 leads in 90 days = 0.67 a month
    assert targets.plan_sentence(plan) == (
        "To close the $60k gap in June 2026 we need about 3 more wins: ~4 new opportunities or ~17 new leads "
        "created by 12 April 2026; at today's run rate we create 1 lead a month. That date has passed: leads "
        "created from now on arrive too late on average for this period.")


def test_plan_what_if_overrides(con):
    a = targets.plan_assumptions(con, SCOPE)
    p = targets.demand_plan(a, 39000, "2026-06", overrides={"avg_won_amount": 13000, "win_rate": 0.5,
                                                            "step_rates": {"Customer": 0.5}})
    assert p["won_deals_needed"] == pytest.approx(3) and p["opportunities_needed"] == pytest.approx(6)
    # chain from Customer back: 3 / 0.5 = 6 at Opportunity, then the history's rates 2/4, 4/4, 4/6, 6/11
    assert [n["needed"] for n in p["needed"]] == pytest.approx([6 / (2 / 4) / 1 / (4 / 6) / (6 / 11), 18, 12, 12, 6, 3])


def test_plan_nulls_carry_a_reason():
    a = {"avg_won_amount": None, "win_rate": None, "stages": [{"stage": "Lead", "position": 1, "reached": 5,
                                                               "step_rate": None}],
         "lead_to_won_days": None, "run_rate": 0.0, "as_of": AS_OF, "cohort_from": AS_OF, "cohort_to": AS_OF}
    p = targets.demand_plan(a, 1000, "2026-06")
    assert p["won_deals_needed"] is None and p["opportunities_needed"] is None and p["leads_by"] is None
    assert p["reasons"] and "No deal was won" in p["reasons"][0]


def test_report_json_sections(con):
    rep = report.build_report(con, SCOPE)
    assert [(t["period"], t["owner"]) for t in rep["targets"]][:4] == [("2026-06", ""), ("2026-06", "Ann"),
                                                                        ("2026-06", "Dee"), ("2026-06", "North")]
    required = {"period", "owner", "amount", "won", "open_deals", "open_amount", "weighted_amount", "expected",
                "attainment", "gap", "coverage", "required_win_rate", "p_hit"}
    assert required <= set(rep["targets"][0])
    assert rep["targets"][2]["attainment"] is None                     # Dee's zero target
    assert [(p["period"], p["owner"]) for p in rep["plan"]] == [("2026-06", ""), ("2026-06", "North"),
                                                                ("2026-Q1", ""), ("2026-Q2", "Ann"), ("2026-Q3", "Ann")]
    assert {"period", "owner", "gap", "avg_won_amount", "win_rate", "won_deals_needed", "opportunities_needed",
            "needed"} <= set(rep["plan"][0])
    assert rep["plan"][0]["needed"][0] == {"stage": "Lead", "needed": pytest.approx(60000 / 19500 * 11 / 2)}


def test_report_targets_rows_replace_the_stored_ones(con):
    rows = pd.DataFrame({"period": ["2026-06"], "owner": ["Cid"], "amount": [8000.0]})
    rep = report.build_report(con, SCOPE, target_rows=rows)
    assert [(t["period"], t["owner"], t["won"]) for t in rep["targets"]] == [("2026-06", "Cid", 0.0)]
    assert len(targets.stored_targets(con)) == len(TARGETS)      # nothing stored changed


def test_historical_method_changes_weighted_not_won(con):
    hist = targets.target_figures(con, SCOPE, "historical").set_index(["period", "owner"])
    # fewer than 20 closed deals: the historical method falls back to the configured probabilities
    assert hist.loc[("2026-06", ""), "weighted_amount"] == pytest.approx(19000)
    with pytest.raises(ConfigError):
        targets.target_figures(con, SCOPE, "magic")


def test_forecast_figures_unchanged_by_the_owner_split(con):
    plain = forecast._simulated_months(con, SCOPE, "configured", 2000, 5)
    split = forecast._simulated_months(con, SCOPE, "configured", 2000, 5, by_owner=True)
    assert (plain[4] == split[4]).all()                       # the same draws, bit for bit
    months = [m for m, _ in split[5]]
    for k, m in enumerate(plain[2]):
        cols = [i for i, cm in enumerate(months) if cm == m]
        assert split[6][:, cols].sum(axis=1) == pytest.approx(plain[4][:, k])


# ---------------------------------------------------------------------------------------------
# The manager's call


def test_record_call_keeps_the_forecast_beside_it(tmp_path):
    con = build_db(tmp_path / "c.duckdb", opportunities=OPPS, opportunity_events=EVENTS)
    targets.save_teams(con, [{"owner": o, "team": t} for o, t in TEAMS])
    from datetime import datetime
    from funnel import store
    v0 = store.data_version(con)
    cid = targets.record_call(con, "2026-06", "North", commit_amount=35000, best_case_amount=45000,
                              note="B2 slips?", scope=SCOPE, actor=Actor("maria", "editor"), called_at=datetime(2026, 6, 15, 17, 0))
    assert store.data_version(con) == v0 + 1
    h = targets.call_history(con, SCOPE)
    row = h.set_index("call_id").loc[cid]
    assert (row["called_by"], row["note"], row["commit_amount"], row["best_case_amount"]) == ("maria", "B2 slips?",
                                                                                            35000, 45000)
    assert row["weighted_amount"] == pytest.approx(41000)     # expected then: won 30k + weighted 11k
    # the median run: 30k won + A2 (50%) and B2 (10%) → 30k (45%), 40k (5%), 50k (45%), 60k (5%): the
    # median sits on the 40k step; it is the P50 of the same runs as the target figures'
    same_runs = targets.target_figures(con, SCOPE, targets=pd.DataFrame(
        {"period": ["2026-06"], "owner": ["North"], "amount": [60000.0]}))["p50"].iloc[0]
    assert row["p50"] == same_runs and 30000 <= row["p50"] <= 50000
    assert row["actual"] == 30000                             # as known at D: A1
    # as known later (5 July): X2 (Ann, North) was won on 16 June, after the call
    later = targets.call_history(con, Scope(as_of=date(2026, 7, 5)))
    assert later["actual"].iloc[0] == 35000
    with pytest.raises(ConfigError, match="best case is below the commit"):
        targets.record_call(con, "2026-06", "", commit_amount=10, best_case_amount=5, scope=SCOPE)
    assert len(targets.call_history(con, SCOPE)) == 1
    con.close()


def test_overview_tile_is_everyones_month_target(con, figs):
    from funnel import review_targets
    tile = review_targets.month_tile(review_targets.snapshot_figures(con, SCOPE), SCOPE.as_of)
    f = figs.loc[("2026-06", "")]
    assert tile["period"] == "2026-06" and tile["amount"] == 100000
    assert review_targets.PeriodName(tile["period"]).format("en") == "June 2026"
    assert (tile["won"], tile["gap"], tile["p_hit"]) == (f["won"], f["gap"], f["p_hit"])
    july = Scope(as_of=date(2026, 7, 1))
    assert review_targets.month_tile(review_targets.snapshot_figures(con, july), july.as_of) is None  # no July target


def test_plan_lists_every_stage_when_the_mature_cohort_is_empty(tmp_path):
    # D = 1 Feb 2026: the mature cohort is 4 Nov 2024 … 3 Nov 2025; the one lead (5 Jan 2026) is too young
    c = build_db(tmp_path / "e.duckdb", leads=[("L1", "2026-01-05 09:00", "web", "SMB", "S", "A")],
                 lead_events=[("L1", "Lead", "2026-01-05 09:00")])
    a = targets.plan_assumptions(c, Scope(as_of=date(2026, 2, 1)))
    assert [s["stage"] for s in a["stages"]] == ["Lead", "MQL", "SAL", "SQL", "Opportunity", "Customer"]
    assert all(s["reached"] == 0 for s in a["stages"])
    p = targets.demand_plan(a, 100, "2026-02")
    assert [n["needed"] for n in p["needed"]] == [None] * 6 and p["reasons"]
    c.close()
