"""Serving and importing at the same time (issue 19).

Regression: the app kept the DuckDB file open read-write for its whole life, so the nightly
``python -m funnel import`` (and even ``report``) failed while it ran. Now the app reads one
immutable version at a time and a CLI import swaps a new one in: the import lands while the app
is up, the app shows the new figures on the next interaction without a restart, and no run in
between errors or mixes old and new tables.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import assert_clean, run_app

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "data" / "templates"
DATA_PAGE = "pages/data.py"


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _cli(*args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "funnel", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "FUNNEL_LOCK_WAIT": "60"})


def _template_rows(name: str) -> int:
    return sum(1 for _ in open(TEMPLATES / name)) - 1


def test_cli_import_lands_while_the_app_serves_and_the_app_shows_it_next(sample_copy):
    at = run_app(sample_copy, DATA_PAGE)
    assert_clean(at)
    assert _metric(at, "Leads") == "3,000"
    old_opportunities = _metric(at, "Opportunities")

    new_leads = _template_rows("leads.csv")
    proc = _cli("import", "--db", str(sample_copy), "--leads", str(TEMPLATES / "leads.csv"),
                "--lead-events", str(TEMPLATES / "lead_events.csv"))
    # Interactions while the import runs: every run is clean and shows one version, whole.
    seen = set()
    while proc.poll() is None:
        at.run()
        assert_clean(at)
        seen.add((_metric(at, "Leads"), _metric(at, "Opportunities")))
    out, err = proc.communicate()
    assert proc.returncode == 0, err
    assert "Imported" in out
    assert seen <= {("3,000", old_opportunities), (f"{new_leads:,}", old_opportunities)}, seen

    at.run()                                   # the next interaction, same server, no restart
    assert_clean(at)
    assert _metric(at, "Leads") == f"{new_leads:,}"


def test_report_runs_while_the_app_serves(sample_copy):
    at = run_app(sample_copy, DATA_PAGE)
    assert_clean(at)
    proc = _cli("report", "--json", "--db", str(sample_copy))
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert json.loads(out)
    at.run()
    assert_clean(at)


def test_an_import_in_the_app_and_one_from_the_cli_both_land(sample_copy):
    """Two writers at once — the app's own import and the nightly job — queue on the lock file:
    neither fails, and the one that ran last is what the app shows."""
    at = run_app(sample_copy, DATA_PAGE)
    proc = _cli("import", "--db", str(sample_copy), "--leads", str(TEMPLATES / "leads.csv"),
                "--lead-events", str(TEMPLATES / "lead_events.csv"))
    import ui
    from funnel import ingest, versions

    with ui.writer("import") as cur:          # the app's write path, while the CLI's may run
        ingest.import_files(cur, leads=str(TEMPLATES / "leads.csv"), lead_events=str(TEMPLATES / "lead_events.csv"))
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    labels = [v.label for v in versions.list_versions(sample_copy)]
    assert labels.count("import") == 2
    at.run()
    assert_clean(at)
    assert _metric(at, "Leads") == f"{_template_rows('leads.csv'):,}"


# ---------------------------------------------------------------------------------------------
# The Data page's import: what failed, in words


FIX = ROOT / "tests" / "fixtures" / "presets"


from test_pages_data import _hubspot_from_folder, _import_folders  # noqa: E402,F401  (autouse fixture: admin-set import folders)


def test_an_unexpected_failure_during_an_import_says_what_failed(sample_copy, monkeypatch):
    """Regression: a failure outside the FunnelError family escaped to the page's generic guard
    ("Could not compute the import: ConversionException: …")."""
    import duckdb

    from funnel import presets, versions

    def broken(*a, **k):
        raise duckdb.ConversionException("Conversion Error: Could not convert string 'n/a' to INT64")

    at = _hubspot_from_folder(run_app(sample_copy, DATA_PAGE), FIX)
    ident = versions.identity(sample_copy)
    monkeypatch.setattr(presets, "import_preset", broken)
    at.button(key="imp_go_hubspot_contacts").click().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any("The import failed and nothing was changed: Could not convert string 'n/a' to INT64" in e
               for e in errors), errors
    assert not any("ConversionException" in e or "Could not compute" in e for e in errors), errors
    assert versions.identity(sample_copy) == ident           # the copy was thrown away
    assert _metric(at, "Leads") == "3,000"


def test_a_refused_import_in_the_app_is_still_logged(sample_copy, tmp_path):
    from funnel import health, store

    bad = (FIX / "hubspot_contacts.csv").read_text().replace("2025-01-09 08:30", "2025-13-45 08:30")
    (tmp_path / "hubspot_contacts.csv").write_text(bad)
    at = _hubspot_from_folder(run_app(sample_copy, DATA_PAGE), tmp_path)
    at.button(key="imp_go_hubspot_contacts").click().run()
    assert "Nothing was imported" in " ".join(e.value for e in at.error)
    con = store.open_read_only(sample_copy)
    try:
        runs = health.import_history(con, 10)
    finally:
        con.close()
    assert "failed" in set(runs["status"])
    assert _metric(at, "Leads") == "3,000"


def test_a_script_run_reads_one_version_even_when_a_write_lands_during_it(sample_copy, monkeypatch):
    """The pin: every ui.con() of one run reads the version the run started with; the next run
    reads the new one. (A stand-in for Streamlit's run context: ``cursors`` is a new dict per run.)"""
    from types import SimpleNamespace

    from streamlit.runtime.scriptrunner_utils import script_run_context

    import ui
    from funnel import versions

    monkeypatch.setenv("FUNNEL_DB", str(sample_copy))
    run = SimpleNamespace(cursors={})
    monkeypatch.setattr(script_run_context, "get_script_run_ctx", lambda suppress_warning=False: run)

    def leads() -> int:
        cur = ui.con()
        try:
            return cur.execute("SELECT count(*) FROM leads").fetchone()[0]
        finally:
            cur.close()

    assert leads() == 3000
    with versions.writing(sample_copy, "another process's import") as con:
        con.execute("DELETE FROM leads WHERE lead_id IN (SELECT lead_id FROM leads ORDER BY lead_id LIMIT 100)")
    assert leads() == 3000                      # same run: still the version it started with
    run.cursors = {}                            # the next run (the next interaction)
    assert leads() == 2900
    ui._connection.clear()
