"""Chart builders of the scoring what-if: traces, colours and titles from small hand-made frames."""
from __future__ import annotations

import pandas as pd
import pytest

from funnel.charts import scoring as charts
from funnel.charts import theme

LOAD = pd.DataFrame({"sdr": ["Ava", "Ben", "(unassigned)"], "mqls": [30, 12, 50], "mqls_per_week": [6.0, 2.4, 10.0]})


def _hlines(fig):
    return [s for s in fig.layout.shapes if s.y0 == s.y1]


def test_sdr_load_over_capacity_is_red():
    fig = charts.sdr_load_chart(LOAD, capacity=5, scenario="Draft")
    bar = fig.data[0]
    assert list(bar.x) == ["Ava", "Ben", "No SDR"]
    assert list(bar.y) == [6.0, 2.4, 10.0]
    # Ava 6 > 5: red; Ben 2.4: blue; no SDR: grey, never judged against a capacity
    assert list(bar.marker.color) == [theme.BAD, theme.NEUTRAL, theme.MUTED]
    assert fig.layout.title.text == "Draft: 1 of 2 SDRs over capacity (5/week, dashed)"
    lines = _hlines(fig)
    assert len(lines) == 1 and lines[0].y0 == 5


def test_sdr_load_within_capacity_and_shared_scale():
    fig = charts.sdr_load_chart(LOAD, capacity=8, scenario="Current", y_max=20)
    assert list(fig.data[0].marker.color) == [theme.NEUTRAL, theme.NEUTRAL, theme.MUTED]
    assert fig.layout.title.text == "Current: every SDR within capacity (8/week, dashed)"
    assert fig.layout.yaxis.range[1] == pytest.approx(20 * 1.18)


def test_sdr_load_without_capacity_has_no_line():
    fig = charts.sdr_load_chart(LOAD, capacity=0)
    assert not _hlines(fig)
    assert fig.layout.title.text == "Draft: MQLs per SDR per week"


def test_shared_scale():
    other = LOAD.assign(mqls_per_week=[1.0, 1.0, 25.0])
    assert charts.shared_scale(LOAD, other, None) == 25.0
    assert charts.shared_scale(None, LOAD.iloc[0:0]) == 0.0


def test_empty_frames_give_a_message_not_a_blank_chart():
    empty = pd.DataFrame(columns=LOAD.columns)
    for fig in (charts.sdr_load_chart(empty, 5),
                charts.score_distribution_chart(pd.DataFrame(columns=["score_bin", "bin_width", "outcome", "leads",
                                                                      "share_of_group"]), 50),
                charts.gains_chart(pd.DataFrame(), None)):
        assert not fig.data
        assert fig.layout.annotations and "—" in fig.layout.annotations[0].text


DIST = pd.DataFrame({"score_bin": [0.0, 0.0, 10.0, 10.0, 20.0], "bin_width": [10.0] * 5, "outcome": [0, 1, 0, 1, 1],
                     "leads": [80, 5, 20, 10, 5], "share_of_group": [0.8, 0.25, 0.2, 0.5, 0.25]})


def test_score_distribution_groups_and_threshold_line():
    ev = {"leads": 120, "with_outcome": 20, "above": 25, "true_positives": 15, "recall": 0.75}
    fig = charts.score_distribution_chart(DIST, 10, outcome_stage="SQL", scenario="Draft", evaluation=ev)
    names = [t.name for t in fig.data]
    assert names == ["Did not reach SQL", "Reached SQL"]
    reached = fig.data[1]
    assert list(reached.x) == [5.0, 15.0, 25.0]          # bar centres: lower edge + width / 2
    assert list(reached.y) == [0.25, 0.5, 0.25]
    assert reached.marker.color == charts.REACHED_COLOR
    vlines = [s for s in fig.layout.shapes if s.x0 == s.x1]
    assert len(vlines) == 1 and vlines[0].x0 == 10
    # recall 75%; the rest above: (25 − 15) / (120 − 20) = 10%
    assert fig.layout.title.text == "Draft: 75% of leads that reached SQL score 10+"
    assert fig.layout.title.subtitle.text == "against 10% of the rest"
    assert fig.layout.barmode == "overlay"


GAINS = pd.DataFrame({"score": [40.0, 20.0, 0.0], "leads_at_or_above": [10, 50, 100],
                      "share_of_leads": [0.1, 0.5, 1.0], "share_of_outcomes": [0.4, 0.8, 1.0],
                      "lift": [4.0, 1.6, 1.0]})


def test_gains_chart_current_vs_draft():
    draft = GAINS.assign(share_of_outcomes=[0.3, 0.9, 1.0], lift=[3.0, 1.8, 1.0])
    cur_ev = {"leads": 100, "above": 10, "recall": 0.4, "threshold": 40.0}
    dr_ev = {"leads": 100, "above": 50, "recall": 0.9, "threshold": 20.0}
    fig = charts.gains_chart(GAINS, draft, current_eval=cur_ev, draft_eval=dr_ev, outcome_stage="SQL")
    names = [t.name for t in fig.data]
    assert names == ["Random pick", "Current", "Current threshold", "Draft", "Draft threshold"]
    cur = fig.data[1]
    assert list(cur.x) == [0.0, 0.1, 0.5, 1.0]            # starts at the origin
    assert list(cur.y) == [0.0, 0.4, 0.8, 1.0]
    assert cur.line.color == charts.CURRENT_COLOR and fig.data[3].line.color == charts.DRAFT_COLOR
    dot = fig.data[4]
    assert (dot.x[0], dot.y[0]) == (0.5, 0.9)             # 50 of 100 leads, recall 90%
    # 90% / 50% = 1.8 × random
    assert fig.layout.title.text == "Draft MQLs are the top 50% of leads and hold 90% of those that reached SQL (1.8× random)"


def test_gains_chart_without_outcomes_says_so():
    none = GAINS.assign(share_of_outcomes=[None, None, None])
    fig = charts.gains_chart(none, none, outcome_stage="Customer")
    assert not fig.data
    assert "No lead in this cohort reached Customer" in fig.layout.annotations[0].text


def test_presentation_mode_enlarges_text():
    small = charts.sdr_load_chart(LOAD, 5)
    big = charts.sdr_load_chart(LOAD, 5, presentation=True)
    assert big.layout.font.size > small.layout.font.size
    assert big.layout.height > small.layout.height
