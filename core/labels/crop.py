"""A rectangular window of a frame: the click path works on crops, never on the whole frame."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Crop:
    y0: int
    y1: int
    x0: int
    x1: int

    @classmethod
    def around(cls, points_xy: np.ndarray, shape: tuple[int, int], margin_frac: float = 0.3,
               min_margin: int = 8) -> Crop:
        """Bounding box of the points grown by margin_frac of its longer side (at least min_margin px),
        clipped to the frame."""
        pts = np.asarray(points_xy, dtype=float).reshape(-1, 2)
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        margin = max(margin_frac * float((hi - lo).max()), min_margin)
        h, w = shape
        x0, y0 = (max(int(np.floor(v - margin)), 0) for v in lo)
        x1 = min(int(np.ceil(hi[0] + margin)) + 1, w)
        y1 = min(int(np.ceil(hi[1] + margin)) + 1, h)
        return cls(y0, max(y1, y0 + 1), x0, max(x1, x0 + 1))

    def union(self, other: Crop) -> Crop:
        return Crop(min(self.y0, other.y0), max(self.y1, other.y1), min(self.x0, other.x0), max(self.x1, other.x1))

    def contains(self, other: Crop) -> bool:
        return self.y0 <= other.y0 and self.x0 <= other.x0 and other.y1 <= self.y1 and other.x1 <= self.x1

    def intersection(self, other: Crop) -> Crop | None:
        y0, y1 = max(self.y0, other.y0), min(self.y1, other.y1)
        x0, x1 = max(self.x0, other.x0), min(self.x1, other.x1)
        return Crop(y0, y1, x0, x1) if y0 < y1 and x0 < x1 else None

    def within(self, outer: Crop) -> tuple[slice, slice]:
        """Index of this crop's pixels in an array that covers `outer` (which contains this crop)."""
        return slice(self.y0 - outer.y0, self.y1 - outer.y0), slice(self.x0 - outer.x0, self.x1 - outer.x0)

    @property
    def shape(self) -> tuple[int, int]:
        return self.y1 - self.y0, self.x1 - self.x0

    @property
    def offset_xy(self) -> np.ndarray:
        return np.array([self.x0, self.y0], dtype=float)

    def take(self, array: np.ndarray) -> np.ndarray:
        return array[self.y0 : self.y1, self.x0 : self.x1]

    def paste(self, full: np.ndarray, part: np.ndarray) -> np.ndarray:
        out = full.copy()
        out[self.y0 : self.y1, self.x0 : self.x1] = part
        return out

    def touches_border_of(self, shape: tuple[int, int]) -> np.ndarray:
        """Bool mask (crop-sized) of the crop's own border pixels that are not also frame border."""
        h, w = self.shape
        border = np.zeros((h, w), bool)
        if self.y0 > 0:
            border[0] = True
        if self.y1 < shape[0]:
            border[-1] = True
        if self.x0 > 0:
            border[:, 0] = True
        if self.x1 < shape[1]:
            border[:, -1] = True
        return border
