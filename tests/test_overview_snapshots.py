"""Saved weekly reviews: what the Overview compares against, and how the history reads them."""
from __future__ import annotations

from datetime import date

import pandas as pd

from funnel import overview, store
from funnel.charts import overview as overview_charts
from funnel.query import Scope

SNAP = {"as_of": date(2026, 11, 13), "saved_by": "ann",
        "figures": {"forecast_month": 1_200_000.0, "forecast_quarter": 3_000_000.0,
                    "forecast_by_month": {"2026-11": 1_200_000.0, "2026-12": 900_000.0, "2027-01": 400_000.0}}}


def test_compare_with_snapshot_same_month_and_quarter():
    was = overview.compare_with_snapshot(SNAP, date(2026, 11, 20))
    assert was == {"as_of": date(2026, 11, 13), "month": 1_200_000.0, "quarter": 3_000_000.0}


def test_compare_with_snapshot_across_a_month_uses_that_months_forecast():
    # Saved in November, viewed in December: December's forecast as of the saved review, not November's.
    was = overview.compare_with_snapshot(SNAP, date(2026, 12, 4))
    assert was["month"] == 900_000.0 and was["quarter"] == 3_000_000.0        # Q4 both times


def test_compare_with_snapshot_across_a_quarter_leaves_the_quarter_out():
    was = overview.compare_with_snapshot(SNAP, date(2027, 1, 8))
    assert was["month"] == 400_000.0 and was["quarter"] is None


def test_compare_with_snapshot_without_one():
    assert overview.compare_with_snapshot(None, date(2026, 11, 20)) == {"as_of": None, "month": None, "quarter": None}
    no_month = {**SNAP, "figures": {"forecast_month": 1.0}}
    assert overview.compare_with_snapshot(no_month, date(2027, 2, 1))["month"] is None


def test_history_counts_only_months_that_are_over_as_landed(sample_copy):
    """Regression: a month still running had its won-so-far taken as its actual, so the page said
    the forecast was "off by 1570%" in the middle of the month."""
    con = store.connect(sample_copy)
    try:
        for day in (date(2026, 10, 16), date(2026, 11, 13)):
            scope = Scope(as_of=day)
            overview.save_snapshot(con, scope, overview.review_figures(con, scope))
        hist = overview.forecast_history(con, Scope(as_of=date(2026, 11, 20)))
        october = hist[hist["period"] == "2026-10"]
        november = hist[hist["period"] == "2026-11"]
        assert len(october) == 1 and len(november) == 2          # October only in the October review
        assert october["actual"].notna().all()
        assert october["actual"].iloc[0] == overview.won_between(con, Scope(as_of=date(2026, 11, 20)),
                                                                 date(2026, 10, 1), date(2026, 10, 31))
        assert november["actual"].isna().all()                    # 20 Nov: November has not landed yet
        landed = overview.forecast_landing(hist)
        assert list(landed["period"]) == ["2026-10"]
    finally:
        con.close()


def test_history_chart_labels_review_dates_as_days():
    df = pd.DataFrame({"period": ["2026-11", "2026-12"], "as_of": [date(2026, 11, 13)] * 2,
                       "forecast": [1.0e6, 0.9e6], "actual": [None, None]})
    fig = overview_charts.forecast_history(df)
    assert fig.layout.xaxis.tickformat == "%d %b %Y"
    lo, hi = (pd.Timestamp(x) for x in fig.layout.xaxis.range)
    assert lo < pd.Timestamp("2026-11-13") < hi                # one review: a few days either side, not hours
    assert [t.name for t in fig.data] == ["Nov 2026", "Dec 2026"]


def test_highlights_from_the_page_kpis_equal_its_own(sample_db):
    """The Overview hands its 12-week figures to highlights (no second query): the last two
    weeks of those are the figures highlights would compute itself."""
    from funnel import overview, store
    from funnel.query import Scope
    con = store.connect(sample_db)
    try:
        assert overview.highlights(con, Scope(), overview.weekly_kpis(con, Scope(), 12)) == \
            overview.highlights(con, Scope())
    finally:
        con.close()


def test_a_snapshot_made_with_the_other_method_is_not_compared():
    """Issue #18: the configured forecast ($1.34M) beside a historical one ($1.81M) reads as a move."""
    assert overview.compare_with_snapshot({**SNAP, "figures": {**SNAP["figures"], "method": "historical"}},
                                          date(2026, 11, 20), "configured") == {"as_of": None, "month": None,
                                                                                "quarter": None}
    assert overview.compare_with_snapshot(SNAP, date(2026, 11, 20), "configured")["month"] is not None
