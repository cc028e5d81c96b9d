"""The audit trail (issue #15): who, when, what, before and after, and the data version before the
change (the restore point). Rows are written in the change's own transaction."""
from __future__ import annotations

import json
import shutil
import threading
from datetime import date, timedelta

import pytest

from funnel import access, audit, forecast, ingest, scoring, store
from funnel.access import Actor
from funnel.errors import ImportValidationError

EDITOR = Actor("Ed Editor", "editor", "ed@example.com")
ADMIN = Actor("Ada Admin", "admin", "ada@example.com")


@pytest.fixture
def con(sample_db, tmp_path):
    path = tmp_path / "audit.duckdb"
    shutil.copy(sample_db, path)
    c = store.connect(path)
    yield c
    c.close()


def test_probability_change_records_before_after_and_the_restore_point(con):
    old = {s.stage: s.probability for s in store.stages(con, "opportunity")}["Proposal"]
    v0 = store.data_version(con)
    forecast.save_probabilities(con, {"Proposal": 0.35, "Discovery": 0.25}, actor=EDITOR)
    row = audit.entry(con, int(audit.entries(con, limit=1).iloc[0]["audit_id"]))
    assert row["action"] == "probabilities"
    assert (row["actor_name"], row["actor_email"], row["actor_role"]) == ("Ed Editor", "ed@example.com", "editor")
    # Discovery was already 25%: only Proposal changed, and only it is in before/after.
    assert row["before"] == {"Proposal": old} and row["after"] == {"Proposal": 0.35}
    assert row["data_version_before"] == v0 and row["data_version_after"] == store.data_version(con) == v0 + 1
    assert "Proposal 50% → 35%" in row["summary"]


def test_import_records_files_row_counts_and_table_counts(con):
    leads = con.execute("SELECT * FROM leads").df()
    before = store.table_counts(con)
    ingest.import_files(con, leads=("my leads.csv", leads.to_csv(index=False).encode()), actor=ADMIN)
    row = audit.entry(con, int(audit.entries(con, actions=["import"], limit=1).iloc[0]["audit_id"]))
    assert row["details"]["files"] == {"leads": "my leads.csv"}
    assert row["details"]["rows"]["leads"]["loaded"] == len(leads)
    assert row["before"] == before and row["after"] == store.table_counts(con)
    run_by = con.execute("SELECT run_by FROM import_runs WHERE run_id = ?", [row["details"]["run_id"]]).fetchall()
    assert run_by == [("ada@example.com",)]


def test_failed_import_leaves_database_and_trail_unchanged(con):
    tables = ("leads", "lead_events", "opportunities", "opportunity_events", "audit_log", "settings")
    before = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}
    bad = b"lead_id,created_at\nZ1,2026-01-01\nZ2,not a date\n"
    with pytest.raises(ImportValidationError):
        ingest.import_files(con, leads=("bad.csv", bad), actor=ADMIN)
    assert {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables} == before


def test_rule_and_scenario_changes_are_recorded(con):
    rules = scoring.stored_rules(con)
    scoring.save_rules(con, rules[:-1], 42, actor=EDITOR)
    scoring.save_scenario(con, "Stricter", rules, 60, actor=EDITOR)
    scoring.make_scenario_current(con, "Stricter", actor=EDITOR)
    trail = audit.entries(con)
    assert trail["action"].tolist()[:3] == ["scenario_current", "scenario_saved", "rules"]
    rules_row = audit.entry(con, int(trail.iloc[2]["audit_id"]))
    assert rules_row["before"]["threshold"] == 50.0 and rules_row["after"]["threshold"] == 42.0
    assert len(rules_row["before"]["rules"]) == len(rules) and len(rules_row["after"]["rules"]) == len(rules) - 1
    current = audit.entry(con, int(trail.iloc[0]["audit_id"]))
    assert current["details"] == {"name": "Stricter"} and current["after"]["threshold"] == 60.0


def test_entries_filter_by_action_actor_and_date(con):
    forecast.save_probabilities(con, {"Proposal": 0.4}, actor=EDITOR)
    store.rename_stage(con, "lead", "SAL", "Accepted", actor=ADMIN)
    today = audit.entries(con, limit=1).iloc[0]["changed_at"].date()
    assert audit.entries(con, actions=["stage_rename"])["actor_email"].tolist() == ["ada@example.com"]
    assert audit.entries(con, actor="ed@example.com")["action"].tolist() == ["probabilities"]
    assert audit.entries(con, actor="Ed Editor")["action"].tolist() == ["probabilities"]
    assert len(audit.entries(con, since=today, until=today)) >= 2
    assert audit.entries(con, since=today + timedelta(days=1)).empty
    assert audit.entries(con, until=today - timedelta(days=1), actions=["probabilities"]).empty
    assert {"probabilities", "stage_rename"} <= set(audit.actions(con))
    assert {"ed@example.com", "ada@example.com"} <= set(audit.actors(con))


def test_a_change_that_rolls_back_leaves_no_audit_row(con, monkeypatch):
    """The row is written in the change's transaction: if the change fails after it, neither lands."""
    calls = []

    def failing_bump(c):
        calls.append(1)
        raise RuntimeError("disk full")
    monkeypatch.setattr(store, "bump_data_version", failing_bump)
    n = len(audit.entries(con))
    with pytest.raises(RuntimeError):
        forecast.save_probabilities(con, {"Proposal": 0.4}, actor=EDITOR)
    assert calls and len(audit.entries(con)) == n
    assert {s.stage: s.probability for s in store.stages(con, "opportunity")}["Proposal"] == 0.5


def test_two_sessions_editing_at_once_both_land_and_both_are_audited(sample_copy, monkeypatch):
    """Two sessions' threads write through ui.writer (the app's write path): one changes
    probabilities while the other saves rules, five times each. Every change lands, each has its
    audit row, and each row's data versions are consecutive (no write saw another half-done)."""
    monkeypatch.setenv("FUNNEL_DB", str(sample_copy))
    import ui

    errors = []

    def session(kind):
        try:
            for i in range(5):
                with ui.writer() as w:
                    if kind == "probabilities":
                        forecast.save_probabilities(w, {"Proposal": 0.30 + i / 100}, actor=EDITOR)
                    else:
                        scoring.save_rules(w, scoring.stored_rules(w), 40 + i, actor=ADMIN)
        except Exception as e:  # noqa: BLE001 - re-raised below on the test's thread
            errors.append(e)

    threads = [threading.Thread(target=session, args=(k,)) for k in ("probabilities", "rules")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    cur = ui.con()
    try:
        assert {s.stage: s.probability for s in store.stages(cur, "opportunity")}["Proposal"] == pytest.approx(0.34)
        assert scoring.stored_threshold(cur) == 44
        trail = audit.entries(cur, actions=["probabilities", "rules"])
    finally:
        cur.close()
    assert sorted(trail["action"].value_counts().items()) == [("probabilities", 5), ("rules", 5)]
    assert (trail["data_version_after"] == trail["data_version_before"] + 1).all()
    assert trail["data_version_before"].is_unique


def test_restore_before_a_change_is_for_admins_and_brings_the_settings_back(sample_copy):
    """Through versions (the app's write path): a probability change, then restore to before it."""
    from funnel import versions

    with versions.writing(sample_copy, "edit") as w:
        before = {s.stage: s.probability for s in store.stages(w, "opportunity")}
        forecast.save_probabilities(w, {"Proposal": 0.2}, actor=EDITOR)
    reader = store.open_read_only(versions.reader_path(sample_copy))
    try:
        change = int(audit.entries(reader, actions=["probabilities"], limit=1).iloc[0]["audit_id"])
        points = audit.restore_points(reader, sample_copy)
    finally:
        reader.close()
    assert change in points["audit_id"].tolist()
    assert (points["size_bytes"] > 0).all()
    with pytest.raises(access.PermissionDenied, match="Only admins may restore"):
        audit.restore_before(sample_copy, change, actor=EDITOR)
    audit.restore_before(sample_copy, change, actor=ADMIN)
    reader = store.open_read_only(versions.reader_path(sample_copy))
    try:
        assert {s.stage: s.probability for s in store.stages(reader, "opportunity")} == before
        trail = audit.entries(reader)
        assert trail["action"].tolist()[:2] == ["restore", "probabilities"]   # the undone change stays listed
        restore = audit.entry(reader, int(trail.iloc[0]["audit_id"]))
    finally:
        reader.close()
    assert restore["actor_email"] == "ada@example.com" and restore["details"]["audit_id"] == change
