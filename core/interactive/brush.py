"""Brush and eraser on a mask: the disc stroke a round brush paints along a polyline, applying a stroke to a
mask, and the strokes of one object kept on top of later engine masks (a click after painting must not undo
the painting)."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

MIN_RADIUS, MAX_RADIUS = 1, 60


def clamp_radius(radius: int) -> int:
    """The brush radius within what the app offers (px)."""
    return max(MIN_RADIUS, min(int(radius), MAX_RADIUS))


def stroke_mask(shape: tuple[int, int], points: list[tuple[float, float]], radius: int) -> np.ndarray:
    """The pixels a round brush of `radius` covers along the polyline `points` (image x, y)."""
    canvas = np.zeros(shape, np.uint8)
    pts = np.rint(np.asarray(points, float).reshape(-1, 2)).astype(np.int32)
    if len(pts) == 1:
        cv2.circle(canvas, tuple(int(v) for v in pts[0]), radius, 1, -1)
    else:
        cv2.polylines(canvas, [pts], False, 1, thickness=2 * radius + 1, lineType=cv2.LINE_8)
        for p in (pts[0], pts[-1]):
            cv2.circle(canvas, tuple(int(v) for v in p), radius, 1, -1)
    return canvas.astype(bool)


def apply_stroke(mask: np.ndarray, stroke: np.ndarray, erase: bool) -> np.ndarray:
    """`mask` with the stroke painted in (or erased from it); the input is left as it was."""
    return (mask & ~stroke) if erase else (mask | stroke)


@dataclass
class PaintLayer:
    """Brush and eraser strokes of one object, kept on top of later engine masks while the frame is open."""

    added: np.ndarray
    erased: np.ndarray

    @classmethod
    def empty(cls, shape: tuple[int, int]) -> PaintLayer:
        return cls(np.zeros(shape, bool), np.zeros(shape, bool))

    def add_stroke(self, stroke: np.ndarray, erase: bool) -> None:
        """A later stroke wins over earlier ones where they overlap."""
        if erase:
            self.erased |= stroke
            self.added &= ~stroke
        else:
            self.added |= stroke
            self.erased &= ~stroke

    def apply(self, mask: np.ndarray) -> np.ndarray:
        """An engine mask with every stroke so far on top."""
        return (mask | self.added) & ~self.erased

    @property
    def touched(self) -> bool:
        return bool(self.added.any() or self.erased.any())
