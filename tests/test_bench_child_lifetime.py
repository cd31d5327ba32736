"""A bench's training child ends with the bench (bench/child_lifetime.py): the bench is killed, and the child's end
of a pipe closes. Event-based: the test waits for the pipe's end of file, with a timeout."""
from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
WAIT_S = 30.0

# the "bench": starts a long child that holds the pipe's write end, says the child's pid, then waits
PARENT = """
import subprocess, sys
sys.path.insert(0, {bench!r})
from child_lifetime import die_with_parent
fd = int(sys.argv[1])
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], pass_fds=(fd,),
                         stdin=subprocess.DEVNULL, preexec_fn=die_with_parent)
print(child.pid, flush=True)
sys.stdin.read()
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_child_ends_when_the_bench_is_killed() -> None:
    read_end, write_end = os.pipe()
    parent = subprocess.Popen([sys.executable, "-c", PARENT.format(bench=str(BENCH)), str(write_end)],
                              pass_fds=(write_end,), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    os.close(write_end)  # the parent and the child hold it now
    child_pid = 0
    try:
        child_pid = int(parent.stdout.readline())
        assert child_pid > 0
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(WAIT_S)
        ready, _, _ = select.select([read_end], [], [], WAIT_S)
        assert ready and os.read(read_end, 1) == b""  # end of file: the child's copy closed, so the child ended
    finally:
        os.close(read_end)
        if parent.poll() is None:
            parent.kill()
        if child_pid:
            try:
                os.kill(child_pid, signal.SIGKILL)  # only if it outlived the bench, i.e. the test failed
            except ProcessLookupError:
                pass
