"""AppTest of the Rejections & recycling page on the sample data and on data without rejections."""
from __future__ import annotations

import base64

import numpy as np
import plotly.io as pio
import pytest

from builders import build_db
from conftest import assert_clean, page_finding, run_app

PAGE = "pages/rejections.py"


def chart_spec(at, key: str):
    """The plotly figure of the chart drawn with ``key`` (typed arrays decoded)."""
    found = [c for c in at.get("plotly_chart") if c.proto.id.endswith(f"-{key}")]
    assert found, f"no chart with key {key}"
    return pio.from_json(found[0].proto.spec, skip_invalid=True)


def values(arr) -> list:
    """A trace array from the JSON spec: plain list, or plotly's typed array {dtype, bdata}."""
    if isinstance(arr, dict) and "bdata" in arr:
        return np.frombuffer(base64.b64decode(arr["bdata"]), dtype=arr["dtype"]).tolist()
    return list(arr)


def fig_title(fig) -> str:
    return fig.layout.title.text


@pytest.fixture(scope="module")
def page(sample_db):
    return run_app(sample_db, PAGE)


def test_page_renders_every_part(page):
    at = page
    assert_clean(at)
    assert at.title[0].value == "Rejections & recycling"
    assert "rejected" in page_finding(at)
    labels = [m.label for m in at.metric]
    assert labels == ["Hand-offs", "Rejected", "Rejection rate", "Resubmissions", "Back within 7 days",
                      "Median resubmit delay", "Leads with loops"]
    assert [s.value for s in at.subheader] == [
        "Whose leads get rejected", "Why leads are rejected", "How leads move between stages",
        "How fast rejected leads come back", "Do recycled leads ever convert?", "Ping-pong leads"]
    for key in ("rej_rate_ae", "rej_rate_sdr", "rej_reasons", "rej_flows", "rej_delays", "rej_outcomes", "rej_loops"):
        assert chart_spec(at, key).data, key
    assert chart_spec(at, "rej_flows").data[0].type == "sankey"
    # every figure has an explanation next to it
    assert len(at.caption) >= 9
    # the ping-pong list with its download
    assert len(at.dataframe) >= 1
    assert any(b.proto.label == "Download CSV" for b in at.get("download_button"))
    # no raw column names as labels
    assert not any("rejection_rate" in m.label or "_" in m.label for m in at.metric)


def test_choosing_an_sdr_changes_the_histogram(page):
    at = page
    before = chart_spec(at, "rej_delays")
    sdr = at.selectbox(key="rej_delay_sdr")
    assert sdr.value == "All SDRs" and len(sdr.options) > 1
    who = sdr.options[1]
    sdr.set_value(who).run()
    assert_clean(at)
    after = chart_spec(at, "rej_delays")
    assert fig_title(after) != fig_title(before)
    assert f"{who}'s" in fig_title(after)
    assert sum(values(after.data[0].y)) < sum(values(before.data[0].y))


def test_min_rejections_shrinks_the_ping_pong_list(page):
    at = page
    n2 = len(at.dataframe[-1].value)
    at.selectbox(key="rej_pp_min").set_value(3).run()
    assert_clean(at)
    if at.dataframe and "path" in at.dataframe[-1].value.columns:
        n3 = len(at.dataframe[-1].value)
    else:  # nobody rejected three times: the empty state says so
        n3 = 0
        assert any("3 times or more" in i.value for i in at.info)
    assert n3 < n2


def test_other_breakdown_table(page):
    at = page
    at.selectbox(key="rej_other_by").set_value("channel").run()
    assert_clean(at)
    table = at.dataframe[0].value
    assert {"grp", "handoffs", "rejected", "rejection_rate"} <= set(table.columns)


def test_presentation_mode_hides_the_editing_side(sample_db):
    at = run_app(sample_db, PAGE, query={"present": "true"})
    assert_clean(at)
    assert not at.expander                      # the extra-breakdown table is for the desk, not the projector
    assert chart_spec(at, "rej_rate_ae").layout.font.size == 22  # presentation fonts


def test_a_filter_applies(sample_db):
    at = run_app(sample_db, None)
    at.session_state["f_segment"] = ["SMB"]
    at.switch_page(PAGE).run()
    assert_clean(at)
    assert "Segment: SMB" in " ".join(c.value for c in at.caption)


def test_data_without_rejections_says_why(tmp_path):
    db = tmp_path / "norej.duckdb"
    con = build_db(db, leads=[("X", "2024-01-01 09:00", "web", "SMB", "Sam", "Alex"),
                              ("Y", "2024-01-02 09:00", "web", "SMB", "Sam", "Alex")],
                   lead_events=[("X", "Lead", "2024-01-01 09:00"), ("X", "MQL", "2024-01-02 09:00"),
                                ("X", "SQL", "2024-01-05 09:00"), ("Y", "Lead", "2024-01-02 09:00")])
    con.close()
    at = run_app(db, PAGE)
    assert_clean(at)
    assert "Rejections cannot be computed for this data" in at.markdown[0].value
    assert at.info and "Rejected stage" in at.info[0].value
    assert not at.get("plotly_chart") and not at.metric
