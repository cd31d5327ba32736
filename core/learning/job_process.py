"""Supervise a training job in a child process: JSON-line events on its stdout, stop by a stop file (the job
keeps its best so far), cancel by termination, a watchdog for a job that stops reporting, and a clear reason
for every way it can end. Never runs model work in the caller's process."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class JobState(StrEnum):
    IDLE = "idle"
    TRAINING = "training"
    EVALUATING = "evaluating"
    FINISHED = "finished"
    STOPPED = "stopped"
    CANCELLED = "cancelled"
    FAILED = "failed"


@dataclass(frozen=True)
class JobExit:
    state: JobState
    reason: str
    return_code: int | None
    last_event: dict | None


STOP_FILE_ENV = "SONOCLICK_STOP_FILE"


class JobProcess:
    """Run `argv` (a Python module command line) as a child. Callbacks come from a reader thread:
    on_event(dict) for each JSON line the child prints, on_exit(JobExit) once at the end."""

    def __init__(self, argv: list[str], workdir: Path, on_event: Callable[[dict], None],
                 on_exit: Callable[[JobExit], None], watchdog_s: float = 300.0) -> None:
        self.argv = argv
        self.workdir = Path(workdir)
        self.stop_file = self.workdir / "STOP"
        self._on_event = on_event
        self._on_exit = on_exit
        self.watchdog_s = watchdog_s
        self._proc: subprocess.Popen | None = None
        self._state = JobState.IDLE
        self._last_event: dict | None = None
        self._last_seen = time.monotonic()
        self._cancelled = False
        self._stuck = False
        self._stderr_tail: deque[str] = deque(maxlen=20)
        self._lock = threading.Lock()
        self._stderr_reader: threading.Thread | None = None
        self._ended = threading.Event()

    @property
    def state(self) -> JobState:
        return self._state

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self) -> None:
        if self._proc is not None:
            raise RuntimeError("a job runs once")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.stop_file.unlink(missing_ok=True)
        env = dict(os.environ, **{STOP_FILE_ENV: str(self.stop_file), "PYTHONUNBUFFERED": "1"})
        self._proc = subprocess.Popen(
            [sys.executable, *self.argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
            cwd=str(Path(__file__).resolve().parents[2]), start_new_session=True,
        )
        self._state = JobState.TRAINING
        self._last_seen = time.monotonic()
        self._stderr_reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._stderr_reader.start()
        threading.Thread(target=self._watch, daemon=True).start()
        threading.Thread(target=self._read_stdout, daemon=True).start()

    def stop(self) -> None:
        """Ask the job to finish now and keep its best model so far."""
        self.stop_file.touch()

    def cancel(self) -> None:
        """End the job now; nothing it made is kept by the caller."""
        self._cancelled = True
        self._terminate()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the job has ended and its exit was reported; False if `timeout` passed first."""
        return self._proc is None or self._ended.wait(timeout)

    def _terminate(self) -> None:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def _read_stderr(self) -> None:
        assert self._proc and self._proc.stderr
        for line in self._proc.stderr:
            self._last_seen = time.monotonic()
            if line.strip():
                self._stderr_tail.append(line.rstrip())

    def _watch(self) -> None:
        while self._proc and self._proc.poll() is None:
            if time.monotonic() - self._last_seen > self.watchdog_s:
                self._stuck = True
                self._terminate()
                return
            time.sleep(0.2)

    def _read_stdout(self) -> None:
        assert self._proc and self._proc.stdout
        for line in self._proc.stdout:
            self._last_seen = time.monotonic()
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            if not isinstance(event, dict):
                continue
            self._last_event = event
            if event.get("event") == "state" and event.get("state") in (JobState.TRAINING, JobState.EVALUATING):
                self._state = JobState(event["state"])
            self._on_event(event)
        code = self._proc.wait()
        if self._stderr_reader is not None:  # the reason quotes stderr's last line: read it to the end first
            self._stderr_reader.join(timeout=5)
        self._state, reason = self._outcome(code)
        try:
            self._on_exit(JobExit(self._state, reason, code, self._last_event))
        finally:
            self._ended.set()

    def _outcome(self, code: int) -> tuple[JobState, str]:
        if self._cancelled:
            return JobState.CANCELLED, "cancelled by the user"
        if self._stuck:
            return JobState.FAILED, f"stopped by the watchdog: no sign of life for {self.watchdog_s:.0f} s"
        if code == 0:
            done = self._last_event or {}
            if done.get("event") == "done":
                early = str(done.get("stopped_by", "")).startswith("stop")
                return (JobState.STOPPED if early else JobState.FINISHED), "ok"
            return JobState.FAILED, "the trainer ended without reporting a result"
        if code < 0:
            name = signal.Signals(-code).name
            hint = " (out of memory?)" if code == -signal.SIGKILL else ""
            return JobState.FAILED, f"the trainer was killed by {name}{hint}"
        tail = self._stderr_tail[-1] if self._stderr_tail else "no message"
        return JobState.FAILED, f"the trainer crashed (exit code {code}): {tail}"
