"""The persisted undo/redo history of the frames' annotations: steps, and the user actions they make up.

One history row is one frame's part of one user action (see ProjectStore.action; an edit made outside an action is an
action of its own). A row keeps only what the action changed on its frame, as a delta: for every point, every mask and
every object class whose row differs, the row before and the row after (NULL: absent). So the history grows with the
edit, not with the frame. Strokes (history_strokes) and the frame's tag (history_tags, one row when it changed)
are kept the same way. An action that changed one frame is one row (action_id NULL); one that changed several frames
is one row per frame, all carrying action_id = the id of the first of them, and is undone and redone only as a whole.
Rows of one action are written together, so on every frame the actions' rows are in the actions' order.

Each frame has a stack: its done rows in id order, then its undone ones. Undo writes the `before` rows of an
action on all its frames and stamps them with one increasing undone_seq; redo writes the `after` rows of an
action and clears the stamp. Which action undo picks (redo is symmetric, with "undone last" for "latest"):
- project-wide (no frame): the latest done action; it is the latest on each of its frames.
- on frame F: F's latest done action A, when A is the latest done action on every frame it touched. Otherwise a
  later action B exists on one of A's frames, and undo picks the latest done action on A's frames instead, then
  checks that one the same way, and so on (each candidate is later than the one before, so this ends). Per-frame
  order is never broken: an action is undone only once nothing after it on any of its frames is still done.
A new action on a frame drops that frame's redo tail (its undone rows), and with them the rest of any multi-frame
action among them together with what was undone before it on its other frames (which could only be redone after
it): redo never applies part of an action. Trimming keeps HISTORY_PER_FRAME rows per frame; an action trimmed
off one frame keeps its rows on its other frames. Everything here runs inside the caller's transaction.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping

from core.annotation.points import Point, PointKind
from core.annotation.tags import FrameTag
from core.project.frame_rows import Delta, diff, put_class, put_mask, put_point
from core.project.frame_state import FrameState, StoredMask
from core.project.records import HistoryStep
from core.project.sparse_rows import put_stroke, put_tag, stroke_json, stroke_of_json

HISTORY_PER_FRAME = 500  # undo depth kept per frame; older steps are dropped

_ACTION = "COALESCE(action_id, id)"  # the key of a row's action
_ROWS_OF = "(id = ? OR action_id = ?)"  # the rows of the action with this key
_NO_LIMIT = 1 << 62


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
    db: sqlite3.Connection,
    frame_id: int,
    action: str,
    delta: Delta,
    when: str,
    undone_seq: int | None = None,
    action_id: int | None = None,
) -> int:
    """Write one step's rows (no checks, no trimming); return its id. Without action_id it writes no action_id
    column, so it also fills a schema 3 history (core.project.migrations)."""
    columns, values = ("frame_id, action, undone_seq, created_at", (frame_id, action, undone_seq, when))
    if action_id is not None:
        columns, values = columns + ", action_id", (*values, action_id)
    marks = ", ".join("?" * len(values))
    step = db.execute(f"INSERT INTO history ({columns}) VALUES ({marks})", values).lastrowid
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
    if delta.classes:  # (a migration from before schema 5 writes steps before the table exists)
        db.executemany(
            "INSERT INTO history_classes (step_id, object_id, before, after) VALUES (?, ?, ?, ?)",
            [(step, oid, old, new) for oid, (old, new) in delta.classes.items()],
        )
    if delta.strokes:  # (a migration from before schema 6 writes steps before these tables exist)
        db.executemany(
            "INSERT INTO history_strokes (step_id, stroke_id, before, after) VALUES (?, ?, ?, ?)",
            [(step, sid, stroke_json(old), stroke_json(new)) for sid, (old, new) in delta.strokes.items()],
        )
    if delta.tag is not None:
        db.execute("INSERT INTO history_tags (step_id, before, after) VALUES (?, ?, ?)",
                   (step, *(None if t is None else t.value for t in delta.tag)))
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
    classes = {
        oid: (old, new)
        for oid, old, new in db.execute(
            "SELECT object_id, before, after FROM history_classes WHERE step_id = ? ORDER BY object_id", (step,)
        )
    }
    strokes = {
        sid: (stroke_of_json(old), stroke_of_json(new))
        for sid, old, new in db.execute(
            "SELECT stroke_id, before, after FROM history_strokes WHERE step_id = ? ORDER BY stroke_id", (step,)
        )
    }
    row = db.execute("SELECT before, after FROM history_tags WHERE step_id = ?", (step,)).fetchone()
    tag = None if row is None else tuple(None if t is None else FrameTag(t) for t in row)
    return Delta(points, masks, classes, strokes, tag)  # type: ignore[arg-type]


def record_action(
    db: sqlite3.Connection, action: str, changes: Mapping[int, tuple[FrameState, FrameState]], when: str
) -> bool:
    """Record one action that took each frame of `changes` from its `before` state to its `after` state: one
    row per frame that changed. False (nothing recorded, redo kept) when none changed."""
    deltas = {fid: delta for fid in sorted(changes) if (delta := diff(*changes[fid]))}
    if not deltas:
        return False
    _drop_redo_tails(db, list(deltas))
    action_id = None
    for fid, delta in deltas.items():
        step = insert_step(db, fid, action, delta, when, action_id=action_id)
        if action_id is None and len(deltas) > 1:
            action_id = step
            db.execute("UPDATE history SET action_id = ? WHERE id = ?", (step, step))
    for fid in deltas:
        db.execute(
            "DELETE FROM history WHERE frame_id = ? AND id <= (SELECT id FROM history WHERE frame_id = ?"
            " ORDER BY id DESC LIMIT 1 OFFSET ?)",
            (fid, fid, HISTORY_PER_FRAME),
        )
    return True


def record_marker(db: sqlite3.Connection, frame_id: int, action: str, when: str) -> int:
    """Record a done step on the frame that changes no point, mask or class, and return its id: the undo entry of a
    change kept outside the frame's rows (a calibration, core.project.calibration), which reads from the step's
    state whether it is done. Drops the frame's redo tail and trims like any step."""
    _drop_redo_tails(db, [frame_id])
    step = insert_step(db, frame_id, action, Delta({}, {}, {}), when)
    db.execute(
        "DELETE FROM history WHERE frame_id = ? AND id <= (SELECT id FROM history WHERE frame_id = ?"
        " ORDER BY id DESC LIMIT 1 OFFSET ?)",
        (frame_id, frame_id, HISTORY_PER_FRAME),
    )
    return step


def record_step(
    db: sqlite3.Connection, frame_id: int, action: str, before: FrameState, after: FrameState, when: str
) -> bool:
    """Record an action on one frame (see record_action)."""
    return record_action(db, action, {frame_id: (before, after)}, when)


def _drop_redo_tails(db: sqlite3.Connection, frame_ids: list[int]) -> None:
    """Drop the undone rows of `frame_ids`, and on the other frames of each multi-frame action among them, the
    action's rows and every row undone before it there (redo would need the dropped action first)."""
    limits = dict.fromkeys(frame_ids, _NO_LIMIT)  # frame -> drop its undone rows with undone_seq <= this
    pending = list(frame_ids)
    while pending:
        frame_id = pending.pop()
        actions = db.execute(
            f"SELECT DISTINCT {_ACTION}, undone_seq FROM history WHERE frame_id = ? AND undone_seq IS NOT NULL"
            " AND undone_seq <= ? AND action_id IS NOT NULL",
            (frame_id, limits[frame_id]),
        ).fetchall()
        for key, seq in actions:
            for other in _frames_of(db, key):
                if limits.get(other, -1) < seq:
                    limits[other] = seq
                    pending.append(other)
    for frame_id, limit in limits.items():
        db.execute(
            "DELETE FROM history WHERE frame_id = ? AND undone_seq IS NOT NULL AND undone_seq <= ?", (frame_id, limit)
        )


def _frames_of(db: sqlite3.Connection, key: int) -> list[int]:
    rows = db.execute(f"SELECT frame_id FROM history WHERE {_ROWS_OF} ORDER BY frame_id", (key, key))
    return [fid for (fid,) in rows]


def _frame_filter(frame_id: int | None) -> tuple[str, tuple]:
    return ("", ()) if frame_id is None else (" AND frame_id = ?", (frame_id,))


def _target(db: sqlite3.Connection, frame_id: int | None, undone: bool) -> int | None:
    """The key of the action undo (undone=False) or redo (undone=True) would apply, by the rule in the module
    docstring."""
    state, order = ("undone_seq IS NOT NULL", "undone_seq") if undone else ("undone_seq IS NULL", "id")
    where, args = _frame_filter(frame_id)
    row = db.execute(f"SELECT {_ACTION} FROM history WHERE {state}{where} ORDER BY {order} DESC LIMIT 1", args)
    first = row.fetchone()
    if first is None:
        return None
    key = first[0]
    while True:
        frames = _frames_of(db, key)
        marks = ",".join("?" * len(frames))
        latest = db.execute(
            f"SELECT {_ACTION} FROM history WHERE {state} AND frame_id IN ({marks}) ORDER BY {order} DESC LIMIT 1",
            frames,
        ).fetchone()[0]
        if latest == key:
            return key
        key = latest


def _step(db: sqlite3.Connection, key: int) -> HistoryStep:
    name = db.execute(f"SELECT action FROM history WHERE {_ROWS_OF} LIMIT 1", (key, key)).fetchone()[0]
    return HistoryStep(name, tuple(_frames_of(db, key)))


def next_step(db: sqlite3.Connection, frame_id: int | None, undone: bool) -> HistoryStep | None:
    """What undo (undone=False) or redo (undone=True) of `frame_id` (or project-wide) would apply; None: nothing."""
    key = _target(db, frame_id, undone)
    return None if key is None else _step(db, key)


def undo_step(db: sqlite3.Connection, frame_id: int | None) -> HistoryStep | None:
    """Undo the action undo of `frame_id` (or project-wide) picks; return it, or None when there is none."""
    key = _target(db, frame_id, undone=False)
    if key is None:
        return None
    _apply(db, key, undo=True)
    seq = db.execute("SELECT COALESCE(MAX(undone_seq), 0) + 1 FROM history").fetchone()[0]
    db.execute(f"UPDATE history SET undone_seq = ? WHERE {_ROWS_OF}", (seq, key, key))
    return _step(db, key)


def redo_step(db: sqlite3.Connection, frame_id: int | None) -> HistoryStep | None:
    """Redo the action redo of `frame_id` (or project-wide) picks; return it, or None when there is none."""
    key = _target(db, frame_id, undone=True)
    if key is None:
        return None
    _apply(db, key, undo=False)
    db.execute(f"UPDATE history SET undone_seq = NULL WHERE {_ROWS_OF}", (key, key))
    return _step(db, key)


def _apply(db: sqlite3.Connection, key: int, undo: bool) -> None:
    for step, frame_id in db.execute(f"SELECT id, frame_id FROM history WHERE {_ROWS_OF}", (key, key)).fetchall():
        delta = load_delta(db, step)
        for pid, (old, new) in delta.points.items():
            put_point(db, frame_id, pid, old if undo else new)
        for oid, (old_mask, new_mask) in delta.masks.items():
            put_mask(db, frame_id, oid, old_mask if undo else new_mask)
        for oid, (old_class, new_class) in delta.classes.items():
            put_class(db, frame_id, oid, old_class if undo else new_class)
        for sid, (old_stroke, new_stroke) in delta.strokes.items():
            put_stroke(db, frame_id, sid, old_stroke if undo else new_stroke)
        if delta.tag is not None:
            put_tag(db, frame_id, delta.tag[0] if undo else delta.tag[1])


def has_step(db: sqlite3.Connection, undone: bool, frame_id: int | None) -> bool:
    """Whether there is a step to redo (undone=True) or to undo (undone=False)."""
    where, args = _frame_filter(frame_id)
    condition = "undone_seq IS NOT NULL" if undone else "undone_seq IS NULL"
    return db.execute(f"SELECT 1 FROM history WHERE {condition}{where} LIMIT 1", args).fetchone() is not None
