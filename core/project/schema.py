"""The project database's schema, its version stamp, the checks made when a database is opened, and the in-place
migration of older schemas.

Versions: 1 = the first release; 2 = masks.accepted (0 = a draft the app saved as the user edits, 1 = accepted);
3 = label classes (tables in core.project.classes).
"""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from core.errors import ProjectError
from core.project.classes import create_class_tables, migrate_to_classes

APP_NAME = "sonoclick"
SCHEMA_VERSION = 3

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
CREATE TABLE history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    frame_id INTEGER NOT NULL REFERENCES frames(id) ON DELETE CASCADE,
    action TEXT NOT NULL,
    before BLOB NOT NULL,            -- the frame's points and masks before the edit (see core.project.frame_state)
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
    create_class_tables(conn)
    conn.executemany(
        "INSERT INTO meta (key, value) VALUES (?, ?)", [("app", APP_NAME), ("schema_version", str(SCHEMA_VERSION))]
    )


def check_schema(conn: sqlite3.Connection, db_path: Path) -> int:
    """Raise ProjectError unless `conn` is a SonoClick project this version can read; return its schema version
    (older ones are brought up to date by migrate_schema)."""
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


def _schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0])


def migrate_schema(conn: sqlite3.Connection) -> None:
    """Bring a checked database up to SCHEMA_VERSION in place; the caller holds the (immediate) transaction, so
    of two processes opening the same old project at once the second finds it migrated already."""
    version = _schema_version(conn)
    if version < 2:
        _migrate_1_to_2(conn)
    if version < 3:
        migrate_to_classes(conn)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))


# Version 1 had one kind of mask; the desktop app remembered which ones were drafts in settings named
# LEGACY_DRAFT_SETTING + <frame id> ({object id: [created_at of each mask record it wrote as a draft]}).
LEGACY_DRAFT_SETTING = "gui.draft_masks."


def _migrate_1_to_2(conn: sqlite3.Connection) -> None:
    """Add masks.accepted. Stored masks become accepted (as version 1 treated every mask), except those the desktop
    app had marked as drafts, which stay drafts: in the masks table and in the history snapshots of their frame, so
    undo/redo of steps made before the migration still brings drafts back as drafts. The app's draft settings are
    then dropped."""
    conn.execute("ALTER TABLE masks ADD COLUMN accepted INTEGER NOT NULL DEFAULT 1 CHECK (accepted IN (0, 1))")
    books = conn.execute(
        "SELECT key, value FROM settings WHERE substr(key, 1, ?) = ?", (len(LEGACY_DRAFT_SETTING), LEGACY_DRAFT_SETTING)
    ).fetchall()
    for key, value in books:
        try:
            frame_id = int(key[len(LEGACY_DRAFT_SETTING):])
            book = {int(oid): {str(ts) for ts in stamps} for oid, stamps in json.loads(value).items()}
        except (ValueError, TypeError, AttributeError):
            continue  # not ours or damaged: leave the masks accepted
        for oid, stamps in book.items():
            conn.executemany(
                "UPDATE masks SET accepted = 0 WHERE frame_id = ? AND object_id = ? AND created_at = ?",
                [(frame_id, oid, ts) for ts in stamps],
            )
        rows = conn.execute("SELECT id, before, after FROM history WHERE frame_id = ?", (frame_id,)).fetchall()
        for step, before, after in rows:
            new_before, new_after = _mark_drafts(before, book), _mark_drafts(after, book)
            if (new_before, new_after) != (before, after):
                conn.execute("UPDATE history SET before = ?, after = ? WHERE id = ?", (new_before, new_after, step))
    conn.execute("DELETE FROM settings WHERE substr(key, 1, ?) = ?", (len(LEGACY_DRAFT_SETTING), LEGACY_DRAFT_SETTING))


def _mark_drafts(snapshot: bytes, book: dict[int, set[str]]) -> bytes:
    """A version-1 history snapshot (see core.project.frame_state) with the accepted flag of each mask written out."""
    try:
        doc = json.loads(bytes(snapshot).decode("utf-8"))
        masks = list(doc["masks"])
    except (ValueError, KeyError, TypeError):
        return snapshot  # damaged: undo of this step fails as it did before
    if not any(len(m) == 4 and m[2] in book.get(int(m[0]), ()) for m in masks):
        return snapshot
    doc["masks"] = [[*m, 0 if m[2] in book.get(int(m[0]), ()) else 1] if len(m) == 4 else m for m in masks]
    return json.dumps(doc, separators=(",", ":")).encode("utf-8")
