"""Scoring's and the targets' queries in the one query layer (issue #16): named .sql files, each
runnable by itself, composed as trees — the rules' score built from the rule whitelist, values
bound, text generated once per query shape."""
from __future__ import annotations

import re
from datetime import datetime

import duckdb
import pytest

from funnel import scoring, sqlcompose, store, targets
from funnel.query import Scope, resolve
from funnel.scoring import Rule

SCORING_QUERIES = ("scored_leads", "scenario_groups", "scenario_evaluation", "sdr_load", "score_distribution",
                   "gains_curve", "score_leads", "flipped_leads", "flip_list", "flip_counts", "threshold_for_volume",
                   "attribute_blanks", "scoring_fit_rows", "scored_lead_count", "attribute_fill", "stored_rules",
                   "scenario_list", "saved_scenario")
TARGETS_QUERIES = ("targets_owners", "targets_won_by_day", "plan_won_history", "plan_lead_run_rate",
                   "stored_targets", "stored_teams", "forecast_call_list")

#: A value for every parameter these queries bind by default.
DEFAULTS = {"cohort_start": datetime(2000, 1, 1), "cohort_end": datetime(2100, 1, 1), "as_end": datetime(2100, 1, 1),
            "window_days": None, "outcome_position": 3, "threshold": 0.0, "weeks": 10.0, "bins": 20.0, "points": 200,
            "t1": 1.0, "t2": 0.0, "limit": 10, "target": 100, "name": "none", "won_from": datetime(2000, 1, 1),
            "history_start": datetime(2000, 1, 1)}
#: Queries of configuration tables the sample leaves empty.
EMPTY_BY_DEFAULT = {"scenario_list", "saved_scenario", "forecast_call_list"}


@pytest.mark.parametrize("name", SCORING_QUERIES + TARGETS_QUERIES)
def test_each_query_is_named_and_runs_by_itself_with_its_defaults(sample_db, name):
    assert sqlcompose.headers(name)["name"] == (name,)
    text = sqlcompose.to_sql(sqlcompose.query(name))
    con = duckdb.connect(str(sample_db), read_only=True)
    try:
        df = con.execute(text, {k: DEFAULTS[k] for k in sqlcompose.placeholders(text)}).df()
    finally:
        con.close()
    assert len(df) == 0 if name in EMPTY_BY_DEFAULT else len(df) > 0


def test_the_figures_read_scored_leads_from_its_one_definition():
    body = sqlcompose.query("scored_leads")
    for name in ("scenario_evaluation", "sdr_load", "score_distribution", "gains_curve", "flip_list", "flip_counts",
                 "score_leads", "threshold_for_volume", "attribute_blanks", "scoring_fit_rows", "scored_lead_count"):
        assert sqlcompose.ctes(sqlcompose.query(name))["scored_leads"] == body, name
        assert "FROM leads" not in re.sub(r"--[^\n]*", "", sqlcompose.source(name)), f"{name}.sql scans leads itself"


def test_the_score_is_built_from_the_rules_with_every_value_bound(sample_db):
    con = store.connect(sample_db, read_only=True)
    try:
        terms, params = scoring.compile_rules(con, [
            Rule("segment", "=", "Enterprise", 10), Rule("company_size", "between", "10|500", 2.5),
            Rule("job_title", "contains", "VP", 3), Rule("channel", "not in", "ads|event", -1),
            Rule("job_title", "is true", "", 1), Rule("region", "=", "EU", 7, enabled=False)])
    finally:
        con.close()
    assert sqlcompose.to_sql(scoring.score_expression(terms)) == sqlcompose.to_sql(sqlcompose.parse(
        'round(CASE WHEN CAST(l."segment" AS VARCHAR) = $v1_0 THEN CAST($pts1 AS DOUBLE) ELSE 0.0 END'
        ' + CASE WHEN l."company_size" BETWEEN CAST($v2_0 AS DOUBLE) AND CAST($v2_1 AS DOUBLE)'
        ' THEN CAST($pts2 AS DOUBLE) ELSE 0.0 END'
        ' + CASE WHEN strpos(lower(CAST(l."job_title" AS VARCHAR)), lower($v3_0)) > 0 THEN CAST($pts3 AS DOUBLE) ELSE 0.0 END'
        ' + CASE WHEN CAST(l."channel" AS VARCHAR) NOT IN ($v4_0, $v4_1) THEN CAST($pts4 AS DOUBLE) ELSE 0.0 END'
        ' + CASE WHEN lower(trim(CAST(l."job_title" AS VARCHAR))) IN ($v5_0, $v5_1, $v5_2)'
        ' THEN CAST($pts5 AS DOUBLE) ELSE 0.0 END, 6)'))
    assert params == {"v1_0": "Enterprise", "pts1": 10.0, "v2_0": 10.0, "v2_1": 500.0, "pts2": 2.5, "v3_0": "VP",
                      "pts3": 3.0, "v4_0": "ads", "v4_1": "event", "pts4": -1.0, "v5_0": "true", "v5_1": "1",
                      "v5_2": "yes", "pts5": 1.0}
    assert sqlcompose.to_sql(scoring.score_expression(())) == "0.0"


def test_scoring_text_is_cached_per_query_shape_and_never_holds_a_value(sample_db):
    scoring._scoring_sql.cache_clear()
    con = store.connect(sample_db, read_only=True)
    try:
        r = resolve(con, Scope())
        a, pa = scoring._scoring_query(con, r, "scenario_evaluation", [Rule("segment", "=", "Enterprise", 10)], "SQL")
        evil = "x'); DROP TABLE leads; --"
        b, pb = scoring._scoring_query(con, r, "scenario_evaluation", [Rule("segment", "=", evil, 4)], "SQL")
        assert a is b and scoring._scoring_sql.cache_info().misses == 1   # same shape: one text
        assert pb["v1_0"] == evil and "DROP" not in b and "Enterprise" not in a
        c, _ = scoring._scoring_query(con, r, "scenario_evaluation", [Rule("segment", "!=", "SMB", 10)], "SQL")
        assert c != a and scoring._scoring_sql.cache_info().misses == 2   # another operator: another shape
        # a draft's values are bound under their own names beside the current scenario's
        d, pd_ = scoring._scoring_query(con, r, "flip_counts", [Rule("segment", "=", "SMB", 1)], "SQL",
                                        draft=[Rule("segment", "=", "Enterprise", 2)])
        assert {"v1_0", "pts1", "d_v1_0", "d_pts1"} <= set(pd_) and "$d_v1_0" in d
        assert d.startswith("-- flip_counts: funnel/sql/flip_counts.sql\nWITH scored_leads AS (")
    finally:
        con.close()


def test_figures_on_the_temporary_table_read_it_instead_of_the_leads():
    text = scoring._on_table_sql("scenario_evaluation", "scenario_groups")
    assert "scored_leads" not in text and "FROM leads" not in text and "FROM scenario_groups" in text
    assert scoring._on_table_sql("flip_list", "flipped_leads").endswith(
        "SELECT * FROM flipped_leads ORDER BY change, reached_outcome DESC, draft_score DESC, lead_id LIMIT $limit")


def test_targets_keep_first_won_to_the_deals_in_scope_only_when_filtered():
    plain = targets._won_sql("targets_won_by_day", ())
    filtered = targets._won_sql("targets_won_by_day", (("channel", ("f0_0",)),))
    assert "JOIN opportunity_scope ON" not in plain and "JOIN leads" not in plain
    assert "JOIN opportunity_scope ON opportunity_scope.opportunity_id = h.opportunity_id" in filtered
    assert 'CAST(l."channel" AS TEXT) IN ($f0_0)' in filtered
    # the deals in scope come first: a CTE reads only those before it
    history = targets._won_sql("plan_won_history", (("channel", ("f0_0",)),))
    assert list(sqlcompose.ctes(sqlcompose.parse(history)))[0] == "opportunity_scope"
    assert "$f0_0" in targets._run_rate_sql((("channel", ("f0_0",)),))
