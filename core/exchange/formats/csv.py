"""`csv`: measurements.csv, one row per object with calipers: both axes in pixels and, when the frame's
spacing is known, millimetres (columns of core.io.measurements_csv, then `class`); for multi-frame sources also a
clip row per object measured on two frames or more (scope "clip": the frame where its long axis is largest, from
calipers or else from its mask). Export only: the axes' lengths cannot give back the caliper ends."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from core.annotation.caliper_simulation import calipers_from_mask
from core.annotation.measurements import Measurement, measure, measure_clip
from core.annotation.points import Calipers
from core.exchange.model import ExchangeFrame, ExchangeSet
from core.exchange.registry import Format
from core.io.measurements_csv import CSV_COLUMNS

FILE = "measurements.csv"


def _cell(value: object) -> object:
    if value is None:
        return ""
    return f"{value:.3f}" if isinstance(value, float) else value


def write(out: Path, data: ExchangeSet) -> tuple[int, int, list[str]]:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow((*CSV_COLUMNS, "class"))
    frames = rows = 0
    for frame in data.frames:
        by_id = {k if o.object_id is None else o.object_id: o for k, o in enumerate(frame.objects)}
        calipers = {k: o.calipers for k, o in by_id.items() if o.calipers is not None}
        if not calipers:
            continue
        frames += 1
        for row in measure(calipers, frame.spacing_mm, frame.source.as_posix(), frame.index, frame.name):
            writer.writerow([*(_cell(getattr(row, c)) for c in CSV_COLUMNS), by_id[row.object_id].class_name])
            rows += 1
    for row, class_name in _clip_rows(data.frames):
        writer.writerow([*(_cell(getattr(row, c)) for c in CSV_COLUMNS), class_name])
        rows += 1
    (out / FILE).write_text(text.getvalue())
    return frames, rows, []


def _clip_rows(frames: list[ExchangeFrame]) -> list[tuple[Measurement, str]]:
    """A clip-level measurement per object of each multi-frame source, named by the source's stem."""
    by_source: dict[Path, list[ExchangeFrame]] = {}
    for frame in frames:
        if frame.multi_frame and frame.source is not None:
            by_source.setdefault(frame.source, []).append(frame)
    found: list[tuple[Measurement, str]] = []
    for source, clip in by_source.items():
        per_frame: dict[int, dict[int, Calipers]] = {}
        class_of: dict[int, str] = {}
        for frame in clip:
            objects: dict[int, Calipers] = {}
            for k, o in enumerate(frame.objects):
                oid = k if o.object_id is None else o.object_id
                class_of[oid] = o.class_name
                if o.calipers is not None:
                    objects[oid] = o.calipers
                elif o.has_mask:
                    mask = o.mask
                    if mask is not None and mask.sum() >= 3:
                        objects[oid] = calipers_from_mask(mask)
            if objects:
                per_frame[frame.index] = objects
        for row in measure_clip(per_frame, clip[0].spacing_mm, source.as_posix(), source.stem):
            found.append((row, class_of.get(row.object_id, "")))
    return found


FORMAT = Format("csv", "Measurements CSV (both caliper axes per object, px and mm)", FILE, write, None,
                carries_masks=False, carries_calipers=True)
