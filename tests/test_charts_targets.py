"""Targets chart builders: frame in, figure out."""
from __future__ import annotations

from datetime import date

import pandas as pd

from funnel.charts import targets as charts


def _days(won, pace):
    return pd.DataFrame({"day": pd.date_range(date(2026, 11, 1), periods=len(won), freq="D"),
                         "cumulative_won": won, "pace_amount": pace})


def test_cumulative_won_with_nothing_won_and_no_target_says_so_instead_of_a_flat_line():
    fig = charts.cumulative_won_chart(_days([0.0, 0.0, 0.0], [None, None, None]), None, "November 2026")
    assert not fig.data
    assert "Nothing won in November 2026 so far" in fig.layout.annotations[0].text


def test_cumulative_won_with_a_target_draws_won_and_pace():
    fig = charts.cumulative_won_chart(_days([0.0, 5000.0, 5000.0], [1000.0, 2000.0, 3000.0]), 30000.0, "November 2026")
    assert [t.name for t in fig.data] == ["Won so far", "Linear pace"]
    assert "ahead of the linear pace" in fig.layout.title.text
