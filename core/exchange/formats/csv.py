"""`csv`: measurements.csv, one row per object with calipers: both axes in pixels and, when the frame's
spacing is known, millimetres (columns of core.io.measurements_csv, then `class`). Export only: the axes' lengths
cannot give back the caliper ends."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from core.annotation.measurements import measure
from core.exchange.model import ExchangeSet
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
    (out / FILE).write_text(text.getvalue())
    return frames, rows, []


FORMAT = Format("csv", "Measurements CSV (both caliper axes per object, px and mm)", FILE, write, None,
                carries_masks=False, carries_calipers=True)
