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
