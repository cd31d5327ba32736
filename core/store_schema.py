"""The project database's schema, its version stamp, and the checks made when a database is opened."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from core.errors import ProjectError

APP_NAME = "sonoclick"
SCHEMA_VERSION = 1

DDL = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE frames (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL,              -- relative to the project folder (POSIX separators), absolute if elsewhere
    frame_index INTEGER NOT NULL,    -- frame number inside its source (0 for still images)
    content_hash TEXT,               -- sha1 of the source file, filled in lazily
    width INTEGER,
    height INTEGER,
    row_mm REAL,
    col_mm REAL,
    error TEXT,                      -- why the frame could not be read; NULL when readable
    UNIQUE (path, frame_index)
);
CREATE TABLE points (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- AUTOINCREMENT: ids are never reused, so undo/redo can restore them
    frame_id INTEGER NOT NULL REFERENCES frames(id) ON DELETE CASCADE,
    object_id INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('long1', 'long2', 'short1', 'short2', 'fg', 'bg')),
    x REAL NOT NULL,
    y REAL NOT NULL
);
CREATE INDEX points_by_frame ON points (frame_id);
CREATE TABLE masks (
    frame_id INTEGER NOT NULL REFERENCES frames(id) ON DELETE CASCADE,
    object_id INTEGER NOT NULL,
    png BLOB NOT NULL,
    provenance TEXT NOT NULL CHECK (provenance IN ('generated', 'refined', 'painted')),
    created_at TEXT NOT NULL,
    PRIMARY KEY (frame_id, object_id)
);
CREATE TABLE predictions (
    frame_id INTEGER PRIMARY KEY REFERENCES frames(id) ON DELETE CASCADE,
    png BLOB NOT NULL,
    model_version TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    frame_id INTEGER NOT NULL REFERENCES frames(id) ON DELETE CASCADE,
    action TEXT NOT NULL,
    before BLOB NOT NULL,            -- the frame's points and masks before the edit (see core.store_snapshot)
    after BLOB NOT NULL,
    undone_seq INTEGER,              -- NULL while done, else the order in which it was undone (latest = highest)
    created_at TEXT NOT NULL
);
CREATE INDEX history_by_frame ON history (frame_id, id);
"""


def create_schema(conn: sqlite3.Connection) -> None:
    """Create every table and stamp the version; the caller holds the transaction."""
    pending = ""
    for line in DDL.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            conn.execute(pending)
            pending = ""
    conn.executemany(
        "INSERT INTO meta (key, value) VALUES (?, ?)", [("app", APP_NAME), ("schema_version", str(SCHEMA_VERSION))]
    )


def check_schema(conn: sqlite3.Connection, db_path: Path) -> None:
    """Raise ProjectError unless `conn` is a SonoClick project this version can read."""
    try:
        rows = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.DatabaseError as exc:
        raise ProjectError(f"{db_path}: not a SonoClick project database ({exc})") from exc
    if rows.get("app") != APP_NAME:
        raise ProjectError(f"{db_path}: not a SonoClick project database (no SonoClick stamp)")
    try:
        version = int(rows.get("schema_version", ""))
    except ValueError as exc:
        raise ProjectError(f"{db_path}: damaged project database (bad schema version)") from exc
    if version > SCHEMA_VERSION:
        raise ProjectError(
            f"{db_path}: project was saved by a newer SonoClick (schema {version}; this version reads up to "
            f"{SCHEMA_VERSION}); update SonoClick to open it"
        )
    if version < 1:
        raise ProjectError(f"{db_path}: damaged project database (schema version {version})")
