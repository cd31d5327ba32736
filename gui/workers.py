"""Background work for the GUI: callables run on a worker thread, in submission order, and their results (or
exceptions) come back to callbacks on the GUI thread through a queued signal. The GUI thread never waits.

An open project has one worker per job (gui/project_session.py), so no job waits behind another kind: `store`
writes (and the reads that must follow them), `loads` (reading frames for the editor), `inference` (the frame
model, whose first answer can take minutes while its process starts), `aux` (confident/uncertain regions)."""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from PyQt5 import QtCore

from core.runtime.thread_priority import lower_this_thread

Callback = Callable[[Any], None]
ErrorCallback = Callable[[BaseException], None]


class JobRunner(QtCore.QObject):
    """One worker thread. `submit(fn, on_done, on_error)`: fn() runs on the worker; on_done(result) or
    on_error(exception) then runs on the GUI thread (on_error defaults to the runner's `unhandled`)."""

    _finished = QtCore.pyqtSignal(object)

    def __init__(self, name: str, unhandled: ErrorCallback, parent: QtCore.QObject | None = None,
                 yield_cpu: bool = True) -> None:
        """yield_cpu: the worker runs at a lower priority than the GUI thread (see core.runtime.thread_priority);
        False for work the user is waiting for on screen (loading the frame just asked for)."""
        super().__init__(parent)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name,
                                            initializer=lower_this_thread if yield_cpu else None)
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
        """Queue fn() behind the jobs already submitted (dropped once the runner is shut down)."""
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

    def report(self, exc: BaseException) -> None:
        """Hand an exception to the runner's handler of unexpected errors (GUI thread)."""
        self._unhandled(exc)

    def _dispatch(self, outcome: tuple) -> None:
        self._in_flight -= 1
        if self._closed:
            return
        on_done, on_error, result, exc = outcome
        if exc is not None:
            (on_error or self._unhandled)(exc)
        elif on_done is not None:
            on_done(result)

    def shutdown(self, cancel_queued: bool = False, wait: bool = True) -> None:
        """Finish the running job and (unless cancel_queued) every queued one, then stop the thread; without
        `wait`, return at once and let the running job end by itself. Callbacks are dropped from now on."""
        self._closed = True
        self._executor.shutdown(wait=wait, cancel_futures=cancel_queued)


@dataclass(frozen=True)
class Workers:
    """The worker threads of an open project, one per job (see the module docstring)."""

    store: JobRunner
    loads: JobRunner
    inference: JobRunner
    aux: JobRunner

    @property
    def idle(self) -> bool:
        return all(runner.idle for runner in (self.store, self.loads, self.inference, self.aux))

    def shutdown(self) -> None:
        """Drop queued loads, inference and aux work; finish every queued store write. A running inference is
        not waited for (the model process is ended by its provider)."""
        self.inference.shutdown(cancel_queued=True, wait=False)
        for runner in (self.loads, self.aux):
            runner.shutdown(cancel_queued=True)
        self.store.shutdown()
