"""The model's process: one worker, spawned (never forked: a fork of a threaded app can inherit held locks)."""
from __future__ import annotations

import multiprocessing
from concurrent.futures import Executor, ProcessPoolExecutor


def spawn_pool() -> Executor:
    """A one-process pool, started by the first request sent to it."""
    return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))


def stop_pool(pool: Executor) -> None:
    """Drop queued requests and end the model process now, so a caller waiting for an answer gets an error at
    once instead of waiting for the model to finish starting."""
    pool.shutdown(wait=False, cancel_futures=True)
    # ProcessPoolExecutor offers no public way to end a busy worker before Python 3.14 (terminate_workers)
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.terminate()
