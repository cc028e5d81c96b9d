"""Serving the dashboard from tables derived elsewhere (issue #16): ``FUNNEL_SOURCE=DIR``.

A team whose history is too big for one machine lets Spark do the heavy sorting —
``python -m funnel derive --engine spark --source DATA --db CONFIG.duckdb --out DIR`` writes the
four canonical tables and the three derived ones (``lead_visits``, ``lead_reach``,
``deal_history``) as Parquet, one consistent snapshot — and the app reads them with DuckDB:
:func:`open_serving` gives a DuckDB connection on which every data table is a view over DIR's
Parquet and every configuration table (stages, probabilities, rules, targets, …) a view over the
configuration database, attached read-only. The metric code runs unchanged on it (it is a DuckDB
connection); the same SQL, the same figures.

Such a connection only reads: the derived tables were built from the stages as they were at
``derive`` time, so a stage edit or an import here would not reach them. The app is read-only in
this mode and says why; configuration is changed on the DuckDB install, then derived again.
"""
from __future__ import annotations

import os
from pathlib import Path

import duckdb

from . import store
from .engine import CANONICAL_TABLES, _sql_string
from .errors import FunnelError
from .store import DatabaseError

#: Every table a served folder holds: the data contract's four and the three derived from them.
SERVED_TABLES = (*CANONICAL_TABLES, *store.DERIVED_TABLES)

SOURCE_ENV = "FUNNEL_SOURCE"


def served_files(source_dir) -> dict[str, Path]:
    """Each served table's Parquet: ``DIR/NAME.parquet`` (a file, as the DuckDB engine writes it)
    or ``DIR/NAME/`` (a folder of parts, as Spark writes it). Refuses a folder missing any."""
    src = Path(source_dir)
    if not src.is_dir():
        raise FunnelError(f"{src} is not a folder.", code="bad_source",
                          hint="Set FUNNEL_SOURCE to the folder `python -m funnel derive --out DIR` wrote.")
    found, missing = {}, []
    for table in SERVED_TABLES:
        path = next((p for p in (src / f"{table}.parquet", src / table) if p.exists()), None)
        if path is None:
            missing.append(table)
        else:
            found[table] = path
    if missing:
        raise FunnelError(f"{src} has no Parquet for {', '.join(missing)}.", code="bad_source",
                          hint="Write the folder with `python -m funnel derive --engine spark --source DATA "
                               "--db CONFIG.duckdb --out DIR`: it holds all seven tables.")
    return found


def _parquet_glob(path: Path) -> str:
    return str(path / "*.parquet") if path.is_dir() else str(path)


def fingerprint(source_dir) -> tuple:
    """What identifies one derive's output (names, sizes, modification times of its files): a new
    ``derive`` into the same folder changes it, so the app opens the new tables and no cached
    figure of the old ones survives."""
    out = []
    for table, path in sorted(served_files(source_dir).items()):
        files = sorted(path.glob("*.parquet")) if path.is_dir() else [path]
        out.extend((table, f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in files)
    return tuple(out)


def open_serving(config_db, source_dir) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection reading the data tables from ``source_dir``'s Parquet and the
    configuration from ``config_db`` (attached read-only, never written). Its cursors see the
    same views (they live in the connection's in-memory database, not in a temporary schema)."""
    files = served_files(source_dir)
    config = store.resolve_db_path(config_db)
    store.check_database_file(config, must_exist=True)
    con = duckdb.connect(":memory:", config=store.CONNECTION_CONFIG)
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute(f"ATTACH {_sql_string(str(config))} AS config (READ_ONLY)")
        tables = [name for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'config' ORDER BY table_name").fetchall()]
        if "settings" not in tables:
            raise DatabaseError(f"{config} is not a Funnelcast database (it has no settings table).",
                                hint="Pass the configuration database the data was derived with (--db).")
        for name in tables:
            if name not in files:
                con.execute(f"CREATE VIEW {store.quote_ident(name)} AS SELECT * FROM config.main.{store.quote_ident(name)}")
        for table, path in files.items():
            con.execute(f"CREATE VIEW {store.quote_ident(table)} AS "
                        f"SELECT * FROM read_parquet({_sql_string(_parquet_glob(path))})")
    except BaseException:
        con.close()
        raise
    return con


def source_dir() -> Path | None:
    """The folder named by ``FUNNEL_SOURCE``, if set."""
    value = os.environ.get(SOURCE_ENV, "").strip()
    return Path(value).resolve() if value else None
