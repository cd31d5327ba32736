"""Worker threads lower their own scheduling priority once; the main thread never does. Headless (Linux only:
elsewhere lowering is a no-op)."""
from __future__ import annotations

import os
import threading

import pytest

from core.runtime.thread_priority import WORKER_NICENESS, lower_this_thread

pytestmark = pytest.mark.skipif(not hasattr(os, "setpriority"), reason="per-thread niceness is Linux only")


def _niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def test_a_worker_thread_is_lowered_once_and_the_main_thread_never() -> None:
    seen: dict[str, int] = {}

    def work() -> None:
        seen["before"] = _niceness()
        lower_this_thread()
        seen["once"] = _niceness()
        lower_this_thread()
        seen["twice"] = _niceness()

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(timeout=30)
    assert seen["once"] == min(seen["before"] + WORKER_NICENESS, 19) and seen["twice"] == seen["once"]
    assert threading.current_thread() is threading.main_thread()
    before = _niceness()
    lower_this_thread()
    assert _niceness() == before
