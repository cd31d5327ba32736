"""A frame's annotation state in the database, and the persisted undo/redo history of edits to it.

Each edit stores the frame's state before and after. History rows are per-frame stacks: the done steps come
first and the undone ones after them. Undo restores the `before` of the latest done step and stamps it with an
increasing undone_seq; redo restores the `after` of the step undone last; a new edit of a frame drops that
frame's undone steps (the redo tail). Everything here runs inside the caller's transaction.
"""
from __future__ import annotations

import sqlite3

from core.annotation.points import Point, PointKind
from core.project.classes import load_object_classes, write_object_classes
from core.project.frame_state import FrameState, StoredMask

HISTORY_PER_FRAME = 500  # undo depth kept per frame; older steps are dropped


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
    )


def write_state(db: sqlite3.Connection, frame_id: int, before: FrameState, after: FrameState) -> FrameState:
    """Write `after` over `before`; new points (id None) get fresh ids, which the returned state carries."""
    if after.points != before.points:
        db.execute("DELETE FROM points WHERE frame_id = ?", (frame_id,))
        written = []
        for pid, p in after.points:
            cur = db.execute(
                "INSERT INTO points (id, frame_id, object_id, kind, x, y) VALUES (?, ?, ?, ?, ?, ?)",
                (pid, frame_id, p.object_id, p.kind.value, p.x, p.y),
            )
            written.append((cur.lastrowid if pid is None else pid, p))
        after = after.with_points(written)
    if after.masks != before.masks:
        db.execute("DELETE FROM masks WHERE frame_id = ?", (frame_id,))
        db.executemany(
            "INSERT INTO masks (frame_id, object_id, png, provenance, created_at, accepted) VALUES (?, ?, ?, ?, ?, ?)",
            [(frame_id, m.object_id, m.png, m.provenance, m.created_at, int(m.accepted)) for m in after.masks],
        )
    if after.classes != before.classes:
        write_object_classes(db, frame_id, after.classes)
    return after


def record_edit(
    db: sqlite3.Connection, frame_id: int, action: str, before: FrameState, after: FrameState, when: str
) -> None:
    db.execute("DELETE FROM history WHERE frame_id = ? AND undone_seq IS NOT NULL", (frame_id,))
    db.execute(
        "INSERT INTO history (frame_id, action, before, after, created_at) VALUES (?, ?, ?, ?, ?)",
        (frame_id, action, before.to_bytes(), after.to_bytes(), when),
    )
    db.execute(
        "DELETE FROM history WHERE frame_id = ? AND id <= (SELECT id FROM history WHERE frame_id = ?"
        " ORDER BY id DESC LIMIT 1 OFFSET ?)",
        (frame_id, frame_id, HISTORY_PER_FRAME),
    )


def _frame_filter(frame_id: int | None) -> tuple[str, tuple]:
    return ("", ()) if frame_id is None else (" AND frame_id = ?", (frame_id,))


def undo_step(db: sqlite3.Connection, frame_id: int | None) -> int | None:
    """Undo the latest done step (of one frame, or of any); return the frame it changed, or None."""
    where, args = _frame_filter(frame_id)
    row = db.execute(
        f"SELECT id, frame_id, before FROM history WHERE undone_seq IS NULL{where} ORDER BY id DESC LIMIT 1", args
    ).fetchone()
    if row is None:
        return None
    step, fid, before = row
    write_state(db, fid, load_state(db, fid), FrameState.from_bytes(before))
    db.execute(
        "UPDATE history SET undone_seq = (SELECT COALESCE(MAX(undone_seq), 0) + 1 FROM history) WHERE id = ?", (step,)
    )
    return fid


def redo_step(db: sqlite3.Connection, frame_id: int | None) -> int | None:
    """Redo the step undone last (of one frame, or of any); return the frame it changed, or None."""
    where, args = _frame_filter(frame_id)
    row = db.execute(
        f"SELECT id, frame_id, after FROM history WHERE undone_seq IS NOT NULL{where} ORDER BY undone_seq DESC LIMIT 1",
        args,
    ).fetchone()
    if row is None:
        return None
    step, fid, after = row
    write_state(db, fid, load_state(db, fid), FrameState.from_bytes(after))
    db.execute("UPDATE history SET undone_seq = NULL WHERE id = ?", (step,))
    return fid


def has_step(db: sqlite3.Connection, undone: bool, frame_id: int | None) -> bool:
    """Whether there is a step to redo (undone=True) or to undo (undone=False)."""
    where, args = _frame_filter(frame_id)
    condition = "undone_seq IS NOT NULL" if undone else "undone_seq IS NULL"
    return db.execute(f"SELECT 1 FROM history WHERE {condition}{where} LIMIT 1", args).fetchone() is not None
