"""Background threads yield the CPU to the GUI thread: on Linux each worker lowers its own scheduling priority
(a per-thread nice value) when it starts, so on a busy machine the event loop is served first. Best effort: where
that is not possible nothing changes."""
from __future__ import annotations

import os
import threading

WORKER_NICENESS = 5
_state = threading.local()


def lower_this_thread() -> None:
    """Lower the calling thread's priority once (no-op off Linux or when not permitted)."""
    if getattr(_state, "lowered", False) or not hasattr(os, "setpriority"):
        return
    _state.lowered = True
    if threading.current_thread() is threading.main_thread():
        return
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, min(os.getpriority(os.PRIO_PROCESS, tid) + WORKER_NICENESS, 19))
    except OSError:
        pass
