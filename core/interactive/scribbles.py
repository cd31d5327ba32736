"""What a scribble tells the interactive engine. Its pixels are hard seeds (nodule or background, like a
clicked disc); a few points spaced along it reach out like clicks (an edge-aware influence), so a scribble
alone grows into the object it lies on, and a background scribble pushes the mask back from where it runs."""
from __future__ import annotations

import numpy as np

from core.annotation.clicks import Click
from core.annotation.strokes import Stroke, StrokeKind, scribble_pixels
from core.labels.segmenter import apply_intensity_ratio, intensity_ratio

SCRIBBLE_SAMPLES = 5  # points along a scribble that reach out like clicks (its ends included)
SEED_INTENSITY_WEIGHT = 2.0  # log p(I | nodule seeds) / p(I | background) added per pixel
REACH_PER_LENGTH = 1.0  # without calipers, a model or a prior, a nodule scribble's reach is this x its length


def check_scribble(stroke: Stroke, shape: tuple[int, int]) -> None:
    """Raise ValueError unless `stroke` is a scribble touching the frame."""
    if stroke.kind is not StrokeKind.SCRIBBLE:
        raise ValueError(f"expected a scribble, got a {stroke.kind}")
    h, w = shape
    x0, y0, x1, y1 = stroke.box_xyxy
    if x1 < 0 or y1 < 0 or x0 > w - 1 or y0 > h - 1:
        raise ValueError(f"the scribble ({x0:.0f}, {y0:.0f}) - ({x1:.0f}, {y1:.0f}) is outside the {w} x {h} frame")


def scribble_samples(stroke: Stroke, shape: tuple[int, int]) -> tuple[Click, ...]:
    """Up to SCRIBBLE_SAMPLES points evenly spaced by arc length along the scribble (ends included), those in
    the frame, as clicks of the scribble's side."""
    xy = np.asarray(stroke.points, float)
    steps = np.hypot(*np.diff(xy, axis=0).T) if len(xy) > 1 else np.zeros(0)
    along = np.concatenate([[0.0], np.cumsum(steps)])
    targets = np.linspace(0.0, along[-1], SCRIBBLE_SAMPLES) if along[-1] > 0 else np.zeros(1)
    xs, ys = np.interp(targets, along, xy[:, 0]), np.interp(targets, along, xy[:, 1])
    h, w = shape
    clicks = dict.fromkeys(Click(int(round(x)), int(round(y)), stroke.foreground) for x, y in zip(xs, ys)
                           if 0 <= round(x) < w and 0 <= round(y) < h)
    return tuple(clicks)


def scribble_corners(stroke: Stroke) -> np.ndarray:
    """(2, 2) bounding corners (x, y) of the scribble's pixels (its width included), for the crop to hold it."""
    x0, y0, x1, y1 = stroke.box_xyxy
    half = stroke.width / 2 + 1
    return np.array([[x0 - half, y0 - half], [x1 + half, y1 + half]], float)


class ScribblePixels:
    """The frame pixels of each scribble, drawn once per scribble."""

    def __init__(self, shape: tuple[int, int]) -> None:
        self._shape = shape
        self._drawn: dict[Stroke, np.ndarray] = {}

    def of(self, stroke: Stroke) -> np.ndarray:
        pixels = self._drawn.get(stroke)
        if pixels is None:
            pixels = self._drawn[stroke] = scribble_pixels(stroke, self._shape)
        return pixels

    def seeds(self, strokes: tuple[Stroke, ...], foreground: bool) -> np.ndarray:
        """(H, W) bool: the pixels of the scribbles of one side."""
        out = np.zeros(self._shape, bool)
        for stroke in strokes:
            if stroke.foreground == foreground:
                out |= self.of(stroke)
        return out


def scribble_reach(strokes: tuple[Stroke, ...]) -> float | None:
    """How far the nodule scribbles reach when nothing else tells the object's size: REACH_PER_LENGTH x the
    diagonal of the longest one's extent (a scribble is drawn along its object), None without one."""
    lengths = [float(np.hypot(x1 - x0, y1 - y0)) for x0, y0, x1, y1 in (s.box_xyxy for s in strokes if s.foreground)]
    return REACH_PER_LENGTH * max(lengths) if lengths else None


def seed_intensity_logit(smoothed: np.ndarray, nodule: np.ndarray) -> np.ndarray:
    """SEED_INTENSITY_WEIGHT x log p(I | nodule seeds) / p(I | rest of the crop) on a crop (the seeds' intensity
    model of interactive graph cuts); zero when the seeds are too few to say. The background side is the whole
    crop outside the nodule seeds, not the background scribbles: those are hard constraints already, and a
    short one would be a poor sample of the background."""
    if not nodule.any():
        return np.zeros(smoothed.shape, np.float32)
    prior = np.where(nodule, 5.0, -5.0)
    return SEED_INTENSITY_WEIGHT * apply_intensity_ratio(smoothed, intensity_ratio(smoothed, prior))
