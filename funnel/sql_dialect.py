"""DuckDB SQL → Spark SQL: the pinned sqlglot transpiler plus the project's own rewrite list.

The DuckDB text in ``funnel/`` stays the single source of truth; the Spark engine never holds a
second copy of a metric. ``sqlglot`` (pinned in requirements.txt: its output changes between
releases) does the dialect work; the rewrites below are where a faithful translation would still
change a figure. Each one is pinned by a test in tests/test_spark_traps.py.

REWRITES — what sqlglot alone gets wrong, and what we emit instead:

1. ``epoch(ts)`` → ``CAST(unix_micros(CAST(ts AS TIMESTAMP)) AS DOUBLE) / 1e6``. sqlglot emits
   ``UNIX_TIMESTAMP``, which drops the fraction of a second (DuckDB's epoch keeps microseconds).
2. ``epoch_us(ts)`` → ``unix_micros(CAST(ts AS TIMESTAMP))`` (Spark has no epoch_us). The cast
   reads a zone-less TIMESTAMP_NTZ in the session zone, which the engine pins to UTC.
3. Decimal literals (``86400.0``, ``0.5``) → ``CAST(… AS DOUBLE)``. In Spark ``x / 86400.0`` is
   DECIMAL arithmetic that rounds to 6–7 places; DuckDB divides as DOUBLE.
4. ``percentile_cont(q) WITHIN GROUP (ORDER BY x)`` → ``percentile(x, q)``, the exact
   interpolated percentile. sqlglot emits ``PERCENTILE_APPROX``, which returns a nearby value.
5. ``HUGEINT`` → ``DECIMAL(38, 0)`` (sqlglot emits ``INT128``, which Spark does not know).
6. ``last_value(x IGNORE NULLS)`` / ``first_value(x IGNORE NULLS)`` → ``last(x, TRUE)`` /
   ``first(x, TRUE)``: the one spelling of null-skipping window values every Spark release parses.
7. ``a / b`` → ``coalesce(try_divide(a, b), CASE WHEN b = 0 THEN CAST(a AS DOUBLE) * +inf END)``.
   DuckDB 2.0 divides as IEEE doubles (x / 0 = ±inf, 0 / 0 = NaN); Spark in ANSI mode (the
   default since 4.0, kept on so bad casts still fail loudly) raises DIVIDE_BY_ZERO, and without
   ANSI gives NULL. (The metric SQL guards its divisors with NULLIF; this keeps the rest exact.)
8. ``hash(x)`` is refused: DuckDB's and Spark's hash functions differ, so anything keyed on them
   would pick different rows on Spark — an error is better than a silently different figure.
   (scoring's sample for suggest_rules keys on hash(): a portable md5 key costs DuckDB 15× as
   much per lead, which the 1M-lead target of suggest_rules cannot take; so that sample, used
   only for cohorts above 50,000 leads, does not run on Spark yet.)

Handled outside the SQL text, by funnel/spark_engine.py: ``PRAGMA table_info`` and
``duckdb_tables()`` (answered from the Spark catalog), ``CREATE OR REPLACE TABLE`` / ``CREATE TEMP
TABLE`` (become temporary views), and parameters (DuckDB ``$name`` → Spark named ``:name``, which
sqlglot emits, bound through ``spark.sql(q, args=…)``). ``range(n)`` becomes
``explode(sequence(0, n - 1))`` in sqlglot itself.
"""
from __future__ import annotations

from functools import lru_cache

import sqlglot
from sqlglot import exp

from .errors import FunnelError

#: The sqlglot release whose output the parity suite was run with (requirements.txt pins it).
SQLGLOT_VERSION = "30.31.0"


class TranspileError(FunnelError):
    """A DuckDB statement that cannot run on Spark with the same result."""


def _double(e: exp.Expression) -> exp.Expression:
    return exp.Cast(this=e, to=exp.DataType.build("DOUBLE"))


def _unix_micros(ts: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this="unix_micros", expressions=[exp.Cast(this=ts, to=exp.DataType.build("TIMESTAMP"))])


def _is_decimal_literal(node: exp.Expression) -> bool:
    return isinstance(node, exp.Literal) and not node.is_string and any(c in node.this for c in ".eE")


def _is_literal_nonzero(e: exp.Expression) -> bool:
    return isinstance(e, exp.Literal) and not e.is_string and float(e.this) != 0


def _rewrite(node: exp.Expression) -> exp.Expression:
    # 1. epoch(ts): seconds with the microseconds kept, as DOUBLE
    if isinstance(node, exp.TimeToUnix):
        return exp.Div(this=_double(_unix_micros(node.this)), expression=_double(exp.Literal.number(1000000)))
    if isinstance(node, exp.Anonymous):
        name = str(node.this).lower()
        if name == "epoch_us":                                  # 2.
            return _unix_micros(node.expressions[0])
        if name == "epoch":                                     # 1. (when not parsed as TimeToUnix)
            return exp.Div(this=_double(_unix_micros(node.expressions[0])),
                           expression=_double(exp.Literal.number(1000000)))
        if name == "hash":                                      # 8.
            raise TranspileError("hash() gives different values on DuckDB and Spark; key on md5() instead.",
                                 code="not_portable")
    # 3. decimal literal → DOUBLE (not inside a CAST that already names the type)
    if _is_decimal_literal(node) and not isinstance(node.parent, exp.Cast):
        return _double(node.copy())
    # 4. exact percentile
    if isinstance(node, exp.WithinGroup) and isinstance(node.this, exp.PercentileCont):
        order = node.expression.expressions
        if len(order) != 1 or order[0].args.get("desc"):
            raise TranspileError("percentile_cont needs exactly one ascending ORDER BY key to run on Spark.",
                                 code="not_portable")
        return exp.Anonymous(this="percentile", expressions=[order[0].this.copy(), node.this.this.copy()])
    # 5. HUGEINT
    if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.INT128:
        return exp.DataType.build("DECIMAL(38, 0)")
    # 6. IGNORE NULLS window values
    if isinstance(node, exp.IgnoreNulls) and isinstance(node.this, (exp.LastValue, exp.FirstValue)):
        fn = "last" if isinstance(node.this, exp.LastValue) else "first"
        return exp.Anonymous(this=fn, expressions=[node.this.this.copy(), exp.true()])
    # 7. NULL on a zero divisor, as in DuckDB
    if isinstance(node, exp.Div):
        a, b = node.this, node.expression
        if _is_literal_nonzero(b) or (isinstance(b, exp.Cast) and _is_literal_nonzero(b.this)):
            return exp.Anonymous(this="try_divide", expressions=[a, b])     # a constant divisor
        ieee = exp.Case(ifs=[exp.If(this=exp.EQ(this=b.copy(), expression=exp.Literal.number(0)),
                                    true=exp.Mul(this=_double(a.copy()),
                                                 expression=_double(exp.Literal.string("Infinity"))))])
        return exp.Coalesce(this=exp.Anonymous(this="try_divide", expressions=[a, b]), expressions=[ieee])
    return node


@lru_cache(maxsize=4096)
def to_spark(duckdb_sql: str) -> str:
    """The Spark SQL for one DuckDB statement (cached: the same text transpiles once per process)."""
    try:
        trees = sqlglot.parse(duckdb_sql, read="duckdb")
    except sqlglot.errors.ParseError as e:
        raise TranspileError(f"This statement could not be read as DuckDB SQL: {e}", code="not_portable") from None
    trees = [t for t in trees if t is not None]
    if len(trees) != 1:
        raise TranspileError("One statement at a time can be transpiled to Spark.", code="not_portable")
    # transform() does not descend into the nodes a rewrite returns, so rewrite to a fixed point
    # (each rule's output is stable under every rule, so this ends after a few passes)
    tree, text = trees[0], None
    for _ in range(20):
        tree = tree.transform(_rewrite)
        new = tree.sql(dialect="spark")
        if new == text:
            return new
        text = new
    raise TranspileError("The Spark rewrite of this statement did not settle.", code="not_portable")


def tables_read(duckdb_sql: str) -> frozenset[str]:
    """Lower-cased names of the tables a DuckDB statement reads (its CTE names excluded)."""
    return _tables_read(duckdb_sql)


@lru_cache(maxsize=4096)
def _tables_read(duckdb_sql: str) -> frozenset[str]:
    try:
        trees = [t for t in sqlglot.parse(duckdb_sql, read="duckdb") if t is not None]
    except sqlglot.errors.ParseError:
        return frozenset()
    names: set[str] = set()
    ctes: set[str] = set()
    for tree in trees:
        ctes |= {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
        names |= {t.name.lower() for t in tree.find_all(exp.Table) if t.name}
    return frozenset(names - ctes)
