"""Propagation in the app: carries the current nodule through its clip (core.cine) in a child process
(gui/propagation_process.py), writes each finished frame's draft into the project as it comes (from a worker
thread), reports progress, and can be cancelled between frames. What the propagation holds (key frames, drafts,
confidences) is mirrored here per clip and nodule, so a correction re-propagates only its own stretch and the
cine bar can mark key frames, drafts and low-confidence frames."""
from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PyQt5 import QtCore

from core.cine.propagation import Direction, FrameTrack, PropagationRun
from core.cine.range_accept import accept_range, save_draft
from core.project.store import ProjectStore
from core.serving.frame_loading import FRAME_MODEL_CLASS
from gui import propagation_process
from gui.propagation_process import Job, pack, unpack
from gui.read_only_banner import refused
from gui.workers import JobRunner


class Mark:
    KEY = "key"
    DRAFT = "draft"
    LOW = "low confidence"


@dataclass
class _Clip:
    source: Path
    frame_ids: dict[int, int]  # clip index -> frame id
    tracks: dict[int, FrameTrack] = field(default_factory=dict)  # the child's results, masks without priors


class _Child:
    """The propagation process, started on first use and kept for the next run."""

    def __init__(self) -> None:
        self._context = multiprocessing.get_context("spawn")
        self._process: Any = None
        self._conn: Any = None
        self.cancel = self._context.Event()

    def run(self, job: Job, on_message: Callable[[tuple], None]) -> None:
        if self._process is None or not self._process.is_alive():
            ours, theirs = self._context.Pipe()
            self._process = self._context.Process(target=propagation_process.serve, args=(theirs, self.cancel),
                                                  name="sonoclick-propagation", daemon=True)
            self._process.start()
            theirs.close()
            self._conn = ours
        self._conn.send(job)
        while True:
            try:
                message = self._conn.recv()
            except (EOFError, OSError) as exc:
                self._process = None
                raise RuntimeError("the propagation process ended unexpectedly") from exc
            on_message(message)
            if message[0] in ("done", "error"):
                return

    def close(self) -> None:
        self.cancel.set()
        if self._process is None:
            return
        try:
            self._conn.send(None)
        except (OSError, ValueError):
            pass
        self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.terminate()
        self._process = None


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
        self._child = _Child()
        self._clips: dict[tuple[Path, int], _Clip] = {}
        self._running = False

    @property
    def running(self) -> bool:
        return self._running

    @property
    def idle(self) -> bool:
        return not self._running and self._jobs.idle

    def cancel(self) -> None:
        self._child.cancel.set()

    def close(self) -> None:
        self._child.cancel.set()
        self._jobs.shutdown(cancel_queued=True)
        self._child.close()

    # ----- marks for the cine bar ----------------------------------------------------------------------
    def marks(self, frame_id: int, object_id: int) -> dict[int, str]:
        """Frame id -> Mark for the clip of `frame_id` and the nodule (empty when nothing was propagated)."""
        clip = self._clips.get(self._clip_key(frame_id, object_id))
        if clip is None:
            return {}
        out = {}
        for index, track in list(clip.tracks.items()):
            out[clip.frame_ids[index]] = Mark.KEY if track.key else Mark.LOW if track.low_confidence else Mark.DRAFT
        return out

    def _clip_key(self, frame_id: int, object_id: int) -> tuple[Path, int]:
        return self.store.frame(frame_id).source, object_id

    # ----- propagation ---------------------------------------------------------------------------------
    def propagate(self, frame_id: int, object_id: int, direction: Direction | str = Direction.BOTH,
                  max_frames: int | None = None) -> bool:
        """Start propagating (False when one is already running, or the project is read-only: it writes drafts)."""
        if self._running or refused(self.store, self.finished.emit):
            return False
        self._running = True
        self._child.cancel.clear()
        self._jobs.submit(lambda: self._propagate(frame_id, object_id, Direction(direction), max_frames),
                          self._done, self._failed)
        return True

    def _clip(self, frame_id: int, object_id: int) -> _Clip:
        key = self._clip_key(frame_id, object_id)
        if key not in self._clips:
            ids = {r.index: r.id for r in self.store.frames() if r.source == key[0] and r.readable}
            self._clips[key] = _Clip(key[0], ids)
        return self._clips[key]

    def _predictions(self, clip: _Clip) -> dict[int, np.ndarray]:
        """The frame model's stored predictions of the clip's frames, where it made any."""
        out = {}
        for index, frame_id in clip.frame_ids.items():
            prediction = self.store.prediction(frame_id)
            if prediction is not None:
                out[index] = prediction.probability
        return out

    def _propagate(self, frame_id: int, object_id: int, direction: Direction, max_frames: int | None) -> str:
        """Worker thread: hands the job to the child process and writes its frames as they come."""
        clip = self._clip(frame_id, object_id)
        index = self.store.frame(frame_id).index
        mask = self.store.mask(frame_id, object_id)
        calipers = self.store.calipers(frame_id).get(object_id)
        if mask is None and calipers is None:
            return "Propagate: put calipers or a mask on this frame first"
        class_id = self.store.object_class(frame_id, object_id)
        track = clip.tracks.get(index)
        corrected = track is not None and not track.key and mask is not None and not np.array_equal(mask, track.mask)
        predictions = self._predictions(clip) if class_id == FRAME_MODEL_CLASS else {}  # a nodule model's maps
        job = Job(str(clip.source), [pack(t) for t in clip.tracks.values()], index, mask, calipers, corrected,
                  direction.value, max_frames, predictions)
        run = PropagationRun()

        def on_message(message: tuple) -> None:
            kind = message[0]
            if kind == "key":
                key = unpack(message[1])
                clip.tracks[key.index] = key
                self.marks_changed.emit()
            elif kind == "frame":
                _, done, total, packed = message
                drafted = clip.tracks[packed[0]] = unpack(packed)
                written = clip.frame_ids[drafted.index]
                save_draft(self.store, written, object_id, drafted.mask, class_id)
                self.frame_written.emit(written)
                self.progress.emit(done, total)
            elif kind == "done":
                run.stops, run.frames = message[1], message[2]
            else:
                raise RuntimeError(f"propagation failed: {message[1]}")

        self._child.run(job, on_message)
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
        self.marks_changed.emit()
        self.finished.emit(f"Propagation failed: {exc}")

    # ----- accepting -----------------------------------------------------------------------------------
    def accept_range(self, frame_id: int, object_id: int, on_done: Callable[[list[int]], None]) -> bool:
        """Accept the masks of every frame of this clip's propagation (one action); on_done(frame ids) after."""
        if refused(self.store, self.finished.emit):
            return False
        clip = self._clips.get(self._clip_key(frame_id, object_id))
        if clip is None or not clip.tracks or self._running:
            return False
        frame_ids = [clip.frame_ids[i] for i in sorted(clip.tracks)]
        self._running = True

        def done(accepted: list[int]) -> None:
            self._running = False
            self.finished.emit(f"Accepted the propagated range: {len(accepted)} frame(s)")
            on_done(frame_ids)

        self._jobs.submit(lambda: accept_range(self.store, frame_ids, object_id), done, self._failed)
        return True
