"""The training runs a bench starts end with the bench: a bench killed (Ctrl-C, `kill`) must not leave its
`python -m core train` children taking the CPU. It happened: two orphaned runs held half of a 2-core host for
35 minutes and halved the speed of the runs measured beside them. The app's own trainer ends its jobs' process
groups itself (core.learning.job_process)."""
from __future__ import annotations

import ctypes
import signal
import sys

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent() -> None:
    """For subprocess's `preexec_fn`: on Linux the child gets SIGTERM when the process that started it ends, however
    it ends (even SIGKILL); elsewhere it does nothing."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
