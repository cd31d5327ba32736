"""The model's process: one worker, spawned (never forked: a fork of a threaded app can inherit held locks).
`ModelProcess` keeps that worker for the app's lifetime: started (and torch imported there) when the app starts,
while the user is still choosing a folder, and reused by every project opened afterwards."""
from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Executor, Future, ProcessPoolExecutor
from typing import Any

from core.serving import model_process


def spawn_pool() -> Executor:
    """A one-process pool, started by the first request sent to it."""
    return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))


def stop_pool(pool: Executor) -> None:
    """Drop queued requests and end the model process now, so a caller waiting for an answer gets an error at
    once instead of waiting for the model to finish starting."""
    terminate = getattr(pool, "terminate_workers", None)  # Python 3.14+
    if terminate is not None:
        terminate()
        return
    # before 3.14 there is no public way to end a busy worker; the processes must be taken before shutdown(),
    # which forgets them (`_processes = None`) and would leave a busy one running until its request ends
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()


class ModelProcess:
    """One model process made by `new_pool` on first use (or by `start`), replaced if it dies, ended by `close`.
    Thread-safe: the GUI thread starts and closes it, workers send requests."""

    def __init__(self, new_pool: Callable[[], Executor] | None = None) -> None:
        self._new_pool = new_pool or spawn_pool
        self._pool: Executor | None = None
        self._lock = threading.Lock()
        self._closed = False
        self.preloaded: Future | None = None  # torch and the predictor imported in the process (see `start`)

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def warm(self) -> bool:
        """Started, and torch is imported over there: a model's first answer takes loading and inference only."""
        loaded = self.preloaded
        return loaded is not None and loaded.done() and not loaded.cancelled() and loaded.exception() is None

    def start(self) -> Future:
        """Start the process now and import torch and the predictor there (without waiting for it: spawning
        takes a few milliseconds here, the import seconds over there). The import's future; also `preloaded`."""
        with self._lock:
            if self.preloaded is None or self.preloaded.cancelled():
                self.preloaded = self._submit_locked(model_process.preload)
            return self.preloaded

    def submit(self, function: Callable[..., Any], *args: Any) -> Future:
        """Send one request; RuntimeError once closed."""
        with self._lock:
            return self._submit_locked(function, *args)

    def _submit_locked(self, function: Callable[..., Any], *args: Any) -> Future:
        if self._closed:
            raise RuntimeError("the model process is closed")
        if self._pool is None:
            self._pool = self._new_pool()
        try:
            return self._pool.submit(function, *args)
        except BrokenExecutor:  # the process died (e.g. a model crashed it): the next request gets a new one
            stop_pool(self._pool)
            self._pool = self._new_pool()
            return self._pool.submit(function, *args)

    def close(self) -> None:
        """End the process now (requests still queued or running fail at once); no new one is started."""
        with self._lock:
            pool, self._pool, self._closed = self._pool, None, True
        if pool is not None:
            stop_pool(pool)
