"""Background work for the GUI: callables run on a worker thread, in submission order, and their results (or
exceptions) come back to callbacks on the GUI thread through a queued signal. The GUI thread never waits."""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from PyQt5 import QtCore

from gui.thread_priority import lower_this_thread

Callback = Callable[[Any], None]
ErrorCallback = Callable[[BaseException], None]


class JobRunner(QtCore.QObject):
    """One worker thread. `submit(fn, on_done, on_error)`: fn() runs on the worker; on_done(result) or
    on_error(exception) then runs on the GUI thread (on_error defaults to the runner's `unhandled`)."""

    _finished = QtCore.pyqtSignal(object)

    def __init__(self, name: str, unhandled: ErrorCallback, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name, initializer=lower_this_thread)
        self._unhandled = unhandled
        self._in_flight = 0
        self._closed = False
        self._finished.connect(self._dispatch, QtCore.Qt.QueuedConnection)

    @property
    def idle(self) -> bool:
        """No job queued, running, or waiting for its callback."""
        return self._in_flight == 0

    def submit(self, fn: Callable[[], Any], on_done: Callback | None = None,
               on_error: ErrorCallback | None = None) -> None:
        if self._closed:
            return
        self._in_flight += 1

        def run() -> None:
            try:
                outcome = (on_done, on_error, fn(), None)
            except BaseException as exc:  # handed to the GUI thread, never lost in the worker
                outcome = (on_done, on_error, None, exc)
            self._finished.emit(outcome)

        self._executor.submit(run)

    def _dispatch(self, outcome: tuple) -> None:
        self._in_flight -= 1
        if self._closed:
            return
        on_done, on_error, result, exc = outcome
        if exc is not None:
            (on_error or self._unhandled)(exc)
        elif on_done is not None:
            on_done(result)

    def shutdown(self, cancel_queued: bool = False) -> None:
        """Finish the running job and (unless cancel_queued) every queued one, then stop the thread. Callbacks
        are dropped from now on."""
        self._closed = True
        self._executor.shutdown(wait=True, cancel_futures=cancel_queued)
