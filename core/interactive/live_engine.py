"""Runs engine edits off the caller's thread, latest edit wins: while one edit computes, newer requests
replace any waiting one, and a result is delivered only if no newer request came in meanwhile."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.interactive.session import InteractionSession


@dataclass(frozen=True)
class EngineResult:
    request_id: int
    session: InteractionSession
    mask: np.ndarray
    seconds: float  # compute time of this edit
    error: Exception | None = None


Edit = Callable[[InteractionSession], np.ndarray]


class LiveEngine:
    """submit(session, edit) queues `edit(session)`; on_result(EngineResult) is called from the worker thread
    for the newest request only (a GUI forwards it to its own thread with a queued signal)."""

    def __init__(self, on_result: Callable[[EngineResult], Any]) -> None:
        self._on_result = on_result
        self._lock = threading.Condition()
        self._pending: list[tuple[int, InteractionSession, Edit]] = []
        self._latest = 0
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name="sonoclick-engine", daemon=True)
        self._thread.start()

    def submit(self, session: InteractionSession, edit: Edit) -> int:
        """Queue an edit. Edits are applied in order (each changes the session's state); only the mask after
        the newest is reported."""
        with self._lock:
            self._latest += 1
            self._pending.append((self._latest, session, edit))
            self._lock.notify()
            return self._latest

    @property
    def latest_request(self) -> int:
        return self._latest

    def wait_idle(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._pending or self._busy:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._lock.wait(remaining)
        return True

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            self._lock.notify_all()
        self._thread.join(timeout=5)

    _busy = False

    def _loop(self) -> None:
        while True:
            with self._lock:
                while not self._pending and not self._stopped:
                    self._lock.wait()
                if self._stopped:
                    return
                batch, self._pending = self._pending, []
                self._busy = True
            result = self._apply(batch)
            with self._lock:
                self._busy = False
                newest = result is not None and result.request_id == self._latest
                self._lock.notify_all()
            if newest:
                self._on_result(result)

    @staticmethod
    def _apply(batch: list[tuple[int, InteractionSession, Edit]]) -> EngineResult | None:
        """Apply every queued edit in order; the mask of the last one is the answer. Intermediate masks are
        superseded, so clicks queued behind a slow one cost one recompute each but are never lost."""
        result = None
        for request_id, session, edit in batch:
            start = time.perf_counter()
            try:
                mask = edit(session)
                result = EngineResult(request_id, session, mask, time.perf_counter() - start)
            except Exception as exc:  # reported to the caller, never kills the worker
                result = EngineResult(request_id, session, session.mask, time.perf_counter() - start, exc)
        return result
