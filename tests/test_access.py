"""Who may change what (issue #15): roles from configuration, and every write function refusing
a role that may not write — below the UI, so a hidden widget or a crafted session cannot write.

Each write function is called as a viewer (refused, nothing changed: the data version, every
table's rows and the audit trail are as before), as an editor (configuration allowed, imports,
resets and restores refused) and as an admin."""
from __future__ import annotations

import shutil
import threading
from pathlib import Path
from datetime import date

import duckdb
import pytest

from funnel import access, audit, forecast, ingest, overview, scoring, store, targets, time_in_stage
from funnel.access import Actor, PermissionDenied, RoleConfig, role_for
from funnel.errors import FunnelError
from funnel.query import Scope
from funnel.sample import generate_sample

VIEWER = Actor("Vera Viewer", "viewer", "vera@example.com")
EDITOR = Actor("Ed Editor", "editor", "ed@example.com")
ADMIN = Actor("Ada Admin", "admin", "ada@example.com")



def _stored_leads(con) -> tuple[str, bytes]:
    """The stored leads as a CSV upload: an import that validates against the stored events."""
    return ("leads.csv", con.execute("SELECT * FROM leads").df().to_csv(index=False).encode())


# ---------------------------------------------------------------------------------------------
# Roles from configuration


CONFIG = RoleConfig.from_mapping({
    "admin": ["ada@example.com", "group:revops-admins"],
    "editor": ["@example.com", "group:revops"],
    "viewer": ["outsider@example.com"],          # listed as viewer, but the domain makes them editor
    "default": "viewer",
})


@pytest.mark.parametrize("email, groups, role", [
    ("ada@example.com", [], "admin"),              # listed by address
    ("ADA@Example.com", [], "admin"),              # addresses compare case-insensitively
    ("bob@example.com", [], "editor"),             # by domain
    ("bob@example.com", ["revops-admins"], "admin"),  # the highest role any entry gives wins
    ("carl@other.org", ["revops"], "editor"),      # by OIDC group
    ("carl@other.org", [], "viewer"),              # matches nothing: the default
    ("outsider@example.com", [], "editor"),        # viewer entry, editor domain: the higher one
    ("someone@example.com.evil.org", [], "viewer"),  # a domain entry matches the whole domain only
    (None, [], "viewer"),
])
def test_role_for(email, groups, role):
    assert role_for(email, groups, CONFIG) == role


def test_default_role_is_configurable_and_checked():
    assert role_for("x@y.z", [], RoleConfig.from_mapping({"default": "editor"})) == "editor"
    with pytest.raises(FunnelError, match="default role"):
        RoleConfig.from_mapping({"default": "owner"})


def test_actor_from_claims_reads_email_name_and_groups():
    a = access.actor_from_claims({"email": "carl@other.org", "name": "Carl", "groups": ["revops"]}, CONFIG)
    assert a == Actor("Carl", "editor", "carl@other.org")


def test_permission_denied_says_who_may_and_is_a_funnel_error():
    with pytest.raises(PermissionDenied) as e:
        access.require(VIEWER, "edit")
    assert isinstance(e.value, FunnelError) and e.value.code == "permission_denied"
    assert "Only editors and admins may change stage settings" in e.value.message
    assert "vera@example.com is signed in as viewer" in e.value.message
    with pytest.raises(PermissionDenied, match="Only admins may import data"):
        access.require(EDITOR, "import")


def test_unbound_process_acts_as_local_admin_and_binding_overrides_it():
    assert access.resolve().role == "admin"                 # CLI, scripts, tests
    with access.acting(VIEWER):
        assert access.resolve() is VIEWER
        assert access.resolve(EDITOR) is EDITOR            # an explicit actor wins
        with pytest.raises(PermissionDenied):
            access.require(None, "edit")
    assert access.resolve().role == "admin"


def test_binding_is_per_thread():
    """Two sessions' script threads: one bound as viewer must not make the other one a viewer."""
    seen = {}

    def session(name, actor):
        access.bind(actor)
        barrier.wait()
        seen[name] = access.resolve().role

    barrier = threading.Barrier(2)
    threads = [threading.Thread(target=session, args=("a", VIEWER)), threading.Thread(target=session, args=("b", ADMIN))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {"a": "viewer", "b": "admin"}


# ---------------------------------------------------------------------------------------------
# Every write function, as each role


@pytest.fixture
def db(sample_db, tmp_path):
    path = tmp_path / "access.duckdb"
    shutil.copy(sample_db, path)
    con = store.connect(path)
    scoring.save_scenario(con, "Q4", scoring.stored_rules(con)[:2], 30, actor=ADMIN)  # for make_scenario_current
    yield con
    con.close()


# name -> (permission it needs, call(con, actor))
WRITES = {
    "store.save_stage_config": ("edit", lambda con, a: store.save_stage_config(
        con, [{**r, "sla_hours": 48.0} if r["stage"] == "MQL" else r for r in store.stage_config_rows(con)], actor=a)),
    "store.rename_stage": ("edit", lambda con, a: store.rename_stage(con, "lead", "SAL", "Accepted", actor=a)),
    "forecast.save_probabilities": ("edit", lambda con, a: forecast.save_probabilities(con, {"Proposal": 0.4}, actor=a)),
    "forecast.reset_probabilities": ("edit", lambda con, a: forecast.reset_probabilities(con, actor=a)),
    "time_in_stage.save_sla_targets": ("edit", lambda con, a: time_in_stage.save_sla_targets(con, "lead", {"MQL": 30.0}, actor=a)),
    "scoring.save_rules": ("edit", lambda con, a: scoring.save_rules(con, scoring.stored_rules(con)[:3], 40, actor=a)),
    "scoring.save_scenario": ("edit", lambda con, a: scoring.save_scenario(con, "Q3", scoring.stored_rules(con), 45, actor=a)),
    "scoring.make_scenario_current": ("edit", lambda con, a: scoring.make_scenario_current(con, "Q4", actor=a)),
    "overview.save_snapshot": ("edit", lambda con, a: overview.save_snapshot(
        con, Scope(as_of=date(2026, 9, 30)), {"leads": 1}, actor=a)),
    "ingest.import_files": ("import", lambda con, a: ingest.import_files(con, leads=_stored_leads(con), actor=a)),
    "sample.generate_sample (reset)": ("reset", lambda con, a: generate_sample(con, leads=300, seed=3, actor=a)),
    "targets.save_targets": ("edit", lambda con, a: targets.save_targets(
        con, [{"period": "2026-09", "owner": "", "amount": 123000.0}], actor=a)),
    "targets.save_teams": ("edit", lambda con, a: targets.save_teams(con, [{"owner": "A. Owner", "team": "North"}], actor=a)),
    "targets.import_targets": ("edit", lambda con, a: targets.import_targets(con, _targets_file(con), actor=a)),
    "targets.record_call": ("edit", lambda con, a: targets.record_call(
        con, "2026-09", "", commit_amount=100000.0, best_case_amount=150000.0, note="from the test",
        scope=Scope(as_of=date(2026, 9, 15)), actor=a)),
}


def _targets_file(con):
    """A one-row targets CSV beside the test database."""
    path = Path(con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()")
                .fetchone()[0]).with_suffix(".targets.csv")
    path.write_text("period,owner,amount\n2026-Q3,,900000\n", encoding="utf-8")
    return path


def _state(con) -> tuple:
    """Everything a refused write must leave as it was."""
    tables = ("leads", "lead_events", "opportunities", "opportunity_events", "stage_config", "scoring_rules",
              "scoring_scenarios", "review_snapshots", "settings", "audit_log", "import_runs", "targets", "teams",
              "forecast_calls")
    return tuple(con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables)


@pytest.mark.parametrize("name", list(WRITES))
def test_a_viewer_is_refused_by_every_write_function_and_nothing_changes(db, name):
    permission, call = WRITES[name]
    before = _state(db)
    with pytest.raises(PermissionDenied, match=f"Only {access.who_may(permission)} may"):
        call(db, VIEWER)
    assert _state(db) == before


@pytest.mark.parametrize("name", list(WRITES))
def test_a_viewer_bound_to_the_thread_is_refused_without_an_explicit_actor(db, name):
    """A page that forgot to pass the actor still acts as the session's user, never as admin."""
    permission, call = WRITES[name]
    before = _state(db)
    with access.acting(VIEWER), pytest.raises(PermissionDenied):
        call(db, None)
    assert _state(db) == before


@pytest.mark.parametrize("actor", [EDITOR, ADMIN], ids=["editor", "admin"])
@pytest.mark.parametrize("name", list(WRITES))
def test_each_role_may_do_what_its_permission_allows(db, name, actor):
    permission, call = WRITES[name]
    if access.can(actor, permission):
        versions_before = store.data_version(db)
        call(db, actor)
        last = audit.entries(db, limit=1).iloc[0]
        assert (last["actor_email"], last["actor_role"]) == (actor.email, actor.role)   # and it is in the trail
        assert store.data_version(db) >= versions_before
    else:
        before = _state(db)
        with pytest.raises(PermissionDenied):
            call(db, actor)
        assert _state(db) == before


def test_an_admin_may_do_everything():
    assert all(access.can(ADMIN, p) for p in access.PERMISSIONS)
    assert [p for p in access.PERMISSIONS if access.can(EDITOR, p)] == ["view", "edit"]
    assert [p for p in access.PERMISSIONS if access.can(VIEWER, p)] == ["view"]


def test_the_cli_acts_as_local_admin_and_is_audited(sample_copy, monkeypatch):
    from funnel.__main__ import main

    monkeypatch.setenv("FUNNEL_USER", "ops-laptop")
    assert main(["sample", "--db", str(sample_copy), "--leads", "300", "--seed", "3"]) == 0
    con = duckdb.connect(str(sample_copy))
    try:
        rows = con.execute("SELECT actor_name, actor_role, action FROM audit_log ORDER BY audit_id DESC LIMIT 1").fetchall()
        runs = con.execute("SELECT run_by FROM import_runs ORDER BY run_id DESC LIMIT 1").fetchall()
    finally:
        con.close()
    assert rows == [("ops-laptop", "admin", "reset")]
    assert runs == [("ops-laptop",)]        # the import run names the person, not the server's OS user
