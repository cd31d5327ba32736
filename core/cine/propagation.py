"""One nodule carried through a clip. From a key frame (an accepted mask, or calipers the engine segments) each
step to a neighbouring frame: DIS optical flow on a window round the object warps the mask and the caliper
points, the interactive engine re-segments the frame with the warped mask as its prior (and the frame model's
probability where one exists), and a confidence (core.cine.confidence) stops the walk at a frame that needs a
look. Propagated frames are drafts; a correction makes its frame a key frame and re-propagates the drafts that are
nearer to it than to their own key frame, never past the next key frame."""
from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import cv2
import numpy as np

from core.annotation.points import Calipers
from core.cine.confidence import confidence_scores
from core.cine.flow import (
    DenseFlow,
    FlowPair,
    flow_pair,
    forward_backward_error,
    match_correlation,
    move_points,
    warp_mask,
)
from core.interactive.session import InteractionSession
from core.labels.crop import Crop

MIN_CONFIDENCE = 0.3  # a frame below this is kept as a draft, marked, and the walk stops there
WINDOW_MARGIN = 0.6  # the flow window reaches this far (x the object's longer side) round the object
MIN_WINDOW_MARGIN = 24  # px
FLOW_MAX_SIDE = 256  # px: larger windows are shrunk to this for the flow (20 frames/s at 600 x 800 on 2 cores)
_AROUND = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (15, 15))  # the frames are compared on the object and a ring

Progress = Callable[[int, int, int], None]  # (frames done, frames planned, frame index just done)
ProbabilityOf = Callable[[int], "np.ndarray | None"]


class Direction(StrEnum):
    FORWARD = "forward"
    BACKWARD = "backward"
    BOTH = "both"

    @property
    def steps(self) -> tuple[int, ...]:
        return {Direction.FORWARD: (1,), Direction.BACKWARD: (-1,), Direction.BOTH: (1, -1)}[self]


@dataclass(frozen=True)
class FrameTrack:
    """The object on one frame of the clip. source: the key frame it was propagated from (itself on a key
    frame); prior: the warped mask the engine started from (None on key frames), so a correction session on a
    draft starts where propagation left it."""

    index: int
    mask: np.ndarray
    calipers: Calipers | None
    source: int
    confidence: float = 1.0
    scores: Mapping[str, float] = field(default_factory=dict)
    prior: np.ndarray | None = None

    @property
    def key(self) -> bool:
        return self.source == self.index

    @property
    def distance(self) -> int:
        return abs(self.index - self.source)

    @property
    def low_confidence(self) -> bool:
        return self.confidence < MIN_CONFIDENCE


@dataclass
class PropagationRun:
    frames: list[int] = field(default_factory=list)  # frames given a draft, in the order they were done
    stops: dict[int, str] = field(default_factory=dict)  # step (+1/-1) -> why that direction ended:
    # "end" (clip edge), "limit" (max frames), "key" (next key frame), "midway" (a correction's stretch ends where
    # drafts are nearer their own key frame), "confidence", "lost" (empty), "cancelled"


class _Walk:
    """Per-direction flow state: a window of fixed size that follows the object, and the last flows (the next
    step's initial flows while the window keeps its size)."""

    def __init__(self) -> None:
        self.size: tuple[int, int] | None = None
        self.flows: FlowPair | None = None

    def window(self, mask: np.ndarray) -> Crop:
        box_x, box_y, box_w, box_h = cv2.boundingRect(np.ascontiguousarray(mask).view(np.uint8))
        h, w = mask.shape
        margin = max(WINDOW_MARGIN * max(box_h, box_w), MIN_WINDOW_MARGIN)
        needed = (min(int(box_h + 2 * margin), h), min(int(box_w + 2 * margin), w))
        if self.size is None or needed[0] > self.size[0] or needed[1] > self.size[1] \
                or needed[0] * needed[1] < 0.5 * self.size[0] * self.size[1]:
            self.size, self.flows = needed, None
        wh, ww = self.size
        cy, cx = box_y + (box_h - 1) / 2, box_x + (box_w - 1) / 2
        y0 = int(np.clip(round(cy - wh / 2), 0, h - wh))
        x0 = int(np.clip(round(cx - ww / 2), 0, w - ww))
        return Crop(y0, y0 + wh, x0, x0 + ww)


class ClipPropagator:
    """frames: the clip as gray uint8 images (a list, or core.cine.clip_frames.ClipFrames); probability: the frame
    model's nodule probability of frame i, or None where there is none; resegment=False keeps the flow's warped
    mask as it is (the baseline the engine's re-segmentation is measured against). Not thread-safe: one walk at a
    time (the tracks may be read from another thread while it runs)."""

    def __init__(self, frames: Sequence[np.ndarray], probability: ProbabilityOf | None = None,
                 preset: str = "fast", resegment: bool = True) -> None:
        self.frames = frames
        self.resegment = resegment
        self.probability = probability
        self.flow = DenseFlow(preset)
        self.tracks: dict[int, FrameTrack] = {}

    # ----- key frames ---------------------------------------------------------------------------------
    def set_key(self, index: int, mask: np.ndarray, calipers: Calipers | None = None) -> FrameTrack:
        """Make frame `index` a key frame with this (accepted or corrected) mask."""
        self._check(index)
        m = np.asarray(mask, bool)
        if not m.any():
            raise ValueError(f"the key mask of frame {index} is empty")
        track = self.tracks[index] = FrameTrack(index, m.copy(), calipers, index)
        return track

    def key_from_calipers(self, index: int, calipers: Calipers) -> FrameTrack:
        """Key frame from calipers: the engine's mask for them on that frame."""
        self._check(index)
        mask = InteractionSession(self.frames[index], self._probability(index)).set_calipers(calipers)
        return self.set_key(index, mask, calipers)

    @property
    def key_frames(self) -> list[int]:
        return sorted(i for i, t in self.tracks.items() if t.key)

    @property
    def drafts(self) -> list[int]:
        return sorted(i for i, t in self.tracks.items() if not t.key)

    def session_for(self, index: int, click_model: object | None = None) -> InteractionSession:
        """An engine session on frame `index` that starts from its draft (the same prior), for corrections."""
        track = self.tracks.get(index)
        prior = None if track is None else (track.mask if track.prior is None else track.prior)
        return InteractionSession(self.frames[index], self._probability(index), click_model, prior=prior)  # type: ignore[arg-type]

    # ----- walking ------------------------------------------------------------------------------------
    def propagate(self, start: int, direction: Direction | str = Direction.BOTH, max_frames: int | None = None,
                  cancel: threading.Event | None = None, progress: Progress | None = None) -> PropagationRun:
        """Drafts from key frame `start`, `max_frames` per direction (None: to the clip's end), stopping before
        the next key frame and after a low-confidence frame. A set `cancel` event stops it between frames: the
        frames finished so far keep their drafts, nothing else changes."""
        if start not in self.tracks or not self.tracks[start].key:
            raise ValueError(f"frame {start} is not a key frame")
        plans = {}
        for step in Direction(direction).steps:
            plans[step] = self._plan(start, step, max_frames)
        return self._run(start, plans, cancel, progress)

    def correct(self, index: int, mask: np.ndarray, calipers: Calipers | None = None,
                cancel: threading.Event | None = None, progress: Progress | None = None) -> PropagationRun:
        """A corrected mask on frame `index`: it becomes a key frame and the drafts on either side that are nearer
        to it than to the key frame they came from are propagated again from it, up to the next key frame."""
        self.set_key(index, mask, calipers)
        plans = {}
        for step in (1, -1):
            frames, j = [], index + step
            while j in self.tracks and not self.tracks[j].key and abs(j - index) < self.tracks[j].distance:
                frames.append(j)
                j += step
            plans[step] = frames
        return self._run(index, plans, cancel, progress, correction=True)

    def _plan(self, start: int, step: int, max_frames: int | None) -> list[int]:
        frames, j = [], start + step
        while 0 <= j < len(self.frames) and (max_frames is None or len(frames) < max_frames):
            if j in self.tracks and self.tracks[j].key:
                break
            frames.append(j)
            j += step
        return frames

    def _run(self, start: int, plans: dict[int, list[int]], cancel: threading.Event | None,
             progress: Progress | None, correction: bool = False) -> PropagationRun:
        run = PropagationRun()
        total = sum(len(p) for p in plans.values())
        for step, frames in plans.items():
            walk, previous = _Walk(), self.tracks[start]
            run.stops[step] = self._stop_reason(start, step, frames, correction)
            for index in frames:
                if cancel is not None and cancel.is_set():
                    run.stops[step] = "cancelled"
                    break
                track = self._step(previous, index, walk)
                if track is None:
                    run.stops[step] = "lost"
                    break
                self.tracks[index] = track
                run.frames.append(index)
                if progress is not None:
                    progress(len(run.frames), total, index)
                if track.low_confidence:
                    run.stops[step] = "confidence"
                    break
                previous = track
            if run.stops.get(step) == "cancelled":
                break
        return run

    def _stop_reason(self, start: int, step: int, frames: list[int], correction: bool) -> str:
        after = (frames[-1] if frames else start) + step
        if not 0 <= after < len(self.frames):
            return "end"
        if after in self.tracks and self.tracks[after].key:
            return "key"
        return "midway" if correction else "limit"

    def _step(self, previous: FrameTrack, index: int, walk: _Walk) -> FrameTrack | None:
        """previous's object on frame `index` (a neighbour), or None when nothing is left of it."""
        window = walk.window(previous.mask)
        a, b = window.take(self.frames[previous.index]), window.take(self.frames[index])
        flows = walk.flows = flow_pair(self.flow, a, b, FLOW_MAX_SIDE, walk.flows)
        forward, backward = flows.full(flows.forward), flows.full(flows.backward)
        before = window.take(previous.mask)
        warped_local = warp_mask(before, backward)
        if not warped_local.any():
            return None
        shape = previous.mask.shape
        warped = window.paste(np.zeros(shape, bool), warped_local)
        probability = self._probability(index)
        mask = InteractionSession(self.frames[index], probability, prior=warped).mask if self.resegment else warped
        if not mask.any():
            return None
        calipers = None
        if previous.calipers is not None:
            moved = move_points(previous.calipers.as_array() - window.offset_xy, forward) + window.offset_xy
            calipers = Calipers.from_array(moved)
        model_mask = None if probability is None else window.take(probability) > 0.5
        around = flows.shrink(cv2.dilate(before.astype(np.uint8), _AROUND)) > 0
        match = match_correlation(flows.shrink(a), flows.shrink(b), flows.forward, around)
        fb_error = forward_backward_error(flows.forward, flows.backward) * (before.shape[1] / flows.forward.shape[1])
        scores = confidence_scores(before, warped_local, window.take(mask), cv2.resize(fb_error, before.shape[::-1]),
                                   match, model_mask)
        return FrameTrack(index, mask, calipers, previous.source, min(scores.values()), scores, warped)

    def _probability(self, index: int) -> np.ndarray | None:
        return None if self.probability is None else self.probability(index)

    def _check(self, index: int) -> None:
        if not 0 <= index < len(self.frames):
            raise IndexError(f"frame {index} is outside the clip ({len(self.frames)} frames)")
