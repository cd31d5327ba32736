"""Window / level of the shown frame: each frame starts from its own default (full range for 8-bit, a percentile
window for 16-bit and DICOM); a window set by hand (spin boxes or right drag) is kept while stepping through
the frames of the same source (a cine loop), and Reset goes back to the default."""
from __future__ import annotations

import numpy as np
from PyQt5 import QtCore

from core.io.display_levels import dragged_levels
from core.serving.frame_loading import LoadedFrame


class WindowLevel(QtCore.QObject):
    changed = QtCore.pyqtSignal(float, float)  # low, high

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.levels: tuple[float, float] = (0.0, 255.0)
        self._default = self.levels
        self._source: str | None = None
        self._manual = False
        self._drag_start: tuple[float, float] | None = None

    def frame_shown(self, loaded: LoadedFrame) -> None:
        if not loaded.readable:
            return
        same_source = loaded.record.path == self._source
        self._source = loaded.record.path
        self._default = loaded.levels
        if not (same_source and self._manual):
            self._manual = False
            self._set(loaded.levels)

    def set_by_hand(self, low: float, high: float) -> None:
        self._manual = True
        self._set((low, high))

    def reset(self) -> None:
        self._manual = False
        self._set(self._default)

    def drag(self, phase: str, dx: float, dy: float) -> None:
        """Right drag: horizontal changes the width, vertical moves the centre (dx, dy from the press)."""
        if phase == "start" or self._drag_start is None:
            self._drag_start = self.levels
        self.set_by_hand(*dragged_levels(self._drag_start, dx, dy))
        if phase == "finish":
            self._drag_start = None

    def _set(self, levels: tuple[float, float]) -> None:
        self.levels = (float(levels[0]), float(max(levels[1], levels[0] + np.finfo(np.float32).eps)))
        self.changed.emit(*self.levels)
