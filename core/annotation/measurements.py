"""Measurements per nodule, in pixels and (when the frame's spacing is known) millimetres: per frame, and per clip
(the frame where the nodule's long axis is largest, the value a report uses).

A row's `method` says where its axes come from: "calipers" (the four points the user placed) or "derived" (the
axes of the nodule's mask, core.annotation.mask_axes). measure_frame gives both rows for a nodule that has both.
"""
from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace

import numpy as np

from core.annotation.mask_axes import mask_axes
from core.annotation.points import Calipers

CALIPERS = "calipers"
DERIVED = "derived"


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
    method: str = CALIPERS  # CALIPERS: placed by the user; DERIVED: the axes of its mask


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
    derived: Collection[tuple[int, int]] = (),
    spacing_by_frame: Mapping[int, tuple[float, float] | None] | None = None,
) -> list[Measurement]:
    """One clip-level row per object measured on two frames or more (scope "clip"): the long and short axes on
    the frame (frame index -> object id -> calipers) where that object's long axis is largest. `derived` names
    the (frame index, object id) whose calipers are a mask's axes: their rows say method "derived".
    `spacing_by_frame` (frame index -> spacing), when given, replaces `spacing_mm` for the frames it names
    (calibrations may differ between frames of one clip)."""
    by_object: dict[int, dict[int, Calipers]] = {}
    for index, objects in calipers_by_frame.items():
        for object_id, calipers in objects.items():
            by_object.setdefault(object_id, {})[index] = calipers
    rows = []
    for object_id, frames in sorted(by_object.items()):
        best = largest_long_axis(frames)
        if best is not None and len(frames) >= 2:
            index, calipers = best
            spacing = spacing_by_frame.get(index, spacing_mm) if spacing_by_frame else spacing_mm
            row = measure({object_id: calipers}, spacing, source, index, name)[0]
            method = DERIVED if (index, object_id) in derived else CALIPERS
            rows.append(replace(row, scope="clip", method=method))
    return rows


def measure(
    calipers: Mapping[int, Calipers],
    spacing_mm: tuple[float, float] | None,
    source: str,
    frame_index: int = 0,
    name: str = "",
    method: str = CALIPERS,
) -> list[Measurement]:
    """One row per object, by object id."""
    rows = []
    for object_id, c in sorted(calipers.items()):
        long_mm = short_mm = None
        if spacing_mm is not None:
            long_mm = length_mm(c.long_1, c.long_2, spacing_mm)
            short_mm = length_mm(c.short_1, c.short_2, spacing_mm)
        rows.append(
            Measurement(
                name, source, frame_index, object_id, c.long_axis_px, c.short_axis_px, long_mm, short_mm,
                method=method,
            )
        )
    return rows


def derived_axes(masks: Mapping[int, np.ndarray], spacing_mm: tuple[float, float] | None) -> dict[int, Calipers]:
    """Object id -> the axes of its mask (perpendicular in mm when the spacing is known); empty masks are left
    out."""
    return {oid: mask_axes(m, spacing_mm) for oid, m in sorted(masks.items()) if np.any(m)}


def measure_frame(
    calipers: Mapping[int, Calipers],
    derived: Mapping[int, Calipers],
    spacing_mm: tuple[float, float] | None,
    source: str,
    frame_index: int = 0,
    name: str = "",
) -> list[Measurement]:
    """Every row of one frame: per object (by id), its calipers row and then its derived row (`derived`: the axes
    of its mask, see derived_axes), each where it exists."""
    rows = measure(calipers, spacing_mm, source, frame_index, name)
    rows += measure(derived, spacing_mm, source, frame_index, name, DERIVED)
    return sorted(rows, key=lambda r: (r.object_id, r.method != CALIPERS))
