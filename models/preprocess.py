"""Frame <-> network input mapping: crop the scanner margins, resize to the working resolution, normalise;
and the way back (probability map pasted into the full frame). numpy + OpenCV only."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# Working resolution of the default recipe: on a 2-core AVX2 CPU, 128 px trains 1.4x faster than 160 px and
# reached a higher DDTI val Dice within the same 20-minute budget (README, "Model benchmarks").
DEFAULT_RESOLUTION = 128


Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive ends), in frame pixels


@dataclass(frozen=True)
class Normalisation:
    mean: float = 0.25
    std: float = 0.2

    def apply(self, image_u8: np.ndarray) -> np.ndarray:
        return (image_u8.astype(np.float32) / 255.0 - self.mean) / self.std

    def to_dict(self) -> dict:
        return {"scale": 1 / 255, "mean": self.mean, "std": self.std}

    @classmethod
    def from_dict(cls, d: dict) -> Normalisation:
        return cls(mean=float(d["mean"]), std=float(d["std"]))

    @classmethod
    def fitted(cls, images_u8: list[np.ndarray], every: int = 7) -> Normalisation:
        """Mean and spread of the training images (every `every`-th pixel is plenty for two numbers)."""
        values = np.concatenate([image.reshape(-1)[::every] for image in images_u8]).astype(np.float32) / 255.0
        return cls(mean=round(float(values.mean()), 4), std=round(max(float(values.std()), 1e-3), 4))


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    edges = np.flatnonzero(np.diff(np.concatenate([[0], flags.astype(np.int8), [0]])))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]


def _image_span(lit_fraction: np.ndarray, strong: float = 0.5, weak: float = 0.2) -> tuple[int, int]:
    """Span of the image proper along one axis, from the fraction of lit pixels per column (or row): runs of
    at least `weak` that hold a `strong` column, then each gap bridged when no longer than the runs on both of
    its sides, then the longest. A dark (hypoechoic or shadowed) lesion can leave whole columns of the image
    mostly black, and cutting there would crop the lesion away; a scanner margin is wider than the sparse text
    or ruler beyond it."""
    runs = [(a, b) for a, b in _runs(lit_fraction > weak) if (lit_fraction[a:b] > strong).any()]
    if not runs:
        return 0, len(lit_fraction)
    merged = [runs[0]]
    for start, end in runs[1:]:
        prev_start, prev_end = merged[-1]
        if start - prev_end <= min(prev_end - prev_start, end - start):
            merged[-1] = (prev_start, end)
        else:
            merged.append((start, end))
    return max(merged, key=lambda run: run[1] - run[0])


def content_box(image_u8: np.ndarray, dark: int = 10, min_fraction: float = 0.3) -> Box:
    """Bounding box of the ultrasound image proper: the longest span of columns (then rows) that are mostly
    non-black, bridging dark bands inside the image. Side text, depth rulers and grey bars are too sparse to
    count. Falls back to the whole frame."""
    h, w = image_u8.shape[:2]
    lit = cv2.blur(image_u8, (5, 5)) > dark
    x0, x1 = _image_span(lit.mean(axis=0))
    y0, y1 = _image_span(lit[:, x0:x1].mean(axis=1))
    if (x1 - x0) < min_fraction * w or (y1 - y0) < min_fraction * h:
        return 0, 0, w, h
    return x0, y0, x1, y1


def crop_resize(image: np.ndarray, box: Box, resolution: int, nearest: bool = False) -> np.ndarray:
    x0, y0, x1, y1 = box
    interp = cv2.INTER_NEAREST if nearest else cv2.INTER_AREA
    return cv2.resize(np.ascontiguousarray(image[y0:y1, x0:x1]), (resolution, resolution), interpolation=interp)


def points_to_work(points_xy: np.ndarray, box: Box, resolution: int) -> np.ndarray:
    """Frame pixel coordinates -> working-resolution pixel coordinates (pixel centres map to pixel centres)."""
    x0, y0, x1, y1 = box
    p = np.asarray(points_xy, float).reshape(-1, 2)
    scale = np.array([resolution / (x1 - x0), resolution / (y1 - y0)])
    return (p - [x0, y0] + 0.5) * scale - 0.5


def paste_back(prob_work: np.ndarray, box: Box, shape: tuple[int, int]) -> np.ndarray:
    """Working-resolution probability -> float32 map of the full frame (0 outside the content box)."""
    x0, y0, x1, y1 = box
    out = np.zeros(shape, np.float32)
    out[y0:y1, x0:x1] = cv2.resize(prob_work.astype(np.float32), (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
    return np.clip(out, 0.0, 1.0)
