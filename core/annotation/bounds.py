"""Whether annotation points lie on their frame.

Coordinates are continuous image pixels with x = column, y = row, the convention of labelme and Qt: pixel (c, r)
covers [c, c+1) x [r, r+1), so a frame of width W and height H spans [0, W] x [0, H].
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

from core.errors import AnnotationFormatError


def is_inside(x: float, y: float, width: int, height: int) -> bool:
    return math.isfinite(x) and math.isfinite(y) and 0.0 <= x <= width and 0.0 <= y <= height


def check_inside(path: str | Path, points: Iterable[tuple[float, float]], width: int, height: int) -> None:
    """Raise AnnotationFormatError naming `path` for the first point that is off a width x height frame."""
    for x, y in points:
        if not is_inside(x, y, width, height):
            raise AnnotationFormatError(path, f"point ({x:g}, {y:g}) is outside the {width}x{height} frame")
