"""The SQLite connection of a project: opening with the right pragmas (read-write, or read-only where the project
cannot be written), one-transaction-per-edit access, errors classified for the user, and backup copies.

One connection serves every thread (check_same_thread=False) behind a re-entrant lock: the GUI writes from its
main thread and workers read, and SQLite calls are short, so a lock is simpler than a connection per thread.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from core.errors import ProjectCorrupt, ProjectDiskFull, ProjectError, ProjectPermissionDenied, ProjectReadOnly
from core.io.atomic_write import fsync_folder

LOW_DISK_BYTES = 16_000_000  # an I/O error with less free space than this is a full disk
_PERMISSION = {sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM, sqlite3.SQLITE_AUTH}
_CORRUPT = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_FORMAT}


def classify(exc: sqlite3.Error, db_path: Path, doing: str) -> ProjectError:
    """The ProjectError subclass (and message) for a SQLite failure: a full disk, permission denied and a damaged
    database each say what happened and what to do, instead of SQLite's terse text."""
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF  # the primary code of an extended one
    if code == sqlite3.SQLITE_FULL or (code == sqlite3.SQLITE_IOERR and _out_of_space(db_path)):
        return ProjectDiskFull(f"{db_path}: {doing} failed: the disk is full; nothing was written (free some space "
                               f"and try again)")
    if code in _PERMISSION or (code == sqlite3.SQLITE_CANTOPEN and not _writable(db_path)):
        return ProjectPermissionDenied(f"{db_path}: {doing} failed: permission denied (the project folder or its "
                                       f"database is read-only; open the project read-only to view and export)")
    if code == sqlite3.SQLITE_NOTADB:
        return ProjectCorrupt(f"{db_path}: not a SonoClick project database, or a damaged one ({exc})")
    if code in _CORRUPT or "decode to UTF-8" in str(exc):  # the second: text columns holding other bytes
        return ProjectCorrupt(f"{db_path}: {doing} failed: the project database is damaged ({exc}); make a backup "
                              f"copy before anything else")
    if code == sqlite3.SQLITE_IOERR:
        return ProjectError(f"{db_path}: {doing} failed: disk I/O error (the disk may be failing or removed)")
    return ProjectError(f"{db_path}: {doing} failed ({exc})")


def reclassified(exc: ProjectError, db_path: Path, doing: str) -> ProjectError:
    """A ProjectError raised around a SQLite failure, as its classified subclass when it has one (a full disk,
    permission denied, damage); unchanged otherwise, keeping its own message."""
    cause = exc.__cause__
    if type(exc) is ProjectError and isinstance(cause, sqlite3.Error):
        classified = classify(cause, db_path, doing)
        if type(classified) is not ProjectError:
            return classified
    return exc


def _out_of_space(db_path: Path) -> bool:
    """SQLite reports a failed write as an I/O error; it was a full disk when little space is left, or when the
    database or its log has reached the process's file-size limit (SQLite sees EFBIG, not ENOSPC)."""
    try:
        disk = os.statvfs(db_path.parent)
        if disk.f_bavail * disk.f_frsize < LOW_DISK_BYTES:
            return True
    except (OSError, AttributeError):  # no statvfs on Windows
        pass
    try:
        import resource
    except ImportError:  # Windows has no file-size limit
        return False
    limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    if limit == resource.RLIM_INFINITY:
        return False
    files = (db_path, db_path.with_name(db_path.name + "-wal"), db_path.with_name(db_path.name + "-journal"))
    return any(f.exists() and f.stat().st_size + LOW_DISK_BYTES >= limit for f in files)


def _writable(db_path: Path) -> bool:
    folder_ok = os.access(db_path.parent, os.W_OK | os.X_OK)
    return folder_ok and (not db_path.exists() or os.access(db_path, os.W_OK))


def connect(db_path: Path, create: bool) -> sqlite3.Connection:
    """Open `db_path` (mode rw, or rwc when creating) in autocommit mode; transactions are explicit."""
    uri = db_path.as_uri() + ("?mode=rwc" if create else "?mode=rw")
    try:
        return sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False, timeout=5.0)
    except sqlite3.Error as exc:
        raise classify(exc, db_path, "opening the project database") from exc


def probe(conn: sqlite3.Connection, db_path: Path) -> None:
    """Read the database header once, so an unreadable, damaged or unwritable project fails here with its
    classified error (SQLite opens files lazily)."""
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as exc:
        raise classify(exc, db_path, "opening the project database") from exc
    except UnicodeDecodeError as exc:  # sqlite3 decoding a damaged schema (or its error text) as UTF-8
        raise damaged_text(db_path, exc) from exc


def damaged_text(db_path: Path, exc: UnicodeDecodeError) -> ProjectCorrupt:
    return ProjectCorrupt(f"{db_path}: the project database is damaged (text that is not UTF-8: {exc.reason}); "
                          f"make a backup copy before anything else")


def connect_read_only(db_path: Path) -> tuple[sqlite3.Connection, Path | None]:
    """A read-only connection and, where the live file could not be used, the private folder of the copy it reads
    (the caller removes it when done).

    mode=ro works whenever SQLite can create or use the WAL index beside the database. In a read-only folder it
    cannot: then a database whose write-ahead log is empty is opened immutable (nothing can change it there),
    and one with a non-empty log is copied (with its log) to a private folder and read there, so committed edits
    still in the log are shown."""
    try:
        conn = sqlite3.connect(db_path.as_uri() + "?mode=ro", uri=True, isolation_level=None,
                               check_same_thread=False, timeout=5.0)
        probe(conn, db_path)
        return conn, None
    except ProjectError as exc:
        if isinstance(exc, ProjectCorrupt):
            raise
    wal = db_path.with_name(db_path.name + "-wal")
    if not (wal.exists() and wal.stat().st_size > 0):
        conn = sqlite3.connect(db_path.as_uri() + "?immutable=1", uri=True, isolation_level=None,
                               check_same_thread=False)
        probe(conn, db_path)
        return conn, None
    copy = Path(tempfile.mkdtemp(prefix="sonoclick-readonly-")) / db_path.name
    try:
        copy.write_bytes(db_path.read_bytes())
        copy.with_name(copy.name + "-wal").write_bytes(wal.read_bytes())
    except OSError as exc:
        raise ProjectPermissionDenied(f"{db_path}: cannot read the project ({exc.strerror or exc})") from exc
    conn = sqlite3.connect(copy.as_uri(), uri=True, isolation_level=None, check_same_thread=False)
    probe(conn, db_path)
    return conn, copy.parent


def configure(conn: sqlite3.Connection, db_path: Path) -> None:
    """WAL so readers never block the writer; synchronous=FULL so a commit survives even a power cut."""
    try:
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
    except sqlite3.Error as exc:
        raise ProjectError(f"{db_path}: cannot use project database ({exc})") from exc
    if str(mode).lower() != "wal":
        raise ProjectError(f"{db_path}: the project folder does not support SQLite WAL mode (got {mode})")


class Database:
    """A locked connection handing out read access and write transactions (BEGIN IMMEDIATE ... COMMIT)."""

    def __init__(self, conn: sqlite3.Connection, db_path: Path, read_only: str | None = None,
                 scratch: Path | None = None) -> None:
        self.path = db_path
        self.read_only = read_only  # why edits are off, or None when the project can be edited
        self._conn: sqlite3.Connection | None = conn
        self._lock = threading.RLock()
        self._scratch = scratch  # a private copy of a read-only project, removed on close

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ProjectError(f"{self.path}: project store is closed")
        return self._conn

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._connection()
            try:
                yield conn
            except sqlite3.Error as exc:
                raise classify(exc, self.path, "reading the project") from exc
            except UnicodeDecodeError as exc:
                raise damaged_text(self.path, exc) from exc

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One transaction: committed when the block ends, rolled back (nothing written) if it raises. Inside
        another write block it is a savepoint of that transaction: undone alone if it raises, committed with the
        outer block."""
        with self._lock:
            conn = self._connection()
            if self.read_only is not None:
                raise ProjectReadOnly(f"{self.path}: the project is open read-only ({self.read_only}); "
                                      f"edits are off")
            if conn.in_transaction:  # nested use joins the outer transaction, as a savepoint
                yield from _savepoint(conn)
                return
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise classify(exc, self.path, "writing to the project") from exc
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    try:
                        conn.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass  # SQLite rolls back by itself after some failures (a full disk): nothing to undo
                if isinstance(exc, sqlite3.Error):
                    raise classify(exc, self.path, "writing to the project") from exc
                if isinstance(exc, UnicodeDecodeError):
                    raise damaged_text(self.path, exc) from exc
                raise

    def intact(self) -> bool:
        """SQLite's quick structural check of the whole file (reads every page: for error paths, not routine)."""
        try:
            with self._lock:
                return self._connection().execute("PRAGMA quick_check(1)").fetchone()[0] == "ok"
        except (sqlite3.Error, UnicodeDecodeError):
            return False

    def backup_to(self, target: Path) -> Path:
        """A consistent copy of the whole database at `target` through SQLite's backup API (safe while the
        project is in use), written beside `target` first and renamed into place."""
        target = Path(target)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
            os.close(fd)
        except OSError as exc:
            raise ProjectError(f"{target}: cannot write the backup ({exc.strerror or exc})") from exc
        try:
            copy = sqlite3.connect(tmp)
            try:
                with self._lock:
                    self._connection().backup(copy)
                copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            finally:
                copy.close()
            os.replace(tmp, target)
            fsync_folder(target.parent)
        except sqlite3.Error as exc:
            raise classify(exc, target, "backing up the project") from exc
        except OSError as exc:
            raise ProjectError(f"{target}: cannot write the backup ({exc.strerror or exc})") from exc
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return target

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            if self._scratch is not None:
                shutil.rmtree(self._scratch, ignore_errors=True)
                self._scratch = None


def _savepoint(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    conn.execute("SAVEPOINT nested")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:  # some errors (e.g. a full disk) end the whole transaction already
            conn.execute("ROLLBACK TO nested")
            conn.execute("RELEASE nested")
        raise
    conn.execute("RELEASE nested")


def now_stamp() -> str:
    """The current UTC time as the store writes it into rows (ISO 8601, milliseconds)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")
