"""The project database's schema, its version stamp and the checks made when a database is opened.

Versions: 1 = the first release; 2 = masks.accepted (0 = a draft the app saved as the user edits, 1 = accepted);
3 = the history as one row per user action with its changes as deltas (history_points, history_masks) instead of
full before/after snapshots of the frame; 4 = history.action_id, which ties the rows of an action that changed
several frames into one undo step; 5 = label classes and each object's class (tables in core.project.classes, its
history in history_classes); 6 = sparse labels and frame tags: each frame's strokes (scribbles and boxes, table
strokes) and its tag (frame_tags: no nodule / nodule present), both part of the frame's annotation state with their
history in history_strokes and history_tags (tables in core.project.sparse_rows). The steps from one version to the
next are in core.project.migrations.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

from core.errors import ProjectError
from core.project.classes import create_class_tables
from core.project.sparse_rows import create_sparse_tables

APP_NAME = "sonoclick"
SCHEMA_VERSION = 6

# the history as of schema 4 (see core.project.history); a later version that changes these tables must give
# core.project.migrations a frozen copy of this text for its 3 -> 4 step (as it holds schema 3's for 2 -> 3)
HISTORY_DDL = """
CREATE TABLE history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    frame_id INTEGER NOT NULL REFERENCES frames(id) ON DELETE CASCADE,
    action TEXT NOT NULL,            -- the user action, e.g. "Accept 2 masks"
    undone_seq INTEGER,              -- NULL while done, else the order in which it was undone (latest = highest)
    created_at TEXT NOT NULL,
    action_id INTEGER                -- an action on several frames: the id of its first row; NULL: one frame
);
CREATE INDEX history_by_frame ON history (frame_id, id);
CREATE INDEX history_by_action ON history (action_id);
CREATE TABLE history_points (
    step_id INTEGER NOT NULL REFERENCES history(id) ON DELETE CASCADE,
    point_id INTEGER NOT NULL,
    before TEXT,                     -- JSON [object id, kind, x, y]; NULL: the point did not exist
    after TEXT,
    PRIMARY KEY (step_id, point_id)
);
CREATE TABLE history_masks (
    step_id INTEGER NOT NULL REFERENCES history(id) ON DELETE CASCADE,
    object_id INTEGER NOT NULL,
    before TEXT,                     -- JSON [provenance, created_at, accepted]; NULL: no mask
    before_png BLOB,
    after TEXT,
    after_png BLOB,                  -- NULL while `after` is set: the same pixels as before_png
    PRIMARY KEY (step_id, object_id)
);
"""

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
    accepted INTEGER NOT NULL DEFAULT 1 CHECK (accepted IN (0, 1)),  -- 0: a draft, not yet accepted
    PRIMARY KEY (frame_id, object_id)
);
CREATE TABLE predictions (
    frame_id INTEGER PRIMARY KEY REFERENCES frames(id) ON DELETE CASCADE,
    png BLOB NOT NULL,
    model_version TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
""" + HISTORY_DDL


def run_script(conn: sqlite3.Connection, script: str) -> None:
    """Execute `script` statement by statement inside the caller's transaction (executescript would commit)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            conn.execute(pending)
            pending = ""


def create_schema(conn: sqlite3.Connection) -> None:
    """Create every table and stamp the version; the caller holds the transaction."""
    run_script(conn, DDL)
    create_class_tables(conn)
    create_sparse_tables(conn)
    conn.executemany(
        "INSERT INTO meta (key, value) VALUES (?, ?)", [("app", APP_NAME), ("schema_version", str(SCHEMA_VERSION))]
    )


def check_schema(conn: sqlite3.Connection, db_path: Path) -> int:
    """Raise ProjectError unless `conn` is a SonoClick project this version can read; return its schema version
    (older ones are brought up to date by core.project.migrations)."""
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
    return version


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0])
