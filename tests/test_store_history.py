"""The store's history as deltas: a step keeps only what it changed, and any mix of edits (points, masks, strokes,
frame tags), actions on one frame or on several, undo and redo per frame or project-wide, and reopening gives
exactly the states and steps a plain reference model gives."""
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
from core.annotation.strokes import Stroke, StrokeKind
from core.annotation.tags import FrameTag
from core.project.records import HistoryStep, MaskRecord
from core.project.store import DB_NAME, ProjectStore

H, W = 24, 32


def _project(root: Path) -> ProjectStore:
    """Three frames, ids 1 to 3 (three, so that dropping a redo tail can cascade from frame to frame)."""
    images = [root / "a.png", root / "b.png", root / "c.png"]
    for seed, image in enumerate(images):
        cv2.imwrite(str(image), np.random.default_rng(seed).integers(0, 256, (H, W), dtype=np.uint8))
    store = ProjectStore.create(root / "project")
    store.add_frames(images)
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
FRAMES = (1, 2, 3)
EDIT_NAMES = {"add": "add point", "move": "move point", "delete": "delete point", "mask": "set mask",
              "unmask": "delete mask", "accept": "accept mask", "stroke": "add scribble", "unstroke": "delete stroke",
              "tag": {None: "clear tag", FrameTag.NODULE: "tag nodule present", FrameTag.NO_NODULE: "tag no nodule"}}
State = tuple[dict[int, Point], dict[int, tuple[MaskRecord, bytes]], dict[int, Stroke], FrameTag | None]


@dataclass
class Model:
    """Each frame's points, masks and strokes as plain dicts and its tag; each action as whole states before and
    after on each frame it changed; per frame a stack of done actions and one of undone actions (in the order they
    were undone)."""

    points: dict[int, dict[int, Point]] = field(default_factory=lambda: {f: {} for f in FRAMES})
    masks: dict[int, dict[int, tuple[MaskRecord, bytes]]] = field(default_factory=lambda: {f: {} for f in FRAMES})
    strokes: dict[int, dict[int, Stroke]] = field(default_factory=lambda: {f: {} for f in FRAMES})
    tags: dict[int, FrameTag | None] = field(default_factory=lambda: dict.fromkeys(FRAMES))
    actions: dict[int, tuple[str, dict[int, tuple[State, State]]]] = field(default_factory=dict)
    done: dict[int, list[int]] = field(default_factory=lambda: {f: [] for f in FRAMES})
    undone: dict[int, list[int]] = field(default_factory=lambda: {f: [] for f in FRAMES})
    undone_order: dict[int, int] = field(default_factory=dict)  # action -> when it was undone

    def state(self, frame: int) -> State:
        return dict(self.points[frame]), dict(self.masks[frame]), dict(self.strokes[frame]), self.tags[frame]

    def states(self) -> dict[int, State]:
        return {f: self.state(f) for f in FRAMES}

    def restore(self, frame: int, state: State) -> None:
        self.points[frame], self.masks[frame], self.strokes[frame] = dict(state[0]), dict(state[1]), dict(state[2])
        self.tags[frame] = state[3]

    def drop_stale_no_nodule(self, frame: int) -> None:
        """A frame tagged no nodule that gains an object loses the tag (in the same step)."""
        if self.tags[frame] is FrameTag.NO_NODULE and (self.points[frame] or self.masks[frame] or self.strokes[frame]):
            self.tags[frame] = None

    def done_action(self, name: str, before: dict[int, State]) -> None:
        changed = {f: (before[f], self.state(f)) for f in FRAMES if before[f] != self.state(f)}
        if not changed:
            return
        for f in changed:
            self._drop_undone(f, None)
        key = len(self.actions)
        self.actions[key] = (name, changed)
        for f in changed:
            self.done[f].append(key)

    def _drop_undone(self, frame: int, upto: int | None) -> None:
        """Drop the frame's undone actions (all, or those undone up to `upto`), then the same on the other frames
        of each multi-frame action dropped: redo never applies part of an action."""
        stack = self.undone[frame]
        cut = len(stack) if upto is None else stack.index(upto) + 1
        dropped, self.undone[frame] = stack[:cut], stack[cut:]
        for key in dropped:
            for other in self.actions[key][1]:
                if key in self.undone[other]:
                    self._drop_undone(other, key)

    def undo_target(self, frame: int | None) -> int | None:
        tops = [self.done[f][-1] for f in ([frame] if frame else FRAMES) if self.done[f]]
        if not tops:
            return None
        key = max(tops)
        while (latest := max(self.done[f][-1] for f in self.actions[key][1])) != key:
            key = latest
        return key

    def redo_target(self, frame: int | None) -> int | None:
        tops = [self.undone[f][-1] for f in ([frame] if frame else FRAMES) if self.undone[f]]
        if not tops:
            return None
        key = max(tops, key=self.undone_order.__getitem__)
        while (latest := max((self.undone[f][-1] for f in self.actions[key][1]),
                             key=self.undone_order.__getitem__)) != key:
            key = latest
        return key

    def undo(self, frame: int | None) -> HistoryStep | None:
        key = self.undo_target(frame)
        if key is None:
            return None
        name, changes = self.actions[key]
        for f, (before, _) in changes.items():
            assert self.done[f].pop() == key
            self.undone[f].append(key)
            self.restore(f, before)
        self.undone_order[key] = len(self.undone_order)
        return HistoryStep(name, tuple(sorted(changes)))

    def redo(self, frame: int | None) -> HistoryStep | None:
        key = self.redo_target(frame)
        if key is None:
            return None
        name, changes = self.actions[key]
        for f, (_, after) in changes.items():
            assert self.undone[f].pop() == key
            self.done[f].append(key)
            self.restore(f, after)
        return HistoryStep(name, tuple(sorted(changes)))


def _store_state(store: ProjectStore, frame: int) -> State:
    masks = {oid: (rec, store.mask(frame, oid).tobytes()) for oid, rec in store.masks(frame).items()}
    return store.points(frame), masks, store.strokes(frame), store.tag(frame)


frame_choice = st.sampled_from(FRAMES)
coordinate = st.integers(0, W - 1)
add = st.tuples(st.just("add"), frame_choice, coordinate, st.integers(0, H - 1), st.sampled_from(list(PointKind)),
                st.integers(0, 2))
edit = st.one_of(
    add,
    add,  # twice as likely: frames with several points are where deletes and moves matter
    st.tuples(st.just("move"), frame_choice, st.integers(0, 50), coordinate, st.integers(0, H - 1)),
    st.tuples(st.just("delete"), frame_choice, st.integers(0, 50)),
    st.tuples(st.just("mask"), frame_choice, st.integers(0, 2), st.integers(0, W - 4), st.booleans()),
    st.tuples(st.just("unmask"), frame_choice, st.integers(0, 2)),
    st.tuples(st.just("accept"), frame_choice, st.integers(0, 2)),
    st.tuples(st.just("stroke"), frame_choice, coordinate, st.integers(0, H - 1), st.booleans(), st.integers(0, 2)),
    st.tuples(st.just("unstroke"), frame_choice, st.integers(0, 50)),
    st.tuples(st.just("tag"), frame_choice, st.sampled_from([None, *FrameTag])),
)
scope = st.one_of(st.none(), frame_choice)  # project-wide, or one frame
operation = st.one_of(  # one_of picks its branches evenly: edits four times over, as users mostly edit
    edit,
    edit,
    edit,
    edit,
    st.tuples(st.just("action"), scope, st.lists(edit, min_size=1, max_size=4)),  # on one frame, or on any
    st.tuples(st.just("undo"), scope),
    st.tuples(st.just("redo"), scope),
    st.tuples(st.just("reopen")),
)


def _apply_edit(store: ProjectStore, model: Model, op: tuple) -> None:
    kind, frame, *args = op
    points, masks = model.points[frame], model.masks[frame]
    ids = sorted(points)
    if kind == "add":
        x, y, point_kind, oid = args
        point = Point(float(x), float(y), point_kind, oid)
        pid = store.add_point(frame, point)
        assert all(pid not in model.points[f] for f in FRAMES)
        points[pid] = point
    elif kind == "move" and ids:
        pid = ids[args[0] % len(ids)]
        store.move_point(pid, float(args[1]), float(args[2]))
        old = points[pid]
        points[pid] = Point(float(args[1]), float(args[2]), old.kind, old.object_id)
    elif kind == "delete" and ids:
        pid = ids[args[0] % len(ids)]
        store.delete_point(pid)
        del points[pid]
    elif kind == "mask":
        oid, left, accepted = args
        mask = np.zeros((H, W), bool)
        mask[2:H - 2, left:left + 4] = True
        store.set_mask(frame, oid, mask, "painted", accepted=accepted)
        masks[oid] = (store.masks(frame)[oid], mask.tobytes())  # the store stamps the time
    elif kind == "unmask":
        store.delete_mask(frame, args[0])
        masks.pop(args[0], None)
    elif kind == "accept" and args[0] in masks:
        store.accept_mask(frame, args[0])
        record, pixels = masks[args[0]]
        masks[args[0]] = (MaskRecord(record.object_id, record.provenance, record.created_at, True), pixels)
    else:
        _apply_sparse_edit(store, model, op)
    model.drop_stale_no_nodule(frame)


def _apply_sparse_edit(store: ProjectStore, model: Model, op: tuple) -> None:
    kind, frame, *args = op
    strokes = model.strokes[frame]
    if kind == "stroke":
        x, y, foreground, oid = args
        stroke = Stroke(StrokeKind.SCRIBBLE, ((float(x), float(y)), (float(W - 1 - x), 1.0)), foreground, 3.0, oid)
        sid = store.add_stroke(frame, stroke)
        assert all(sid not in model.strokes[f] for f in FRAMES)
        strokes[sid] = stroke
    elif kind == "unstroke" and strokes:
        sid = sorted(strokes)[args[0] % len(strokes)]
        store.delete_stroke(sid)
        del strokes[sid]
    elif kind == "tag":
        store.set_tag([frame], args[0], remove_objects=True)
        model.tags[frame] = args[0]
        if args[0] is FrameTag.NO_NODULE:
            model.points[frame], model.masks[frame], model.strokes[frame] = {}, {}, {}


def _history_op(store: ProjectStore, model: Model, op: tuple) -> None:
    """Undo or redo: the store names the action the model picks, then applies exactly that."""
    redo, frame = op[0] == "redo", op[1]
    expected = (model.redo if redo else model.undo)
    peek = store.next_redo(frame) if redo else store.next_undo(frame)
    applied = store.redo_step(frame) if redo else store.undo_step(frame)
    step = expected(frame)
    assert peek == applied == step


def _run(store: ProjectStore, model: Model, op: tuple, root: Path) -> ProjectStore:
    if op[0] in ("undo", "redo"):
        _history_op(store, model, op)
    elif op[0] == "reopen":
        store.close()
        store = ProjectStore.open(root / "project")
    elif op[0] == "action":
        before = model.states()
        inner = [(e[0], op[1], *e[2:]) if op[1] else e for e in op[2]]  # a one-frame action edits its frame only
        with store.action("several edits", op[1]):
            for e in inner:
                _apply_edit(store, model, e)
        model.done_action("several edits", before)
    else:
        before = model.states()
        _apply_edit(store, model, op)
        name = EDIT_NAMES[op[0]]
        model.done_action(name[op[2]] if op[0] == "tag" else name, before)
    return store


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True, database=None)
@given(st.lists(operation, min_size=10, max_size=40))
def test_random_edits_undo_redo_and_reopening_match_a_reference_model(operations: list[tuple]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        store, model = _project(root), Model()
        try:
            for op in operations:
                store = _run(store, model, op, root)
                for f in FRAMES:
                    assert _store_state(store, f) == model.state(f)
                    assert store.can_undo(f) == bool(model.done[f]) and store.can_redo(f) == bool(model.undone[f])
        finally:
            store.close()
