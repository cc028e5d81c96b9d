"""The semantic traps between DuckDB and Spark SQL, one test each (funnel/sql_dialect.py REWRITES).

Each test runs a statement on DuckDB and its transpiled text on Spark and asserts the same value;
where the trap is in sqlglot's own output, the test also shows that the plain transpile gets it
wrong — so it fails if the rewrite is dropped.
"""
from __future__ import annotations

import math
from datetime import datetime

import duckdb
import pytest
import sqlglot

from spark_support import needs_java, spark

pytestmark = needs_java


def _duck(sql: str, params: dict | None = None):
    return duckdb.connect().execute(sql, params or {}).fetchall()[0][0]


def _spark(sql: str, params: dict | None = None):
    from funnel.sql_dialect import to_spark
    return spark().sql(to_spark(sql), args=params or None).collect()[0][0]


def _plain(sql: str):
    """What sqlglot alone makes of the statement, run on Spark."""
    return spark().sql(sqlglot.transpile(sql, read="duckdb", write="spark")[0]).collect()[0][0]


TS = "TIMESTAMP '2025-03-01 10:00:00.250000'"
TS0 = "TIMESTAMP '2025-03-01 09:00:00'"


def test_epoch_keeps_fractions_of_a_second():
    q = f"SELECT epoch({TS}) - epoch({TS0})"
    assert _duck(q) == 3600.25
    assert _spark(q) == 3600.25
    assert _plain(q) == 3600        # UNIX_TIMESTAMP: whole seconds


def test_epoch_us_is_microseconds():
    q = f"SELECT epoch_us({TS}) - epoch_us({TS0})"
    assert _duck(q) == _spark(q) == 3_600_250_000
    with pytest.raises(Exception):
        _plain(q)                   # Spark has no EPOCH_US


def test_decimal_literal_divisor_divides_as_double():
    q = "SELECT CAST(1 AS BIGINT) / 86400.0"
    assert _duck(q) == 1 / 86400
    assert _spark(q) == 1 / 86400
    assert float(_plain(q)) != 1 / 86400       # DECIMAL division, rounded to a few places


def test_days_between_timestamps_match_to_the_last_bit():
    q = f"SELECT (epoch({TS}) - epoch(TIMESTAMP '2024-12-30 07:13:21.123456')) / 86400.0"
    assert _spark(q) == _duck(q)


def test_percentile_cont_is_exact():
    q = "SELECT percentile_cont(0.9) WITHIN GROUP (ORDER BY x) FROM (VALUES (1.0::DOUBLE), (2.0::DOUBLE), (4.0::DOUBLE), (10.0::DOUBLE)) t(x)"
    assert _duck(q) == pytest.approx(8.2, rel=1e-12)   # 4 + 0.7 * (10 - 4)
    assert _spark(q) == pytest.approx(8.2, rel=1e-12)
    assert _plain(q) != pytest.approx(8.2)             # PERCENTILE_APPROX returns a data value


def test_median_is_exact_and_interpolated():
    q = "SELECT median(x) FROM (VALUES (1), (2), (4), (10)) t(x)"
    assert _duck(q) == _spark(q) == 3.0


def test_hugeint_becomes_decimal_38():
    q = "SELECT CAST(epoch_us(TIMESTAMP '2025-01-01') AS HUGEINT) * 4294967296 + 7"
    assert int(_duck(q)) == int(_spark(q)) == 1735689600000000 * 4294967296 + 7
    with pytest.raises(Exception):
        _plain(q)                   # INT128 is no Spark type


def test_last_value_ignore_nulls_carries_the_last_set_value():
    q = """SELECT string_agg(CAST(v AS VARCHAR), ',' ORDER BY i) FROM (
             SELECT i, last_value(a IGNORE NULLS) OVER (ORDER BY i ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS v
             FROM (VALUES (1, 10), (2, NULL), (3, 30), (4, NULL)) t(i, a)) s"""
    assert _duck(q) == "10,10,30,30"
    from funnel.sql_dialect import to_spark
    assert "LAST(" in to_spark(q).upper()
    rows = spark().sql(to_spark("""SELECT i, last_value(a IGNORE NULLS) OVER (ORDER BY i ROWS BETWEEN UNBOUNDED
        PRECEDING AND CURRENT ROW) AS v FROM (VALUES (1, 10), (2, NULL), (3, 30), (4, NULL)) t(i, a)""")).collect()
    assert [r["v"] for r in sorted(rows, key=lambda r: r["i"])] == [10, 10, 30, 30]


@pytest.mark.parametrize("q, expected", [
    ("SELECT count(*) / sum(x)::DOUBLE FROM (VALUES (0), (0)) t(x)", math.inf),
    ("SELECT -count(*) / sum(x) FROM (VALUES (0), (0)) t(x)", -math.inf),
    ("SELECT sum(x) / sum(x)::DOUBLE FROM (VALUES (0), (0)) t(x)", math.nan),
    ("SELECT sum(x) / NULLIF(sum(x), 0)::DOUBLE FROM (VALUES (0), (0)) t(x)", None),
    ("SELECT sum(x) / 4 FROM (VALUES (1), (2)) t(x)", 0.75),
])
def test_division_by_zero_is_ieee_as_in_duckdb_with_ansi_on(q, expected):
    """DuckDB 2.0 divides as IEEE doubles (±inf, NaN); ANSI Spark would raise DIVIDE_BY_ZERO."""
    assert spark().conf.get("spark.sql.ansi.enabled") == "true"
    for got in (_duck(q), _spark(q)):
        if expected is None:
            assert got is None
        elif math.isnan(expected):
            assert math.isnan(got)
        else:
            assert got == expected
    if expected is not None and not (isinstance(expected, float) and math.isfinite(expected)):
        with pytest.raises(Exception, match="DIVIDE_BY_ZERO"):
            _plain(q)


def test_range_table_function():
    q = "SELECT sum(range) FROM range(5)"
    assert _duck(q) == 10
    from funnel.sql_dialect import to_spark
    text = to_spark(q)
    assert "SEQUENCE" in text.upper()


def test_hash_is_refused():
    from funnel.sql_dialect import TranspileError, to_spark
    assert _duck("SELECT hash('L1')") != spark().sql("SELECT hash('L1')").collect()[0][0]
    with pytest.raises(TranspileError, match="md5"):
        to_spark("SELECT hash(lead_id) % 100 FROM leads")


def test_timestamps_are_zone_less_utc():
    """A bound naive datetime and a TIMESTAMP_NTZ column compare as wall-clock UTC, as in DuckDB."""
    assert spark().conf.get("spark.sql.session.timeZone") == "UTC"
    q = "SELECT epoch($t) - epoch(TIMESTAMP '2025-01-01 00:00:00')"
    t = datetime(2025, 7, 1, 12, 30, 0, 500000)      # in summer: a local zone would shift it
    assert _duck(q, {"t": t}) == _spark(q, {"t": t}) == 15_683_400.5


def test_date_minus_date_is_whole_days():
    q = "SELECT CAST(DATE '2025-03-10' - DATE '2025-02-28' AS INTEGER)"
    assert _duck(q) == _spark(q) == 10


def test_money_sums_agree_to_relative_tolerance():
    """Sums of doubles in another order differ in the last bits only: compared at 1e-9 relative."""
    vals = ", ".join(f"({1000.0 / (i + 3)})" for i in range(500))
    q = f"SELECT sum(x) FROM (VALUES {vals}) t(x)"
    assert math.isclose(_duck(q), _spark(q), rel_tol=1e-9)


# -- catalog and statements handled by the SparkConnection ------------------------------------

@pytest.fixture(scope="module")
def golden(tmp_path_factory):
    """(DuckDB connection, SparkEngine) on the conversion golden journeys."""
    import test_conversion_golden as g

    from funnel.engine import export_canonical_parquet
    from funnel.spark_engine import SparkEngine
    tmp = tmp_path_factory.mktemp("traps")
    con = g.build_golden(tmp / "g.duckdb")
    export_canonical_parquet(con, tmp / "pq")
    engine = SparkEngine.open(db=tmp / "g.duckdb", source=tmp / "pq", spark=spark())
    yield con, engine
    engine.close()
    con.close()


def test_pragma_table_info_answers_from_the_spark_catalog(golden):
    from funnel import store
    con, engine = golden
    assert store.lead_attribute_columns(engine.connection) == store.lead_attribute_columns(con)


def test_duckdb_tables_lists_the_spark_views_and_nothing_is_rebuilt(golden):
    from funnel import store
    con, engine = golden
    before = dict(engine._cached)
    store.ensure_derived(engine.connection)          # duckdb_tables() + settings: already built
    assert engine._cached == before


def test_create_or_replace_table_rebuilds_the_derived_view(golden):
    from funnel import store
    con, engine = golden
    old = engine._cached["lead_reach"]
    store.refresh_derived(engine.connection, tables=("lead_reach",))
    assert engine._cached["lead_reach"] is not old
    assert engine.run("SELECT count(*) AS n FROM lead_reach")["n"].iloc[0] == \
        con.execute("SELECT count(*) FROM lead_reach").fetchall()[0][0]


def test_temp_tables_of_scenario_figures_live_in_spark(golden):
    """scoring.scenario_figures makes a CREATE TEMP TABLE and reads it back: same figures."""
    from funnel import scoring
    from funnel.query import Scope
    import test_conversion_golden as g
    con, engine = golden
    rules = scoring.applicable_rules(con, scoring.stored_rules(con))   # segment, job title, …
    assert rules
    duck = scoring.scenario_figures(con, rules, 10, g.SCOPE)
    sp = scoring.scenario_figures(engine.connection, rules, 10, g.SCOPE)
    assert duck["evaluation"] == sp["evaluation"]
    assert duck["distribution"].to_dict("records") == sp["distribution"].to_dict("records")


def test_the_spark_engine_does_not_change_the_data(golden):
    from funnel.errors import FunnelError
    _, engine = golden
    with pytest.raises(FunnelError, match="does not change it"):
        engine.connection.execute("DELETE FROM leads")


def test_configuration_writes_stay_in_memory(golden, tmp_path):
    """The engine works on a copy of --db's configuration: the file is opened read-only."""
    from funnel import store
    con, engine = golden
    store.set_setting(engine.connection, "mql_threshold", "99")
    assert store.get_setting(engine.connection, "mql_threshold") == "99"
    assert store.get_setting(con, "mql_threshold") != "99"
