"""The engine seam: where the metric SQL runs — DuckDB (embedded, the default) or Spark.

Every metric function takes ``con`` and runs DuckDB SQL through :func:`funnel.query.run` (and a
few catalog look-ups through ``con.execute``). An :class:`Engine` hands out the object to pass as
that ``con``:

* :class:`DuckDBEngine` hands out the DuckDB connection itself — the DuckDB path is exactly
  today's code, with nothing in between (no wrapper, no check per call).
* :class:`funnel.spark_engine.SparkEngine` hands out a :class:`~funnel.spark_engine.SparkConnection`,
  which answers the same calls: statements over the data tables are transpiled
  (:mod:`funnel.sql_dialect`) and run on Spark; statements over configuration alone run on a
  private in-memory copy of the DuckDB configuration.

So ``report.build_report(engine.connection, scope)`` is the same code on both engines, and the
DuckDB SQL text stays the single source of truth.

Engine API (both engines)::

    engine.name                      # "duckdb" / "spark"
    engine.connection                # pass as ``con`` to any metric function
    engine.run(sql, params)          # one DuckDB-dialect statement -> pandas DataFrame
    engine.run_named(name, params)   # funnel/sql/NAME.sql -> pandas DataFrame
    engine.build_derived()           # (re)build lead_visits, lead_reach, deal_history
    engine.write_derived(dir)        # the derived tables as Parquet
    engine.write_canonical(dir)      # the four canonical tables as Parquet (with the above: FUNNEL_SOURCE)
    engine.table_columns(table)      # {column: DuckDB type name}
    engine.close()
"""
from __future__ import annotations

from typing import Protocol

import pandas as pd

from . import query, store
from .errors import FunnelError

ENGINES = ("duckdb", "spark")


class Engine(Protocol):
    name: str

    @property
    def connection(self): ...

    def run(self, sql: str, params: dict | None = None) -> pd.DataFrame: ...

    def run_named(self, name: str, params: dict | None = None) -> pd.DataFrame: ...

    def build_derived(self) -> None: ...

    def table_columns(self, table: str) -> dict[str, str]: ...

    def close(self) -> None: ...


class DuckDBEngine:
    """Today's behaviour: everything in one DuckDB database."""

    name = "duckdb"

    def __init__(self, con):
        self._con = con

    @classmethod
    def open(cls, db_path=None, *, read_only: bool = False) -> "DuckDBEngine":
        return cls(store.connect(db_path, read_only=read_only))

    @property
    def connection(self):
        return self._con

    def run(self, sql: str, params: dict | None = None) -> pd.DataFrame:
        return query.run(self._con, sql, params)

    def run_named(self, name: str, params: dict | None = None) -> pd.DataFrame:
        return self.run(query.sql(name), params)

    def build_derived(self) -> None:
        store.refresh_derived(self._con)

    def table_columns(self, table: str) -> dict[str, str]:
        rows = self._con.execute(f"PRAGMA table_info({_sql_string(table)})").fetchall()
        return {row[1]: row[2] for row in rows}

    def write_derived(self, out_dir) -> list[str]:
        """Write the derived tables as Parquet files ``OUT/NAME.parquet``; returns their paths."""
        from pathlib import Path
        store.ensure_derived(self._con)
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        for t in store.DERIVED_TABLES:
            p = out / f"{t}.parquet"
            self._con.execute(f"COPY {t} TO {_sql_string(str(p))} (FORMAT parquet)")
            paths.append(str(p))
        return paths

    def write_canonical(self, out_dir) -> list[str]:
        """Write the four canonical tables as ``OUT/NAME.parquet`` (beside the derived ones, the
        folder the app can serve from: funnel/serving.py)."""
        return export_canonical_parquet(self._con, out_dir)

    def close(self) -> None:
        self._con.close()


def _sql_string(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def export_canonical_parquet(con, out_dir) -> list[str]:
    """Write the four canonical tables of a DuckDB database as ``OUT/NAME.parquet`` (the layout
    ``--source DIR`` reads). Timestamps stay zone-less (Parquet isAdjustedToUTC = false)."""
    from pathlib import Path
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for t in CANONICAL_TABLES:
        p = out / f"{t}.parquet"
        con.execute(f"COPY (SELECT * FROM {t}) TO {_sql_string(str(p))} (FORMAT parquet)")
        paths.append(str(p))
    return paths


#: The data tables an engine reads from its source (data contract); everything else it derives.
CANONICAL_TABLES = ("leads", "lead_events", "opportunities", "opportunity_events")


def open_engine(name: str, *, db=None, source=None, spark_master: str | None = None):
    """An engine by name. ``duckdb``: the database ``db`` holds data and configuration.
    ``spark``: configuration from ``db``, the canonical tables from ``source`` (a folder of
    Parquet files or a catalog schema), on the Spark master ``spark_master`` (default local[2])."""
    if name == "duckdb":
        if source:
            raise FunnelError("--source is for the Spark engine; the DuckDB engine reads its data from --db.",
                              hint="Drop --source, or add --engine spark.", code="bad_engine")
        path = store.resolve_db_path(db)
        if not path.exists():
            raise FunnelError(f"There is no database at {path}.",
                              hint="Create one with `python -m funnel sample` or `python -m funnel import`.")
        return DuckDBEngine.open(path)
    if name == "spark":
        from .spark_engine import SparkEngine
        return SparkEngine.open(db=db, source=source, master=spark_master)
    raise FunnelError(f"There is no engine called '{name}'.", hint=f"Use one of: {', '.join(ENGINES)}.",
                      code="bad_engine")
