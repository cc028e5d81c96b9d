"""Chart builders of the conversion and time-in-stage pages: frames in, figures with the expected
traces and values out (no Streamlit, no database)."""
from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
import pytest

from funnel.charts import conversion as cc
from funnel.charts import time_in_stage as tc

STAGES = ["Lead", "MQL", "SAL", "SQL", "Opportunity", "Customer"]


def funnel_frame(grp="All leads", reached=(100, 40, 20, 16, 10, 3)):
    rows = []
    for i, (s, n) in enumerate(zip(STAGES, reached)):
        prev = reached[i - 1] if i else None
        rows.append({"grp": grp, "stage": s, "position": i + 1, "reached": n,
                     "step_rate": None if prev is None else n / prev, "overall_rate": n / reached[0],
                     "median_days_to_reach": None if i == 0 else float(i * 3), "leads": reached[0]})
    return pd.DataFrame(rows)


def is_empty_note(fig: go.Figure) -> bool:
    return len(fig.data) == 0 and len(fig.layout.annotations) == 1


def test_funnel_chart_counts_and_rates():
    fig = cc.funnel_chart(funnel_frame())
    (tr,) = fig.data
    assert tr.type == "funnel"
    assert list(tr.y) == STAGES and list(tr.x) == [100, 40, 20, 16, 10, 3]
    assert tr.text[0] == "100 leads"
    assert tr.text[2] == "20 · 50% of previous · 20% of all"      # 20 / 40, 20 / 100
    assert tr.text[5] == "3 · 30% of previous · 3.0% of all"
    assert fig.layout.title.text == "3.0% of 100 leads reached Customer"


def test_funnel_chart_empty():
    assert is_empty_note(cc.funnel_chart(pd.DataFrame()))


def test_breakdown_chart_small_multiples():
    df = pd.concat([funnel_frame("web", (50, 30, 20, 10, 8, 5)), funnel_frame("event", (200, 40, 10, 5, 2, 1)),
                    funnel_frame("partner", (10, 9, 8, 7, 6, 5))])
    fig = cc.breakdown_chart(df, breakdown_label="channel", max_groups=2)
    # Largest groups first, at most max_groups panels; coded values read as labels ("web" -> "Web").
    assert [t.name for t in fig.data] == ["Event", "Web"]
    assert list(fig.data[1].x) == pytest.approx([1, 0.6, 0.4, 0.2, 0.16, 0.1])
    assert fig.data[1].text[-1] == "10%"
    assert "Customer" in fig.layout.title.text and "Web" in fig.layout.title.text and "Event" in fig.layout.title.text
    presentation = cc.breakdown_chart(df, presentation=True)
    assert presentation.layout.font.size > fig.layout.font.size


def test_breakdown_chart_with_one_group_does_not_compare_it_with_itself():
    # the sidebar filters the channel to paid search and the page breaks down by channel
    fig = cc.breakdown_chart(funnel_frame("paid_search", (50, 30, 20, 10, 8, 5)), breakdown_label="channel")
    assert fig.layout.title.text == "Customer: 10% of Paid search leads (the only channel in this view)"


def trend_frame():
    rows = []
    for period, leads, complete in (("2025-01-01", 10, True), ("2025-02-01", 20, True), ("2025-03-01", 8, False)):
        for i, s in enumerate(STAGES):
            reached = leads if i == 0 else max(leads // (i + 1), 0)
            rows.append({"period": pd.Timestamp(period), "stage": s, "position": i + 1, "leads": leads,
                         "reached": reached, "overall_rate": reached / leads, "complete": complete})
    return pd.DataFrame(rows)


def test_cohort_heatmap_greys_incomplete_cohorts():
    fig = cc.cohort_heatmap(trend_frame())
    assert len(fig.data) == 2
    done, young = fig.data
    assert list(done.x) == STAGES[1:]                      # the first stage (always 100%) is left out
    assert list(done.y) == ["Jan 2025 (10)", "Feb 2025 (20)", "Mar 2025 (8) · maturing"]
    assert done.z[0][0] == pytest.approx(0.5)              # January: 10 // 2 = 5 of 10 reached MQL
    assert math.isnan(done.z[2][0])                        # March is drawn by the grey trace
    assert young.z[2][0] == 1.0 and math.isnan(young.z[0][0])
    assert young.customdata[2][0] == pytest.approx(4 / 8)
    assert "maturing" in fig.layout.title.text


def test_cohort_heatmap_all_complete_has_one_trace():
    t = trend_frame()
    t["complete"] = True
    assert len(cc.cohort_heatmap(t).data) == 1


def test_trend_chart_dashes_incomplete_cohorts():
    fig = cc.trend_chart(trend_frame(), "SQL", "month")
    solid, dashed = fig.data
    assert solid.line.dash is None and dashed.line.dash == "dash"
    assert len(solid.x) == 2
    # The dashed part starts at the last complete cohort so the line is continuous.
    assert list(dashed.x) == [pd.Timestamp("2025-02-01"), pd.Timestamp("2025-03-01")]
    assert list(dashed.y) == pytest.approx([5 / 20, 2 / 8])
    assert fig.layout.title.text == "25% of the leads created in Feb 2025 reached SQL"
    assert is_empty_note(cc.trend_chart(trend_frame(), "Nope"))


def test_time_to_convert_charts():
    ttc = funnel_frame()[["stage", "position", "reached", "median_days_to_reach"]].iloc[1:]
    fig = cc.time_to_convert_chart(ttc)
    assert list(fig.data[0].x) == [3.0, 6.0, 9.0, 12.0, 15.0]
    assert fig.layout.title.text == "Half the leads that reach Customer get there within 15.0 d"
    hist = pd.DataFrame({"stage": ["SQL"] * 3, "position": [4] * 3, "band": ["7–14 d", "0–1 d", "1–3 d"],
                         "band_order": [7.2, 0.1, 1.5], "leads": [5, 2, 3]})
    fig = cc.time_to_convert_histogram_chart(hist, "SQL")
    assert list(fig.data[0].x) == ["0–1 d", "1–3 d", "7–14 d"]   # in band order, not row order
    assert list(fig.data[0].text) == ["20%", "30%", "50%"]
    assert "7–14 days after creation" in fig.layout.title.text
    assert is_empty_note(cc.time_to_convert_histogram_chart(hist, "MQL"))


# ---- time in stage ---------------------------------------------------------------------------


def tis_frame():
    return pd.DataFrame({
        "stage": ["Lead", "MQL", "Recycled", "Rejected"], "position": [1, 2, None, None],
        "kind": ["open", "open", "recycled", "rejected"], "visits": [10, 8, 3, 0], "completed": [10, 5, 1, 0],
        "censored": [0, 3, 2, 0], "median_hours": [24.0, 48.0, 360.0, None], "p90_hours": [96.0, 100.0, 360.0, None],
        "km_median_hours": [24.0, 72.0, None, None]})


def test_durations_chart_in_days_with_km_note():
    fig = tc.durations_chart(tis_frame())
    assert [t.name for t in fig.data] == [m[1] for m in tc.MEASURES]
    med, p90, km = fig.data
    assert list(med.x) == ["Lead", "MQL", "Recycled<br>(KM: over half still there)"]   # no-visit stage left out
    assert list(med.y) == pytest.approx([1.0, 2.0, 15.0])
    assert list(km.y)[:2] == pytest.approx([1.0, 3.0]) and km.y[2] is None
    # One unit on the axis (issue #18: "24 h" beside "3.0 d" on a days axis): days, as the axis says
    assert list(km.text) == ["1.0 d", "3.0 d", ""]
    assert list(med.text) == ["1.0 d", "2.0 d", "15.0 d"]
    assert fig.layout.yaxis.title.text == "Days in stage"
    assert fig.layout.barmode == "group"
    assert fig.layout.title.text == "Items stay longest in Recycled: half have left after 15.0 d"
    assert is_empty_note(tc.durations_chart(tis_frame().assign(visits=0)))


def test_durations_chart_in_hours_when_every_bar_is_under_two_days():
    fast = tis_frame().assign(median_hours=[2.0, 30.0, 40.0, None], p90_hours=[6.0, 47.0, 47.5, None],
                              km_median_hours=[3.0, 35.0, None, None])
    fig = tc.durations_chart(fast)
    med, p90, km = fig.data
    assert list(med.y) == pytest.approx([2.0, 30.0, 40.0])
    assert list(p90.text) == ["6 h", "47 h", "48 h"]          # 47.5 h rounds to 48 h, still in hours
    assert fig.layout.yaxis.title.text == "Hours in stage"
    zh = tc.durations_chart(fast, lang="zh")
    assert list(zh.data[0].text) == ["2 小时", "30 小时", "40 小时"] and zh.layout.yaxis.title.text == "阶段停留小时数"
    # one bar of two days or more turns the whole axis to days
    assert list(tc.durations_chart(fast.assign(p90_hours=[6.0, 47.0, 48.0, None])).data[1].text) == \
        ["0.2 d", "2.0 d", "2.0 d"]


def test_survival_chart_steps_from_one():
    curves = pd.DataFrame({"stage": ["MQL", "MQL", "Lead"], "hours": [24.0, 48.0, 12.0],
                           "survival": [0.75, 0.25, 0.5], "at_risk": [4, 3, 2]})
    fig = tc.survival_chart(curves, ["Lead", "MQL"])
    assert [t.name for t in fig.data] == ["Lead", "MQL"]
    mql = fig.data[1]
    assert list(mql.x) == pytest.approx([0, 1, 2]) and list(mql.y) == pytest.approx([1, 0.75, 0.25])
    assert mql.line.shape == "hv"
    assert fig.data[0].line.color != fig.data[1].line.color
    assert "#F0E442" not in {t.line.color for t in fig.data}          # no yellow lines
    assert is_empty_note(tc.survival_chart(curves.iloc[0:0]))


def test_sla_bars_and_trend():
    summary = pd.DataFrame({"stage": ["MQL", "SAL"], "position": [2, 3], "sla_hours": [48.0, 120.0],
                            "visits": [10, 4], "breaches": [3, 2], "breach_rate": [0.3, 0.5], "over_now": [1, 0]})
    fig = tc.sla_bars(summary)
    assert list(fig.data[0].y) == [0.3, 0.5]
    assert fig.data[0].text[0] == "30%<br>3 of 10"
    assert fig.layout.title.text == "SAL misses its target most often: 50% of visits"
    breaches = pd.DataFrame({"stage": ["MQL"] * 3, "position": [2] * 3,
                             "period": pd.to_datetime(["2025-01-01", "2025-02-01", "2025-03-01"]),
                             "sla_hours": [48.0] * 3, "visits": [10, 10, 5], "breaches": [2, 4, 1],
                             "breach_rate": [0.2, 0.4, 0.2], "complete": [True, True, False]})
    fig = tc.breach_trend_chart(breaches, ["Lead", "MQL"])
    solid, dashed = fig.data
    assert list(solid.y) == [0.2, 0.4] and dashed.line.dash == "dash"
    assert list(dashed.y) == [0.4, 0.2] and not dashed.showlegend
    assert solid.line.color == tc.stage_colors(["Lead", "MQL"])["MQL"]
    assert is_empty_note(tc.sla_bars(summary.iloc[0:0]))
    # seven stages: the bars say the share only (the counts would run into each other), the hover the counts
    seven = pd.DataFrame({"stage": list("ABCDEFG"), "position": range(7), "sla_hours": [48.0] * 7,
                          "visits": [2935] * 7, "breaches": [1563] * 7, "breach_rate": [1563 / 2935] * 7,
                          "over_now": [0] * 7})
    bars = tc.sla_bars(seven, lang="zh").data[0]
    assert list(bars.text) == ["53%"] * 7
    assert "%{customdata[2]:,}" in bars.hovertemplate and list(bars.customdata[0][2:]) == [1563, 2935]
    assert is_empty_note(tc.breach_trend_chart(breaches.iloc[0:0]))
