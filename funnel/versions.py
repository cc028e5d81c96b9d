"""Immutable database versions, swapped in atomically: serving and writing at the same time.

The live file (``data/funnel.duckdb`` or ``$FUNNEL_DB``) is never written in place while it is
served. A writer takes the lock file ``<db>.lock`` (``fcntl.flock``, so writers in other processes
and other threads queue), copies the live file to a temporary file in the same folder, opens the
copy read-write, applies its change, checkpoints, and ``os.replace``s the copy over the live
file. Readers open read-only and keep whatever version they opened; a reader that opens again
after the swap gets the new version. A failed write leaves the live file untouched.

Every version also gets a hard link in ``<db>.versions/`` (no extra disk while it is the live
file), named after the data version it holds, with a JSON note (data version, when it was made
live, the action that made it, its size). The live version and the ten before it are kept, older
ones are unlinked. ``restore`` swaps an old version back in as a new one. Readers in a long-running
process (the app) open the version link rather than the live path: DuckDB caches an open database
by its path within a process, so a second ``connect`` to the live path after a swap would return
the old one.

Every version holds a data version of its own: a write that does not bump it gets it bumped, so
``data_version`` names a version and cached figures never outlive one.
"""
from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from . import store
from .errors import FunnelError
from .i18n import list_of, msg

#: Versions kept besides the live one.
KEEP_PREVIOUS = 10

#: Seconds a writer waits for another writer before it gives up with a sentence ($FUNNEL_LOCK_WAIT).
DEFAULT_LOCK_WAIT_S = 30.0


class DatabaseBusyError(store.DatabaseError):
    code = "database_busy"


@dataclass(frozen=True)
class VersionInfo:
    data_version: int
    saved_at: datetime          # when this version became the live file (UTC)
    label: str                  # the action that made it: "import", "stage edit", …
    size_bytes: int
    path: Path                  # the version's own file in <db>.versions/ (open it read-only)
    is_current: bool = False    # it is the live file now


def live_path(db_path: str | os.PathLike | None = None) -> Path:
    """The live file as an absolute path (a symlinked database is swapped at its target)."""
    return Path(os.path.realpath(store.resolve_db_path(db_path)))


def versions_dir(db_path) -> Path:
    db = live_path(db_path)
    return db.with_name(db.name + ".versions")


def lock_path(db_path) -> Path:
    db = live_path(db_path)
    return db.with_name(db.name + ".lock")


def lock_wait_s() -> float:
    try:
        return float(os.environ.get("FUNNEL_LOCK_WAIT", DEFAULT_LOCK_WAIT_S))
    except ValueError:
        return DEFAULT_LOCK_WAIT_S


@contextmanager
def exclusive(db_path, wait_s: float | None = None):
    """Hold the writers' lock of ``db_path``; after ``wait_s`` seconds of waiting, a sentence."""
    db = live_path(db_path)
    wait_s = lock_wait_s() if wait_s is None else wait_s
    try:
        fd = os.open(lock_path(db), os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as e:
        raise store.database_error(db, e) from None
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise DatabaseBusyError(
                        f"Another change to {db.name} (an import, a reset or an edit) has been running for "
                        f"{wait_s:.0f} seconds, so this one did not start.",
                        hint="Wait for it to finish and try again.") from None
                time.sleep(0.05)
        try:
            yield db
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------------------------
# The version folder


def _identity(st: os.stat_result) -> tuple:
    return (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)


def identity(path) -> tuple | None:
    """What changes when the file at ``path`` is replaced or written (None: no file)."""
    try:
        return _identity(os.stat(path))
    except FileNotFoundError:
        return None


def _records(db: Path) -> list[tuple[dict, Path]]:
    """(note, file) of every version whose file is still what its note says."""
    folder = versions_dir(db)
    out = []
    try:
        notes = sorted(folder.glob("*.json"))
    except OSError:
        return []
    for note_path in notes:
        file = note_path.with_suffix(".duckdb")
        try:
            note = json.loads(note_path.read_text())
            st = os.stat(file)
        except (OSError, ValueError):
            continue
        # A version whose file changed since (someone wrote the live file in place) holds
        # something else now: it is no version of anything.
        if (st.st_ino, st.st_mtime_ns, st.st_size) != (note.get("ino"), note.get("mtime_ns"), note.get("size_bytes")):
            continue
        out.append((note, file))
    return out


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _link_version(db: Path, file: Path, data_version: int, label: str) -> Path:
    """Give ``file`` (the live file or the copy about to become it) a link and a note."""
    folder = versions_dir(db)
    folder.mkdir(exist_ok=True)
    stem = f"v{data_version:010d}-{uuid.uuid4().hex[:8]}"
    link = folder / f"{stem}.duckdb"
    try:
        os.link(file, link)
    except OSError as e:
        if e.errno not in (errno.EPERM, errno.EXDEV, errno.EMLINK, errno.ENOTSUP):
            raise
        shutil.copyfile(file, link)   # a file system without hard links: a real copy
    st = os.stat(link)
    note = {"data_version": data_version, "saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "label": label, "size_bytes": st.st_size, "ino": st.st_ino, "mtime_ns": st.st_mtime_ns}
    tmp = folder / f".{stem}.json.tmp"
    tmp.write_text(json.dumps(note))
    os.replace(tmp, folder / f"{stem}.json")
    return link


def _link_of(db: Path, ident: tuple | None) -> Path | None:
    if ident is None:
        return None
    for _, file in _records(db):
        if identity(file) == ident:
            return file
    return None


def _prune(db: Path) -> None:
    live = identity(db)
    recs = sorted(_records(db), key=lambda r: r[0]["data_version"], reverse=True)
    kept = 0
    keep: set[Path] = set()
    for _, file in recs:
        if identity(file) == live:
            keep.add(file)
        elif kept < KEEP_PREVIOUS:
            keep.add(file)
            kept += 1
    folder = versions_dir(db)
    for file in folder.glob("*.duckdb"):
        if file not in keep:
            for p in (file, file.with_suffix(".json")):
                try:
                    p.unlink()
                except OSError:
                    pass
    for stale in folder.glob(".*.tmp"):
        try:
            stale.unlink()
        except OSError:
            pass


def list_versions(db_path=None) -> list[VersionInfo]:
    """The kept versions, newest first; the live one says ``is_current``."""
    db = live_path(db_path)
    live = identity(db)
    out = [VersionInfo(data_version=int(n["data_version"]), saved_at=datetime.fromisoformat(n["saved_at"]),
                       label=str(n.get("label") or ""), size_bytes=int(n["size_bytes"]), path=file,
                       is_current=identity(file) == live)
           for n, file in _records(db)]
    return sorted(out, key=lambda v: v.data_version, reverse=True)


def reader_path(db_path=None) -> Path:
    """A path to open the live version by, unique to that version: its link in ``<db>.versions/``.

    A live file that has no link yet (made before versioning, or copied in by hand) gets one. Where
    links cannot be made (a read-only folder) this is the live path itself.
    """
    db = live_path(db_path)
    ident = identity(db)
    found = _link_of(db, ident)
    if found is not None or ident is None:
        return found or db
    try:
        with exclusive(db, wait_s=lock_wait_s()):
            ident = identity(db)
            found = _link_of(db, ident)
            if found is not None:
                return found
            con = store.open_read_only(db)
            try:
                dv = store.data_version(con)
            finally:
                con.close()
            if identity(db) != ident:        # replaced meanwhile (by a writer without our lock)
                return db
            link = _link_version(db, db, dv, "opened")
            return link if identity(link) == ident else db
    except (store.DatabaseError, OSError):
        return db


# ---------------------------------------------------------------------------------------------
# Writing


class _Work:
    """A copy of a version being changed, on its way to become the live file."""

    def __init__(self, db: Path, source: Path | None):
        self.db = db
        self.tmp = db.with_name(f".{db.name}.{uuid.uuid4().hex[:12]}.tmp")
        self.con = None
        store.check_database_file(db, must_exist=False)
        try:
            if source is not None and source.exists():
                _copy(source, self.tmp)
                wal = Path(str(source) + ".wal")
                if wal.exists():      # written in place by an older server: its last changes are here
                    _copy(wal, Path(str(self.tmp) + ".wal"))
            self.con = store.connect(self.tmp)
            self.before = store.data_version(self.con) if source is not None and source.exists() else 0
        except BaseException as e:
            self.discard()
            if isinstance(e, store.DatabaseError) and e.__cause__ is not None:
                raise store.database_error(db, e.__cause__) from None   # name the live file, not the copy
            if isinstance(e, (OSError, duckdb.Error)):
                raise store.database_error(db, e) from None
            raise

    def discard(self) -> None:
        if self.con is not None:
            try:
                self.con.close()
            except duckdb.Error:
                pass
            self.con = None
        for p in (self.tmp, Path(str(self.tmp) + ".wal")):
            try:
                p.unlink()
            except FileNotFoundError:
                pass

    def commit(self, label: str, *, data_version: int | None = None, live_version: int | None = None) -> int:
        """Make the copy the live file; returns its data version. ``live_version``: the data version
        of the file being replaced, when the copy was not made from it (a restore)."""
        try:
            con = self.con
            if data_version is not None:
                store.set_setting(con, "data_version", str(data_version))
            elif store.data_version(con) <= self.before:
                store.set_setting(con, "data_version", str(self.before + 1))
            dv = store.data_version(con)
            con.execute("CHECKPOINT")
            con.close()
            self.con = None
            fd = os.open(self.tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            live = identity(self.db)
            if live is not None and _link_of(self.db, live) is None:
                # The version being replaced had no link (made before versioning): keep it too.
                _link_version(self.db, self.db, self.before if live_version is None else live_version,
                              "before versioning")
            _link_version(self.db, self.tmp, dv, label)
            os.replace(self.tmp, self.db)
            _fsync_dir(self.db.parent)
        except BaseException as e:
            self.discard()
            if isinstance(e, (OSError, duckdb.Error)):
                raise store.database_error(self.db, e) from None
            raise
        _prune(self.db)
        return dv


def _copy(src: Path, dst: Path) -> None:
    """Copy with copy_file_range (the kernel copies, or clones on file systems that can)."""
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        size = os.fstat(fi.fileno()).st_size
        done = 0
        try:
            while done < size:
                n = os.copy_file_range(fi.fileno(), fo.fileno(), size - done)
                if n == 0:
                    break
                done += n
        except OSError as e:
            if e.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
                raise
            fi.seek(done)
            fo.seek(done)
            shutil.copyfileobj(fi, fo, 16 * 1024 * 1024)


@contextmanager
def writing(db_path, label: str, *, commit_on: tuple[type[BaseException], ...] = ()):
    """A read-write connection on a copy of the live database; on a clean exit the copy becomes
    the live file, on any exception it is thrown away and the live file is untouched.

    ``commit_on``: exceptions that still commit before they propagate — Streamlit's rerun, or an
    import refusal that logged the failed run (the log is the change).
    """
    db = live_path(db_path)
    with exclusive(db):
        work = _Work(db, db)
        pending: BaseException | None = None
        try:
            yield work.con
        except BaseException as e:
            if commit_on and isinstance(e, commit_on):
                pending = e
            else:
                work.discard()
                raise
        work.commit(label)
    if pending is not None:
        raise pending


def _carry(con, live: Path, tables: tuple[str, ...]) -> int:
    """Replace ``tables`` in ``con`` (a restored copy) with the live database's contents; returns
    the live data version. A table the live database lacks is left as it is."""
    from .query import sql

    con.execute("ATTACH $path AS funnel_live (READ_ONLY)", {"path": str(live)})
    try:
        live_dv = int(con.execute("SELECT value FROM funnel_live.settings WHERE key = 'data_version'").fetchone()[0])
        here = con.execute("SELECT current_database()").fetchone()[0]
        for table in tables:
            ddl = con.execute(sql("table_ddl"), {"database": "funnel_live", "table_name": table}).fetchall()
            if not ddl:
                continue
            q = store.quote_ident(table)
            if con.execute(sql("table_ddl"), {"database": here, "table_name": table}).fetchall():
                con.execute(f"DELETE FROM main.{q}")
            else:
                con.execute(ddl[0][0])      # the live table's own CREATE statement, constraints included
            con.execute(f"INSERT INTO main.{q} BY NAME SELECT * FROM funnel_live.{q}")
    finally:
        con.execute("DETACH funnel_live")
    return live_dv


def restore(db_path, data_version: int, *, carry_tables: tuple[str, ...] = ("audit_log",),
            label: str | None = None) -> VersionInfo:
    """Swap the kept version holding ``data_version`` back in, as a new version.

    The new version's data version is past the live one's, so no cached figure survives. The
    current contents of ``carry_tables`` (those that exist now) are copied into it, so e.g. the
    audit trail is never rolled back. Carried tables should not draw ids from a sequence (the
    restored sequence would be behind).
    """
    db = live_path(db_path)
    with exclusive(db):
        source = next((v for v in list_versions(db) if v.data_version == data_version), None)
        if source is None:
            kept = [str(v.data_version) for v in list_versions(db)]
            raise FunnelError(msg("There is no kept version with data version {version} (kept: {kept}).",
                                               version=str(data_version), kept=list_of(kept) if kept else msg("none")),
                              hint=msg("Pick one of the kept versions."), code="version_missing")
        work = _Work(db, source.path)
        try:
            con = work.con
            live_dv = _carry(con, db, carry_tables)
            new_dv = max(live_dv, source.data_version) + 1
        except BaseException as e:
            work.discard()
            if isinstance(e, (OSError, duckdb.Error)):
                raise store.database_error(db, e) from None
            raise
        work.commit(label or f"restored version {data_version}", data_version=new_dv, live_version=live_dv)
    return next(v for v in list_versions(db) if v.data_version == new_dv)
