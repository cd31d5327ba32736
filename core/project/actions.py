"""User actions and their undo/redo: `with store.action(name, ...)` groups edits into one transaction and one
history step, on one frame or on many; every annotation edit goes through `_edit`. The rule that picks what undo
and redo apply is in core.project.history."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

from core.annotation.tags import FrameTag
from core.project.calibration import sync_calibrations
from core.project.damage import StoreMisuse
from core.project.db import now_stamp
from core.project.frame_rows import load_state, write_state
from core.project.frame_state import FrameState
from core.project.frames_table import FramesTable
from core.project.history import has_step, next_step, record_action, record_step, redo_step, undo_step
from core.project.records import FrameRecord, HistoryStep

Edit = Callable[[FrameRecord, FrameState], FrameState]


@dataclass
class _OpenAction:
    name: str
    frames: frozenset[int] | None  # the frames its edits may change; None: any
    before: dict[int, FrameState]  # each frame edited so far -> its state when the action began


class ActionHistory(FramesTable):
    """Actions, undo and redo (a part of ProjectStore)."""

    _action: _OpenAction | None = None  # the open action; only its thread can see it (it holds the lock)

    @contextmanager
    def action(
        self, name: str, frame_id: int | None = None, *, frame_ids: Iterable[int] | None = None
    ) -> Iterator[None]:
        """Group the edits made inside the block into one user action: one transaction and one history step named
        `name`, which undo and redo treat as a unit, on every frame it changed. If the block raises, none of its edits
        are kept. `frame_id` or `frame_ids` name the frames it may change (an edit of another frame raises StoreMisuse,
        a ValueError; an unknown frame KeyError); with neither it may change any. An action opened inside another joins
        it (its frames must be among the outer one's). See core.project.history for which action undo picks when actions
        on several frames interleave."""
        frames = _frame_set(frame_id, frame_ids)
        with self._db.write() as db:
            for fid in sorted(frames or ()):
                self._frame_in(db, fid)
                self._check_in_action(fid)
            if self._action is not None:
                outer_frames = self._action.frames
                self._action.frames = outer_frames if frames is None else frames
                try:
                    yield
                finally:
                    self._action.frames = outer_frames
                return
            self._action = _OpenAction(name, frames, {})
            try:
                yield
            finally:
                opened, self._action = self._action, None
            changes = {fid: (before, load_state(db, fid)) for fid, before in opened.before.items()}
            record_action(db, name, changes, now_stamp())

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Every store call inside the block commits together or not at all (each edit keeps its own history
        step); frames added inside it are rolled back too."""
        with self._db.write():
            yield

    def undo(self, frame_id: int | None = None) -> int | None:
        """Undo the latest action (of `frame_id`, or of the project); return a frame it changed (`frame_id` when it
        is among them), or None when there was nothing to undo. undo_step says which frames."""
        return _a_frame(self.undo_step(frame_id), frame_id)

    def redo(self, frame_id: int | None = None) -> int | None:
        """Redo the action undone last (of `frame_id`, or of the project); return a frame it changed as undo does."""
        return _a_frame(self.redo_step(frame_id), frame_id)

    def undo_step(self, frame_id: int | None = None) -> HistoryStep | None:
        """Undo as undo() does; return the action undone (its name and every frame it changed), or None."""
        with self._db.write() as db:
            self._refuse_in_action("undo")
            step = undo_step(db, frame_id)
            sync_calibrations(db)
            return step

    def redo_step(self, frame_id: int | None = None) -> HistoryStep | None:
        """Redo as redo() does; return the action redone, or None."""
        with self._db.write() as db:
            self._refuse_in_action("redo")
            step = redo_step(db, frame_id)
            sync_calibrations(db)
            return step

    def next_undo(self, frame_id: int | None = None) -> HistoryStep | None:
        """The action undo(frame_id) would undo, without undoing it; None when there is none."""
        with self._db.read() as db:
            return next_step(db, frame_id, undone=False)

    def next_redo(self, frame_id: int | None = None) -> HistoryStep | None:
        """The action redo(frame_id) would redo, without redoing it; None when there is none."""
        with self._db.read() as db:
            return next_step(db, frame_id, undone=True)

    def undo_label(self, frame_id: int | None = None) -> str | None:
        """What undo(frame_id) would undo, named for a menu (see HistoryStep.label); None when nothing."""
        step = self.next_undo(frame_id)
        return None if step is None else step.label(frame_id)

    def redo_label(self, frame_id: int | None = None) -> str | None:
        """What redo(frame_id) would redo, named for a menu; None when nothing."""
        step = self.next_redo(frame_id)
        return None if step is None else step.label(frame_id)

    def can_undo(self, frame_id: int | None = None) -> bool:
        with self._db.read() as db:
            return has_step(db, undone=False, frame_id=frame_id)

    def can_redo(self, frame_id: int | None = None) -> bool:
        with self._db.read() as db:
            return has_step(db, undone=True, frame_id=frame_id)

    def _check_in_action(self, frame_id: int) -> None:
        opened = self._action
        if opened is not None and opened.frames is not None and frame_id not in opened.frames:
            raise StoreMisuse(
                f"action {opened.name!r} is on frame(s) {sorted(opened.frames)}; frame {frame_id} is not one of them"
            )

    def _refuse_in_action(self, what: str) -> None:
        if self._action is not None:
            raise StoreMisuse(f"cannot {what} inside action {self._action.name!r}")

    def _edit(self, frame_id: int, action: str, change: Edit) -> FrameState:
        """Apply `change` to the frame's annotation state in one transaction: its own history step, or part of the
        open action's."""
        with self._db.write() as db:
            self._check_in_action(frame_id)
            record = self._frame_in(db, frame_id)
            before = load_state(db, frame_id)
            after = _no_stale_no_nodule(change(record, before))
            if after == before:
                return before
            after = write_state(db, frame_id, before, after)
            if self._action is None:
                record_step(db, frame_id, action, before, after, now_stamp())
            else:
                self._action.before.setdefault(frame_id, before)
            return after

    def _frame_of(self, table: str, item_id: int) -> int:
        """The frame of a row of `table` ("points" or "strokes"); KeyError when there is no such row."""
        with self._db.read() as db:
            row = db.execute(f"SELECT frame_id FROM {table} WHERE id = ?", (item_id,)).fetchone()
        if row is None:
            raise KeyError(f"no {table.removesuffix('s')} with id {item_id}")
        return int(row[0])


def _no_stale_no_nodule(state: FrameState) -> FrameState:
    """A frame that gains a nodule is no longer *no nodule*: the tag goes in the same step (undo brings it back).
    Objects of other classes (a thyroid gland) leave it alone."""
    if state.tag is FrameTag.NO_NODULE and state.nodule_object_ids:
        return replace(state, tag=None)
    return state


def _frame_set(frame_id: int | None, frame_ids: Iterable[int] | None) -> frozenset[int] | None:
    if frame_id is None and frame_ids is None:
        return None
    return frozenset([] if frame_id is None else [frame_id]) | frozenset(frame_ids or ())


def _a_frame(step: HistoryStep | None, frame_id: int | None) -> int | None:
    if step is None:
        return None
    return frame_id if frame_id in step.frame_ids else step.frame_ids[0]
