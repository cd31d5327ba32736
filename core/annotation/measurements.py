"""Caliper measurements per nodule, in pixels and (when the frame's spacing is known) millimetres: per frame, and
per clip (the frame where the nodule's long axis is largest, the value a report uses)."""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

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
    scope: str = "frame"  # "clip": the clip's row for this nodule, measured on frame_index (its largest long axis)


def length_mm(a: tuple[float, float], b: tuple[float, float], spacing_mm: tuple[float, float]) -> float:
    """Physical length of segment a-b ((x, y) pixels) with pixel size (row_mm, col_mm): x steps are columns."""
    row_mm, col_mm = spacing_mm
    return math.hypot((b[0] - a[0]) * col_mm, (b[1] - a[1]) * row_mm)


def largest_long_axis(calipers_by_frame: Mapping[int, Calipers]) -> tuple[int, Calipers] | None:
    """(frame index, calipers) of the frame where the long axis is longest (the earliest on a tie)."""
    if not calipers_by_frame:
        return None
    index = max(sorted(calipers_by_frame), key=lambda i: calipers_by_frame[i].long_axis_px)
    return index, calipers_by_frame[index]


def measure_clip(
    calipers_by_frame: Mapping[int, Mapping[int, Calipers]],
    spacing_mm: tuple[float, float] | None,
    source: str,
    name: str = "",
) -> list[Measurement]:
    """One clip-level row per object measured on two frames or more (scope "clip"): the long and short axes on
    the frame (frame index -> object id -> calipers) where that object's long axis is largest."""
    by_object: dict[int, dict[int, Calipers]] = {}
    for index, objects in calipers_by_frame.items():
        for object_id, calipers in objects.items():
            by_object.setdefault(object_id, {})[index] = calipers
    rows = []
    for object_id, frames in sorted(by_object.items()):
        best = largest_long_axis(frames)
        if best is not None and len(frames) >= 2:
            index, calipers = best
            row = measure({object_id: calipers}, spacing_mm, source, index, name)[0]
            rows.append(replace(row, scope="clip"))
    return rows


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
