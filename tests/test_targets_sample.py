"""The sample ships targets per AE, per team and for everyone for every month and quarter of its
span (and the quarter after, the page's "next quarter"), deterministically."""
from __future__ import annotations

import pandas as pd

from funnel import sample, store, targets


def test_sample_targets_cover_every_month_and_quarter(sample_db):
    con = store.connect(sample_db, read_only=True)
    t = targets.stored_targets(con)
    teams = targets.stored_teams(con)
    con.close()
    assert dict(zip(teams["owner"], teams["team"])) == sample.SAMPLE_TEAMS
    owners = {"", *sample.AES, *sample.SAMPLE_TEAMS.values()}
    months = [f"{p:%Y-%m}" for p in pd.period_range("2025-05", "2026-11", freq="M").to_timestamp()]
    quarters = [f"{y}-Q{q}" for y, q in [(2025, 2), (2025, 3), (2025, 4), (2026, 1), (2026, 2), (2026, 3), (2026, 4)]]
    have = set(zip(t["period"], t["owner"]))
    assert {(p, o) for p in months + quarters for o in owners} <= have
    assert ("2027-Q1", "") in have
    amount = dict(zip(zip(t["period"], t["owner"]), t["amount"]))
    # a team's target is the sum of its AEs'; a quarter's the sum of its months; everyone's the sum of all AEs
    for team in set(sample.SAMPLE_TEAMS.values()):
        members = [a for a, tm in sample.SAMPLE_TEAMS.items() if tm == team]
        assert amount[("2026-06", team)] == sum(amount[("2026-06", a)] for a in members)
    assert amount[("2026-Q2", "Grace Chen")] == sum(amount[(m, "Grace Chen")] for m in ("2026-04", "2026-05", "2026-06"))
    assert amount[("2026-11", "")] == sum(amount[("2026-11", a)] for a in sample.AES)
    assert (t["amount"] >= 0).all() and t["amount"].sum() > 0


def test_sample_targets_are_deterministic():
    won = {"Grace Chen": 1.9e6, "Daniel Novak": 7e5}
    assert sample.sample_target_rows(won) == sample.sample_target_rows(dict(won))
    rows = {(r["period"], r["owner"]): r["amount"] for r in sample.sample_target_rows(won)}
    # 1.9M over 19 months × stretch 1.15 × 1.1 (the quarter's last month), to the nearest 1,000
    assert rows[("2026-06", "Grace Chen")] == round(1.9e6 / 19 * 1.15 * 1.1, -3)
    assert rows[("2026-06", "Priya Raman")] == 0.0          # no won deals: a zero target
