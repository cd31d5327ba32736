"""A frame's annotation state in the database, and the persisted undo/redo history of changes to it.

One history step is one user action on one frame (see ProjectStore.action; an edit made outside an action is a
step of its own). A step keeps only what the action changed, as a delta: for every point and every mask whose row
differs, the row before and the row after (NULL: absent). So the history grows with the edit, not with the frame.
History rows are per-frame stacks: the done steps come first and the undone ones after them. Undo writes the
`before` rows of the latest done step and stamps it with an increasing undone_seq; redo writes the `after` rows
of the step undone last; a new step on a frame drops that frame's undone steps (the redo tail). Everything here
runs inside the caller's transaction.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from core.annotation.points import Point, PointKind
from core.project.frame_state import FrameState, StoredMask

HISTORY_PER_FRAME = 500  # undo depth kept per frame; older steps are dropped

PointChange = tuple[Point | None, Point | None]
MaskChange = tuple[StoredMask | None, StoredMask | None]


@dataclass(frozen=True)
class Delta:
    """What a step changed: point id -> (before, after), object id -> (mask before, mask after); None = absent."""

    points: dict[int, PointChange]
    masks: dict[int, MaskChange]

    def __bool__(self) -> bool:
        return bool(self.points or self.masks)


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
    return Delta(points, masks)  # type: ignore[arg-type]  # sorted keys are never None


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
    )


def write_state(db: sqlite3.Connection, frame_id: int, before: FrameState, after: FrameState) -> FrameState:
    """Write `after` over `before`, touching only the rows that differ; new points (id None) get fresh ids, which
    the returned state carries."""
    kept = {pid for pid, _ in after.points if pid is not None}
    old = dict(before.points)
    written: list[tuple[int | None, Point]] = []
    for pid in old.keys() - kept:
        db.execute("DELETE FROM points WHERE id = ?", (pid,))
    for pid, p in after.points:
        if pid is None or old.get(pid) != p:
            _put_point(db, frame_id, pid, p)
            if pid is None:
                pid = db.execute("SELECT last_insert_rowid()").fetchone()[0]
        written.append((pid, p))
    after = after.with_points(written)
    for oid, (_, new) in diff(before.with_points([]), after.with_points([])).masks.items():
        _put_mask(db, frame_id, oid, new)
    return after


def _put_point(db: sqlite3.Connection, frame_id: int, point_id: int | None, p: Point | None) -> None:
    if p is None:
        db.execute("DELETE FROM points WHERE id = ?", (point_id,))
        return
    db.execute(
        "INSERT OR REPLACE INTO points (id, frame_id, object_id, kind, x, y) VALUES (?, ?, ?, ?, ?, ?)",
        (point_id, frame_id, p.object_id, p.kind.value, p.x, p.y),
    )


def _put_mask(db: sqlite3.Connection, frame_id: int, object_id: int, m: StoredMask | None) -> None:
    if m is None:
        db.execute("DELETE FROM masks WHERE frame_id = ? AND object_id = ?", (frame_id, object_id))
        return
    db.execute(
        "INSERT OR REPLACE INTO masks (frame_id, object_id, png, provenance, created_at, accepted)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (frame_id, object_id, m.png, m.provenance, m.created_at, int(m.accepted)),
    )


# ------------------------------------------------------------------------------------------- step rows
def _point_row(p: Point | None) -> str | None:
    return None if p is None else json.dumps([p.object_id, p.kind.value, p.x, p.y])


def _point_of(row: str | None) -> Point | None:
    if row is None:
        return None
    oid, kind, x, y = json.loads(row)
    return Point(float(x), float(y), PointKind(kind), int(oid))


def _mask_row(m: StoredMask | None) -> str | None:
    return None if m is None else json.dumps([m.provenance, m.created_at, int(m.accepted)])


def _mask_of(object_id: int, row: str | None, png: bytes | None) -> StoredMask | None:
    if row is None or png is None:
        return None
    provenance, created_at, accepted = json.loads(row)
    return StoredMask(object_id, bytes(png), provenance, created_at, bool(accepted))


def insert_step(
    db: sqlite3.Connection, frame_id: int, action: str, delta: Delta, when: str, undone_seq: int | None = None
) -> int:
    """Write one step's rows (no checks, no trimming); return its id."""
    step = db.execute(
        "INSERT INTO history (frame_id, action, undone_seq, created_at) VALUES (?, ?, ?, ?)",
        (frame_id, action, undone_seq, when),
    ).lastrowid
    db.executemany(
        "INSERT INTO history_points (step_id, point_id, before, after) VALUES (?, ?, ?, ?)",
        [(step, pid, _point_row(old), _point_row(new)) for pid, (old, new) in delta.points.items()],
    )
    rows = []
    for oid, (old, new) in delta.masks.items():
        same_pixels = old is not None and new is not None and old.png == new.png  # e.g. an accept: flag only
        rows.append((step, oid, _mask_row(old), None if old is None else old.png, _mask_row(new),
                     None if new is None or same_pixels else new.png))
    db.executemany(
        "INSERT INTO history_masks (step_id, object_id, before, before_png, after, after_png)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )
    assert step is not None
    return step


def load_delta(db: sqlite3.Connection, step: int) -> Delta:
    points = {
        pid: (_point_of(old), _point_of(new))
        for pid, old, new in db.execute(
            "SELECT point_id, before, after FROM history_points WHERE step_id = ? ORDER BY point_id", (step,)
        )
    }
    masks = {}
    for oid, old, old_png, new, new_png in db.execute(
        "SELECT object_id, before, before_png, after, after_png FROM history_masks WHERE step_id = ?"
        " ORDER BY object_id",
        (step,),
    ):
        masks[oid] = (_mask_of(oid, old, old_png), _mask_of(oid, new, old_png if new_png is None else new_png))
    return Delta(points, masks)


def record_step(
    db: sqlite3.Connection, frame_id: int, action: str, before: FrameState, after: FrameState, when: str
) -> bool:
    """Record the change from `before` to `after` as one done step; False (nothing recorded, redo kept) when
    there is no change."""
    delta = diff(before, after)
    if not delta:
        return False
    _push_step(db, frame_id, action, delta, when)
    return True


def record_marker(db: sqlite3.Connection, frame_id: int, action: str, when: str) -> int:
    """Record a done step on the frame that changes no point or mask, and return its id: the undo entry of a
    change kept outside the frame's rows (a calibration, core.project.calibration), which reads from the step's
    state whether it is done. Drops the frame's redo tail and trims like any step."""
    return _push_step(db, frame_id, action, Delta({}, {}), when)


def _push_step(db: sqlite3.Connection, frame_id: int, action: str, delta: Delta, when: str) -> int:
    db.execute("DELETE FROM history WHERE frame_id = ? AND undone_seq IS NOT NULL", (frame_id,))
    step = insert_step(db, frame_id, action, delta, when)
    db.execute(
        "DELETE FROM history WHERE frame_id = ? AND id <= (SELECT id FROM history WHERE frame_id = ?"
        " ORDER BY id DESC LIMIT 1 OFFSET ?)",
        (frame_id, frame_id, HISTORY_PER_FRAME),
    )
    return step


def _apply(db: sqlite3.Connection, frame_id: int, step: int, undo: bool) -> None:
    delta = load_delta(db, step)
    for pid, (old, new) in delta.points.items():
        _put_point(db, frame_id, pid, old if undo else new)
    for oid, (old_mask, new_mask) in delta.masks.items():
        _put_mask(db, frame_id, oid, old_mask if undo else new_mask)


def _frame_filter(frame_id: int | None) -> tuple[str, tuple]:
    return ("", ()) if frame_id is None else (" AND frame_id = ?", (frame_id,))


def undo_step(db: sqlite3.Connection, frame_id: int | None) -> int | None:
    """Undo the latest done step (of one frame, or of any); return the frame it changed, or None."""
    where, args = _frame_filter(frame_id)
    row = db.execute(
        f"SELECT id, frame_id FROM history WHERE undone_seq IS NULL{where} ORDER BY id DESC LIMIT 1", args
    ).fetchone()
    if row is None:
        return None
    step, fid = row
    _apply(db, fid, step, undo=True)
    db.execute(
        "UPDATE history SET undone_seq = (SELECT COALESCE(MAX(undone_seq), 0) + 1 FROM history) WHERE id = ?", (step,)
    )
    return fid


def redo_step(db: sqlite3.Connection, frame_id: int | None) -> int | None:
    """Redo the step undone last (of one frame, or of any); return the frame it changed, or None."""
    where, args = _frame_filter(frame_id)
    row = db.execute(
        f"SELECT id, frame_id FROM history WHERE undone_seq IS NOT NULL{where} ORDER BY undone_seq DESC LIMIT 1",
        args,
    ).fetchone()
    if row is None:
        return None
    step, fid = row
    _apply(db, fid, step, undo=False)
    db.execute("UPDATE history SET undone_seq = NULL WHERE id = ?", (step,))
    return fid


def has_step(db: sqlite3.Connection, undone: bool, frame_id: int | None) -> bool:
    """Whether there is a step to redo (undone=True) or to undo (undone=False)."""
    where, args = _frame_filter(frame_id)
    condition = "undone_seq IS NOT NULL" if undone else "undone_seq IS NULL"
    return db.execute(f"SELECT 1 FROM history WHERE {condition}{where} LIMIT 1", args).fetchone() is not None

