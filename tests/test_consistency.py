"""One question, one answer (issue #18, point 2 and the acceptance's consistency test): a quantity
shown on two pages is the same figure, or each place says which definition it shows."""
from __future__ import annotations

import pytest

from conftest import assert_clean, run_app
from funnel import overview


def _tiles(at, prefix: str) -> dict:
    return {m.label: m.value for m in at.metric if m.label.startswith(prefix)}


@pytest.mark.parametrize("method", ["configured", "historical"])
def test_weighted_forecast_of_the_month_is_the_same_on_the_overview_and_the_forecast_page(sample_db, method):
    home = run_app(sample_db, None, query={"method": method})
    assert_clean(home)
    forecast = run_app(sample_db, "pages/forecast.py", query={"method": method})
    assert_clean(forecast)
    month = _tiles(home, "Weighted forecast, November 2026")
    assert len(month) == 1
    # The Forecast page's first tile: this month's weighted forecast.
    assert list(month.values())[0] in [m.value for m in forecast.metric]


def test_the_weeks_rejection_rate_and_the_cohorts_each_say_what_they_are(sample_db):
    home = run_app(sample_db)
    tile = next(t for t in overview.TILES if t.column == "rejection_rate")
    assert "7 days" in tile.help and "cohort" in tile.help
    captions = " ".join(str(c.value) for c in home.caption)
    assert "Tiles: what happened in the 7 days to 20 Nov 2026" in captions
    highlights = " ".join(str(m.value) for m in home.markdown)
    if "team rate" in highlights:       # the AE highlight names the cohort it measures
        assert "of the cohort's hand-offs" in highlights
    rejections = run_app(sample_db, "pages/rejections.py")
    assert any("the cohort in the sidebar" in str(c.value) for c in rejections.caption)


def test_won_in_a_week_says_why_the_waterfall_differs(sample_db):
    home = run_app(sample_db)
    captions = " ".join(str(c.value) for c in home.caption)
    assert "A won deal leaves at its open amount" in captions
