"""The Spark engine: the same metric SQL (DuckDB dialect, transpiled) on Apache Spark.

:class:`SparkEngine` reads the four canonical tables from a folder of Parquet files (``NAME.parquet``
files or ``NAME/`` folders of parts) or from catalog tables (``SCHEMA.NAME``), builds the derived
tables (lead_visits, lead_reach, deal_history) as cached temporary views from the DuckDB SQL of
``store.DERIVED_SQL`` transpiled, and keeps the configuration (stages, probabilities, rules,
settings) in DuckDB: a private in-memory copy of the ``--db`` database's configuration tables, so
the engine never writes to that file. Spark gets the configuration as small temporary views,
because metric statements join it.

:class:`SparkConnection` is what the metric functions receive as ``con``. Per statement:

* ``PRAGMA table_info('T')`` / ``… FROM duckdb_tables()`` — answered from the Spark catalog for
  the data tables (Spark types named as DuckDB names them), from DuckDB for configuration;
* a statement that reads a data table (canonical, derived or a temporary table made here) — 
  transpiled by :func:`funnel.sql_dialect.to_spark` and run by ``spark.sql(text, args=params)``
  (DuckDB ``$name`` → Spark named parameter ``:name``); the result comes back as Arrow and is
  read into pandas by DuckDB, so frames have exactly the dtypes the DuckDB engine gives;
* anything else (configuration reads and writes, BEGIN/COMMIT) — the in-memory DuckDB copy.

The session runs in UTC (``spark.sql.session.timeZone``), with zone-less timestamps
(``TIMESTAMP_NTZ``) as in DuckDB, and in ANSI mode (bad casts fail loudly; the divisions that
DuckDB lets return NULL are rewritten to ``try_divide``).
"""
from __future__ import annotations

import re
import threading
from functools import lru_cache
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import sqlglot
from sqlglot import exp

from . import query, store
from .engine import CANONICAL_TABLES, _sql_string
from .errors import FunnelError
from .sql_dialect import tables_read, to_spark

#: Configuration tables: copied from --db into DuckDB memory; stage_config, scoring_rules and
#: settings are also shown to Spark (metric statements join them).
CONFIG_TABLES = ("stage_config", "scoring_rules", "scoring_scenarios", "settings", "targets", "teams",
                 "forecast_calls")
CONFIG_VIEWS = ("stage_config", "scoring_rules", "settings", "targets", "teams")

DEFAULT_MASTER = "local[2]"

#: Session settings every Spark run of Funnelcast uses (see the module docstring for why).
SPARK_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
    "spark.sql.ansi.enabled": "true",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
    "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
}

_session_lock = threading.Lock()


#: For small data (tests, a sample): adaptive execution re-plans at every stage boundary, and a
#: metric statement has dozens of stages — on 3,000 leads it more than doubles the time.
SMALL_DATA_CONF = {"spark.sql.adaptive.enabled": "false"}


def spark_session(master: str | None = None, *, shuffle_partitions: int | None = None,
                  conf: dict | None = None):
    """The process's SparkSession (created once, then reused), with :data:`SPARK_CONF` and ``conf``.

    ``master``: ``local[N]`` (default local[2]) or ``sc://host:15002`` for Spark Connect.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:  # pragma: no cover - pyspark is pinned in requirements.txt
        raise FunnelError("The Spark engine needs pyspark.", hint="pip install -r requirements.txt",
                          code="no_spark") from None
    master = master or DEFAULT_MASTER
    with _session_lock:
        if master.startswith("sc://"):
            builder = SparkSession.builder.remote(master)
        else:
            import shutil
            if not shutil.which("java"):
                raise FunnelError("The Spark engine needs Java 17 (no `java` on the PATH).",
                                  hint="Install it: apt-get install openjdk-17-jre-headless.", code="no_java")
            builder = SparkSession.builder.master(master).appName("funnelcast")
            parts = shuffle_partitions or _default_partitions(master)
            builder = builder.config("spark.sql.shuffle.partitions", str(parts))
            builder = builder.config("spark.default.parallelism", str(parts))
        for k, v in SPARK_CONF.items():
            builder = builder.config(k, v)
        spark = builder.getOrCreate()
        for k, v in {**SPARK_CONF, **(conf or {})}.items():
            if not k.startswith(("spark.driver.", "spark.executor.", "spark.ui.")):
                spark.conf.set(k, v)   # a session made earlier by someone else gets them too
        return spark


#: Settings a new session of the same SparkContext must take over from the one it is made from.
_SESSION_KEYS = ("spark.sql.shuffle.partitions", "spark.sql.adaptive.enabled", "spark.sql.codegen.wholeStage")


def _own_session(spark):
    if not hasattr(spark, "newSession"):
        return spark
    own = spark.newSession()
    for k in (*SPARK_CONF, *_SESSION_KEYS):
        if k.startswith(("spark.driver.", "spark.executor.", "spark.ui.")):
            continue
        v = spark.conf.get(k, None)
        if v is not None:
            own.conf.set(k, v)
    return own


def _default_partitions(master: str) -> int:
    m = re.fullmatch(r"local\[(\d+|\*)\]", master)
    if m and m.group(1) != "*":
        return max(2, 2 * int(m.group(1)))
    return 8


class SparkEngine:
    name = "spark"

    def __init__(self, spark, config_con, source):
        # A session of its own (shared SparkContext and cache): the temporary views leads,
        # lead_visits, … are per session, so two engines in one process never see each other's
        # data, and closing one leaves the other's views alone.
        self.spark = _own_session(spark)
        self._config = config_con
        self.source = str(source)
        self._views: set[str] = set()      # data views this engine registered (lower case)
        self._cached: dict[str, object] = {}
        self._results: dict = {}            # (sql, params) -> Arrow table, see _spark_statement
        self._register_source(source)
        self._register_config()
        self.build_derived()
        self._connection = SparkConnection(self)

    @classmethod
    def open(cls, *, db=None, source=None, master: str | None = None, spark=None) -> "SparkEngine":
        if not source:
            raise FunnelError("The Spark engine needs --source: a folder of Parquet files or a catalog schema.",
                              hint="For example --source data/parquet (leads.parquet, lead_events.parquet, …).",
                              code="no_source")
        return cls(spark or spark_session(master), load_config(db), source)

    # -- the Engine API ------------------------------------------------------------------------

    @property
    def connection(self) -> "SparkConnection":
        return self._connection

    def run(self, sql: str, params: dict | None = None) -> pd.DataFrame:
        return query.run(self._connection, sql, params)

    def run_named(self, name: str, params: dict | None = None) -> pd.DataFrame:
        return self.run(query.sql(name), params)

    def table_columns(self, table: str) -> dict[str, str]:
        return {r[1]: r[2] for r in self._connection.execute(f"PRAGMA table_info({_sql_string(table)})").fetchall()}

    def dataframe(self, sql: str, params: dict | None = None):
        """The Spark DataFrame of one DuckDB-dialect statement (lazy; for plans and writes)."""
        return self._spark_df(sql, _used(sql, params or {}))

    def build_derived(self, tables: tuple[str, ...] = store.DERIVED_TABLES) -> None:
        """lead_visits, lead_reach, deal_history as cached temporary views, from store.DERIVED_SQL."""
        self._refresh_config_views()
        for stmt in derived_selects():
            name, select = stmt
            if name not in tables:
                continue
            old = self._cached.pop(name, None)
            if old is not None:
                old.unpersist()
            self._results.clear()
            df = self.spark.sql(to_spark(select)).persist()
            df.createOrReplaceTempView(name)
            self._cached[name] = df
            self._views.add(name)
        store.set_setting(self._config, "derived_layout", store.DERIVED_LAYOUT)

    def write_derived(self, out_dir) -> list[str]:
        """Write the derived tables as Parquet folders ``OUT/NAME/`` (overwritten); returns their paths."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        for t in store.DERIVED_TABLES:
            p = out / t
            self.spark.table(t).write.mode("overwrite").parquet(str(p))
            paths.append(str(p))
        return paths

    def write_canonical(self, out_dir) -> list[str]:
        """Write the four canonical tables as Parquet folders ``OUT/NAME/`` (overwritten): with the
        derived ones, one consistent snapshot the app can serve from (funnel/serving.py)."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        for t in CANONICAL_TABLES:
            p = out / t
            self.spark.table(t).write.mode("overwrite").parquet(str(p))
            paths.append(str(p))
        return paths

    def close(self) -> None:
        for df in self._cached.values():
            df.unpersist()
        self._cached.clear()
        for v in self._views | set(CONFIG_VIEWS):
            self.spark.catalog.dropTempView(v)
        self._views.clear()
        self._config.close()

    # -- internals -----------------------------------------------------------------------------

    def _register_source(self, source) -> None:
        p = Path(str(source))
        for t in CANONICAL_TABLES:
            if p.is_dir():
                candidates = [p / f"{t}.parquet", p / t]
                found = next((c for c in candidates if c.exists()), None)
                if found is None:
                    raise FunnelError(f"{p} has no {t}.parquet (nor a {t}/ folder of Parquet parts).",
                                      hint="Export the four tables (leads, lead_events, opportunities, "
                                           "opportunity_events) as Parquet into that folder.", code="no_source")
                df = self.spark.read.parquet(str(found))
            elif re.fullmatch(r"[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)?", str(source)):
                name = f"{source}.{t}"
                if not self.spark.catalog.tableExists(name):
                    raise FunnelError(f"The Spark catalog has no table {name}.",
                                      hint="Name a schema holding leads, lead_events, opportunities and "
                                           "opportunity_events, or a folder of Parquet files.", code="no_source")
                df = self.spark.table(name)
            else:
                raise FunnelError(f"--source {source} is neither a folder nor a catalog schema.",
                                  hint="Give a folder of Parquet files or a schema name.", code="no_source")
            df = _zone_less(df)
            df.createOrReplaceTempView(t)
            self._views.add(t)

    def _register_config(self) -> None:
        self._config_stale = True
        self._refresh_config_views()

    def _refresh_config_views(self) -> None:
        if not self._config_stale:
            return
        for t in CONFIG_VIEWS:
            tbl = self._config.sql(f"SELECT * FROM {t}").to_arrow_table()
            self.spark.createDataFrame(tbl).createOrReplaceTempView(t)
        self._config_stale = False

    def _spark_df(self, sql: str, params: dict):
        self._refresh_config_views()
        args = {k: _spark_value(v) for k, v in params.items()}
        return self.spark.sql(to_spark(sql), args=args or None)


def _used(sql: str, params: dict) -> dict:
    used = set(re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", sql))
    return {k: params[k] for k in used if k in params}


def derived_selects() -> list[tuple[str, str]]:
    """(table name, its SELECT in DuckDB SQL) for each CREATE statement of store.DERIVED_SQL."""
    out = []
    for stmt in sqlglot.parse(store.DERIVED_SQL, read="duckdb"):
        if stmt is None:
            continue
        out.append((stmt.this.name.lower(), stmt.expression.sql(dialect="duckdb")))
    return out


def load_config(db) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the configuration tables of the database ``db`` (read only)."""
    path = store.resolve_db_path(db)
    if not path.exists():
        raise FunnelError(f"There is no configuration database at {path}.",
                          hint="Name the DuckDB file holding the stages and rules with --db "
                               "(`python -m funnel sample --leads 0` makes one with the defaults).")
    mem = duckdb.connect(":memory:")
    mem.execute("SET enable_progress_bar = false")
    store.init_schema(mem)
    try:
        mem.execute(f"ATTACH {_sql_string(str(path))} AS cfg (READ_ONLY)")
    except duckdb.Error:
        # the file is open in this process already (a DuckDB file is attached once per process):
        # read it through that database instead
        _copy_config_from_open(mem, path)
        return mem
    try:
        have = {r[0] for r in mem.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'cfg'").fetchall()}
        for t in CONFIG_TABLES:
            if t in have:
                mem.execute(f"DELETE FROM main.{t}")
                mem.execute(f"INSERT INTO main.{t} BY NAME SELECT * FROM cfg.main.{t}")
    finally:
        mem.execute("DETACH cfg")
    return mem


def _copy_config_from_open(mem, path) -> None:
    src = None
    for read_only in (False, True):
        try:
            # the open database's own settings: DuckDB hands back that instance only when they match
            src = duckdb.connect(str(path), read_only=read_only, config=store.CONNECTION_CONFIG)
            break
        except duckdb.Error:
            continue
    if src is None:
        raise FunnelError(f"The configuration database {path} is in use and cannot be read.",
                          hint="Close the program holding it, or copy the file and name the copy with --db.")
    try:
        have = {r[0] for r in src.execute("SELECT table_name FROM duckdb_tables() "
                                          "WHERE schema_name = 'main' AND database_name = current_database()").fetchall()}
        for t in CONFIG_TABLES:
            if t in have:
                rows = src.sql(f"SELECT * FROM {t}").to_arrow_table()
                mem.register("config_rows", rows)
                mem.execute(f"DELETE FROM main.{t}")
                mem.execute(f"INSERT INTO main.{t} BY NAME SELECT * FROM config_rows")
                mem.unregister("config_rows")
    finally:
        src.close()


def _zone_less(df):
    """Instant timestamps (Parquet isAdjustedToUTC) as UTC wall-clock TIMESTAMP_NTZ, as DuckDB keeps them."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import TimestampType
    cols = [F.col(f"`{f.name}`").cast("timestamp_ntz").alias(f.name) if isinstance(f.dataType, TimestampType)
            else F.col(f"`{f.name}`") for f in df.schema.fields]
    return df.select(*cols) if any(isinstance(f.dataType, TimestampType) for f in df.schema.fields) else df


def _spark_value(v):
    """A bound value Spark's literal conversion reads as DuckDB would (numpy scalars → Python)."""
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        v = v.item()
    if isinstance(v, pd.Timestamp):
        v = v.to_pydatetime()
    return v


# Spark type names → DuckDB type names, for PRAGMA table_info (scoring keys on these).
_TYPE_NAMES = {
    "string": "VARCHAR", "bigint": "BIGINT", "int": "INTEGER", "smallint": "SMALLINT", "tinyint": "TINYINT",
    "double": "DOUBLE", "float": "FLOAT", "boolean": "BOOLEAN", "timestamp_ntz": "TIMESTAMP",
    "timestamp": "TIMESTAMP WITH TIME ZONE", "date": "DATE", "binary": "BLOB",
}


def duckdb_type_name(spark_type) -> str:
    s = spark_type.simpleString()
    if s.startswith("decimal"):
        return s.upper().replace(" ", "")
    return _TYPE_NAMES.get(s, s.upper())


_PRAGMA = re.compile(r"^\s*PRAGMA\s+table_info\s*\(\s*'((?:[^']|'')+)'\s*\)\s*;?\s*$", re.I)
_WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|ALTER|COPY|CHECKPOINT)\b", re.I)


_LEADING_COMMENTS = re.compile(r"^(\s*(--[^\n]*\n|/\*.*?\*/))*\s*", re.S)


@lru_cache(maxsize=4096)
def _statement_kind(sql: str) -> str:
    """"create", "drop" or "select" (any reading statement: SELECT, WITH, VALUES, …)."""
    head = _LEADING_COMMENTS.sub("", sql, count=1)[:8].upper()
    if head.startswith("CREATE"):
        return "create"
    if head.startswith("DROP"):
        return "drop"
    return "select"


class _Result:
    """A result with the parts of DuckDB's result API the metric code uses."""

    def __init__(self, table: pa.Table, duck):
        self._table = table
        self._duck = duck

    def arrow(self) -> pa.Table:
        return self._table

    def df(self) -> pd.DataFrame:
        # DuckDB's own Arrow → pandas reading: the same dtypes as on the DuckDB engine
        return self._duck.from_arrow(self._table).df()

    fetchdf = df

    def fetchall(self) -> list[tuple]:
        return self._duck.from_arrow(self._table).fetchall()

    def fetchone(self):
        rows = self.fetchall()
        return rows[0] if rows else None


class SparkConnection:
    """Stands in for a DuckDB connection in the metric code (see the module docstring)."""

    #: Rows are spread over tasks: a metric picks its partitioned form where it has one (time in
    #: stage ranks its visits stage by stage instead of in one global sort).
    scales_out = True

    def __init__(self, engine: SparkEngine):
        self._engine = engine
        self._config = engine._config

    # DuckDB connection API used by funnel/*: cursor(), close(), execute(), executemany()
    def cursor(self) -> "SparkConnection":
        return self

    def close(self) -> None:   # a cursor's close; the engine owns the session
        pass

    def executemany(self, sql: str, rows):
        self._write_config(sql)
        self._config.executemany(sql, rows)
        return self

    def execute(self, sql: str, params=None):
        m = _PRAGMA.match(sql)
        if m:
            return self._table_info(m.group(1).replace("''", "'"))
        if "duckdb_tables()" in sql:
            return self._tables(sql, params)
        read = tables_read(sql)
        on_spark = read & self._engine._views
        if not on_spark:
            if _WRITE.match(sql) or sql.lstrip().upper().startswith(("CREATE", "DROP")):
                self._write_config(sql)
            return self._config.execute(sql, params) if params is not None else self._config.execute(sql)
        if isinstance(params, (list, tuple)) and params:
            raise FunnelError("Internal query error: the Spark engine binds named parameters only ($name).")
        params = dict(params or {})
        if _WRITE.match(sql):
            raise FunnelError("The Spark engine reads the data; it does not change it.",
                              hint="Import or edit with the DuckDB engine, then export the tables again.",
                              code="read_only")
        return self._spark_statement(sql, params)

    def _spark_statement(self, sql: str, params: dict):
        if _statement_kind(sql) == "select":
            # The engine's data does not change while it lives (writes are refused), so a statement
            # asked again with the same values (resolve() asks for the as-of date and the lead
            # columns for every figure) is answered from memory; any CREATE, DROP or configuration
            # write empties this memory.
            try:
                key = (sql, tuple(sorted(params.items())))
                hash(key)
            except TypeError:
                key = None
            hit = self._engine._results.get(key) if key is not None else None
            if hit is not None:
                return _Result(hit, self._config)
            df = self._engine._spark_df(sql, params)
            table = _naive(df.toArrow())
            if key is not None:
                if len(self._engine._results) >= 256:   # a bound on memory, not a policy
                    self._engine._results.clear()
                self._engine._results[key] = table
            return _Result(table, self._config)
        self._engine._results.clear()
        tree = sqlglot.parse_one(sql, read="duckdb")
        if isinstance(tree, exp.Create):
            name = tree.this.name.lower()
            if name in store.DERIVED_TABLES:
                self._engine.build_derived((name,))
                return _Result(pa.table({"Count": pa.array([], pa.int64())}), self._config)
            df = self._engine._spark_df(tree.expression.sql(dialect="duckdb"), _used(sql, params)).persist()
            df.createOrReplaceTempView(name)
            self._engine._cached[name] = df
            self._engine._views.add(name)
            return _Result(pa.table({"Count": pa.array([], pa.int64())}), self._config)
        if isinstance(tree, exp.Drop):
            name = tree.this.name.lower()
            old = self._engine._cached.pop(name, None)
            if old is not None:
                old.unpersist()
            self._engine.spark.catalog.dropTempView(name)
            self._engine._views.discard(name)
            return _Result(pa.table({}), self._config)
        raise FunnelError("Internal query error: the Spark engine runs SELECT, CREATE … AS SELECT and DROP only.")

    def _write_config(self, sql: str) -> None:
        if any(t in self._engine._views for t in tables_read(sql)):
            raise FunnelError("The Spark engine reads the data; it does not change it.",
                              hint="Import or edit with the DuckDB engine, then export the tables again.",
                              code="read_only")
        self._engine._config_stale = True
        self._engine._results.clear()

    def _table_info(self, table: str):
        if table.lower() in self._engine._views:
            schema = self._engine.spark.table(table).schema
            rows = [(i, f.name, duckdb_type_name(f.dataType), not f.nullable, None, False)
                    for i, f in enumerate(schema.fields)]
            tbl = pa.table({"cid": [r[0] for r in rows], "name": [r[1] for r in rows], "type": [r[2] for r in rows],
                            "notnull": [r[3] for r in rows], "dflt_value": pa.array([None] * len(rows), pa.string()),
                            "pk": [r[5] for r in rows]})
            return _Result(tbl, self._config)
        return self._config.execute(f"PRAGMA table_info({_sql_string(table)})")

    def _tables(self, sql: str, params):
        """``SELECT table_name FROM duckdb_tables() …``: DuckDB's configuration tables plus the Spark views."""
        tree = sqlglot.parse_one(sql, read="duckdb")
        if [e.alias_or_name for e in tree.expressions] != ["table_name"]:
            raise FunnelError("Internal query error: the Spark engine answers duckdb_tables() for table_name only.")
        own = [r[0] for r in (self._config.execute(sql, params) if params else self._config.execute(sql)).fetchall()]
        names = sorted(set(own) | self._engine._views)
        return _Result(pa.table({"table_name": pa.array(names, pa.string())}), self._config)


def _naive(tbl: pa.Table) -> pa.Table:
    """Spark hands instants (LTZ) to Arrow with tz=UTC; DuckDB frames hold zone-less timestamps."""
    cols, changed = [], False
    for f in tbl.schema:
        col = tbl.column(f.name)
        if pa.types.is_timestamp(f.type) and f.type.tz is not None:
            col = col.cast(pa.timestamp(f.type.unit))
            changed = True
        cols.append(col)
    return pa.table(cols, names=tbl.column_names) if changed else tbl


# ---------------------------------------------------------------------------------------------
# Physical plans: a statement that scales out has no single-partition exchange over event-sized
# rows (a global sort or a window without PARTITION BY funnels every row through one task).

def single_partition_exchanges(df) -> list[str]:
    """The physical plan's SinglePartition exchanges over event-sized rows: those with a path
    down to a scan of a data table (Parquet, catalog or a cached derived view) that passes no
    aggregate — an exchange after a GROUP BY moves one row per group, which is small. Each is
    described by the exchange and its child (empty: the plan scales out)."""
    found: list[str] = []
    _walk(df._jdf.queryExecution().executedPlan(), found)
    return found


def _children(node) -> list:
    if node.nodeName() == "AdaptiveSparkPlan":
        return [node.inputPlan()]
    if node.nodeName() == "ReusedExchange":
        return [node.child()]
    kids = node.children()
    return [kids.apply(i) for i in range(kids.size())]


def _event_sized(node) -> bool:
    name = node.nodeName()
    if "Aggregate" in name:
        return False
    if name.startswith(("InMemoryTableScan", "Scan parquet", "FileScan", "BatchScan", "Scan ")) and \
            "ExistingRDD" not in name and "OneRowRelation" not in name:
        return True
    return any(_event_sized(c) for c in _children(node))


def _walk(node, found: list[str]) -> None:
    if node.nodeName() == "Exchange" and "SinglePartition" in node.outputPartitioning().toString():
        child = _children(node)[0]
        if _event_sized(child):
            found.append(f"{node.simpleString(200)} <- {child.simpleString(200)}")
    for c in _children(node):
        _walk(c, found)
