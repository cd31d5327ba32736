"""The interactive engine seen from the GUI: edits run on the live engine's worker thread and every applied edit
comes back to the GUI thread as an EngineLanded through a queued signal (the newest one is what is shown; each
one is also what gets saved, so an edit whose display was superseded is still written to the store).

Each request carries the engine state it ends in (calipers and clicks, as the store and the earlier requests
say); the worker brings the session there (core.interactive.engine_state.bring_up_to_date), so after an undo, or
a frame reopened, the session catches up by itself."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from PyQt5 import QtCore

from core.interactive.engine_state import EngineState, bring_up_to_date
from core.interactive.live_engine import LiveEngine
from core.interactive.session import InteractionSession
from core.runtime.thread_priority import lower_this_thread


@dataclass(frozen=True)
class EngineRequest:
    seq: int
    frame_id: int
    object_id: int
    generation: int  # the frame's undo generation when submitted; results from older generations are dropped
    start: EngineState  # the state the operation applies to
    end: EngineState  # the state after it
    kind: str  # "calipers", "click", "move", "preview", "scribble", "box"
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


class EngineBridge(QtCore.QObject):
    landed = QtCore.pyqtSignal(object)  # EngineLanded, on the GUI thread

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._engine = LiveEngine(lambda result: None)  # every edit reports itself through `landed`
        self._in_flight: dict[int, EngineRequest] = {}
        self._deliver = _Relay()
        self._deliver.relay.connect(self._on_landed, QtCore.Qt.QueuedConnection)

    def submit(self, session: InteractionSession, request: EngineRequest) -> None:
        """Bring `session` to `request.end` on the engine's worker; the result comes back through `landed`."""
        self._in_flight[request.seq] = request
        relay = self._deliver

        def edit(s: InteractionSession) -> np.ndarray:
            lower_this_thread()  # the engine's worker thread yields to the GUI thread
            started = time.perf_counter()
            try:
                mask = bring_up_to_date(s, request.end)
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
