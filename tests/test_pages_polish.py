"""Issue 7 polish, without a browser: readable labels for coded values, no "None" in table cells,
and the Forecast method stored in the URL as a stable code.

Browser-level checks (the HTML export, snapshots, /overview, screenshots) are in test_browser.py.
"""
from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from conftest import assert_clean, run_app
from funnel.charts import theme
from funnel.labels import blank_missing, readable, readable_columns

STAGES_PAGE = "pages/stage_settings.py"
FORECAST_PAGE = "pages/forecast.py"


# ---------------------------------------------------------------------------------------------
# The label helper


@pytest.mark.parametrize("code, text", [
    ("paid_search", "Paid search"), ("best_case", "Best case"), ("sdr", "SDR"), ("sales", "Sales"),
    ("webinar", "Webinar"), ("closed_won", "Closed won"), ("linkedin_ads", "LinkedIn ads"),
    # anything a person typed stays as typed
    ("Mid-Market", "Mid-Market"), ("APAC", "APAC"), ("Marcus Reid", "Marcus Reid"), ("not ICP", "not ICP"),
    (None, ""), (float("nan"), ""), (3, "3"),
])
def test_readable_turns_codes_into_labels(code, text):
    assert readable(code) == text


def test_readable_columns_and_blank_missing_leave_the_input_alone():
    df = pd.DataFrame({"grp": ["paid_search", "sdr", None], "n": [1.0, None, 3.0], "note": ["a", None, "c"]})
    shown = readable_columns(df, ["grp", "missing_column"])
    assert list(shown["grp"]) == ["Paid search", "SDR", ""]
    assert list(df["grp"][:2]) == ["paid_search", "sdr"]               # the data keeps its codes
    blank = blank_missing(df)
    assert list(blank["note"]) == ["a", "", "c"]
    assert blank["n"].isna().sum() == 1 and blank["n"].dtype == float   # numbers stay numbers


# ---------------------------------------------------------------------------------------------
# Chart titles: wrapped in presentation mode, never cut off at a half-width chart's edge


def test_long_titles_wrap_in_presentation_mode_only():
    import plotly.graph_objects as go

    long = "The open pipeline grew by $735k; biggest move: new deals (+$2.53M)"   # 66 characters
    normal = theme.style(go.Figure(), title=long)
    present = theme.style(go.Figure(), title=long, presentation=True)
    assert normal.layout.title.text == long
    # split after the "; ", each line within PRESENTATION_TITLE_CHARS (56)
    assert present.layout.title.text == "The open pipeline grew by $735k;<br>biggest move: new deals (+$2.53M)"
    # the plot starts below both title lines and the legend
    one_line = theme.style(go.Figure(), title="Short", presentation=True)
    assert present.layout.margin.t > one_line.layout.margin.t
    assert theme.wrap_title("x" * 10, 50) == "x" * 10


# ---------------------------------------------------------------------------------------------
# Stage settings: blanks instead of "None", labels instead of codes, values saved as codes


def _stage_frame(at, key: str) -> pd.DataFrame:
    return next(d for d in at.dataframe if getattr(d, "key", None) == key).value


def _stage_config(db) -> dict[tuple[str, str], tuple]:
    con = duckdb.connect(str(db))
    try:
        return {(f, s): (pos, team, cat, sla) for f, s, pos, team, cat, sla in con.execute(
            "SELECT funnel, stage, position, team, category, sla_hours FROM stage_config").fetchall()}
    finally:
        con.close()


def test_stage_settings_show_no_none_and_save_edits_as_codes(sample_copy):
    at = run_app(sample_copy, STAGES_PAGE)
    assert_clean(at)
    lead = _stage_frame(at, "stages_lead")
    opp = _stage_frame(at, "stages_opportunity")
    for df in (lead, opp):
        shown = df.drop(columns=["events"])
        assert not shown.isna().any().any(), shown[shown.isna().any(axis=1)]
        assert not (shown.astype(str) == "None").any().any()
    # a side state has a blank position; a final stage a blank SLA; Closed Lost no forecast category
    rejected = lead[lead["stage"] == "Rejected"].iloc[0]
    assert rejected["position"] == "" and rejected["sla_days"] == "7"
    assert lead[lead["stage"] == "Customer"].iloc[0]["sla_days"] == ""
    assert opp[opp["stage"] == "Closed Lost"].iloc[0]["category"] == "-"           # shown as "no category"
    assert opp[opp["stage"] == "Proposal"].iloc[0]["category"] == "best_case"     # the code; shown "Best case"

    # MQL (row 1): SLA 2 -> 3 days; Rejected (row 8) stays a side state with no position
    at.session_state["stages_lead"] = {"edited_rows": {1: {"sla_days": "3"}}, "added_rows": [], "deleted_rows": []}
    at.run()
    at.button(key="save_lead").click().run()
    assert_clean(at)
    cfg = _stage_config(sample_copy)
    assert cfg[("lead", "MQL")] == (2, "sdr", None, 72.0)                        # 3 days = 72 hours
    assert cfg[("lead", "Rejected")][0] is None
    assert cfg[("opportunity", "Closed Lost")][2] is None                         # "-" saved as no category
    assert cfg[("opportunity", "Proposal")][2] == "best_case"


def test_stage_settings_refuse_a_position_that_is_not_a_number(sample_copy):
    before = _stage_config(sample_copy)
    at = run_app(sample_copy, STAGES_PAGE)
    at.session_state["stages_lead"] = {"edited_rows": {2: {"position": "third"}}, "added_rows": [], "deleted_rows": []}
    at.run()
    at.button(key="save_lead").click().run()
    assert [e.value for e in at.error] == ["Stage 'SAL': the position must be a number (or blank), not 'third'."]
    assert _stage_config(sample_copy) == before


# ---------------------------------------------------------------------------------------------
# Forecast: the method in the URL is a code; old links holding the label still work


def test_forecast_method_is_stored_in_the_url_as_a_code(sample_db):
    at = run_app(sample_db, FORECAST_PAGE)
    assert_clean(at)
    assert at.query_params["method"] == "configured"
    at.segmented_control(key="method").set_value("historical").run()
    assert_clean(at)
    assert at.query_params["method"] == "historical"


@pytest.mark.parametrize("in_url", ["historical", "Historical win rates"])
def test_forecast_method_from_a_link(sample_db, in_url):
    at = run_app(sample_db, FORECAST_PAGE, query={"method": in_url})
    assert_clean(at)
    assert at.segmented_control(key="method").value == "historical"
    assert at.query_params["method"] == "historical"


# ---------------------------------------------------------------------------------------------
# Overview: highlights name channels by their labels


def test_overview_highlights_use_labels_not_codes(sample_db):
    import re

    at = run_app(sample_db, "pages/overview.py")
    assert_clean(at)
    notes = [m.value for m in at.markdown if re.match(r"\*\*\d\.\*\*", m.value)]
    channel_notes = [n for n in notes if "channel:" in n]
    assert len(channel_notes) == 2, notes                       # best and worst channel
    codes = {"paid_search", "organic", "partner", "webinar", "event", "outbound", "referral"}
    assert not [n for n in notes if any(re.search(rf"\b{c}\b", n) for c in codes)], notes
    assert any(label in " ".join(channel_notes) for label in ("Paid search", "Referral", "Organic", "Partner",
                                                               "Webinar", "Event", "Outbound"))


def test_stuck_list_says_not_assigned_for_a_lead_without_owner(tmp_path):
    """Olist leads have no SDR: the stuck list's Owner reads "not assigned", never "None"."""
    from builders import build_db
    db = tmp_path / "owners.duckdb"
    # L1 has an SDR, L2 none; both entered MQL (2-day target) weeks before D = 1 Feb and stayed.
    con = build_db(db, leads=[("L1", "2024-01-01", "web", "SMB", "Sam", None),
                              ("L2", "2024-01-01", "web", "SMB", None, None),
                              ("L3", "2024-02-01", "web", "SMB", "Sam", None)],   # D = 1 Feb 2024
                   lead_events=[("L1", "Lead", "2024-01-01"), ("L1", "MQL", "2024-01-02"),
                                ("L2", "Lead", "2024-01-01"), ("L2", "MQL", "2024-01-02"),
                                ("L3", "Lead", "2024-02-01")])
    con.close()
    at = run_app(db, "pages/time_in_stage.py")
    assert_clean(at)
    stuck = next(d for d in at.dataframe if "owner" in d.value.columns).value.set_index("item_id")
    assert stuck.loc["L2", "owner"] == "not assigned"
    assert stuck.loc["L1", "owner"] == "Sam"
