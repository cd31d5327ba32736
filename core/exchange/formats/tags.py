"""`tags`: tags.csv, one row per tagged frame: `frame,tag`, the frame's export name (as the other formats name
their files) and its tag, `no_nodule` or `nodule` (a frame with an accepted mask is exported as `nodule`). On import
each row tags the project frame of that name; a bad row (unknown tag, missing or duplicate frame) stops the import
before anything is written, naming the row."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from core.annotation.tags import FrameTag
from core.errors import AnnotationFormatError
from core.exchange.model import ExchangeFrame, ExchangeSet
from core.exchange.registry import Format
from core.io.limits import read_regular_file

FILE = "tags.csv"
HEADER = ("frame", "tag")
MAX_BYTES = 64 * 1024 * 1024


def write(out: Path, data: ExchangeSet) -> tuple[int, int, list[str]]:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(HEADER)
    tagged = [f for f in data.frames if f.tag is not None]
    writer.writerows((f.name, f.tag.value) for f in tagged if f.tag is not None)
    (out / FILE).write_text(text.getvalue())
    return len(tagged), 0, []


def _tag(path: Path, row: int, value: str) -> FrameTag:
    try:
        return FrameTag(value.strip().lower())
    except ValueError:
        known = ", ".join(t.value for t in FrameTag)
        raise AnnotationFormatError(path, f"row {row}: tag {value!r} is not one of {known}") from None


def read(path: Path) -> ExchangeSet:
    file = path / FILE if path.is_dir() else path
    try:
        text = read_regular_file(file, MAX_BYTES, "a tags file can be", AnnotationFormatError).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AnnotationFormatError(file, f"not UTF-8 text ({exc.reason})") from exc
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or tuple(c.strip().lower() for c in rows[0]) != HEADER:
        raise AnnotationFormatError(file, f"the first row must be the header {','.join(HEADER)}")
    result = ExchangeSet([])
    seen: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != 2:
            raise AnnotationFormatError(file, f"row {number}: expected 2 cells (frame,tag), got {len(row)}")
        name, tag = row[0].strip(), _tag(file, number, row[1])
        if not name:
            raise AnnotationFormatError(file, f"row {number}: no frame name")
        if name.lower() in seen:
            raise AnnotationFormatError(file, f"row {number}: frame {name!r} is tagged on row {seen[name.lower()]} "
                                              f"already")
        seen[name.lower()] = number
        result.frames.append(ExchangeFrame(name, None, 0, None, (), tag=tag))
    return result


FORMAT = Format("tags", "Frame tags CSV (frame,tag: no_nodule or nodule)", FILE, write, read, carries_masks=False,
                carries_tags=True)
