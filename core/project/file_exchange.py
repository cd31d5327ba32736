"""Moving annotations between a project store and plain files.

Export writes out_dir/masks/<name>.png (union of a frame's accepted masks; draft masks are left out and counted
in the summary), out_dir/labels/<name>.json (its complete caliper sets as HCL-HRL point JSON, then the axes
derived from its exported masks as points labelled derived_*, see core.io.point_json) and out_dir/measurements.csv
(per nodule and frame a row from its calipers and a row derived from its mask, each where it exists, column
method; for multi-frame sources also a clip row per nodule measured on two frames or more: the frame where its
long axis is largest, from calipers or else from its mask). Millimetres use each frame's effective spacing (its
file's own, else a calibration: core.project.calibration); rows and points come from
core.project.frame_measurements. <name> is the source's file stem, with _f<index> appended for frames of
multi-frame sources and _<n> when two sources share a stem.

Imports validate the whole file before touching the store and then write in one edit (undoable), so a failed
import leaves the store unchanged.
"""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from core.annotation.measurements import Measurement
from core.annotation.points import Calipers
from core.errors import AnnotationFormatError
from core.io.mask_files import read_mask, write_mask_for_frame
from core.io.measurements_csv import write_measurements_csv
from core.io.point_json import read_point_json, write_point_json
from core.project.frame_measurements import clip_measurements, frame_measurements
from core.project.records import FrameRecord, MaskProvenance
from core.project.store import ProjectStore


@dataclass
class ExportSummary:
    masks: list[Path] = field(default_factory=list)
    labels: list[Path] = field(default_factory=list)
    measurements: Path | None = None
    draft_masks_skipped: int = 0  # draft (not yet accepted) masks left out of the export


def export_names(records: list[FrameRecord]) -> dict[int, str]:
    """Frame id -> a file-name stem unique within the export."""
    frames_per_source = Counter(r.path for r in records)
    names: dict[int, str] = {}
    taken: set[str] = set()
    source_stem: dict[str, str] = {}
    for r in records:
        if r.path not in source_stem:
            stem, n = r.source.stem, 2
            while stem.lower() in taken:
                stem, n = f"{r.source.stem}_{n}", n + 1
            taken.add(stem.lower())
            source_stem[r.path] = stem
        stem = source_stem[r.path]
        names[r.id] = f"{stem}_f{r.index:04d}" if frames_per_source[r.path] > 1 else stem
    return names


def _image_path(source: Path, labels_dir: Path) -> str:
    """Relative to the JSON file, as labelme expects; absolute when on another drive."""
    try:
        return Path(os.path.relpath(source, labels_dir)).as_posix()
    except ValueError:
        return source.as_posix()


def export_project(store: ProjectStore, out_dir: str | Path, include_drafts: bool = False) -> ExportSummary:
    """Write masks, point labels and measurements of every annotated frame under `out_dir`. Only accepted masks
    are written unless include_drafts=True; the summary counts the draft masks left out."""
    out = Path(out_dir)
    records = store.frames()
    names = export_names(records)
    summary = ExportSummary()
    rows: list[Measurement] = []
    for r in records:
        if not r.readable:
            continue
        mask = store.mask(r.id, accepted_only=not include_drafts)
        if not include_drafts:
            summary.draft_masks_skipped += sum(1 for m in store.masks(r.id).values() if not m.accepted)
        if mask is not None:
            store.verify_frame(r.id).raise_if_changed(r.source)  # a changed file: its masks no longer fit it
            path = out / "masks" / f"{names[r.id]}.png"
            write_mask_for_frame(path, mask, (r.height, r.width))
            summary.masks.append(path)
        measured = frame_measurements(store, r, names[r.id], include_drafts)
        if measured.calipers or measured.derived:
            path = out / "labels" / f"{names[r.id]}.json"
            calipers, derived = ([found[k] for k in sorted(found)] for found in (measured.calipers, measured.derived))
            write_point_json(path, calipers, _image_path(r.source, path.parent), (r.height, r.width), derived)
            summary.labels.append(path)
        rows.extend(measured.rows)
    rows.extend(clip_measurements(store, records, include_drafts))
    summary.measurements = out / "measurements.csv"
    write_measurements_csv(summary.measurements, rows)
    return summary


def _annotatable(store: ProjectStore, frame_id: int, path: Path) -> FrameRecord:
    record = store.frame(frame_id)
    if not record.readable or record.height is None or record.width is None:
        raise AnnotationFormatError(path, f"frame {frame_id} ({record.source.name}) is unreadable: {record.error}")
    return record


def import_point_json(store: ProjectStore, frame_id: int, path: str | Path) -> dict[int, Calipers]:
    """Replace the frame's calipers with the nodules of a point JSON (object ids 0, 1, ... in file order);
    clicks and masks stay. Returns the imported calipers."""
    p = Path(path)
    record = _annotatable(store, frame_id, p)
    calipers = dict(enumerate(read_point_json(p, (record.height, record.width))))
    store.replace_calipers(frame_id, calipers)
    return calipers


def import_mask(
    store: ProjectStore,
    frame_id: int,
    path: str | Path,
    object_id: int = 0,
    provenance: MaskProvenance = MaskProvenance.PAINTED,
) -> None:
    """Accept a mask file (nonzero = nodule, same size as the frame) as the mask of `object_id`."""
    p = Path(path)
    record = _annotatable(store, frame_id, p)
    store.set_mask(frame_id, object_id, read_mask(p, (record.height, record.width)), provenance)
