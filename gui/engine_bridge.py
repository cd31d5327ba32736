"""The interactive engine seen from the GUI: edits run on the live engine's worker thread and every applied edit
comes back to the GUI thread as an EngineLanded through a queued signal (the newest one is what is shown; each
one is also what gets saved, so an edit whose display was superseded is still written to the store).

Each request carries the engine state it expects to start from (calipers and clicks, as the store and the
earlier requests say); the worker brings the session there first, so after an undo, or a frame reopened, the
session catches up by itself (a cheap undo when that suffices, else a replay of the calipers and clicks)."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from PyQt5 import QtCore

from core.annotation.clicks import Click
from core.annotation.points import Calipers
from core.interactive.live_engine import LiveEngine
from core.interactive.session import InteractionSession
from gui.thread_priority import lower_this_thread

Operation = Callable[[InteractionSession], np.ndarray]


@dataclass(frozen=True)
class EngineState:
    """What an engine session holds: the object's calipers and its clicks, in order."""

    calipers: Calipers | None = None
    clicks: tuple[Click, ...] = ()

    def with_calipers(self, calipers: Calipers | None) -> EngineState:
        return EngineState(calipers, self.clicks)

    def with_click(self, x: float, y: float, positive: bool) -> EngineState:
        return EngineState(self.calipers, (*self.clicks, Click(int(round(x)), int(round(y)), positive)))

    @property
    def empty(self) -> bool:
        return self.calipers is None and not self.clicks


@dataclass(frozen=True)
class EngineRequest:
    seq: int
    frame_id: int
    object_id: int
    generation: int  # the frame's undo generation when submitted; results from older generations are dropped
    start: EngineState  # the state the operation applies to
    end: EngineState  # the state after it
    kind: str  # "calipers", "click", "move", "preview"
    payload: Any = None  # what to write to the store when it lands (see FrameEditor)
    submitted_at: float = 0.0


@dataclass(frozen=True)
class EngineLanded:
    request: EngineRequest
    mask: np.ndarray | None
    compute_seconds: float
    error: BaseException | None = None

    @property
    def click_to_mask_seconds(self) -> float:
        return time.perf_counter() - self.request.submitted_at


def operation_for(state: EngineState) -> Operation:
    """Bring a session from whatever state it is in to `state` with the fewest engine computations: one step
    forward (a click, or new calipers), or one undo and then one step, else a replay from scratch."""

    def one_step(session: InteractionSession) -> np.ndarray | None:
        now = _state_of(session)
        if now == state:
            return session.mask
        if now.calipers == state.calipers and state.clicks and now.clicks == state.clicks[:-1]:
            last = state.clicks[-1]
            return session.add_click(last.x, last.y, last.positive)
        if now.clicks == state.clicks and state.calipers is not None:
            return session.set_calipers(state.calipers)
        return None

    def bring(session: InteractionSession) -> np.ndarray:
        mask = one_step(session)
        if mask is not None:
            return mask
        session.undo()
        mask = one_step(session)
        if mask is not None:
            return mask
        mask = session.reset()
        if state.calipers is not None:
            mask = session.set_calipers(state.calipers)
        for click in state.clicks:
            mask = session.add_click(click.x, click.y, click.positive)
        return mask

    return bring


def _state_of(session: InteractionSession) -> EngineState:
    return EngineState(session.calipers, tuple(session.clicks))


class EngineBridge(QtCore.QObject):
    landed = QtCore.pyqtSignal(object)  # EngineLanded, on the GUI thread

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._engine = LiveEngine(lambda result: None)  # every edit reports itself through `landed`
        self._in_flight: dict[int, EngineRequest] = {}
        self._deliver = _Relay()
        self._deliver.relay.connect(self._on_landed, QtCore.Qt.QueuedConnection)

    def submit(self, session: InteractionSession, request: EngineRequest) -> None:
        self._in_flight[request.seq] = request
        operation = operation_for(request.end)
        relay = self._deliver

        def edit(s: InteractionSession) -> np.ndarray:
            lower_this_thread()  # the engine's worker thread yields to the GUI thread
            started = time.perf_counter()
            try:
                mask = operation(s)
            except Exception as exc:
                relay.relay.emit(EngineLanded(request, None, time.perf_counter() - started, exc))
                raise
            relay.relay.emit(EngineLanded(request, mask, time.perf_counter() - started))
            return mask

        self._engine.submit(session, edit)

    def in_flight(self, frame_id: int | None = None) -> list[EngineRequest]:
        return [r for r in self._in_flight.values() if frame_id is None or r.frame_id == frame_id]

    @property
    def idle(self) -> bool:
        return not self._in_flight

    def _on_landed(self, landed: EngineLanded) -> None:
        self._in_flight.pop(landed.request.seq, None)
        self.landed.emit(landed)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until the worker has applied every edit (used only when closing)."""
        return self._engine.wait_idle(timeout)

    def stop(self) -> None:
        self._engine.stop()


class _Relay(QtCore.QObject):
    relay = QtCore.pyqtSignal(object)
