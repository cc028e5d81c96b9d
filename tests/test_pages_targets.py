"""AppTest of the Targets & plan page on the 3,000-lead sample (widgets found by key)."""
from __future__ import annotations

import re

import duckdb

from conftest import assert_clean, page_finding, run_app
from funnel import targets

PAGE = "pages/targets.py"


def finding(at) -> str:
    return page_finding(at)


def tiles(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def stored(db) -> dict:
    con = duckdb.connect(str(db))
    try:
        return {(p, o): a for p, o, a in con.execute("SELECT period, owner, amount FROM targets").fetchall()}
    finally:
        con.close()


def test_page_shows_tiles_table_charts_and_plan(sample_db):
    at = run_app(sample_db, PAGE)
    assert_clean(at)
    t = tiles(at)
    # D = 20 Nov 2026: this month, this quarter, next quarter — each with the sample's target
    assert ["November 2026 target", "Q4 2026 target", "Q1 2027 target"] == [k for k in t if k.endswith("target")]
    con = duckdb.connect(str(sample_db))        # same configuration as the app's open connection
    want = targets.stored_targets(con).set_index(["period", "owner"])["amount"]
    con.close()
    assert t["November 2026 target"] == "$" + f"{want[('2026-11', '')] / 1000:.0f}k"
    assert "chance of hitting" in finding(at) and "November 2026 (everyone)" in finding(at)
    assert len(at.get("plotly_chart")) >= 4              # attainment, outcomes, cumulative, plan
    assert any("we need about" in m.value for m in at.markdown)
    assert any(d.key == "targets_grid" for d in at.dataframe if getattr(d, "key", None))


def test_team_and_owner_views(sample_db):
    at = run_app(sample_db, PAGE)
    at.selectbox(key="targets_owner").set_value("Enterprise team").run()
    assert_clean(at)
    assert "(Enterprise team)" in finding(at)
    at.selectbox(key="targets_period").set_value("2026-Q4").run()
    assert_clean(at)
    assert finding(at).startswith("Q4 2026 (Enterprise team)")


def test_editing_a_target_saves_and_changes_the_tile(sample_copy):
    at = run_app(sample_copy, PAGE)
    before = tiles(at)["November 2026 target"]
    con = duckdb.connect(str(sample_copy))
    grid = targets.stored_targets(con)
    con.close()
    row = int(grid.index[(grid["period"] == "2026-11") & (grid["owner"] == "")][0])
    at.session_state["targets_grid"] = {"edited_rows": {row: {"amount": 1234000.0}}, "added_rows": [], "deleted_rows": []}
    at.run()
    at.button(key="save_targets").click().run()
    assert_clean(at)
    assert stored(sample_copy)[("2026-11", "")] == 1234000.0
    assert tiles(at)["November 2026 target"] == "$1.23M" != before


def test_bad_grid_row_is_refused_and_nothing_changes(sample_copy):
    at = run_app(sample_copy, PAGE)
    before = stored(sample_copy)
    at.session_state["targets_grid"] = {"edited_rows": {}, "deleted_rows": [],
                                        "added_rows": [{"period": "next month", "owner": "Grace Chen", "amount": 5.0}]}
    at.run()
    at.button(key="save_targets").click().run()
    assert any("not a month or a quarter" in e.value for e in at.error)
    assert stored(sample_copy) == before


def test_what_if_assumptions_change_the_plan(sample_db):
    at = run_app(sample_db, PAGE)
    sentence = next(m.value for m in at.markdown if "we need about" in m.value)
    at.session_state["plan_assumptions"] = {"edited_rows": {1: {"in_use": 0.9}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert_clean(at)
    after = next(m.value for m in at.markdown if "we need about" in m.value)
    opps = lambda s: int(re.search(r"~([\d,]+) new opportunities", s).group(1).replace(",", ""))
    assert opps(after) < opps(sentence)       # a higher win rate needs fewer opportunities


def test_recording_a_call_lands_in_the_history(sample_copy):
    at = run_app(sample_copy, PAGE)
    at.number_input(key="call_commit").set_value(300000.0)
    at.number_input(key="call_best").set_value(400000.0)
    at.text_input(key="call_note").input("Two Enterprise deals slip")
    next(b for b in at.button if "Record the call" in str(b.label)).click().run()
    assert_clean(at)
    con = duckdb.connect(str(sample_copy))
    try:
        rows = con.execute("SELECT period, owner, commit_amount, best_case_amount, note FROM forecast_calls").fetchall()
    finally:
        con.close()
    assert rows == [("2026-11", "", 300000.0, 400000.0, "Two Enterprise deals slip")]
    table = next(d for d in at.dataframe if "called_by" in d.value.columns)
    assert table.value["note"].tolist() == ["Two Enterprise deals slip"]
