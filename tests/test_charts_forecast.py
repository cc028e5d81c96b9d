"""Chart builders of the forecast page: traces, values and titles from small hand-made frames."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pytest

from funnel import forecast
from funnel.charts import forecast as charts
from funnel.charts import theme

WF = pd.DataFrame({
    "period": pd.to_datetime(["2026-06-01", "2026-06-01", "2026-07-01", "2026-09-01"]),
    "quarter": ["2026-Q2", "2026-Q2", "2026-Q3", "2026-Q3"],
    "stage": ["Qualify", "Negotiation", "Negotiation", "Qualify"],
    "position": [1, 4, 4, 1],
    "open_deals": [2, 1, 1, 1],
    "open_amount": [10000.0, 18000.0, 15000.0, 50000.0],
    "weighted_amount": [1000.0, 13500.0, 11250.0, 5000.0],
})

CHANGES = pd.DataFrame({
    "step": ["start", *forecast.CHANGE_STEPS, "end"],
    "amount": [107000.0, 8000.0, 0.0, 0.0, 0.0, 0.0, 3000.0, -2000.0, -4000.0, -6000.0, 106000.0],
    "deals": [7, 1, 1, 1, 0, 0, 1, 1, 1, 1, 6],
})


def test_forecast_by_month_stacks_stages_in_funnel_order():
    fig = charts.forecast_by_period_chart(WF, "month")
    bars = [t for t in fig.data if isinstance(t, go.Bar)]
    assert [b.name for b in bars] == ["Qualify", "Negotiation"]           # by position
    assert fig.layout.barmode == "stack"
    q, n = bars
    assert list(q.x) == ["Jun 2026", "Jul 2026", "Sep 2026"]
    assert list(q.y) == [1000.0, 0.0, 5000.0]
    assert list(n.y) == [13500.0, 11250.0, 0.0]
    totals = [t for t in fig.data if isinstance(t, go.Scatter)][0]
    assert list(totals.text) == ["$14k", "$11k", "$5k"]
    assert fig.layout.title.text == "$14k weighted in Jun 2026"
    assert fig.layout.yaxis.tickprefix == "$"


def test_forecast_by_quarter():
    fig = charts.forecast_by_period_chart(WF, "quarter")
    bars = [t for t in fig.data if isinstance(t, go.Bar)]
    assert list(bars[0].x) == ["Q2 2026", "Q3 2026"]
    assert list(bars[0].y) == [1000.0, 5000.0] and list(bars[1].y) == [13500.0, 11250.0]
    # Q3 (16250) is larger than Q2 (14500)
    assert fig.layout.title.text == "$14k weighted in Q2 2026; peak Q3 2026 ($16k)"


def test_waterfall_starts_at_start_ends_at_end_and_adds_up():
    fig = charts.waterfall_chart(CHANGES)
    w = fig.data[0]
    assert isinstance(w, go.Waterfall)
    # steps that moved no deal (pulled in, pushed out) are left out
    assert list(w.x) == ["Start", "New deals", "Advanced", "Moved back", "Amount up", "Amount down", "Won", "Lost",
                         "End"]
    assert list(w.measure) == ["absolute", *["relative"] * 7, "total"]
    y = list(w.y)
    assert y[0] == 107000 and y[-1] == 106000
    assert y[0] + sum(y[1:-1]) == pytest.approx(y[-1])
    assert list(w.customdata) == [7, 1, 1, 1, 1, 1, 1, 1, 6]
    assert w.text[1] == "+$8k" and w.text[-3] == "−$4k"
    assert w.text[2] == "1 deal"                       # a stage move changes no open amount: count deals
    low, high = fig.layout.yaxis.range                 # the axis starts near the lowest level reached
    assert 0 <= low <= 106000 and high > 115000        # 107000 + 8000 = 115000 is the highest level
    assert fig.layout.title.text == "The open pipeline fell by $1k; biggest move: new deals (+$8k)"
    assert w.increasing.marker.color == theme.GOOD and w.decreasing.marker.color == theme.BAD


def test_waterfall_labels_and_weighted_axis():
    fig = charts.waterfall_chart(CHANGES, weighted=True, start_label="Start (08 Jun)", end_label="End (15 Jun)")
    assert fig.data[0].x[0] == "Start (08 Jun)" and fig.data[0].x[-1] == "End (15 Jun)"
    assert fig.layout.yaxis.title.text == "Weighted amount"
    assert fig.layout.title.text.startswith("The weighted pipeline fell")


def test_ranges_chart_marks_the_weighted_amount():
    r = pd.DataFrame({"period": ["2026-06", "2026-07", "total"], "open_deals": [3, 2, 5],
                      "open_amount": [31000.0, 25000.0, 56000.0], "weighted_amount": [16000.0, 13750.0, 29750.0],
                      "mean": [16010.0, 13740.0, 29750.0], "p10": [0.0, 2500.0, 12000.0],
                      "p50": [18000.0, 15000.0, 30000.0], "p90": [26000.0, 25000.0, 45000.0],
                      "std_error": [86.6, 80.0, 120.0]})
    fig = charts.ranges_chart(r)
    band, median, weighted = fig.data
    assert list(band.x) == ["Jun 2026", "Jul 2026"]                       # no 'total'
    assert list(band.base) == [0.0, 2500.0] and list(band.y) == [26000.0, 22500.0]   # P90 − P10
    assert list(median.y) == [18000.0, 15000.0]
    assert weighted.name == "Weighted amount" and list(weighted.y) == [16000.0, 13750.0]
    assert weighted.marker.symbol == "diamond"
    assert fig.layout.title.text == "Jun 2026: likely $0–$26k (weighted $16k)"


def test_category_chart_shows_the_four_rollups():
    roll = pd.DataFrame({"horizon": ["month", "quarter"], "label": ["June 2026", "Q2 2026"],
                         "closed_won": [4000.0, 13000.0], "commit_total": [22000.0, 31000.0],
                         "best_case_total": [22000.0, 31000.0], "pipeline_total": [35000.0, 44000.0]})
    fig = charts.category_chart(roll)
    assert [t.name for t in fig.data] == ["Closed", "Commit + Closed", "Best case + Commit + Closed",
                                          "Pipeline (all open + Closed)"]
    assert list(fig.data[1].y) == [22000.0, 31000.0]
    assert list(fig.data[3].x) == ["June 2026", "Q2 2026"]
    assert fig.layout.title.text == "June 2026: $4k closed, $22k with Commit"


def test_backtest_chart_one_line_per_method():
    bt = pd.DataFrame({"period": ["2026-04", "2026-04", "2026-05", "2026-05"],
                       "method": ["configured", "historical"] * 2,
                       "forecast": [100.0, 150.0, 200.0, 260.0], "actual": [110.0, 110.0, 190.0, 190.0],
                       "error": [-10 / 110, 40 / 110, 10 / 190, 70 / 190], "open_deals": [3, 3, 4, 4]})
    fig = charts.backtest_chart(bt, verdict="Configured probabilities have been closer.")
    actual, conf, hist = fig.data
    assert isinstance(actual, go.Bar) and list(actual.y) == [110.0, 190.0]
    assert list(actual.x) == ["Apr 2026", "May 2026"]
    assert list(conf.y) == [100.0, 200.0] and list(hist.y) == [150.0, 260.0]
    assert conf.name == "Forecast — configured probabilities"
    assert list(conf.customdata) == ["-9%", "+5%"]
    assert fig.layout.title.text == "Configured probabilities have been closer."


@pytest.mark.parametrize("builder,args", [
    (charts.forecast_by_period_chart, ()), (charts.ranges_chart, ()), (charts.category_chart, ()),
    (charts.waterfall_chart, ()), (charts.backtest_chart, ())])
def test_empty_frames_give_a_note(builder, args):
    fig = builder(pd.DataFrame(), *args)
    assert len(fig.data) == 0
    assert fig.layout.annotations and "—" in fig.layout.annotations[0].text


def test_presentation_mode_is_bigger():
    small = charts.waterfall_chart(CHANGES)
    big = charts.waterfall_chart(CHANGES, presentation=True)
    assert big.layout.font.size > small.layout.font.size
    assert big.layout.height > small.layout.height
