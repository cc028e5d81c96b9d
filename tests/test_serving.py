"""Serving the app from tables derived elsewhere (issue #16, FUNNEL_SOURCE): the seven tables as
Parquet — as `derive` writes them on either engine — with the configuration database attached
read-only give the same report as the database itself, the app renders every page from them,
read-only and saying why, and a new derive into the folder is what the next run shows."""
from __future__ import annotations

import json
import os
import shutil

import duckdb
import pytest

from conftest import assert_clean, page_finding, run_app
from funnel import serving, store
from funnel.__main__ import main
from funnel.engine import DuckDBEngine
from funnel.errors import FunnelError
from funnel.report import build_report


def _report(con) -> str:
    return json.dumps(build_report(con), sort_keys=True, default=str)


@pytest.fixture(scope="module")
def served(sample_db, tmp_path_factory):
    """The sample's seven tables as `derive --engine duckdb` writes them (NAME.parquet files)."""
    out = tmp_path_factory.mktemp("served")
    assert main(["derive", "--engine", "duckdb", "--db", str(sample_db), "--out", str(out)]) == 0
    return out


def test_derive_writes_the_seven_tables(served):
    assert sorted(p.name for p in served.iterdir()) == sorted(f"{t}.parquet" for t in serving.SERVED_TABLES)


def test_report_from_the_served_tables_equals_the_databases(sample_db, served):
    direct = store.open_read_only(sample_db)
    served_con = serving.open_serving(sample_db, served)
    try:
        assert _report(served_con) == _report(direct)
    finally:
        direct.close()
        served_con.close()


def test_folders_of_parts_as_spark_writes_them_read_the_same(sample_db, served, tmp_path):
    """Spark writes NAME/part-*.parquet folders; the served connection reads those too."""
    parts = tmp_path / "parts"
    for table in serving.SERVED_TABLES:
        folder = parts / table
        folder.mkdir(parents=True)
        duckdb.execute(f"COPY (SELECT * FROM read_parquet('{served / f'{table}.parquet'}')) TO '{folder}' "
                       "(FORMAT parquet, PER_THREAD_OUTPUT true, OVERWRITE_OR_IGNORE true)")
    a, b = serving.open_serving(sample_db, served), serving.open_serving(sample_db, parts)
    try:
        assert _report(a) == _report(b)
        # Cursors (one per call in the app) see the views too: they are not temporary.
        assert b.cursor().execute("SELECT count(*) FROM lead_visits").fetchone() == \
            a.execute("SELECT count(*) FROM lead_visits").fetchone()
    finally:
        a.close()
        b.close()


def test_a_folder_missing_a_table_is_refused_naming_it(sample_db, served, tmp_path):
    partial = tmp_path / "partial"
    shutil.copytree(served, partial)
    (partial / "deal_history.parquet").unlink()
    with pytest.raises(FunnelError, match="has no Parquet for deal_history") as e:
        serving.open_serving(sample_db, partial)
    assert "derive" in e.value.hint
    with pytest.raises(FunnelError, match="is not a folder"):
        serving.open_serving(sample_db, tmp_path / "nowhere")


def test_the_configuration_database_is_never_written(sample_db, served):
    con = serving.open_serving(sample_db, served)
    try:
        with pytest.raises(duckdb.Error):
            con.execute("UPDATE config.main.settings SET value = 'x'")
    finally:
        con.close()


@pytest.fixture
def source_env(served, monkeypatch):
    monkeypatch.setenv(serving.SOURCE_ENV, str(served))
    yield served


def test_every_page_renders_from_the_served_tables_read_only(sample_db, source_env):
    from browser_support import app_pages      # every page of app.py (read from it, no browser)
    for page in sorted({p.file for p in app_pages()}):
        assert_clean(run_app(sample_db, page))
    # The frame (app.py) says why nothing can be changed (AppTest runs it around the first page only).
    assert any("FUNNEL_SOURCE" in str(i.value) for i in run_app(sample_db).info)
    at = run_app(sample_db, "pages/stage_settings.py")
    assert not [b for b in at.button if "Save" in str(b.label)]       # a viewer: no write control


def test_the_served_figures_are_the_databases(sample_db, source_env, monkeypatch):
    served_finding = page_finding(run_app(sample_db, "pages/conversion.py"))
    monkeypatch.delenv(serving.SOURCE_ENV)
    assert page_finding(run_app(sample_db, "pages/conversion.py")) == served_finding


def test_a_new_derive_into_the_folder_is_what_the_next_run_shows(sample_db, served, tmp_path, monkeypatch):
    folder = tmp_path / "moving"
    shutil.copytree(served, folder)
    monkeypatch.setenv(serving.SOURCE_ENV, str(folder))
    at = run_app(sample_db, "pages/conversion.py")
    before = page_finding(at)
    # A new derive: the same data less the leads of one channel.
    for table in ("leads", "lead_visits", "lead_reach"):
        path = folder / f"{table}.parquet"
        kept = duckdb.sql(f"SELECT * FROM read_parquet('{path}') WHERE channel IS DISTINCT FROM 'webinar'").df()
        path.unlink()
        duckdb.sql("SELECT * FROM kept").write_parquet(str(path))
    at.run()
    assert_clean(at)
    assert page_finding(at) != before
