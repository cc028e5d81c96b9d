"""Storage (issue 19): immutable database versions swapped atomically, readers that coexist with
writers, database-open errors as one sentence, and the kept versions undo builds on."""
from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pytest

from funnel import store, versions

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "data" / "templates"


def _count(db, table="audit_log") -> int:
    con = store.open_read_only(db)
    try:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        con.close()


def _dv(db) -> int:
    con = store.open_read_only(db)
    try:
        return store.data_version(con)
    finally:
        con.close()


@pytest.fixture
def db(tmp_path) -> Path:
    path = tmp_path / "v.duckdb"
    with versions.writing(path, "create") as con:
        con.execute("DROP TABLE IF EXISTS audit_log")   # the schema's own (funnel/audit.py); a stand-in here
        con.execute("CREATE TABLE audit_log (entry INTEGER, what VARCHAR)")
    return path


# ---------------------------------------------------------------------------------------------
# writing


def test_writing_swaps_in_a_new_file_and_keeps_old_readers_on_theirs(db):
    reader = duckdb.connect(str(versions.reader_path(db)), read_only=True, config=store.CONNECTION_CONFIG)
    inode_before = os.stat(db).st_ino
    with versions.writing(db, "add one") as con:
        con.execute("INSERT INTO audit_log VALUES (1, 'first')")
    assert os.stat(db).st_ino != inode_before                        # replaced, not written in place
    assert _count(db) == 1                                           # a new reader sees the change
    assert reader.execute("SELECT count(*) FROM audit_log").fetchone()[0] == 0   # the old one its version
    reader.close()


def test_writing_bumps_the_data_version_of_every_version(db):
    v0 = _dv(db)
    with versions.writing(db, "no bump by the caller") as con:
        con.execute("INSERT INTO audit_log VALUES (1, 'x')")
    assert _dv(db) == v0 + 1
    with versions.writing(db, "caller bumps") as con:
        store.bump_data_version(con)
    assert _dv(db) == v0 + 2                                         # bumped once, not twice


def test_an_exception_in_a_write_leaves_the_live_file_untouched(db):
    ident, v0 = versions.identity(db), _dv(db)
    with pytest.raises(ValueError):
        with versions.writing(db, "fails") as con:
            con.execute("INSERT INTO audit_log VALUES (1, 'x')")
            raise ValueError("boom")
    assert versions.identity(db) == ident and _dv(db) == v0 and _count(db) == 0
    assert not [p for p in db.parent.iterdir() if p.name.endswith(".tmp")]   # the copy is gone


def test_commit_on_exceptions_commit_then_propagate(db):
    class Rerun(Exception):
        pass

    with pytest.raises(Rerun):
        with versions.writing(db, "then rerun", commit_on=(Rerun,)) as con:
            con.execute("INSERT INTO audit_log VALUES (1, 'x')")
            raise Rerun()
    assert _count(db) == 1


def test_writers_in_two_threads_queue_and_both_land(db):
    def add(i):
        with versions.writing(db, f"thread {i}") as con:
            con.execute("INSERT INTO audit_log VALUES (?, 'thread')", [i])

    threads = [threading.Thread(target=add, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert _count(db) == 4


def test_a_writer_waits_for_the_lock_then_says_so(db, monkeypatch):
    monkeypatch.setenv("FUNNEL_LOCK_WAIT", "0.3")
    fd = os.open(versions.lock_path(db), os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)          # another writer, as far as the lock file tells
    try:
        with pytest.raises(versions.DatabaseBusyError) as e:
            with versions.writing(db, "blocked"):
                pass
        assert "Wait for it to finish" in str(e.value)
    finally:
        os.close(fd)


def test_a_database_written_before_versioning_is_kept_as_a_version(tmp_path):
    path = tmp_path / "old.duckdb"
    con = store.connect(path)                 # the old way: written in place, no versions folder
    con.execute("DROP TABLE IF EXISTS audit_log")   # the schema's own (funnel/audit.py); a stand-in here
    con.execute("CREATE TABLE audit_log (entry INTEGER)")
    con.close()
    with versions.writing(path, "first swap") as con:
        con.execute("INSERT INTO audit_log VALUES (1)")
    labels = [v.label for v in versions.list_versions(path)]
    assert labels == ["first swap", "before versioning"]


# ---------------------------------------------------------------------------------------------
# list_versions / restore


def test_list_versions_keeps_the_live_one_and_ten_before_it(db):
    for i in range(14):
        with versions.writing(db, f"edit {i}") as con:
            con.execute("INSERT INTO audit_log VALUES (?, 'edit')", [i])
    kept = versions.list_versions(db)
    assert len(kept) == 1 + versions.KEEP_PREVIOUS
    assert kept[0].is_current and kept[0].label == "edit 13" and kept[0].data_version == _dv(db)
    assert not any(v.is_current for v in kept[1:])
    assert [v.data_version for v in kept] == sorted((v.data_version for v in kept), reverse=True)
    assert len(list(versions.versions_dir(db).glob("*.duckdb"))) == len(kept)   # older files unlinked
    for v in kept:
        assert v.size_bytes == v.path.stat().st_size and v.saved_at.tzinfo is not None


def test_restore_brings_back_the_data_with_a_newer_version_and_the_current_audit_log(db):
    with versions.writing(db, "settings") as con:
        con.execute("CREATE TABLE notes (t VARCHAR)")
        con.execute("INSERT INTO notes VALUES ('before')")
    target = versions.list_versions(db)[0]
    with versions.writing(db, "change") as con:
        con.execute("UPDATE notes SET t = 'after'")
        con.execute("INSERT INTO audit_log VALUES (1, 'changed notes')")
    dv_now = _dv(db)
    info = versions.restore(db, target.data_version, label="undo change")
    assert info.is_current and info.label == "undo change"
    assert info.data_version == dv_now + 1 == _dv(db)              # past the live one: no cache survives
    con = store.open_read_only(db)
    assert con.execute("SELECT t FROM notes").fetchall() == [("before",)]         # data rolled back
    assert con.execute("SELECT what FROM audit_log").fetchall() == [("changed notes",)]   # the trail is not
    con.close()


def test_restore_creates_a_carried_table_the_old_version_lacked(tmp_path):
    path = tmp_path / "r.duckdb"
    with versions.writing(path, "no audit yet"):
        pass
    old = versions.list_versions(path)[0].data_version
    # (every version has the schema's audit_log now: a table of the test's own stands for a new one)
    with versions.writing(path, "notes appear") as con:
        con.execute("CREATE TABLE notes_log (entry INTEGER PRIMARY KEY)")
        con.execute("INSERT INTO notes_log VALUES (7)")
    versions.restore(path, old, carry_tables=("notes_log",))
    assert _count(path, "notes_log") == 1


def test_restore_of_a_version_not_kept_says_which_are(db):
    with pytest.raises(Exception) as e:
        versions.restore(db, 999)
    assert "no kept version" in str(e.value)


# ---------------------------------------------------------------------------------------------
# Opening errors: one sentence, exit 2, no traceback


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "funnel", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300)


def _one_sentence(r):
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, r.stderr
    return lines[0]


@pytest.mark.parametrize("command", ["report", "import"])
def test_db_that_is_a_directory_is_one_sentence(tmp_path, command):
    extra = ["--leads", str(TEMPLATES / "leads.csv")] if command == "import" else []
    msg = _one_sentence(_cli(command, "--db", str(tmp_path), *extra))
    assert "is a folder, not a database file" in msg


@pytest.mark.parametrize("command", ["report", "import"])
def test_garbage_file_as_db_is_one_sentence(tmp_path, command):
    path = tmp_path / "garbage.duckdb"
    path.write_bytes(os.urandom(20000))
    extra = ["--leads", str(TEMPLATES / "leads.csv")] if command == "import" else []
    msg = _one_sentence(_cli(command, "--db", str(path), *extra))
    assert "is not a DuckDB database file" in msg


@pytest.mark.parametrize("command", ["report", "import"])
def test_sqlite_file_as_db_is_one_sentence_and_loads_no_extension(tmp_path, command):
    import sqlite3

    path = tmp_path / "crm.db"
    c = sqlite3.connect(path)
    c.execute("CREATE TABLE leads (lead_id TEXT)")
    c.commit()
    c.close()
    extra = ["--leads", str(TEMPLATES / "leads.csv")] if command == "import" else []
    # No extension directory to load from and no network: DuckDB must not even try.
    msg = _one_sentence(_cli(command, "--db", str(path), *extra, env={"HOME": str(tmp_path)}))
    assert "is an SQLite database" in msg
    assert not (tmp_path / ".duckdb").exists()


def test_connections_never_autoload_extensions(tmp_path):
    con = store.connect(tmp_path / "x.duckdb")
    settings = dict(con.execute("SELECT name, value FROM duckdb_settings() WHERE name IN "
                                "('autoload_known_extensions', 'autoinstall_known_extensions')").fetchall())
    assert settings == {"autoload_known_extensions": "false", "autoinstall_known_extensions": "false"}


def test_report_on_a_mistyped_path_creates_nothing(tmp_path):
    missing = tmp_path / "typo" / "funnel.duckbd"
    msg = _one_sentence(_cli("report", "--json", "--db", str(missing)))
    assert "There is no database at" in msg
    assert not missing.exists() and not missing.parent.exists()


def test_import_while_another_writer_holds_the_lock_is_one_sentence(sample_copy):
    fd = os.open(versions.lock_path(sample_copy), os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        r = _cli("import", "--db", str(sample_copy), "--leads", str(TEMPLATES / "leads.csv"),
                 "--lead-events", str(TEMPLATES / "lead_events.csv"), env={"FUNNEL_LOCK_WAIT": "0.5"})
    finally:
        os.close(fd)
    msg = _one_sentence(r)
    assert "did not start" in msg and "Wait for it to finish" in msg


def test_full_disk_during_a_write_is_one_sentence_and_changes_nothing(sample_copy, monkeypatch, capsys):
    import errno

    from funnel import __main__ as cli

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    ident = versions.identity(sample_copy)
    monkeypatch.setattr(versions.os, "copy_file_range", full)
    monkeypatch.setattr(versions.shutil, "copyfileobj", full)
    rc = cli.main(["import", "--db", str(sample_copy), "--leads", str(TEMPLATES / "leads.csv"),
                   "--lead-events", str(TEMPLATES / "lead_events.csv")])
    err = capsys.readouterr().err
    assert rc == 2 and "is full" in err and len(err.strip().splitlines()) == 1
    assert versions.identity(sample_copy) == ident


def test_read_only_file_system_is_one_sentence(sample_copy, monkeypatch, capsys):
    """As root a chmod does not stop writes, and mounting needs privileges: the file system's
    EROFS is simulated where the lock file is created."""
    import errno

    from funnel import __main__ as cli

    real_open = os.open

    def ro_open(path, flags, *a, **k):
        if str(path).endswith(".lock") or flags & os.O_CREAT:
            raise OSError(errno.EROFS, "Read-only file system")
        return real_open(path, flags, *a, **k)

    monkeypatch.setattr(versions.os, "open", ro_open)
    rc = cli.main(["import", "--db", str(sample_copy), "--leads", str(TEMPLATES / "leads.csv")])
    err = capsys.readouterr().err
    assert rc == 2 and "read-only file system" in err and len(err.strip().splitlines()) == 1
    monkeypatch.undo()
    # Reading needs no write at all: report works on the same (read-only) place.
    assert _cli("report", "--json", "--db", str(sample_copy)).returncode == 0


def test_report_works_while_another_process_holds_the_database_open(sample_copy):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, duckdb; sys.path.insert(0, '.');"
         "from funnel import store; c = store.open_read_only(sys.argv[1]);"
         "c.execute('SELECT count(*) FROM leads').fetchall(); print('open', flush=True); sys.stdin.read()",
         str(sample_copy)], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        r = _cli("report", "--json", "--db", str(sample_copy))
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)                         # a whole report, not an error
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


# ---------------------------------------------------------------------------------------------
# The same data gives the same report, byte for byte


@pytest.fixture(scope="module")
def big_sample(tmp_path_factory) -> Path:
    """300,000 leads: enough rows that DuckDB sums in parallel (the 3,000-lead sample fits in one
    row group and was always summed in one thread, so it never showed the defect)."""
    from funnel.sample import generate_sample

    path = tmp_path_factory.mktemp("big") / "big.duckdb"
    con = store.connect(path)
    generate_sample(con, leads=300_000, seed=7)
    con.close()
    return path


def test_report_json_is_byte_identical_across_runs(big_sample):
    """Regression: money sums were parallel SUMs of doubles, whose last digits depend on the order
    threads combine their partial sums; the backtest's forecasts differed between runs. Money is
    now summed as DECIMAL(38, 12) — exact, so in any order the same."""
    from funnel.query import Scope
    from funnel.report import build_report

    con = store.open_read_only(big_sample)
    con.execute("SET threads = 4")
    try:
        texts = {json.dumps(build_report(con, Scope()), indent=2, default=str) for _ in range(4)}
    finally:
        con.close()
    assert len(texts) == 1
    cli = _cli("report", "--json", "--db", str(big_sample))
    assert cli.returncode == 0 and cli.stdout.strip() == texts.pop().strip()
