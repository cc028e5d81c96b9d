"""AppTest of the Forecast page on the 3,000-lead sample (widgets found by key)."""
from __future__ import annotations

import re

import duckdb
import pytest

from builders import build_db
from conftest import assert_clean, page_finding, run_app

PAGE = "pages/forecast.py"
EDITOR = "forecast_probabilities"


def tiles(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def month_tile(at) -> str:
    return next(m.value for m in at.metric if m.label.startswith("Forecast, ") and " Q" not in m.label)


def quarter_tile(at) -> str:
    return next(m.value for m in at.metric if m.label.startswith("Forecast, ") and " Q" in m.label)


def finding(at) -> str:
    return page_finding(at)


def editors(at) -> list:
    """Data editors show up as dataframe elements carrying their widget key."""
    return [d for d in at.dataframe if getattr(d, "key", None) == EDITOR]


def probabilities(db) -> dict[str, float]:
    con = duckdb.connect(str(db))        # same configuration as the app's open connection
    try:
        return dict(con.execute("SELECT stage, probability FROM stage_config WHERE funnel = 'opportunity' "
                                "AND kind = 'open' ORDER BY position").fetchall())
    finally:
        con.close()


def test_page_shows_every_figure(sample_db):
    at = run_app(sample_db, PAGE)
    assert_clean(at)
    labels = list(tiles(at))
    assert len(labels) == 4 and labels[2:] == ["Open pipeline", "Deals overdue"]
    assert finding(at).startswith("Weighted forecast: $")
    # by month, by quarter, ranges, categories, waterfall, backtest
    assert len(at.get("plotly_chart")) == 6
    assert len(editors(at)) == 1
    verdict = [m.value for m in at.markdown if "accurate" in m.value]
    assert len(verdict) == 1 and ("percentage points" in verdict[0] or "equally" in verdict[0])
    assert at.button(key="adopt_historical") and at.button(key="reset_probabilities")
    assert at.segmented_control(key="method").value == "configured"
    # every figure has a plain explanation next to it
    assert len(at.caption) >= 10


def test_editing_a_probability_changes_the_forecast_and_persists(sample_copy):
    at = run_app(sample_copy, PAGE)
    before_month, before_quarter, before_finding = month_tile(at), quarter_tile(at), finding(at)
    # Negotiation (row 3) from 75% to 100%
    at.session_state[EDITOR] = {"edited_rows": {3: {"configured": 100.0}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert_clean(at)
    assert month_tile(at) != before_month
    assert quarter_tile(at) != before_quarter
    assert finding(at) != before_finding
    assert probabilities(sample_copy)["Negotiation"] == 1.0
    edited_month = month_tile(at)
    # the edit is saved once: running again keeps the same figures
    at.run()
    assert month_tile(at) == edited_month
    # reset to the defaults brings the original figures back
    at.button(key="reset_probabilities").click().run()
    assert_clean(at)
    assert probabilities(sample_copy) == {"Qualify": 0.10, "Discovery": 0.25, "Proposal": 0.50, "Negotiation": 0.75}
    assert month_tile(at) == before_month and quarter_tile(at) == before_quarter


def test_adopt_historical_rates_makes_both_methods_agree(sample_copy):
    at = run_app(sample_copy, PAGE)
    configured = month_tile(at)
    at.segmented_control(key="method").set_value("historical").run()
    assert_clean(at)
    historical = month_tile(at)
    assert historical != configured
    at.segmented_control(key="method").set_value("configured").run()
    at.button(key="adopt_historical").click().run()
    assert_clean(at)
    assert month_tile(at) == historical                  # configured now equals the historical rates
    assert probabilities(sample_copy)["Qualify"] != 0.10


def test_waterfall_toggles(sample_db):
    at = run_app(sample_db, PAGE)
    at.toggle(key="fc_wf_weighted").set_value(True).run()
    at.toggle(key="fc_wf_horizon").set_value(True).run()
    at.toggle(key="fc_only_overdue").set_value(True).run()
    assert_clean(at)
    assert any("deals closing by" in c.value for c in at.caption)


def test_presentation_mode_hides_the_editor(sample_db):
    at = run_app(sample_db, PAGE)
    at.session_state["present"] = True          # the frame's presentation toggle (ui.K_PRESENT)
    at.run()
    assert_clean(at)
    assert len(editors(at)) == 0
    assert not [b for b in at.button if b.key in ("adopt_historical", "reset_probabilities")]
    assert len(at.get("plotly_chart")) == 6


def test_leads_only_data_explains_how_to_import_deals(tmp_path):
    db = tmp_path / "leads_only.duckdb"
    build_db(db, leads=[("L1", "2026-05-01 09:00", "webinar", "SMB", "Ann", "Xe")],
             lead_events=[("L1", "Lead", "2026-05-01 09:00")]).close()
    at = run_app(db, PAGE)
    assert_clean(at)
    assert "needs deal data" in finding(at)
    assert any("opportunity_events" in i.value for i in at.info)
    assert len(at.get("plotly_chart")) == 0


def test_deal_table_flags_overdue_deals_and_the_month_they_count_in(sample_db):
    at = run_app(sample_db, PAGE)
    assert_clean(at)
    deals = next(d.value for d in at.dataframe if "Overdue" in getattr(d.value, "columns", []))
    late = deals[deals["Overdue"] != ""]
    assert len(late) and late["Overdue"].str.fullmatch(r"⚠ \d+ days late").all()
    assert (deals["Counts in"].str.fullmatch(r"[A-Z][a-z]{2} \d{4}")).all()
    # an overdue deal counts in the as-of month: every overdue row names the same month
    assert late["Counts in"].nunique() == 1
