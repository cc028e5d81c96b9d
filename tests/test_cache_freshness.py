"""A cached figure must never outlive an edit (issue 9): the cache key holds the data version,
which every import and every edit of stages, probabilities or rules bumps."""
from __future__ import annotations

import os

import pytest

from funnel import forecast, scoring, store
from funnel.query import Scope


@pytest.fixture
def ui_on(sample_copy, monkeypatch):
    monkeypatch.setenv("FUNNEL_DB", str(sample_copy))
    import ui
    yield ui
    ui._connection.clear()


def _total(df):
    return float(df["weighted_amount"].sum())


def test_probability_edit_refreshes_cached_forecast(ui_on):
    ui = ui_on
    before = _total(ui.call(forecast.weighted_forecast, Scope(), "configured"))
    assert _total(ui.call(forecast.weighted_forecast, Scope(), "configured")) == before  # served from cache
    with ui.writer() as cur:
        rows = [dict(zip(("funnel", "stage", "position", "kind", "team", "probability", "category", "sla_hours"), r))
                for r in store.DEFAULT_STAGES]
        for r in rows:
            if r["stage"] == "Negotiation":
                r["probability"] = 0.95
        store.save_stage_config(cur, rows)
    after = _total(ui.call(forecast.weighted_forecast, Scope(), "configured"))
    assert after > before  # Negotiation deals now weigh 0.95 instead of 0.75


def test_rule_edit_refreshes_cached_scoring(ui_on):
    ui = ui_on
    cur = ui.con()
    rules = scoring.stored_rules(cur)
    cur.close()
    before = ui.call(scoring.evaluate_scenario, rules, 50.0)["above"]
    with ui.writer() as cur:
        scoring.save_rules(cur, [r.__class__(**{**r.__dict__, "points": r.points + 40}) for r in rules])
        rules2 = scoring.stored_rules(cur)
    after = ui.call(scoring.evaluate_scenario, rules2, 50.0)["above"]
    assert after > before


def test_data_version_bumps_on_import(ui_on, tmp_path):
    ui = ui_on
    from funnel import ingest
    v0 = ui.data_version()
    templates = os.path.join(os.path.dirname(__file__), "..", "data", "templates")
    with ui.writer() as cur:
        ingest.import_files(cur, leads=os.path.join(templates, "leads.csv"),
                            lead_events=os.path.join(templates, "lead_events.csv"))
    assert ui.data_version() > v0
