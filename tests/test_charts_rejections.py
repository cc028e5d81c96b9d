"""Chart builders of the Rejections & recycling page, without Streamlit or a database."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pytest

from funnel.charts import rejections as C
from funnel.store import Stage


def breakdown(rows):
    """rows: (grp, handoffs, rejected[, stands_out])"""
    df = pd.DataFrame([r[:3] for r in rows], columns=["grp", "handoffs", "rejected"])
    df["rejection_rate"] = df["rejected"] / df["handoffs"].where(df["handoffs"] > 0)
    df["small_sample"] = df["handoffs"] < 30
    if all(len(r) > 3 for r in rows):
        df["stands_out"] = [r[3] for r in rows]
    return df


def title(fig: go.Figure) -> str:
    return fig.layout.title.text or ""


def annotation_texts(fig: go.Figure) -> list[str]:
    return [a.text for a in fig.layout.annotations]


STAGES = [Stage("lead", "Lead", 1, "open", None, None, None, None),
          Stage("lead", "MQL", 2, "open", None, None, None, None),
          Stage("lead", "SAL", 3, "open", None, None, None, None),
          Stage("lead", "SQL", 4, "open", None, None, None, None),
          Stage("lead", "Customer", 6, "won", None, None, None, None),
          Stage("lead", "Rejected", None, "rejected", None, None, None, None),
          Stage("lead", "Recycled", None, "recycled", None, None, None, None),
          Stage("lead", "Disqualified", None, "lost", None, None, None, None)]


def test_rate_by_owner_ranks_flags_small_samples_and_names_the_standout():
    df = breakdown([("Ann", 200, 100, True), ("Bo", 300, 60, False), ("Cy", 12, 9, False), ("Di", 0, 0, False)])
    fig = C.rate_by_owner(df, role="AE", team_rate=169 / 512)
    bar, labels = fig.data[0], fig.data[1]
    # top to bottom: Ann 50%, Bo 20%, then the small one (Cy, 75% on 12) below; Di (no hand-offs) left out
    assert list(bar.y) == ["Cy", "Bo", "Ann"]                       # plotly draws bottom-up
    assert list(bar.x) == pytest.approx([0.75, 0.2, 0.5])
    assert bar.marker.color[2] == C.theme.BAD                       # Ann stands out
    assert bar.marker.color[1] == C.theme.NEUTRAL
    assert "0.45" in bar.marker.color[0]                            # faded
    assert labels.mode == "text"
    assert labels.text[0] == "75% · 9 rejected (n=12, too few to judge)"
    assert labels.text[2] == "50% · 100 of 200"
    assert title(fig) == "AE Ann: 50% rejected, 1.5× the team rate"
    assert "team 33%" in annotation_texts(fig)
    assert fig.layout.shapes[0].x0 == pytest.approx(169 / 512)      # the team line


def test_rate_by_owner_without_a_standout_says_so():
    df = breakdown([("Ann", 200, 44, False), ("Bo", 300, 60, False)])
    fig = C.rate_by_owner(df, role="SDR", team_rate=104 / 500)
    assert title(fig) == "By SDR: no one stands out (team 21%)"
    assert C.theme.BAD not in fig.data[0].marker.color


def test_rate_by_owner_all_small_and_empty():
    fig = C.rate_by_owner(breakdown([("Ann", 3, 3, False), ("Bo", 5, 0, False)]), role="AE")
    assert title(fig).startswith("By AE: every AE has fewer than 30 hand-offs")
    empty = C.rate_by_owner(breakdown([("Ann", 0, 0, False)]), role="AE")
    assert "No hand-offs to compare by AE" in annotation_texts(empty)[0]


def test_rate_by_owner_caps_rows_and_presentation_is_bigger():
    df = breakdown([(f"P{i:02d}", 100 + i, 10 + i, False) for i in range(30)])
    fig = C.rate_by_owner(df, max_rows=25)
    assert len(fig.data[0].y) == 25 and title(fig).endswith("· 5 more not shown")
    big = C.rate_by_owner(df, max_rows=25, presentation=True)
    assert big.layout.font.size > fig.layout.font.size and big.layout.height > fig.layout.height


def test_reasons_over_time_stacks_months_with_missing_reason_last_in_grey():
    df = pd.DataFrame({"period": pd.to_datetime(["2024-01-01"] * 3 + ["2024-02-01"] * 2),
                       "reason": ["not ICP", "(no reason given)", "timing", "not ICP", None],
                       "rejected": [5, 2, 1, 3, 1]})
    fig = C.reasons_over_time(df)
    assert fig.layout.barmode == "stack"
    names = [t.name for t in fig.data]
    assert names == ["not ICP", "timing", "(no reason given)"]     # by total, missing last
    assert fig.data[2].marker.color == C.theme.MUTED
    assert list(fig.data[0].x) == ["Jan 2024", "Feb 2024"] and list(fig.data[0].y) == [5, 3]
    assert list(fig.data[2].y) == [2, 1]                           # a null reason counts as missing too
    # not ICP 8 of 12 = 67%; no reason 3 of 12 = 25%
    assert title(fig) == "Top reason: not ICP — 67% of 12 rejections; 25% give no reason"
    assert "No rejections" in annotation_texts(C.reasons_over_time(df.iloc[0:0]))[0]


def test_sankey_draws_the_loop_in_orange_and_leaves_out_self_transitions():
    df = pd.DataFrame([("Lead", "MQL", 10), ("MQL", "Rejected", 4), ("Rejected", "Recycled", 3),
                       ("Recycled", "MQL", 2), ("Rejected", "MQL", 1), ("MQL", "SQL", 5),
                       ("SQL", "Customer", 2), ("Recycled", "Disqualified", 1), ("MQL", "MQL", 2)],
                      columns=["from_stage", "to_stage", "transitions"])
    fig = C.flow_sankey(df, stages=STAGES)
    s = fig.data[0]
    labels = list(s.node.label)
    assert labels[:4] == ["Lead", "MQL", "SQL", "Customer"] and "MQL" in labels
    links = {(labels[a], labels[b]): (v, c) for a, b, v, c in zip(s.link.source, s.link.target, s.link.value, s.link.color)}
    assert ("MQL", "MQL") not in links                              # a self-transition cannot be drawn
    for loop in [("Rejected", "Recycled"), ("Recycled", "MQL"), ("Rejected", "MQL")]:
        assert links[loop][1] == C.LOOP_COLOUR
    assert links[("MQL", "Rejected")][1] == C.REJECT_COLOUR
    assert links[("MQL", "SQL")][1] == C.FORWARD_COLOUR
    assert links[("Recycled", "Disqualified")][1] == C.EXIT_COLOUR
    # loops: 3 + 2 + 1 = 6 of 10 + 4 + 3 + 2 + 1 + 5 + 2 + 1 = 28 drawn moves; 2 self-transitions
    assert title(fig) == "6 of 28 moves went back round the loop (orange) towards MQL · 2 repeated entries not drawn"
    # placement: Rejected and Recycled on the bottom row, right of MQL
    x = dict(zip(labels, s.node.x))
    y = dict(zip(labels, s.node.y))
    assert x["MQL"] < x["Rejected"] < x["Recycled"] and y["Rejected"] > y["MQL"]


def test_sankey_without_loops_and_empty():
    df = pd.DataFrame([("Lead", "MQL", 3)], columns=["from_stage", "to_stage", "transitions"])
    assert title(C.flow_sankey(df, stages=STAGES)) == "No lead went back round the loop: all 3 moves went forward or out"
    assert "No lead has moved" in annotation_texts(C.flow_sankey(df.iloc[0:0]))[0]


def test_histogram_bars_span_whole_days_with_a_7_day_line():
    df = pd.DataFrame({"grp": "Sam", "delay_days": [0, 1, 7, 10, 90], "resubmissions": [4, 2, 1, 1, 2]})
    fig = C.resubmit_delay_histogram(df, who="Sam", within_7d=6, resubmissions=10, median_days=1.2)
    bar = fig.data[0]
    assert list(bar.x) == [0.5, 1.5, 7.5, 10.5, 90.5]               # the bar at k covers [k, k + 1)
    assert list(bar.y) == [4, 2, 1, 1, 2]
    assert list(bar.customdata) == ["0–1 days", "1–2 days", "7–8 days", "10–11 days", "90+ days"]
    assert bar.marker.color[0] == bar.marker.color[1] != bar.marker.color[2]   # under 7 days highlighted
    assert fig.layout.shapes[0].x0 == 7
    assert "7 days" in annotation_texts(fig)
    assert title(fig) == "60% of Sam's 10 resubmissions came back within 7 days · median 29 hours"
    everyone = C.resubmit_delay_histogram(df, within_7d=6, resubmissions=10)
    assert title(everyone) == "60% of the 10 resubmissions came back within 7 days"
    assert "No resubmissions for Sam" in annotation_texts(C.resubmit_delay_histogram(df.iloc[0:0], who="Sam"))[0]


def test_outcomes_bar_compares_groups_with_counts():
    df = pd.DataFrame([(C.RECYCLED_GROUP, 50, "SQL", 4, 5, 0.1), (C.RECYCLED_GROUP, 50, "Customer", 6, 1, 0.02),
                       (C.FIRST_PASS_GROUP, 200, "SQL", 4, 80, 0.4), (C.FIRST_PASS_GROUP, 200, "Customer", 6, 20, 0.1)],
                      columns=["grp", "leads", "stage", "position", "reached", "share"])
    fig = C.outcomes_bar(df)
    assert [t.name for t in fig.data] == ["First-pass (never rejected)", "Recycled (rejected at least once)"]
    assert list(fig.data[1].x) == ["SQL", "Customer"] and list(fig.data[1].y) == pytest.approx([0.1, 0.02])
    assert list(fig.data[1].text) == ["10% · 5 of 50", "2.0% · 1 of 50"]
    assert title(fig) == "Recycled leads reach SQL 10% of the time, first-pass leads 40%"
    only_first = C.outcomes_bar(df[df["grp"] == C.FIRST_PASS_GROUP])
    assert title(only_first) == "40% of handed-off leads reach SQL; none was rejected"


def test_loop_distribution_bar():
    df = pd.DataFrame({"loops": [0, 1, 3], "leads": [4, 2, 1], "share": [4 / 7, 2 / 7, 1 / 7]})
    fig = C.loop_distribution_bar(df)
    assert list(fig.data[0].x) == ["0 loops", "1 loop", "3 loops"]
    assert title(fig) == "43% of 7 handed-off leads looped"   # 3 of 7 had one loop or more
