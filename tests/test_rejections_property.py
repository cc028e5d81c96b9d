"""Property test: funnel.rejections against a plain pandas reading of metrics.md §3.

Random small data sets (a handful of leads, random journeys through every lead stage including
Rejected, Recycled and Disqualified, tied timestamps, events and leads after the as-of date,
blank and missing reasons, random cohort dates) are computed twice: by the DuckDB functions and by
the straightforward pandas code below, written from the spec's sentences alone.
"""
from __future__ import annotations

import math
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders import build_db
from funnel import rejections as R
from funnel.query import Scope

STAGES = ["Lead", "MQL", "SAL", "SQL", "Opportunity", "Customer", "Rejected", "Recycled", "Disqualified"]
POSITION = {"Lead": 1, "MQL": 2, "SAL": 3, "SQL": 4, "Opportunity": 5, "Customer": 6}
# Weighted so that hand-offs and rejections are common.
STAGE_CHOICES = ["MQL"] * 4 + ["Rejected"] * 3 + ["Recycled"] * 2 + ["SAL", "SQL", "Opportunity", "Customer",
                                                                      "Disqualified", "Lead"]
T0 = datetime(2024, 1, 1)


@st.composite
def datasets(draw):
    n = draw(st.integers(1, 5))
    leads = []
    for i in range(n):
        created = T0 + timedelta(days=draw(st.integers(0, 30)), hours=draw(st.integers(0, 23)))
        leads.append((f"L{i}", created.isoformat(sep=" "), draw(st.sampled_from(["web", "event"])), "SMB",
                      draw(st.sampled_from(["Sam", "Tess", None])), draw(st.sampled_from(["Alex", "Blair"]))))
    events = []
    for _ in range(draw(st.integers(0, 40))):
        lead = draw(st.integers(0, n - 1))
        # a coarse grid of times (6 h steps) so that ties happen
        t = T0 + timedelta(hours=6 * draw(st.integers(0, 4 * 45)))
        events.append((f"L{lead}", draw(st.sampled_from(STAGE_CHOICES)), t.isoformat(sep=" "),
                       draw(st.sampled_from(["Alex", "Tess", None])),
                       draw(st.sampled_from([None, "not ICP", "timing", ""]))))
    as_of = (T0 + timedelta(days=draw(st.integers(3, 45)))).date()
    lo = draw(st.integers(0, 30))
    hi = draw(st.integers(lo, 50))
    date_from, date_to = (T0 + timedelta(days=lo)).date(), (T0 + timedelta(days=hi)).date()
    if date_from > as_of:
        date_from = as_of
    if draw(st.booleans()):
        date_from = date_to = None  # the defaults: from the first lead's day to D …
        first = min(datetime.fromisoformat(lead[1]) for lead in leads).date()
        as_of = max(as_of, first)   # … which must not start after D
    filters = (("ae", ("Alex",)),) if draw(st.booleans()) else ()
    return leads, events, Scope(as_of=as_of, date_from=date_from, date_to=date_to, filters=filters)


# ---------------------------------------------------------------------------------------------
# The plain reading of the spec


def spec_reading(leads, events, scope: Scope) -> dict:
    L = pd.DataFrame(leads, columns=["lead_id", "created_at", "channel", "segment", "sdr", "ae"])
    L["created_at"] = pd.to_datetime(L["created_at"])
    as_end = pd.Timestamp(scope.as_of + timedelta(days=1))
    first_day = pd.Timestamp(scope.date_from) if scope.date_from else L["created_at"].min().normalize()
    last_day = min(scope.date_to or scope.as_of, scope.as_of)
    # cohort: created in [from, to] (whole days) and not after D
    cohort = L[(L["created_at"] >= first_day) & (L["created_at"] < pd.Timestamp(last_day + timedelta(days=1)))]
    for column, values in scope.filters:              # dimension filters: the lead's value is one of these
        cohort = cohort[cohort[column].isin(values)]
    E = pd.DataFrame(events, columns=["lead_id", "stage", "entered_at", "actor", "reason"])
    E["entered_at"] = pd.to_datetime(E["entered_at"])
    E["seq"] = range(1, len(E) + 1)                       # input order
    E = E.sort_values(["lead_id", "entered_at", "seq"])   # event order
    all_events = E[E["lead_id"].isin(cohort["lead_id"])]
    known = all_events[all_events["entered_at"] < as_end]  # events after D are ignored

    rejections = []          # (lead_id, rejected_at, actor, reason, resubmit_days, resubmit position)
    per_lead = {}
    for lead_id, g in known.groupby("lead_id", sort=False):
        g = g.reset_index(drop=True)
        stages = g["stage"].tolist()
        per_lead[lead_id] = g
        for i, row in g.iterrows():
            if row["stage"] != "Rejected":
                continue
            later = [j for j in range(i + 1, len(g)) if stages[j] == "MQL"]
            days = None
            if later:
                days = (g.loc[later[0], "entered_at"] - row["entered_at"]).total_seconds() / 86400
            reason = row["reason"] if isinstance(row["reason"], str) and row["reason"].strip() else None
            rejections.append((lead_id, row["actor"], reason, days, later[0] if later else None))

    handoffs_per_lead = {k: int((g["stage"] == "MQL").sum()) for k, g in per_lead.items()}
    delays = [r[3] for r in rejections if r[3] is not None]
    sdr_of = dict(zip(L["lead_id"], L["sdr"].map(lambda v: v if isinstance(v, str) else "(blank)")))

    out = {
        "handoffs": sum(handoffs_per_lead.values()),
        "rejected": len(rejections),
        "resubmissions": len(delays),
        "resubmitted_within_7d": sum(d <= 7 for d in delays),
        "median_resubmit_days": (float(pd.Series(delays).median()) if delays else None),
        "leads_with_loops": sum(n > 1 for n in handoffs_per_lead.values()),
    }
    reasons: dict = {}
    for r in rejections:
        reasons[r[2]] = reasons.get(r[2], 0) + 1
    out["by_reason"] = reasons

    by_sdr: dict = {}
    for lead_id, n in handoffs_per_lead.items():
        by_sdr.setdefault(sdr_of[lead_id], [0, 0])[0] += n
    for r in rejections:
        by_sdr.setdefault(sdr_of[r[0]], [0, 0])[1] += 1
    out["by_sdr"] = {k: tuple(v) for k, v in by_sdr.items() if v != [0, 0]}

    hist: dict = {}
    for r in rejections:
        if r[3] is not None:
            key = (sdr_of[r[0]], min(math.floor(r[3]), 90))
            hist[key] = hist.get(key, 0) + 1
    out["delays"] = hist

    loops: dict = {}
    for n in handoffs_per_lead.values():
        if n > 0:
            loops[n - 1] = loops.get(n - 1, 0) + 1
    out["loops"] = loops

    # outcomes: rejected at least once (reaching S after the first rejection) vs handed off, never rejected
    outcome: dict = {}
    for lead_id, g in per_lead.items():
        stages = g["stage"].tolist()
        rej = [i for i, s in enumerate(stages) if s == "Rejected"]
        if rej:
            grp, after = R.RECYCLED_GROUP, stages[rej[0] + 1:]
        elif "MQL" in stages:
            grp, after = R.FIRST_PASS_GROUP, stages
        else:
            continue
        for target in ("SQL", "Customer"):
            cell = outcome.setdefault((grp, target), [0, 0])
            cell[0] += 1
            cell[1] += any(POSITION.get(s, 0) >= POSITION[target] for s in after)
    out["outcomes"] = {k: tuple(v) for k, v in outcome.items()}

    flows: dict = {}
    for _, g in all_events.groupby("lead_id"):
        g = g.reset_index(drop=True)
        for i in range(len(g) - 1):
            if g.loc[i + 1, "entered_at"] < as_end:
                key = (g.loc[i, "stage"], g.loc[i + 1, "stage"])
                flows[key] = flows.get(key, 0) + 1
    out["flows"] = flows

    pp = {}
    for lead_id, g in per_lead.items():
        n_rej = int((g["stage"] == "Rejected").sum())
        if n_rej >= 2:
            pp[lead_id] = (n_rej, int((g["stage"] == "MQL").sum()), " → ".join(g["stage"]))
    out["ping_pong"] = pp
    return out


# ---------------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(datasets())
def test_rejections_match_plain_reading(data):
    leads, events, scope = data
    expected = spec_reading(leads, events, scope)
    with tempfile.TemporaryDirectory() as tmp:
        con = build_db(Path(tmp) / "p.duckdb", leads=leads, lead_events=events)
        try:
            s = R.rejection_summary(con, scope)
            for k in ("handoffs", "rejected", "resubmissions", "resubmitted_within_7d", "leads_with_loops"):
                assert s[k] == expected[k], k
            if expected["median_resubmit_days"] is None:
                assert s["median_resubmit_days"] is None
            else:
                assert s["median_resubmit_days"] == pytest.approx(expected["median_resubmit_days"])
            assert s["rejection_rate"] == (pytest.approx(expected["rejected"] / expected["handoffs"])
                                           if expected["handoffs"] else None)

            reasons = R.rejections_by_reason(con, scope)
            assert {(r if isinstance(r, str) else None): n
                    for r, n in zip(reasons["reason"], reasons["rejected"])} == expected["by_reason"]

            by_sdr = R.rejection_breakdown(con, scope, "sdr")
            assert {g: (h, r) for g, h, r in by_sdr[["grp", "handoffs", "rejected"]].itertuples(index=False)} \
                == expected["by_sdr"]

            d = R.resubmit_delays(con, scope, "sdr")
            assert {(g, k): n for g, k, n in d.itertuples(index=False)} == expected["delays"]

            loops = R.loop_distribution(con, scope)
            assert dict(zip(loops["loops"], loops["leads"])) == expected["loops"]

            oc = R.recycled_outcomes(con, scope)
            assert {(g, t): (n, r) for g, t, n, r in oc[["grp", "stage", "leads", "reached"]].itertuples(index=False)} \
                == expected["outcomes"]

            fl = R.transition_flows(con, scope)
            assert {(a, b): n for a, b, n in fl.itertuples(index=False)} == expected["flows"]

            pp = R.ping_pong_leads(con, scope)
            assert {r.lead_id: (r.rejections, r.handoffs, r.path) for r in pp.itertuples()} == expected["ping_pong"]
        finally:
            con.close()


@settings(max_examples=15, deadline=None)
@given(datasets())
def test_input_order_of_leads_does_not_matter(data):
    """Invariance: listing the leads in reverse order changes no figure."""
    leads, events, scope = data
    with tempfile.TemporaryDirectory() as tmp:
        a = build_db(Path(tmp) / "a.duckdb", leads=leads, lead_events=events)
        b = build_db(Path(tmp) / "b.duckdb", leads=list(reversed(leads)), lead_events=events)
        try:
            assert R.rejection_summary(a, scope) == R.rejection_summary(b, scope)
            pd.testing.assert_frame_equal(R.transition_flows(a, scope), R.transition_flows(b, scope))
        finally:
            a.close()
            b.close()
