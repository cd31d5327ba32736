"""Sparse drawn labels of one object: scribbles (freehand strokes, nodule or background) and boxes (a rectangle
dragged round the object), in image pixels (x = column, y = row), and their pixels on a frame."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import cv2
import numpy as np

MAX_STROKE_VERTICES = 20_000  # a very long freehand stroke; more is a damaged file, not a drawing


class StrokeKind(StrEnum):
    SCRIBBLE = "scribble"
    BOX = "box"


@dataclass(frozen=True)
class Stroke:
    """A scribble: `points` are the polyline's vertices, `width` its diameter in pixels, `foreground` True for
    nodule and False for background. A box: `points` are two opposite corners, `foreground` is True (a box
    encloses its object) and `width` is unused. Malformed values raise ValueError (readers add the file name)."""

    kind: StrokeKind
    points: tuple[tuple[float, float], ...]
    foreground: bool = True
    width: float = 5.0
    object_id: int = 0

    def __post_init__(self) -> None:
        if not self.points or len(self.points) > MAX_STROKE_VERTICES:
            raise ValueError(f"a {self.kind} needs 1 to {MAX_STROKE_VERTICES} vertices, got {len(self.points)}")
        if self.kind is StrokeKind.BOX and (len(self.points) != 2 or not self.foreground):
            raise ValueError("a box is two corners and encloses a nodule")
        if not np.isfinite(np.asarray(self.points, float)).all() or not np.isfinite(self.width) or self.width <= 0:
            raise ValueError(f"a {self.kind} needs finite coordinates and a positive width")

    @property
    def box_xyxy(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) with x0 <= x1 and y0 <= y1 (for a scribble: its bounding box)."""
        xy = np.asarray(self.points, float)
        x0, y0 = xy.min(axis=0)
        x1, y1 = xy.max(axis=0)
        return float(x0), float(y0), float(x1), float(y1)


def scribble_pixels(stroke: Stroke, shape: tuple[int, int]) -> np.ndarray:
    """The (H, W) bool pixels a scribble covers (its polyline drawn `width` pixels wide)."""
    canvas = np.zeros(shape, np.uint8)
    xy = np.rint(np.asarray(stroke.points, float)).astype(np.int32).reshape(-1, 1, 2)
    thickness = max(int(round(stroke.width)), 1)
    if len(xy) == 1:
        cv2.circle(canvas, tuple(int(v) for v in xy[0, 0]), max(thickness // 2, 0), 1, -1)
    else:
        cv2.polylines(canvas, [xy], False, 1, thickness=thickness, lineType=cv2.LINE_8)
    return canvas.astype(bool)


def box_inside(stroke: Stroke, shape: tuple[int, int]) -> np.ndarray:
    """The (H, W) bool pixels inside a box (edges included), clipped to the frame."""
    h, w = shape
    x0, y0, x1, y1 = stroke.box_xyxy
    inside = np.zeros(shape, bool)
    c0, r0 = max(int(np.floor(x0)), 0), max(int(np.floor(y0)), 0)
    c1, r1 = min(int(np.ceil(x1)), w - 1), min(int(np.ceil(y1)), h - 1)
    if c0 <= c1 and r0 <= r1:
        inside[r0:r1 + 1, c0:c1 + 1] = True
    return inside
