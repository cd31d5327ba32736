"""Propagation in the app: carries the current nodule through its clip on a worker thread (core.cine), writes each
finished frame's draft into the project as it comes, reports progress, and can be cancelled between frames.
One propagation (key frames, drafts, confidences) is kept per clip and nodule, so a correction re-propagates only
its own stretch, and the cine bar can mark key frames, drafts and low-confidence frames."""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PyQt5 import QtCore

from core.cine.clip_frames import ClipFrames
from core.cine.propagation import ClipPropagator, Direction, PropagationRun
from core.cine.range_accept import accept_range, save_draft
from core.project.store import ProjectStore
from gui.workers import JobRunner


class Mark:
    KEY = "key"
    DRAFT = "draft"
    LOW = "low confidence"


@dataclass
class _Clip:
    propagator: ClipPropagator
    frame_ids: dict[int, int]  # clip index -> frame id


class PropagationController(QtCore.QObject):
    """`propagate(frame_id, object_id, direction, max_frames)` from the shown frame: a key frame from its mask
    (or calipers), or, on a draft the user has corrected, a correction that re-propagates up to the next key
    frames. `accept_range` accepts every frame of the clip's propagation in one action."""

    progress = QtCore.pyqtSignal(int, int)  # frames done, frames planned
    frame_written = QtCore.pyqtSignal(int)  # frame id whose draft was just written
    finished = QtCore.pyqtSignal(str)  # what happened, for the status bar
    marks_changed = QtCore.pyqtSignal()

    def __init__(self, store: ProjectStore, unhandled: Callable[[BaseException], None],
                 parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self._jobs = JobRunner("sonoclick-cine", unhandled, self)
        self._clips: dict[tuple[Path, int], _Clip] = {}
        self._cancel = threading.Event()
        self._running = False

    @property
    def running(self) -> bool:
        return self._running

    @property
    def idle(self) -> bool:
        return not self._running and self._jobs.idle

    def cancel(self) -> None:
        self._cancel.set()

    def close(self) -> None:
        self._cancel.set()
        self._jobs.shutdown(cancel_queued=True)

    # ----- marks for the cine bar ----------------------------------------------------------------------
    def marks(self, frame_id: int, object_id: int) -> dict[int, str]:
        """Frame id -> Mark for the clip of `frame_id` and the nodule (empty when nothing was propagated)."""
        clip = self._clips.get(self._clip_key(frame_id, object_id))
        if clip is None:
            return {}
        out = {}
        for index, track in list(clip.propagator.tracks.items()):
            kind = Mark.KEY if track.key else Mark.LOW if track.low_confidence else Mark.DRAFT
            out[clip.frame_ids[index]] = kind
        return out

    def _clip_key(self, frame_id: int, object_id: int) -> tuple[Path, int]:
        return self.store.frame(frame_id).source, object_id

    # ----- propagation ---------------------------------------------------------------------------------
    def propagate(self, frame_id: int, object_id: int, direction: Direction | str = Direction.BOTH,
                  max_frames: int | None = None) -> bool:
        """Start propagating (False when one is already running)."""
        if self._running:
            return False
        self._running = True
        self._cancel.clear()
        self._jobs.submit(lambda: self._propagate(frame_id, object_id, Direction(direction), max_frames),
                          self._done, self._failed)
        return True

    def _clip(self, frame_id: int, object_id: int) -> _Clip:
        key = self._clip_key(frame_id, object_id)
        clip = self._clips.get(key)
        if clip is None:
            source = key[0]
            ids = {r.index: r.id for r in self.store.frames() if r.source == source and r.readable}
            clip = self._clips[key] = _Clip(ClipPropagator(ClipFrames(source), self._stored_probability(ids)), ids)
        return clip

    def _stored_probability(self, frame_ids: dict[int, int]) -> Callable[[int], np.ndarray | None]:
        """The frame model's stored prediction of a clip frame, where it made one (the model itself runs in its
        own process and only for frames that are shown)."""

        def probability(index: int) -> np.ndarray | None:
            prediction = self.store.prediction(frame_ids[index]) if index in frame_ids else None
            return None if prediction is None else prediction.probability

        return probability

    def _propagate(self, frame_id: int, object_id: int, direction: Direction, max_frames: int | None) -> str:
        """Worker thread."""
        clip = self._clip(frame_id, object_id)
        propagator, index = clip.propagator, self.store.frame(frame_id).index
        mask = self.store.mask(frame_id, object_id)
        calipers = self.store.calipers(frame_id).get(object_id)
        if mask is None and calipers is None:
            return "Propagate: put calipers or a mask on this frame first"

        def progress(done: int, total: int, clip_index: int) -> None:
            written = clip.frame_ids[clip_index]
            save_draft(self.store, written, object_id, propagator.tracks[clip_index].mask)
            self.frame_written.emit(written)
            self.progress.emit(done, total)

        track = propagator.tracks.get(index)
        corrected = track is not None and not track.key and mask is not None and not np.array_equal(mask, track.mask)
        if corrected:
            run = propagator.correct(index, mask, calipers, self._cancel, progress)
        else:
            if mask is None:
                propagator.key_from_calipers(index, calipers)  # type: ignore[arg-type]
            else:
                propagator.set_key(index, mask, calipers)
            run = propagator.propagate(index, direction, max_frames, self._cancel, progress)
        self.marks_changed.emit()
        return self._summary(run, corrected)

    @staticmethod
    def _summary(run: PropagationRun, corrected: bool) -> str:
        what = "Re-propagated the correction" if corrected else "Propagated"
        why = {"end": "the clip's end", "limit": "the frame limit", "key": "a key frame",
               "midway": "the frames nearer another key frame",
               "confidence": "a frame that needs a look", "lost": "a frame where the nodule was lost",
               "cancelled": "Cancel"}
        stops = ", ".join(f"{'forward' if step > 0 else 'backward'} to {why[reason]}"
                          for step, reason in run.stops.items())
        return f"{what}: {len(run.frames)} frame(s) ({stops})"

    def _done(self, message: str) -> None:
        self._running = False
        self.marks_changed.emit()
        self.finished.emit(message)

    def _failed(self, exc: BaseException) -> None:
        self._running = False
        self.finished.emit(f"Propagation failed: {exc}")

    # ----- accepting -----------------------------------------------------------------------------------
    def accept_range(self, frame_id: int, object_id: int, on_done: Callable[[list[int]], None]) -> bool:
        """Accept the masks of every frame of this clip's propagation (one action); on_done(frame ids) after."""
        clip = self._clips.get(self._clip_key(frame_id, object_id))
        if clip is None or self._running:
            return False
        frame_ids = [clip.frame_ids[i] for i in sorted(clip.propagator.tracks)]
        self._running = True

        def done(accepted: list[int]) -> None:
            self._running = False
            self.finished.emit(f"Accepted the propagated range: {len(accepted)} frame(s)")
            on_done(frame_ids)

        self._jobs.submit(lambda: accept_range(self.store, frame_ids, object_id), done, self._failed)
        return True
