"""Caliper measurements per nodule, in pixels and (when the frame's spacing is known) millimetres."""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from core.annotation.points import Calipers


@dataclass(frozen=True)
class Measurement:
    name: str  # the frame's name in an export (masks/<name>.png, labels/<name>.json); may be empty
    source: str
    frame_index: int
    object_id: int
    long_axis_px: float
    short_axis_px: float
    long_axis_mm: float | None
    short_axis_mm: float | None


def length_mm(a: tuple[float, float], b: tuple[float, float], spacing_mm: tuple[float, float]) -> float:
    """Physical length of segment a-b ((x, y) pixels) with pixel size (row_mm, col_mm): x steps are columns."""
    row_mm, col_mm = spacing_mm
    return math.hypot((b[0] - a[0]) * col_mm, (b[1] - a[1]) * row_mm)


def measure(
    calipers: Mapping[int, Calipers],
    spacing_mm: tuple[float, float] | None,
    source: str,
    frame_index: int = 0,
    name: str = "",
) -> list[Measurement]:
    """One row per object, by object id."""
    rows = []
    for object_id, c in sorted(calipers.items()):
        long_mm = short_mm = None
        if spacing_mm is not None:
            long_mm = length_mm(c.long_1, c.long_2, spacing_mm)
            short_mm = length_mm(c.short_1, c.short_2, spacing_mm)
        rows.append(
            Measurement(name, source, frame_index, object_id, c.long_axis_px, c.short_axis_px, long_mm, short_mm)
        )
    return rows
