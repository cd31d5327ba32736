"""Bringing an interactive session up to date with what the store (and the edits on their way) say an object
holds: its calipers or box, its clicks and its scribbles, in order. A session that is one step behind takes that
step; one that is one step off undoes and takes it; anything else is replayed from scratch. So after an undo, or
with a frame reopened, a session catches up by itself with the fewest engine computations."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np

from core.annotation.clicks import Click
from core.annotation.points import Calipers, Point, PointKind, calipers_from_points
from core.annotation.strokes import Stroke, StrokeKind
from core.interactive.crop_seeds import BoxXYXY, clip_box
from core.interactive.session import InteractionSession


@dataclass(frozen=True)
class EngineState:
    """What an engine session holds for one object: its calipers (or the box it started from: never both), its
    clicks and its scribbles, each in order."""

    calipers: Calipers | None = None
    clicks: tuple[Click, ...] = ()
    box: BoxXYXY | None = None
    scribbles: tuple[Stroke, ...] = ()

    @classmethod
    def from_points(cls, points: Iterable[tuple[int, Point]], object_id: int) -> EngineState:
        """The object's state from stored (point id, point) pairs: its complete calipers, and its foreground /
        background clicks in the order they were made (by point id)."""
        own = sorted((pid, p) for pid, p in points if p.object_id == object_id)
        calipers = calipers_from_points([p for _, p in own]).get(object_id)
        clicks = tuple(Click(int(round(p.x)), int(round(p.y)), p.kind == PointKind.FOREGROUND)
                       for _, p in own if not p.kind.is_caliper)
        return cls(calipers, clicks)

    @classmethod
    def from_labels(cls, points: Iterable[tuple[int, Point]], strokes: Iterable[tuple[int, Stroke]],
                    object_id: int, shape: tuple[int, int]) -> EngineState:
        """The object's state from its stored points and strokes (stroke id -> stroke): calipers and clicks as
        from_points, scribbles by stroke id, and its latest box (ignored when the object has calipers: they
        measure it, the box only located it)."""
        state = cls.from_points(points, object_id)
        own = [s for _, s in sorted(strokes, key=lambda kv: kv[0]) if s.object_id == object_id]
        boxes = [s for s in own if s.kind is StrokeKind.BOX]
        scribbles = tuple(s for s in own if s.kind is StrokeKind.SCRIBBLE)
        box = None if state.calipers is not None or not boxes else _box_in_frame(boxes[-1], shape)
        return replace(state, box=box, scribbles=scribbles)

    @classmethod
    def of_session(cls, session: InteractionSession) -> EngineState:
        box = session.box
        return cls(None if box is not None else session.calipers, tuple(session.clicks), box, session.scribbles)

    def with_calipers(self, calipers: Calipers | None) -> EngineState:
        return replace(self, calipers=calipers, box=None)

    def with_box(self, stroke: Stroke, shape: tuple[int, int]) -> EngineState:
        """Start from a box (ValueError if it is too small in the frame)."""
        return replace(self, calipers=None, box=clip_box(stroke.box_xyxy, shape))

    def with_click(self, x: float, y: float, positive: bool) -> EngineState:
        return replace(self, clicks=(*self.clicks, Click(int(round(x)), int(round(y)), positive)))

    def with_scribble(self, stroke: Stroke) -> EngineState:
        return replace(self, scribbles=(*self.scribbles, stroke))

    @property
    def empty(self) -> bool:
        return self.calipers is None and self.box is None and not self.clicks and not self.scribbles


def _box_in_frame(stroke: Stroke, shape: tuple[int, int]) -> BoxXYXY | None:
    try:
        return clip_box(stroke.box_xyxy, shape)
    except ValueError:  # e.g. imported from a larger frame: the object has no usable box
        return None


def _set_start(session: InteractionSession, state: EngineState) -> np.ndarray:
    if state.box is not None:
        return session.set_box(*state.box)
    return session.set_calipers(state.calipers)


def _one_step(session: InteractionSession, state: EngineState) -> np.ndarray | None:
    now = EngineState.of_session(session)
    if now == state:
        return session.mask
    same_start = now.calipers == state.calipers and now.box == state.box
    if same_start and now.scribbles == state.scribbles and state.clicks and now.clicks == state.clicks[:-1]:
        last = state.clicks[-1]
        return session.add_click(last.x, last.y, last.positive)
    if same_start and now.clicks == state.clicks and state.scribbles and now.scribbles == state.scribbles[:-1]:
        return session.add_scribble(state.scribbles[-1])
    if now.clicks == state.clicks and now.scribbles == state.scribbles and (
            state.calipers is not None or state.box is not None):
        return _set_start(session, state)
    return None


def bring_up_to_date(session: InteractionSession, state: EngineState) -> np.ndarray:
    """Bring `session` to `state` and return its mask: one step forward (a click, a scribble, new calipers or a
    box), or one undo and one step, else a replay from scratch."""
    mask = _one_step(session, state)
    if mask is not None:
        return mask
    session.undo()
    mask = _one_step(session, state)
    if mask is not None:
        return mask
    mask = session.reset()
    if state.calipers is not None or state.box is not None:
        mask = _set_start(session, state)
    for click in state.clicks:
        mask = session.add_click(click.x, click.y, click.positive)
    for scribble in state.scribbles:
        mask = session.add_scribble(scribble)
    return mask
