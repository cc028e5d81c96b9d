"""Shared links carry a page's own controls (issue #18, point 4), and a control keeps its choice when
one navigates away and back. Each case sets a page's controls, takes the address the app wrote,
opens it in a new session and finds the same controls and the same headline.

The browser twin of this test is tests/test_browser_page_links.py.
"""
from __future__ import annotations

import pytest

from conftest import assert_clean, page_finding, run_app

CASES = {
    "conversion": ("pages/conversion.py", {"conv_breakdown": "segment", "conv_window": 30, "conv_grain": "week",
                                           "conv_stage": "SAL", "conv_hist": "Opportunity"}),
    "rejections": ("pages/rejections.py", {"rej_other_by": "channel", "rej_pp_min": 3}),
    "time_in_stage-deals": ("pages/time_in_stage.py", {"tis_funnel": "opportunity", "tis_min_days": 30.0}),
    "time_in_stage-stuck": ("pages/time_in_stage.py", {"tis_stuck_stages": ["MQL", "SAL"], "tis_min_days": 2.5}),
    "forecast-waterfall": ("pages/forecast.py", {"fc_wf_weighted": True, "fc_wf_horizon": True,
                                                 "fc_only_overdue": True}),
    "targets": ("pages/targets.py", {"targets_period": "2026-Q4"}),
}


def _widget_values(at, keys) -> dict:
    return {k: at.session_state[k] for k in keys}


@pytest.mark.parametrize("case", list(CASES))
def test_a_link_reopens_the_page_with_its_controls_and_headline(sample_db, case):
    page, state = CASES[case]
    at = run_app(sample_db, page)
    plain_headline = page_finding(at)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert_clean(at)
    headline = page_finding(at)
    link = {k: at.query_params[k] for k in at.query_params}
    assert set(state) <= set(link), f"controls missing from the link: {set(state) - set(link)}"

    other = run_app(sample_db, page, query=link)          # someone else opens the link
    assert_clean(other)
    assert _widget_values(other, state) == state
    assert page_finding(other) == headline
    if case in ("conversion", "time_in_stage-deals", "targets"):     # the others leave the headline alone
        assert headline != plain_headline


def test_defaults_leave_the_link_plain(sample_db):
    at = run_app(sample_db, "pages/conversion.py")
    assert not {"conv_breakdown", "conv_window", "conv_grain", "conv_stage", "conv_hist"} & set(at.query_params)


def test_a_bad_value_in_a_link_is_ignored(sample_db):
    at = run_app(sample_db, "pages/conversion.py", query={"conv_window": "-4", "conv_breakdown": "no_such_column",
                                                          "conv_grain": "fortnight"})
    assert_clean(at)
    assert (at.session_state["conv_window"], at.session_state["conv_breakdown"], at.session_state["conv_grain"]) == \
        (None, "channel", "month")


def test_a_choice_survives_navigating_away_and_back(sample_db):
    at = run_app(sample_db, "pages/conversion.py")
    at.session_state["conv_breakdown"] = "segment"
    at.session_state["conv_window"] = 14
    at.run()
    at.switch_page("pages/overview.py").run()
    at.switch_page("pages/conversion.py").run()
    assert_clean(at)
    assert (at.session_state["conv_breakdown"], at.session_state["conv_window"]) == ("segment", 14)


def _captions(at) -> str:
    return " ".join(str(c.value) for c in at.caption)


def test_the_forecast_method_follows_the_session_and_the_link(sample_db):
    """Issue #18, point 5: the method chosen on the Forecast page is the Overview's and Targets &
    plan's too, every forecast figure there says which it is, and the link carries it."""
    at = run_app(sample_db, "pages/forecast.py")
    at.segmented_control(key="method").set_value("historical").run()
    assert_clean(at)
    assert at.query_params["method"] == "historical"
    at.switch_page("pages/overview.py").run()
    assert_clean(at)
    assert "historical win rates" in _captions(at) and "configured probabilities" not in _captions(at)
    overview_tiles = {m.label: m.value for m in at.metric if m.label.startswith("Weighted forecast")}
    at.switch_page("pages/targets.py").run()
    assert "Forecast method: historical win rates" in _captions(at)

    linked = run_app(sample_db, None, query={"method": "historical"})     # someone opens the link
    assert {m.label: m.value for m in linked.metric if m.label.startswith("Weighted forecast")} == overview_tiles
    plain = run_app(sample_db, None)
    assert "configured probabilities" in _captions(plain)
    assert {m.label: m.value for m in plain.metric if m.label.startswith("Weighted forecast")} != overview_tiles
