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
    if case in ("conversion", "time_in_stage-deals"):     # the other controls leave the headline alone
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
