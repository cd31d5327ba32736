"""The SQLite connection of a project: opening with the right pragmas, and one-transaction-per-edit access.

One connection serves every thread (check_same_thread=False) behind a re-entrant lock: the GUI writes from its
main thread and workers read, and SQLite calls are short, so a lock is simpler than a connection per thread.
"""
from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from core.errors import ProjectError


def connect(db_path: Path, create: bool) -> sqlite3.Connection:
    """Open `db_path` (mode rw, or rwc when creating) in autocommit mode; transactions are explicit."""
    uri = db_path.as_uri() + ("?mode=rwc" if create else "?mode=rw")
    try:
        return sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False, timeout=5.0)
    except sqlite3.Error as exc:
        raise ProjectError(f"{db_path}: cannot open project database ({exc})") from exc


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

    def __init__(self, conn: sqlite3.Connection, db_path: Path) -> None:
        self.path = db_path
        self._conn: sqlite3.Connection | None = conn
        self._lock = threading.RLock()

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
                raise ProjectError(f"{self.path}: database read failed ({exc})") from exc

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One transaction: committed when the block ends, rolled back (nothing written) if it raises. Inside
        another write block it is a savepoint of that transaction: undone alone if it raises, committed with the
        outer block."""
        with self._lock:
            conn = self._connection()
            if conn.in_transaction:  # nested use joins the outer transaction, as a savepoint
                yield from _savepoint(conn)
                return
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise ProjectError(f"{self.path}: cannot write to the project ({exc})") from exc
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise ProjectError(f"{self.path}: database write failed ({exc})") from exc
                raise

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


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
