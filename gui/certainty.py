"""The confident / uncertain regions of a frame (high_confidence_labels, HCL-HRL) for its current
calipers, computed on a worker and kept until the calipers change."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from core.annotation.points import Calipers
from core.labels.high_confidence import FrameLabels, high_confidence_labels
from gui.workers import JobRunner


class CertaintyLabels:
    def __init__(self, jobs: JobRunner, ready: Callable[[], None]) -> None:
        self._jobs = jobs
        self._ready = ready  # called on the GUI thread when new labels arrive
        self._labels: tuple[tuple, FrameLabels] | None = None
        self._wanted: tuple | None = None

    def labels(self, frame_id: int, gray: np.ndarray, calipers: list[Calipers],
               probability: np.ndarray | None) -> FrameLabels | None:
        """The labels for these calipers, or None while they are being computed (then `ready` is called)."""
        if not calipers:
            return None
        key = (frame_id, tuple(tuple(c.as_array().ravel()) for c in calipers))
        if self._labels is not None and self._labels[0] == key:
            return self._labels[1]
        if self._wanted != key:
            self._wanted = key

            def done(labels: FrameLabels) -> None:
                self._labels = (key, labels)
                if self._wanted == key:
                    self._wanted = None
                self._ready()

            self._jobs.submit(lambda: high_confidence_labels(gray, calipers, probability), done)
        return None
