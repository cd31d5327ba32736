"""The propagation's own process. The graph cut that re-segments each frame holds the interpreter lock for tens
of milliseconds, more when a busy machine deschedules the thread holding it; in a thread of the GUI process
that stalls the event loop, so propagation runs here, in a child process fed through a pipe.

Protocol: the parent sends a `Job` (the clip's tracks so far travel with it, masks bit-packed) and receives, in
order, ("key", track), ("frame", done, total, track) per finished frame, then ("done", stops, frames) or
("error", text). None stops the child. Cancelling sets the shared event; the child stops between frames."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.annotation.points import Calipers
from core.cine.propagation import FrameTrack

PackedTrack = tuple[int, np.ndarray, tuple[int, int], Any, int, float, dict]


def pack(track: FrameTrack) -> PackedTrack:
    """A track without its prior, the mask bit-packed (a 600 x 800 mask travels as 60 kB)."""
    mask = np.asarray(track.mask, bool)
    return (track.index, np.packbits(mask), mask.shape, track.calipers, track.source, track.confidence,
            dict(track.scores))


def unpack(packed: PackedTrack) -> FrameTrack:
    index, bits, shape, calipers, source, confidence, scores = packed
    mask = np.unpackbits(bits, count=shape[0] * shape[1]).reshape(shape).astype(bool)
    return FrameTrack(index, mask, calipers, source, confidence, scores)


@dataclass
class Job:
    source: str  # the clip's file
    tracks: list[PackedTrack]  # what the clip's propagation holds so far
    index: int  # the frame it starts from
    mask: np.ndarray | None  # that frame's mask (None: segment the calipers)
    calipers: Calipers | None
    correction: bool  # re-key and re-propagate the frame's stretch instead of a plain propagation
    direction: str = "both"
    max_frames: int | None = None
    predictions: Mapping[int, np.ndarray] = field(default_factory=dict)  # the frame model's, where stored


def serve(conn: Any, cancel: Any) -> None:
    """The child's main loop (multiprocessing target)."""
    import cv2

    cv2.setNumThreads(1)  # one core for the propagation, the other for the GUI
    if hasattr(os, "nice"):
        os.nice(5)  # and the GUI first, like the GUI's own workers
    while True:
        job = conn.recv()
        if job is None:
            return
        try:
            _run(conn, cancel, job)
        except Exception as exc:  # reported to the parent, which shows it; the child serves on
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


def _run(conn: Any, cancel: Any, job: Job) -> None:
    from core.cine.clip_frames import ClipFrames
    from core.cine.propagation import ClipPropagator

    propagator = ClipPropagator(ClipFrames(job.source), lambda i: job.predictions.get(i))
    propagator.tracks = {t[0]: unpack(t) for t in job.tracks}

    def progress(done: int, total: int, index: int) -> None:
        conn.send(("frame", done, total, pack(propagator.tracks[index])))

    if job.correction:
        assert job.mask is not None
        conn.send(("key", pack(propagator.set_key(job.index, job.mask, job.calipers))))
        run = propagator.correct(job.index, job.mask, job.calipers, cancel, progress)
    else:
        if job.mask is None:
            assert job.calipers is not None
            key = propagator.key_from_calipers(job.index, job.calipers)
        else:
            key = propagator.set_key(job.index, job.mask, job.calipers)
        conn.send(("key", pack(key)))
        run = propagator.propagate(job.index, job.direction, job.max_frames, cancel, progress)
    conn.send(("done", run.stops, run.frames))
