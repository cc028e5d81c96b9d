"""AppTest of the Conversion and Time in stage pages: they render without errors, follow the global
filters and the as-of date, and their controls change the figures shown."""
from __future__ import annotations

from datetime import date

import duckdb
import pytest

from conftest import assert_clean, page_finding, run_app
from test_conversion_golden import build_golden

CONV = "pages/conversion.py"
TIS = "pages/time_in_stage.py"


@pytest.fixture
def golden_db(tmp_path):
    path = tmp_path / "golden.duckdb"
    build_golden(path).close()
    return path


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def finding(at) -> str:
    return page_finding(at)


def test_conversion_page_golden_numbers_follow_filters_and_as_of(golden_db):
    at = run_app(golden_db, CONV)
    assert_clean(at)
    # Default cohort: every lead from the first (L10, 31 Dec 2024) to D = the latest timestamp (5 April 2025):
    # 14 leads; one reached Customer (L1).
    assert metrics(at) == {"Leads in the cohort": "14", "Reached Customer": "1", "Lead → Customer": "7.1%"}
    # Its drop-off sentence: step rates MQL 13/14, SAL 7/13, SQL 5/7, Opportunity 2/5, Customer 1/2 -> SQL → Opportunity.
    assert "SQL → Opportunity" in finding(at)
    assert "Leads created 31 Dec 2024 – 05 Apr 2025" in at.caption[0].value

    at.session_state["as_of"] = date(2025, 3, 31)         # L6 (created 2 April) drops out
    at.run()
    assert_clean(at)
    assert metrics(at)["Leads in the cohort"] == "13"
    assert "end of 31 Mar 2025" in at.caption[0].value

    at.session_state["f_channel"] = ["web"]               # L1 L2 L5 L9 L10 L13
    at.run()
    assert_clean(at)
    assert metrics(at) == {"Leads in the cohort": "6", "Reached Customer": "1", "Lead → Customer": "16.7%"}
    assert "Channel: Web" in at.caption[0].value   # the code "web" reads as a label


def test_conversion_window_input_changes_the_funnel(golden_db):
    at = run_app(golden_db, CONV)
    at.number_input(key="conv_window").set_value(29).run()
    assert_clean(at)
    # L1's Customer event is 30 days after its creation: outside a 29-day window.
    assert metrics(at)["Reached Customer"] == "0"
    assert any("within 29 days" in c.value for c in at.caption)
    at.number_input(key="conv_window").set_value(30).run()
    assert metrics(at)["Reached Customer"] == "1"


def test_conversion_page_on_sample_breakdown_changes_the_finding(sample_db):
    at = run_app(sample_db, CONV)
    assert_clean(at)
    before = finding(at)
    assert before.count("Biggest drop-off") == 1 and "worst for channel" in before
    assert len(at.get("plotly_chart")) >= 6            # funnel, breakdown, heatmap, trend, time to convert ×2
    at.selectbox(key="conv_breakdown").set_value("segment").run()
    assert_clean(at)
    after = finding(at)
    assert "worst for segment" in after and after != before
    at.segmented_control(key="conv_grain").set_value("week").run()
    at.selectbox(key="conv_stage").set_value("Customer").run()
    assert_clean(at)


def test_conversion_page_empty_cohort_says_what_to_do(golden_db):
    at = run_app(golden_db, CONV)
    at.session_state["f_channel"] = ["web"]
    at.session_state["f_segment"] = ["Enterprise"]
    at.session_state["from"] = date(2025, 1, 2)
    at.session_state["to"] = date(2025, 1, 3)              # no web Enterprise lead created then
    at.run()
    assert_clean(at)
    assert "No leads in this cohort" in finding(at)
    assert any("widen the date range" in i.value for i in at.info)


def test_time_in_stage_page_follows_as_of_and_switches_funnel(sample_db):
    at = run_app(sample_db, TIS)
    assert_clean(at)
    first = finding(at)
    assert "wait longest in" in first
    stuck_before = next(m.value for m in at.markdown if "current stage" in m.value)
    at.session_state["as_of"] = date(2026, 3, 31)
    at.run()
    assert_clean(at)
    assert "end of 31 Mar 2026" in at.caption[0].value
    stuck_after = next(m.value for m in at.markdown if "current stage" in m.value)
    assert stuck_after != stuck_before
    at.segmented_control(key="tis_funnel").set_value("opportunity").run()
    assert_clean(at)
    assert "Deals wait longest in" in finding(at)


def test_time_in_stage_stuck_threshold_and_stage_filter(sample_db):
    at = run_app(sample_db, TIS)
    at.number_input(key="tis_min_days").set_value(200).run()
    assert_clean(at)
    text = next(m.value for m in at.markdown if "current stage" in m.value)
    assert "for more than 200 days" in text
    at.multiselect(key="tis_stuck_stages").set_value(["SQL"]).run()
    assert_clean(at)
    narrowed = next(m.value for m in at.markdown if "current stage" in m.value)
    assert narrowed != text
    assert at.get("download_button")


def test_time_in_stage_sla_edit_saves_and_bumps_data_version(sample_copy):
    from funnel import store

    con = duckdb.connect(str(sample_copy))
    v0 = store.data_version(con)
    con.close()
    at = run_app(sample_copy, TIS)
    assert_clean(at)
    assert at.dataframe                                       # the tables render
    # Row 1 is MQL (lead stages in funnel order): a 2-day target becomes 30 days.
    at.session_state["tis_sla_editor"] = {"edited_rows": {1: {"sla_days": 30.0}}, "added_rows": [], "deleted_rows": []}
    at.run()
    at.button(key="tis_save_sla").click().run()
    assert_clean(at)
    cur = duckdb.connect(str(sample_copy))
    try:
        hours = cur.execute("SELECT sla_hours FROM stage_config WHERE funnel = 'lead' AND stage = 'MQL'").fetchone()[0]
        assert hours == 720.0
        assert store.data_version(cur) == v0 + 1
    finally:
        cur.close()


def test_presentation_mode_hides_the_editor(sample_db):
    at = run_app(sample_db, TIS)
    at.button(key="tis_save_sla")                            # there in normal mode
    at.session_state["present"] = True
    at.run()
    assert_clean(at)
    with pytest.raises(KeyError):
        at.button(key="tis_save_sla")
    at.switch_page(CONV)
    at.run()
    assert_clean(at)
    assert "Biggest drop-off" in finding(at)
