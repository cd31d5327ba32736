"""Measurements as CSV: one row per nodule and frame (scope "frame"), plus one per nodule and clip (scope "clip":
the frame where its long axis is largest); lengths to 0.001, millimetre cells empty when the spacing is unknown.
The last column, method, is "calipers" (the user's four points) or "derived" (the axes of the nodule's mask); a
nodule with both has two rows."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path

from core.annotation.measurements import Measurement
from core.io.atomic_write import write_bytes_atomic

CSV_COLUMNS = (
    "name", "source", "frame_index", "object_id", "long_axis_px", "short_axis_px", "long_axis_mm", "short_axis_mm",
    "scope", "method",
)


def _cell(value: object) -> object:
    if value is None:
        return ""
    return f"{value:.3f}" if isinstance(value, float) else value


def measurements_csv(rows: Iterable[Measurement]) -> str:
    """CSV text with a header row; lengths to 0.001, empty millimetre cells when the spacing is unknown."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        writer.writerow([_cell(getattr(r, column)) for column in CSV_COLUMNS])
    return out.getvalue()


def write_measurements_csv(path: str | Path, rows: Iterable[Measurement]) -> None:
    write_bytes_atomic(path, measurements_csv(rows).encode("utf-8"))
