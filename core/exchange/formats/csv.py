"""`csv`: measurements.csv: per object and frame, a row for its calipers (method "calipers") and one for the axes
derived from its accepted mask (method "derived"), in pixels and, when the frame's effective spacing (its file's,
else a calibration) is known, millimetres; for multi-frame sources also a clip row per object measured on two
frames or more (scope "clip": the frame where its long axis is largest). Columns of core.io.measurements_csv, then
`class`. Export only: the axes' lengths cannot give back the caliper ends."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from core.annotation.measurements import Measurement, measure
from core.exchange.model import ExchangeFrame, ExchangeSet
from core.exchange.registry import Format
from core.io.measurements_csv import CSV_COLUMNS

FILE = "measurements.csv"


def _cell(value: object) -> object:
    if value is None:
        return ""
    return f"{value:.3f}" if isinstance(value, float) else value


def _frame_rows(frame: ExchangeFrame) -> list[Measurement]:
    """The frame's rows as the exporter measured them; for a set read from a file, its calipers measured here."""
    if frame.measurements:
        return list(frame.measurements)
    calipers = {k if o.object_id is None else o.object_id: o.calipers
                for k, o in enumerate(frame.objects) if o.calipers is not None}
    return measure(calipers, frame.spacing_mm, frame.source.as_posix() if frame.source else "", frame.index,
                   frame.name)


def write(out: Path, data: ExchangeSet) -> tuple[int, int, list[str]]:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow((*CSV_COLUMNS, "class"))
    frames = rows = 0
    class_by_source: dict[tuple[str, int], str] = {}
    for frame in data.frames:
        class_of = {k if o.object_id is None else o.object_id: o.class_name for k, o in enumerate(frame.objects)}
        source = frame.source.as_posix() if frame.source else ""
        class_by_source.update({(source, oid): name for oid, name in class_of.items()})
        measured = _frame_rows(frame)
        frames += bool(measured)
        for row in measured:
            writer.writerow([*(_cell(getattr(row, c)) for c in CSV_COLUMNS), class_of.get(row.object_id, "")])
            rows += 1
    for row in data.clip_measurements:
        writer.writerow([*(_cell(getattr(row, c)) for c in CSV_COLUMNS),
                         class_by_source.get((row.source, row.object_id), "")])
        rows += 1
    (out / FILE).write_text(text.getvalue())
    return frames, rows, []


FORMAT = Format("csv", "Measurements CSV (caliper and derived axes per object, px and mm; clip rows)", FILE, write,
                None, carries_masks=False, carries_calipers=True, measures=True)
