"""The store's history as deltas: a step keeps only what it changed, and any mix of edits, actions, undo, redo and
reopening gives exactly the states a plain reference model gives."""
from __future__ import annotations

import sqlite3
import tempfile
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.annotation.points import Point, PointKind
from core.project.records import MaskRecord
from core.project.store import DB_NAME, ProjectStore

H, W = 24, 32


def _project(root: Path) -> ProjectStore:
    image = root / "a.png"
    cv2.imwrite(str(image), np.random.default_rng(0).integers(0, 256, (H, W), dtype=np.uint8))
    store = ProjectStore.create(root / "project")
    store.add_frames([image])
    return store


def _rows(store: ProjectStore, table: str) -> list[tuple]:
    with closing(sqlite3.connect(store.folder / DB_NAME)) as conn:
        return conn.execute(f"SELECT * FROM {table}").fetchall()


def test_moving_one_point_on_a_busy_frame_stores_that_point_only(tmp_path: Path) -> None:
    store = _project(tmp_path)
    for oid in range(4):
        mask = np.zeros((H, W), bool)
        mask[oid * 5:oid * 5 + 4, 3:20] = True
        store.set_mask(1, oid, mask, "painted")
        for k in range(5):
            store.add_point(1, Point(k + 1, oid * 5 + 1, PointKind.FOREGROUND, oid))
    pid = next(iter(store.points(1)))
    steps = len(_rows(store, "history"))
    masks_rows = len(_rows(store, "history_masks"))
    store.move_point(pid, 30, 20)
    assert len(_rows(store, "history")) == steps + 1
    assert len(_rows(store, "history_masks")) == masks_rows  # no mask copied for a point edit
    changed = [row for row in _rows(store, "history_points") if row[0] == _rows(store, "history")[-1][0]]
    assert [(row[1], row[2] is not None, row[3] is not None) for row in changed] == [(pid, True, True)]
    store.undo(1)
    assert store.points(1)[pid] == Point(1, 1, PointKind.FOREGROUND, 0)
    store.close()


def test_an_accept_keeps_the_pixels_once(tmp_path: Path) -> None:
    store = _project(tmp_path)
    store.set_mask(1, 0, np.ones((H, W), bool), "refined", accepted=False)
    store.accept_mask(1, 0)
    accept = _rows(store, "history_masks")[-1]
    assert accept[3] is not None and accept[5] is None  # before_png kept, after_png "the same pixels"
    store.undo(1)
    assert not store.masks(1)[0].accepted
    store.redo(1)
    assert store.masks(1)[0].accepted and store.mask(1, 0).all()
    store.close()


# ------------------------------------------------------------------------------ property: reference model
@dataclass
class Model:
    """The frame's points and masks as plain dicts, with undo/redo as stacks of whole states."""

    points: dict[int, Point] = field(default_factory=dict)
    masks: dict[int, tuple[MaskRecord, bytes]] = field(default_factory=dict)
    undo: list[tuple] = field(default_factory=list)
    redo: list[tuple] = field(default_factory=list)

    def state(self) -> tuple:
        return dict(self.points), dict(self.masks)

    def restore(self, state: tuple) -> None:
        self.points, self.masks = dict(state[0]), dict(state[1])

    def done(self, before: tuple) -> None:
        if before != self.state():
            self.undo.append(before)
            self.redo.clear()


def _store_state(store: ProjectStore) -> tuple:
    masks = {oid: (rec, store.mask(1, oid).tobytes()) for oid, rec in store.masks(1).items()}
    return store.points(1), masks


coordinate = st.integers(0, W - 1)
add = st.tuples(st.just("add"), coordinate, st.integers(0, H - 1), st.sampled_from(list(PointKind)), st.integers(0, 2))
edit = st.one_of(
    add,
    add,  # twice as likely: frames with several points are where deletes and moves matter
    st.tuples(st.just("move"), st.integers(0, 50), coordinate, st.integers(0, H - 1)),
    st.tuples(st.just("delete"), st.integers(0, 50)),
    st.tuples(st.just("mask"), st.integers(0, 2), st.integers(0, W - 4), st.booleans()),
    st.tuples(st.just("unmask"), st.integers(0, 2)),
    st.tuples(st.just("accept"), st.integers(0, 2)),
)
operation = st.one_of(  # one_of picks its branches evenly: edits four times over, as users mostly edit
    edit,
    edit,
    edit,
    edit,
    st.tuples(st.just("action"), st.lists(edit, min_size=1, max_size=4)),
    st.tuples(st.just("undo")),
    st.tuples(st.just("redo")),
    st.tuples(st.just("reopen")),
)


def _apply_edit(store: ProjectStore, model: Model, op: tuple) -> None:
    kind, *args = op
    ids = sorted(model.points)
    if kind == "add":
        x, y, point_kind, oid = args
        point = Point(float(x), float(y), point_kind, oid)
        pid = store.add_point(1, point)
        assert pid not in model.points
        model.points[pid] = point
    elif kind == "move" and ids:
        pid = ids[args[0] % len(ids)]
        store.move_point(pid, float(args[1]), float(args[2]))
        old = model.points[pid]
        model.points[pid] = Point(float(args[1]), float(args[2]), old.kind, old.object_id)
    elif kind == "delete" and ids:
        pid = ids[args[0] % len(ids)]
        store.delete_point(pid)
        del model.points[pid]
    elif kind == "mask":
        oid, left, accepted = args
        mask = np.zeros((H, W), bool)
        mask[2:H - 2, left:left + 4] = True
        store.set_mask(1, oid, mask, "painted", accepted=accepted)
        model.masks[oid] = (store.masks(1)[oid], mask.tobytes())  # the store stamps the time
    elif kind == "unmask":
        store.delete_mask(1, args[0])
        model.masks.pop(args[0], None)
    elif kind == "accept" and args[0] in model.masks:
        store.accept_mask(1, args[0])
        record, pixels = model.masks[args[0]]
        model.masks[args[0]] = (MaskRecord(record.object_id, record.provenance, record.created_at, True), pixels)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operation, min_size=10, max_size=40))
def test_random_edits_undo_redo_and_reopening_match_a_reference_model(operations: list[tuple]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        store, model = _project(root), Model()
        try:
            for op in operations:
                if op[0] == "undo":
                    assert (store.undo(1) is not None) == bool(model.undo)
                    if model.undo:
                        model.redo.append(model.state())
                        model.restore(model.undo.pop())
                elif op[0] == "redo":
                    assert (store.redo(1) is not None) == bool(model.redo)
                    if model.redo:
                        model.undo.append(model.state())
                        model.restore(model.redo.pop())
                elif op[0] == "reopen":
                    store.close()
                    store = ProjectStore.open(root / "project")
                elif op[0] == "action":
                    before = model.state()
                    with store.action("several edits", 1):
                        for inner in op[1]:
                            _apply_edit(store, model, inner)
                    model.done(before)
                else:
                    before = model.state()
                    _apply_edit(store, model, op)
                    model.done(before)
                assert _store_state(store) == model.state()
                assert store.can_undo(1) == bool(model.undo) and store.can_redo(1) == bool(model.redo)
        finally:
            store.close()
