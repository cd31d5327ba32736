"""The rows of a frame's sparse labels (scribbles and boxes, core.annotation.strokes) and of its frame tag
(core.annotation.tags): their tables (schema 6), reading and writing them, and the JSON form of a stroke that
the history keeps. Everything here runs inside the caller's transaction."""
from __future__ import annotations

import json
import sqlite3

from core.annotation.strokes import Stroke, StrokeKind
from core.annotation.tags import FrameTag

SPARSE_DDL = (
    # AUTOINCREMENT: stroke ids are never reused, so undo/redo can restore them (as for points)
    "CREATE TABLE IF NOT EXISTS strokes (id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " frame_id INTEGER NOT NULL REFERENCES frames(id) ON DELETE CASCADE, object_id INTEGER NOT NULL,"
    " kind TEXT NOT NULL CHECK (kind IN ('scribble', 'box')),"
    " foreground INTEGER NOT NULL CHECK (foreground IN (0, 1)), width REAL NOT NULL,"
    " points TEXT NOT NULL)",  # JSON [[x, y], ...]
    "CREATE INDEX IF NOT EXISTS strokes_by_frame ON strokes (frame_id)",
    "CREATE TABLE IF NOT EXISTS frame_tags (frame_id INTEGER PRIMARY KEY REFERENCES frames(id) ON DELETE CASCADE,"
    " tag TEXT NOT NULL CHECK (tag IN ('no_nodule', 'nodule')))",
    "CREATE TABLE IF NOT EXISTS history_strokes (step_id INTEGER NOT NULL REFERENCES history(id) ON DELETE CASCADE,"
    " stroke_id INTEGER NOT NULL, before TEXT, after TEXT, PRIMARY KEY (step_id, stroke_id))",
    # one row when a step changed the frame's tag; before/after NULL: no tag
    "CREATE TABLE IF NOT EXISTS history_tags (step_id INTEGER PRIMARY KEY REFERENCES history(id) ON DELETE CASCADE,"
    " before TEXT, after TEXT)",
)


def create_sparse_tables(conn: sqlite3.Connection) -> None:
    """Schema 5 -> 6 and new projects: the stroke and tag tables and their history. Existing frames get no row:
    no strokes and no tag."""
    for statement in SPARSE_DDL:
        conn.execute(statement)


def stroke_entry(stroke: Stroke) -> list:
    """A stroke as history rows and snapshots keep it: [object id, kind, foreground, width, [[x, y], ...]]."""
    return [stroke.object_id, stroke.kind.value, int(stroke.foreground), stroke.width, [list(p) for p in stroke.points]]


def stroke_of_entry(entry: list) -> Stroke:
    oid, kind, foreground, width, points = entry
    return _stroke(oid, kind, foreground, width, points)


def stroke_json(stroke: Stroke | None) -> str | None:
    return None if stroke is None else json.dumps(stroke_entry(stroke))


def stroke_of_json(row: str | None) -> Stroke | None:
    return None if row is None else stroke_of_entry(json.loads(row))


def _stroke(oid: int, kind: str, foreground: int, width: float, points: list) -> Stroke:
    return Stroke(StrokeKind(kind), tuple((float(x), float(y)) for x, y in points), bool(foreground), float(width),
                  int(oid))


def load_strokes(db: sqlite3.Connection, frame_id: int) -> tuple[tuple[int, Stroke], ...]:
    rows = db.execute(
        "SELECT id, object_id, kind, foreground, width, points FROM strokes WHERE frame_id = ? ORDER BY id",
        (frame_id,),
    ).fetchall()
    return tuple((sid, _stroke(oid, kind, fg, width, json.loads(points))) for sid, oid, kind, fg, width, points in rows)


def load_tag(db: sqlite3.Connection, frame_id: int) -> FrameTag | None:
    row = db.execute("SELECT tag FROM frame_tags WHERE frame_id = ?", (frame_id,)).fetchone()
    return None if row is None else FrameTag(row[0])


def put_stroke(db: sqlite3.Connection, frame_id: int, stroke_id: int, stroke: Stroke | None) -> None:
    """Write one stroke under its id, or with stroke None delete it."""
    if stroke is None:
        db.execute("DELETE FROM strokes WHERE id = ?", (stroke_id,))
    else:
        _insert_stroke(db, frame_id, stroke_id, stroke)


def add_stroke_row(db: sqlite3.Connection, frame_id: int, stroke: Stroke) -> int:
    """Write a new stroke; return its fresh id."""
    return _insert_stroke(db, frame_id, None, stroke)


def _insert_stroke(db: sqlite3.Connection, frame_id: int, stroke_id: int | None, stroke: Stroke) -> int:
    cursor = db.execute(
        "INSERT OR REPLACE INTO strokes (id, frame_id, object_id, kind, foreground, width, points)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (stroke_id, frame_id, stroke.object_id, stroke.kind.value, int(stroke.foreground), stroke.width,
         json.dumps([list(p) for p in stroke.points])),
    )
    return int(cursor.lastrowid if stroke_id is None else stroke_id)


def put_tag(db: sqlite3.Connection, frame_id: int, tag: FrameTag | None) -> None:
    if tag is None:
        db.execute("DELETE FROM frame_tags WHERE frame_id = ?", (frame_id,))
    else:
        db.execute("INSERT OR REPLACE INTO frame_tags (frame_id, tag) VALUES (?, ?)", (frame_id, tag.value))


def user_tags(db: sqlite3.Connection) -> dict[int, FrameTag]:
    """Frame id -> the tag the user set, for every tagged frame."""
    return {fid: FrameTag(tag) for fid, tag in db.execute("SELECT frame_id, tag FROM frame_tags ORDER BY frame_id")}


def frames_with_accepted_nodules(db: sqlite3.Connection, nodule_class: int) -> list[int]:
    """Frames with an accepted mask of an object of the nodule class (objects without a class row are of it)."""
    return [fid for (fid,) in db.execute(
        "SELECT DISTINCT m.frame_id FROM masks m LEFT JOIN object_classes c"
        " ON c.frame_id = m.frame_id AND c.object_id = m.object_id"
        " WHERE m.accepted = 1 AND COALESCE(c.class_id, ?) = ? ORDER BY m.frame_id", (nodule_class, nodule_class))]
