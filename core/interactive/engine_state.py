"""Bringing an interactive session up to date with what the store (and the edits on their way) say an object
holds: its calipers and its clicks, in order. A session that is one step behind takes that step; one that is one
step off undoes and takes it; anything else is replayed from scratch. So after an undo, or with a frame
reopened, a session catches up by itself with the fewest engine computations."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from core.annotation.clicks import Click
from core.annotation.points import Calipers, Point, PointKind, calipers_from_points
from core.interactive.session import InteractionSession


@dataclass(frozen=True)
class EngineState:
    """What an engine session holds for one object: its calipers and its clicks, in order."""

    calipers: Calipers | None = None
    clicks: tuple[Click, ...] = ()

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
    def of_session(cls, session: InteractionSession) -> EngineState:
        return cls(session.calipers, tuple(session.clicks))

    def with_calipers(self, calipers: Calipers | None) -> EngineState:
        return EngineState(calipers, self.clicks)

    def with_click(self, x: float, y: float, positive: bool) -> EngineState:
        return EngineState(self.calipers, (*self.clicks, Click(int(round(x)), int(round(y)), positive)))

    @property
    def empty(self) -> bool:
        return self.calipers is None and not self.clicks


def _one_step(session: InteractionSession, state: EngineState) -> np.ndarray | None:
    now = EngineState.of_session(session)
    if now == state:
        return session.mask
    if now.calipers == state.calipers and state.clicks and now.clicks == state.clicks[:-1]:
        last = state.clicks[-1]
        return session.add_click(last.x, last.y, last.positive)
    if now.clicks == state.clicks and state.calipers is not None:
        return session.set_calipers(state.calipers)
    return None


def bring_up_to_date(session: InteractionSession, state: EngineState) -> np.ndarray:
    """Bring `session` to `state` and return its mask: one step forward (a click, or new calipers), or one
    undo and one step, else a replay from scratch."""
    mask = _one_step(session, state)
    if mask is not None:
        return mask
    session.undo()
    mask = _one_step(session, state)
    if mask is not None:
        return mask
    mask = session.reset()
    if state.calipers is not None:
        mask = session.set_calipers(state.calipers)
    for click in state.clicks:
        mask = session.add_click(click.x, click.y, click.positive)
    return mask
