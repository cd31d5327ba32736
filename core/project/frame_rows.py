"""A frame's annotation state as rows of the database: reading it, what differs between two states (a Delta), and
writing a new state over the old one touching only the rows that differ. Runs inside the caller's transaction."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from core.annotation.points import Point, PointKind
from core.annotation.strokes import Stroke
from core.annotation.tags import FrameTag
from core.project.classes import load_object_classes
from core.project.frame_state import FrameState, StoredMask
from core.project.sparse_rows import add_stroke_row, load_strokes, load_tag, put_stroke, put_tag

PointChange = tuple[Point | None, Point | None]
MaskChange = tuple[StoredMask | None, StoredMask | None]
ClassChange = tuple[int | None, int | None]  # class id before / after; None = the default class (no row)
StrokeChange = tuple[Stroke | None, Stroke | None]
TagChange = tuple[FrameTag | None, FrameTag | None]


@dataclass(frozen=True)
class Delta:
    """What a step changed: point id -> (before, after), object id -> (mask before, mask after), object id ->
    (class before, class after), stroke id -> (before, after); None = absent. tag: (before, after) when the
    frame's tag changed, else None."""

    points: dict[int, PointChange]
    masks: dict[int, MaskChange]
    classes: dict[int, ClassChange]
    strokes: dict[int, StrokeChange] = field(default_factory=dict)
    tag: TagChange | None = None

    def __bool__(self) -> bool:
        return bool(self.points or self.masks or self.classes or self.strokes or self.tag)


def diff(before: FrameState, after: FrameState) -> Delta:
    """The rows that differ between two written states (every point has its id)."""
    old_points, new_points = dict(before.points), dict(after.points)
    points = {
        pid: (old_points.get(pid), new_points.get(pid))
        for pid in sorted(old_points.keys() | new_points.keys())
        if old_points.get(pid) != new_points.get(pid)
    }
    old_masks = {m.object_id: m for m in before.masks}
    new_masks = {m.object_id: m for m in after.masks}
    masks = {
        oid: (old_masks.get(oid), new_masks.get(oid))
        for oid in sorted(old_masks.keys() | new_masks.keys())
        if old_masks.get(oid) != new_masks.get(oid)
    }
    old_classes, new_classes = dict(before.classes), dict(after.classes)
    classes = {
        oid: (old_classes.get(oid), new_classes.get(oid))
        for oid in sorted(old_classes.keys() | new_classes.keys())
        if old_classes.get(oid) != new_classes.get(oid)
    }
    old_strokes, new_strokes = dict(before.strokes), dict(after.strokes)
    strokes = {
        sid: (old_strokes.get(sid), new_strokes.get(sid))
        for sid in sorted(old_strokes.keys() | new_strokes.keys())
        if old_strokes.get(sid) != new_strokes.get(sid)
    }
    tag = None if before.tag == after.tag else (before.tag, after.tag)
    return Delta(points, masks, classes, strokes, tag)  # type: ignore[arg-type]  # sorted keys are never None


def load_state(db: sqlite3.Connection, frame_id: int) -> FrameState:
    points = db.execute(
        "SELECT id, object_id, kind, x, y FROM points WHERE frame_id = ? ORDER BY id", (frame_id,)
    ).fetchall()
    masks = db.execute(
        "SELECT object_id, png, provenance, created_at, accepted FROM masks WHERE frame_id = ? ORDER BY object_id",
        (frame_id,),
    ).fetchall()
    return FrameState(
        tuple((pid, Point(x, y, PointKind(kind), oid)) for pid, oid, kind, x, y in points),
        tuple(StoredMask(oid, bytes(png), prov, ts, bool(acc)) for oid, png, prov, ts, acc in masks),
        load_object_classes(db, frame_id),
        load_strokes(db, frame_id),
        load_tag(db, frame_id),
    )


def write_state(db: sqlite3.Connection, frame_id: int, before: FrameState, after: FrameState) -> FrameState:
    """Write `after` over `before`, touching only the rows that differ; new points and strokes (id None) get fresh
    ids, which the returned state carries."""
    after = _write_strokes(db, frame_id, before, after)
    if after.tag != before.tag:
        put_tag(db, frame_id, after.tag)
    kept = {pid for pid, _ in after.points if pid is not None}
    old = dict(before.points)
    written: list[tuple[int | None, Point]] = []
    for pid in old.keys() - kept:
        db.execute("DELETE FROM points WHERE id = ?", (pid,))
    for pid, p in after.points:
        if pid is None or old.get(pid) != p:
            put_point(db, frame_id, pid, p)
            if pid is None:
                pid = db.execute("SELECT last_insert_rowid()").fetchone()[0]
        written.append((pid, p))
    after = after.with_points(written)
    rows = diff(before.with_points([]), after.with_points([]))
    for oid, (_, new) in rows.masks.items():
        put_mask(db, frame_id, oid, new)
    for oid, (_, new_class) in rows.classes.items():
        put_class(db, frame_id, oid, new_class)
    return after


def _write_strokes(db: sqlite3.Connection, frame_id: int, before: FrameState, after: FrameState) -> FrameState:
    kept = {sid for sid, _ in after.strokes if sid is not None}
    old = dict(before.strokes)
    for sid in old.keys() - kept:
        put_stroke(db, frame_id, sid, None)
    written: list[tuple[int | None, Stroke]] = []
    for sid, stroke in after.strokes:
        if sid is None:
            sid = add_stroke_row(db, frame_id, stroke)
        elif old.get(sid) != stroke:
            put_stroke(db, frame_id, sid, stroke)
        written.append((sid, stroke))
    return after.with_strokes(written)


def put_point(db: sqlite3.Connection, frame_id: int, point_id: int | None, p: Point | None) -> None:
    if p is None:
        db.execute("DELETE FROM points WHERE id = ?", (point_id,))
        return
    db.execute(
        "INSERT OR REPLACE INTO points (id, frame_id, object_id, kind, x, y) VALUES (?, ?, ?, ?, ?, ?)",
        (point_id, frame_id, p.object_id, p.kind.value, p.x, p.y),
    )


def put_mask(db: sqlite3.Connection, frame_id: int, object_id: int, m: StoredMask | None) -> None:
    if m is None:
        db.execute("DELETE FROM masks WHERE frame_id = ? AND object_id = ?", (frame_id, object_id))
        return
    db.execute(
        "INSERT OR REPLACE INTO masks (frame_id, object_id, png, provenance, created_at, accepted)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (frame_id, object_id, m.png, m.provenance, m.created_at, int(m.accepted)),
    )


def put_class(db: sqlite3.Connection, frame_id: int, object_id: int, class_id: int | None) -> None:
    if class_id is None:
        db.execute("DELETE FROM object_classes WHERE frame_id = ? AND object_id = ?", (frame_id, object_id))
        return
    db.execute(
        "INSERT OR REPLACE INTO object_classes (frame_id, object_id, class_id) VALUES (?, ?, ?)",
        (frame_id, object_id, class_id),
    )
