"""Parity of the engines: every section of ``report --json`` equal on DuckDB and on Spark.

Data: the 3,000-lead sample (seed 7, the ``sample_db`` fixture) and the hand-checked journeys of
the golden tests (conversion/time in stage, rejections, forecast, scoring), each exported to
Parquet and read by a SparkEngine whose configuration is the same DuckDB file. Counts and text
must be equal exactly, floating figures (money, rates, hours) to 1e-9 relative: the engines sum
in different orders, so only the last bits may differ. One SparkSession (local[2]) for the whole
test session.
"""
from __future__ import annotations

import json

import pytest

from spark_support import differences, needs_java, spark



# -- the seam on DuckDB (no Java needed) -------------------------------------------------------

def test_duckdb_engine_hands_out_the_connection_itself(sample_db):
    """Nothing sits between the metric code and DuckDB: the DuckDB path is today's code."""
    from funnel import conversion, store
    from funnel.engine import DuckDBEngine, open_engine
    engine = open_engine("duckdb", db=sample_db)
    try:
        assert isinstance(engine, DuckDBEngine)
        assert type(engine.connection).__module__.startswith(("duckdb", "_duckdb"))
        assert engine.table_columns("leads") == store.lead_attribute_columns(engine.connection)
        got = engine.run("SELECT count(*) AS n FROM leads WHERE created_at < $t", {"t": "2100-01-01", "unused": 1})
        assert int(got["n"].iloc[0]) == 3000
        assert list(conversion.stage_conversion(engine.connection)["stage"])[0] == "Lead"
    finally:
        engine.close()


def test_open_engine_refuses_what_cannot_work(sample_db, tmp_path):
    from funnel.engine import open_engine
    from funnel.errors import FunnelError
    with pytest.raises(FunnelError, match="no engine called 'presto'"):
        open_engine("presto", db=sample_db)
    with pytest.raises(FunnelError, match="--source is for the Spark engine"):
        open_engine("duckdb", db=sample_db, source=str(tmp_path))
    with pytest.raises(FunnelError, match="There is no database"):
        open_engine("duckdb", db=tmp_path / "missing.duckdb")


# -- Spark ---------------------------------------------------------------------------------------


def _spark_engine(db, parquet_dir):
    from funnel.spark_engine import SparkEngine
    return SparkEngine.open(db=db, source=parquet_dir, spark=spark())


def _export(con, tmp_path):
    from funnel.engine import export_canonical_parquet
    out = tmp_path / "parquet"
    export_canonical_parquet(con, out)
    return out


def _parity(con, db, tmp_path, scope, **kw):
    """(DuckDB report, Spark report) for ``scope``; ``con`` is the DuckDB connection on ``db``."""
    from funnel.report import build_report
    expected = build_report(con, scope, **kw)
    parquet = _export(con, tmp_path)
    engine = _spark_engine(db, parquet)
    try:
        got = build_report(engine.connection, scope, **kw)
    finally:
        engine.close()
    return expected, got


@pytest.fixture(scope="module")
def sample_engine(sample_db, tmp_path_factory):
    """(DuckDB connection, SparkEngine) on the 3,000-lead sample."""
    from funnel import store
    con = store.connect(sample_db, read_only=True)
    parquet = _export(con, tmp_path_factory.mktemp("sample_parquet"))
    engine = _spark_engine(sample_db, parquet)
    yield con, engine
    engine.close()
    con.close()


@needs_java
@pytest.mark.slow
def test_sample_report_is_equal_on_both_engines(sample_engine):
    from funnel.report import build_report
    con, engine = sample_engine
    expected = build_report(con)
    got = build_report(engine.connection)
    assert set(expected) >= {"conversion", "time_in_stage", "rejections", "forecast", "backtest", "scoring"}
    assert differences(expected, got) == []
    # the sections are not empty (parity of two empty reports would prove nothing)
    assert expected["cohort"]["leads"] > 2000 and expected["forecast"]["total"]["open_deals"] > 0
    assert expected["forecast"]["total"]["p10"] < expected["forecast"]["total"]["p90"]


@needs_java
@pytest.mark.slow
def test_sample_report_with_filters_window_and_historical_method_is_equal(sample_engine):
    """A filter on a copied column (channel), one that needs the join to leads (industry), a
    conversion window and the historical method: the other query paths of every section."""
    from datetime import date

    from funnel.query import Scope
    from funnel.report import build_report
    con, engine = sample_engine
    as_of = date.fromisoformat(build_report(con)["as_of"])
    scope = Scope(as_of=as_of, filters=(("channel", ("webinar", "paid_search", "event")),
                                        ("industry", ("Software", "Retail", "Financial Services"))),
                  window_days=30)
    expected = build_report(con, scope, method="historical", threshold=30)
    got = build_report(engine.connection, scope, method="historical", threshold=30)
    assert expected["cohort"]["leads"] > 0
    assert differences(expected, got) == []


@needs_java
@pytest.mark.slow
def test_derived_tables_are_equal_on_both_engines(sample_engine):
    """lead_visits, lead_reach and deal_history built in Spark hold exactly DuckDB's rows."""
    import pandas as pd

    from funnel import store
    con, engine = sample_engine
    for table in store.DERIVED_TABLES:
        duck = con.execute(f"SELECT * FROM {table}").df()
        sp = engine.run(f"SELECT * FROM {table}")
        assert list(sp.columns) == list(duck.columns), table
        key = list(duck.columns)
        duck = duck.sort_values(key, na_position="first").reset_index(drop=True)
        sp = sp.sort_values(key, na_position="first").reset_index(drop=True)
        assert len(duck) > 0, table
        pd.testing.assert_frame_equal(sp, duck, check_dtype=False, check_exact=False, rtol=1e-12)


@needs_java
@pytest.mark.slow
def test_monte_carlo_collects_open_deals_in_a_fixed_order(sample_engine):
    """The draws are made per deal in (period, opportunity_id) order on the driver: the same
    deal list in the same order on both engines, so the ranges are the same."""
    from funnel import forecast
    con, engine = sample_engine
    _, duck, duck_months, _, duck_sims = forecast._simulated_months(con, forecast.Scope(), "configured", 200, 7)
    _, sp, sp_months, _, sp_sims = forecast._simulated_months(engine.connection, forecast.Scope(), "configured", 200, 7)
    assert len(duck) > 10
    assert duck_months == sp_months
    assert list(sp["amount"]) == pytest.approx(list(duck["amount"]), rel=1e-12)
    assert (sp_sims == duck_sims).all()


#: The conversion / time-in-stage journeys are compared through the command line below
#: (test_cli_report_engine_spark_prints_the_duckdb_json): one Spark report fewer in CI.
GOLDEN = ["test_rejections_golden", "test_forecast_golden", "test_scoring_golden"]


def _golden_db(module, path):
    """The database a golden test builds, from that test module's own journeys."""
    from builders import build_db
    g = __import__(module)
    if module == "test_conversion_golden":
        return g.build_golden(path), g.SCOPE
    if module == "test_rejections_golden":
        return build_db(path, leads=g.LEADS, lead_events=g.JOURNEYS), g.S
    if module == "test_forecast_golden":
        return build_db(path, leads=g.LEADS, opportunities=g.OPPS, opportunity_events=g.EVENTS), g.SCOPE
    return build_db(path, leads=g.LEADS, lead_events=g.EVENTS, attributes=g.ATTRS), None


@needs_java
@pytest.mark.slow
@pytest.mark.parametrize("module", GOLDEN)
def test_golden_journeys_report_is_equal_on_both_engines(module, tmp_path):
    from funnel.query import Scope
    db = tmp_path / "golden.duckdb"
    con, scope = _golden_db(module, db)
    kw = {}
    if module == "test_scoring_golden":
        g = __import__(module)
        kw = {"rules": g.RULES, "threshold": 15}
    try:
        expected, got = _parity(con, db, tmp_path, scope or Scope(), **kw)
    finally:
        con.close()
    assert differences(expected, got) == []
    assert expected["cohort"]["leads"] > 0 or expected.get("forecast")


@needs_java
@pytest.mark.slow
def test_cli_report_engine_spark_prints_the_duckdb_json(tmp_path, capsys):
    """``python -m funnel report --engine spark --db CONFIG --source DIR --json`` (run in-process,
    so it reuses the test session's SparkSession) prints the DuckDB engine's JSON."""
    import test_conversion_golden as g

    from funnel.__main__ import main
    db = tmp_path / "golden.duckdb"
    con = g.build_golden(db)
    parquet = _export(con, tmp_path)
    con.close()
    assert main(["report", "--db", str(db), "--json", "--as-of", "2025-03-31", "--from", "2025-01-01"]) == 0
    duck = json.loads(capsys.readouterr().out)
    assert main(["report", "--engine", "spark", "--db", str(db), "--source", str(parquet), "--spark-master",
                 "local[2]", "--json", "--as-of", "2025-03-31", "--from", "2025-01-01"]) == 0
    sp = json.loads(capsys.readouterr().out)
    assert duck["cohort"]["leads"] == 12
    assert differences(duck, sp) == []


@needs_java
@pytest.mark.slow
def test_cli_derive_writes_the_derived_tables_as_parquet(tmp_path, capsys):
    import duckdb
    import test_conversion_golden as g

    from funnel import store
    from funnel.__main__ import main
    db = tmp_path / "golden.duckdb"
    con = g.build_golden(db)
    parquet = _export(con, tmp_path)
    assert main(["derive", "--engine", "spark", "--db", str(db), "--source", str(parquet),
                 "--out", str(tmp_path / "derived")]) == 0
    for table in store.DERIVED_TABLES:
        mine = con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
        theirs = duckdb.sql(f"SELECT * FROM read_parquet('{tmp_path / 'derived' / table}/*.parquet') "
                            "ORDER BY ALL").fetchall()
        assert theirs == mine, table
    con.close()


def test_cli_spark_without_source_says_what_to_do(tmp_path, capsys):
    import test_conversion_golden as g

    from funnel.__main__ import main
    db = tmp_path / "golden.duckdb"
    g.build_golden(db).close()
    assert main(["report", "--engine", "spark", "--db", str(db), "--json"]) == 2
    assert "--source" in capsys.readouterr().err


@needs_java
@pytest.mark.slow
def test_main_metric_plans_have_no_single_partition_exchange_over_events(sample_engine, monkeypatch):
    """Every statement of the report (recorded on DuckDB, planned — not run — on Spark) has no
    SinglePartition exchange over event-sized rows: a global sort or a window without PARTITION BY
    would put every row through one task (time in stage ranks its visits stage by stage there)."""
    from funnel import conversion, forecast, query, rejections, scoring, time_in_stage
    from funnel.report import build_report
    from funnel.spark_engine import single_partition_exchanges
    from funnel.sql_dialect import tables_read
    con, engine = sample_engine
    statements = []
    for module in (conversion, forecast, rejections, scoring, time_in_stage):
        def recording(c, q, params=None, *, own_cursor=True, _run=module.run):
            statements.append((q, dict(params or {})))
            return _run(c, q, params, own_cursor=own_cursor)
        monkeypatch.setattr(module, "run", recording)
    class AsSparkSees:
        """The DuckDB connection, saying it scales out as the Spark connection does: the statements
        recorded are then the ones the Spark engine runs (time in stage's partitioned ranking)."""
        scales_out = True

        def __getattr__(self, name):
            return getattr(con, name)

    build_report(AsSparkSees())
    offenders = {}
    for q, params in statements:
        if not tables_read(q) & {"lead_events", "lead_visits", "lead_reach", "deal_history", "opportunity_events"}:
            continue
        found = single_partition_exchanges(engine.dataframe(q, params))
        head = q.strip().splitlines()[0][:80]
        if found:
            offenders[head] = found
    assert len(statements) > 10
    assert any(q.startswith("-- time_in_stage") for q, _ in statements)
    assert offenders == {}
