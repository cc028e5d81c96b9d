"""The forecast's and the weekly review's queries (issue #16): each a named, commented file of
funnel/sql/ that runs by itself, composed for a scope as a syntax tree, its text made once per
query shape.

tests/test_sql_layer.py pins the composition module and the conversion / time-in-stage queries;
this file does the same for funnel/forecast.py and funnel/overview.py. Their figures are pinned
by the golden and property tests (test_forecast_golden.py, test_forecast_property.py, …).
"""
from __future__ import annotations

import ast
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from funnel import forecast, overview, sqlcompose
from funnel.query import Scope, resolve
from spark_support import needs_java

ROOT = Path(__file__).resolve().parents[1]

#: The named queries of funnel/forecast.py and funnel/overview.py.
FORECAST_QUERIES = ("pipeline_state", "stage_win_rates", "open_deals", "stage_probabilities", "pipeline_deals",
                    "overdue_pipeline", "deal_states", "weighted_forecast", "monte_carlo_deals",
                    "forecast_categories", "category_rollup", "pipeline_changes", "forecast_backtest")
OVERVIEW_QUERIES = ("first_won_at", "weekly_kpis", "won_between", "opportunity_count", "saved_reviews")

#: A value for every parameter those queries bind, as the modules bind them.
DEFAULTS = {"as_end": datetime(2100, 1, 1), "method": "configured", "min_closed": 20,
            "month_start": date(2099, 12, 1), "month_end": date(2100, 1, 1), "quarter_start": date(2099, 10, 1),
            "quarter_end": date(2100, 1, 1), "horizon_end": None, "weeks": 12, "handoff": "MQL", "sql_pos": 3,
            "start": datetime(2000, 1, 1), "end_excl": datetime(2100, 1, 1)}


def _calls(module) -> set[str]:
    """The query names a module passes to its composing helpers (``_run`` / ``_overview_sql``)."""
    names = set()
    for node in ast.walk(ast.parse((ROOT / "funnel" / f"{module}.py").read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("_run", "_overview_sql"):
            names.update(a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str))
    return names


def test_the_modules_run_only_these_named_queries():
    assert _calls("forecast") <= set(FORECAST_QUERIES)
    assert _calls("overview") == set(OVERVIEW_QUERIES) - {"first_won_at"}
    for name in FORECAST_QUERIES + OVERVIEW_QUERIES:
        assert sqlcompose.headers(name)["name"] == (name,)
        comments = [line for line in sqlcompose.source(name).splitlines() if line.startswith("--")]
        assert len(comments) >= 3, f"{name}.sql says too little about what it computes"


def test_what_a_query_reads_of_another_comes_through_its_uses():
    """No query restates the deals' state or the win rates: it reads pipeline_state's."""
    for name in ("open_deals", "deal_states", "forecast_categories", "category_rollup", "pipeline_changes",
                 "forecast_backtest"):
        assert "deal_history" not in sqlcompose.source(name)
    assert sqlcompose.headers("stage_win_rates")["uses"] == ("pipeline_state",)
    assert sqlcompose.headers("forecast_backtest")["uses"] == ("pipeline_state", "stage_win_rates", "first_won")
    state = sqlcompose.ctes(sqlcompose.query("pipeline_state"))["state"]
    for name in ("open_deals", "forecast_backtest", "pipeline_changes"):
        assert sqlcompose.ctes(sqlcompose.query(name))["state"] == state


@pytest.mark.parametrize("name", FORECAST_QUERIES + OVERVIEW_QUERIES)
def test_each_query_runs_by_itself_as_the_developer_tool_prints_it(name, sample_db, monkeypatch, capsys):
    """``python -m funnel.sqlcompose NAME`` prints a statement that runs on the database as it is,
    given its parameters (the moments default to the one moment D)."""
    monkeypatch.setattr("sys.argv", ["sqlcompose", name])
    sqlcompose.main()
    text = capsys.readouterr().out
    con = duckdb.connect(str(sample_db), read_only=True)
    df = con.execute(text, {k: DEFAULTS[k] for k in sqlcompose.placeholders(text)}).df()
    con.close()
    if name != "saved_reviews":        # the sample has no saved review
        assert len(df) > 0, name


def test_the_waterfall_run_alone_compares_d_with_itself(sample_db):
    con = duckdb.connect(str(sample_db), read_only=True)
    text = sqlcompose.to_sql(sqlcompose.query("pipeline_changes"))
    df = con.execute(text, {k: DEFAULTS[k] for k in sqlcompose.placeholders(text)}).df().set_index("step")
    con.close()
    assert list(df.index) == ["start", "end"]
    assert df.loc["start", "amount"] == df.loc["end", "amount"] > 0
    assert df.loc["start", "deals"] == df.loc["end", "deals"]


def test_generated_text_is_cached_per_query_shape(monkeypatch):
    forecast._forecast_sql.cache_clear()
    overview._overview_sql.cache_clear()
    calls = []
    real = sqlcompose.query
    monkeypatch.setattr(sqlcompose, "query", lambda name: calls.append(name) or real(name))
    a = forecast._forecast_sql("open_deals", (), 1)
    assert a.startswith("-- open_deals: funnel/sql/open_deals.sql\nWITH moments AS ")
    assert forecast._forecast_sql("open_deals", (), 1) is a and calls == ["open_deals"]
    two = forecast._forecast_sql("open_deals", (), 2)
    assert "$m1_end" in two and "$m1_end" not in a
    filtered = forecast._forecast_sql("open_deals", (("segment", ("f0_0", "f0_1")),), 1)
    assert "$f0_1" in filtered and calls.count("open_deals") == 3
    assert forecast._forecast_sql("open_deals", (("segment", ("f0_0", "f0_1")),), 1) is filtered
    assert calls.count("open_deals") == 3
    overview._overview_sql("weekly_kpis", ())
    overview._overview_sql("weekly_kpis", ())
    assert calls.count("weekly_kpis") == 1


def test_a_dimension_filter_puts_the_deals_in_scope_ahead_of_the_states_that_join_them():
    shape = (("segment", ("f0_0",)),)
    for name in ("open_deals", "pipeline_deals", "deal_states", "forecast_backtest"):
        q = sqlcompose.parse(forecast._forecast_sql(name, shape, 1))
        names = list(sqlcompose.ctes(q))
        assert names[0] == "opportunity_scope" and names.count("opportunity_scope") == 1, name
        joined = {t.name for t in sqlcompose.ctes(q)["state"].find_all(sqlcompose.exp.Table)}
        assert "opportunity_scope" in joined, name
        if name == "forecast_backtest":     # the actual counts the deals in scope too
            assert "opportunity_scope" in {t.name for t in sqlcompose.ctes(q)["won"].find_all(sqlcompose.exp.Table)}
    plain = sqlcompose.parse(forecast._forecast_sql("open_deals", (), 1))
    assert "opportunity_scope" not in sqlcompose.ctes(plain)    # every deal is in scope: no join


def test_filtered_deal_lists_are_the_unfiltered_ones_restricted_to_the_scope(sample_db):
    con = duckdb.connect(str(sample_db), read_only=True)
    segments = ("SMB", "Enterprise")
    scoped = Scope(filters=(("segment", segments),))
    leads = con.execute("SELECT lead_id, segment FROM leads").df()
    in_scope = set(leads.loc[leads["segment"].isin(segments), "lead_id"])
    for listing in (forecast.pipeline_as_of, forecast.deal_states):
        every, some = listing(con, Scope()), listing(con, scoped)
        expected = every[every["lead_id"].isin(in_scope)].reset_index(drop=True)
        assert 0 < len(some) < len(every)
        pd.testing.assert_frame_equal(some.reset_index(drop=True), expected)
    con.close()


def test_the_deal_list_has_the_documented_columns(sample_db):
    con = duckdb.connect(str(sample_db), read_only=True)
    assert list(forecast.pipeline_as_of(con).columns) == forecast.DEAL_COLUMNS
    con.close()


def test_the_monte_carlo_deals_with_owners_are_the_same_deals_in_the_same_order(sample_db):
    con = duckdb.connect(str(sample_db), read_only=True)
    r = resolve(con, Scope())
    moment = [forecast._Moment.as_of(r.as_of)]
    plain = forecast._run(con, r, "monte_carlo_deals", moment)
    owned = forecast._run(con, r, "monte_carlo_deals", moment, variant="by_owner")
    con.close()
    assert list(owned.columns) == [*plain.columns, "owner"]
    pd.testing.assert_frame_equal(owned[plain.columns], plain)
    assert owned["owner"].notna().any()


def _same_frames(a: pd.DataFrame, b: pd.DataFrame, name: str) -> None:
    """Equal frames, figures to the engines' relative tolerance (summation order may differ)."""
    from spark_support import REL
    a, b = a.reset_index(drop=True), b.reset_index(drop=True)
    assert list(a.columns) == list(b.columns) and len(a) == len(b), name
    for column in a.columns:
        x, y = a[column], b[column]
        if pd.api.types.is_numeric_dtype(x) and not pd.api.types.is_bool_dtype(x):
            pd.testing.assert_series_equal(x.astype(float), y.astype(float), check_exact=False, rtol=REL,
                                           check_names=False, obj=f"{name}.{column}")
        else:
            assert [str(v) for v in x] == [str(v) for v in y], f"{name}.{column}"


@needs_java
@pytest.mark.slow
def test_the_figures_the_report_does_not_hold_are_equal_on_spark(sample_db, tmp_path):
    """The Spark engine transpiles the same text: the deal lists, categories, waterfall, the Monte
    Carlo's deals (same order) and the weekly review, with and without a dimension filter.
    (tests/test_engine_parity.py compares the report's figures.)"""
    from spark_support import spark

    from funnel import store
    from funnel.engine import export_canonical_parquet
    from funnel.spark_engine import SparkEngine
    con = store.connect(sample_db, read_only=True)
    export_canonical_parquet(con, tmp_path / "parquet")
    engine = SparkEngine.open(db=sample_db, source=tmp_path / "parquet", spark=spark())
    d = resolve(con, Scope()).as_of
    try:
        for scope in (Scope(), Scope(filters=(("segment", ("SMB", "Enterprise")),))):
            figures = {
                "pipeline_as_of": lambda c: forecast.pipeline_as_of(c, scope, "historical"),
                "deal_states": lambda c: forecast.deal_states(c, scope),
                "weighted_forecast": lambda c: forecast.weighted_forecast(c, scope),
                "overdue_pipeline": lambda c: pd.DataFrame([forecast.overdue_pipeline(c, scope)]),
                "forecast_categories": lambda c: forecast.forecast_categories(c, scope),
                "category_rollup": lambda c: forecast.category_rollup(c, scope),
                "pipeline_changes": lambda c: forecast.pipeline_changes(
                    c, scope, d - timedelta(days=30), d, weighted=True, method="historical",
                    horizon_end=forecast.quarter_end(d)),
                "monte_carlo_deals": lambda c: forecast._simulated_months(c, scope, "configured", 50, 7,
                                                                           by_owner=True)[1],
                "weekly_kpis": lambda c: overview.weekly_kpis(c, scope),
                "won_between": lambda c: pd.DataFrame([{"won": overview.won_between(c, scope, date(2000, 1, 1), d)}]),
            }
            for name, figure in figures.items():
                _same_frames(figure(con), figure(engine.connection), f"{name} {scope.filters}")
    finally:
        engine.close()
        con.close()
