"""`--screenshot FILE`: once the first frame and its mask are on screen (and nothing is computing), grab the
window to a PNG and quit."""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from PyQt5 import QtCore

from gui.main_window import MainWindow

log = logging.getLogger("sonoclick")


def frame_ready(window: MainWindow) -> bool:
    """A frame is shown, nothing is in progress, and if it has annotations its mask is drawn."""
    c = window.controller
    if c is None or c.current is None or not window.idle:
        return False
    frame = c.current
    if not frame.loaded.readable:
        return True
    annotated = bool(frame.object_ids()) or frame.shows_prediction
    return not annotated or any(o.mask is not None for o in c.display())


def save_window(window: MainWindow, path: Path) -> bool:
    path.parent.mkdir(parents=True, exist_ok=True)
    return bool(window.grab().save(str(path), "PNG"))


class ScreenshotWhenReady(QtCore.QObject):
    """Polls until frame_ready (twice in a row, so the last paint is done), then saves and calls
    on_done(0); on timeout it saves what is there and calls on_done(3)."""

    def __init__(self, window: MainWindow, path: Path, on_done: Callable[[int], None],
                 timeout_s: float = 60.0) -> None:
        super().__init__(window)
        self._window, self._path, self._on_done = window, path, on_done
        self._deadline = time.monotonic() + timeout_s
        self._ready_polls = 0
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(100)
        self._timer.timeout.connect(self._poll)
        self._timer.start()

    def _poll(self) -> None:
        self._ready_polls = self._ready_polls + 1 if frame_ready(self._window) else 0
        timed_out = time.monotonic() > self._deadline
        if self._ready_polls < 3 and not timed_out:
            return
        self._timer.stop()
        saved = save_window(self._window, self._path)
        if timed_out:
            log.warning("screenshot taken after the timeout: the frame was not ready")
        self._on_done(0 if saved and not timed_out else 3)
