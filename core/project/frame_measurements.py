"""A stored frame's measurements: the calipers the user placed and the axes derived from its masks, in pixels and,
with the frame's effective spacing (its file's own, else a calibration: core.project.calibration), in millimetres.
One call for the exporter and the app's measurements panel:

  frame_measurements(store, record, name="", include_drafts=False) -> FrameMeasurements
      .calipers / .derived: object id -> Calipers (four points, pixels); .spacing: EffectiveSpacing;
      .rows: Measurement rows (method "calipers" and/or "derived" per object, by object id)
  clip_measurements(store, records, include_drafts=False) -> clip rows of the multi-frame sources

Derived axes are measured on accepted masks only unless include_drafts=True (the panel shows the draft the user
is editing; the export leaves drafts out, as it does their masks).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.annotation.measurements import Measurement, derived_axes, measure_clip, measure_frame
from core.annotation.points import Calipers
from core.io.mask_codec import decode_mask
from core.project.calibration import EffectiveSpacing
from core.project.records import FrameRecord
from core.project.store import ProjectStore


@dataclass(frozen=True)
class FrameMeasurements:
    calipers: dict[int, Calipers]
    derived: dict[int, Calipers]
    spacing: EffectiveSpacing
    rows: list[Measurement]


def _masks(store: ProjectStore, frame_id: int, include_drafts: bool) -> dict[int, np.ndarray]:
    masks = {}
    for object_id, (png, accepted) in store.mask_blobs(frame_id).items():  # one read for the frame
        mask = decode_mask(png) if accepted or include_drafts else None
        if mask is not None and mask.any():
            masks[object_id] = mask
    return masks


def frame_measurements(
    store: ProjectStore, record: FrameRecord, name: str = "", include_drafts: bool = False
) -> FrameMeasurements:
    """The frame's calipers, the axes of its masks and their rows, measured with its effective spacing."""
    spacing = store.effective_spacing(record.id)
    calipers = store.calipers(record.id)
    derived = derived_axes(_masks(store, record.id, include_drafts), spacing.spacing_mm)
    rows = measure_frame(calipers, derived, spacing.spacing_mm, record.source.as_posix(), record.index, name)
    return FrameMeasurements(calipers, derived, spacing, rows)


def clip_measurements(
    store: ProjectStore, records: list[FrameRecord], include_drafts: bool = False
) -> list[Measurement]:
    """A clip-level row per nodule of each multi-frame source (named by the source's stem), on the frame where
    its long axis is largest: from its calipers there, else from its mask (method "derived")."""
    by_source: dict[Path, list[FrameRecord]] = {}
    for r in records:
        if r.readable:
            by_source.setdefault(r.source, []).append(r)
    rows: list[Measurement] = []
    for source, frames in by_source.items():
        if len(frames) < 2:
            continue
        per_frame: dict[int, dict[int, Calipers]] = {}
        from_masks: set[tuple[int, int]] = set()
        spacing: dict[int, tuple[float, float] | None] = {}
        for r in frames:
            measured = frame_measurements(store, r, include_drafts=include_drafts)
            objects = dict(measured.calipers)
            for object_id, axes in measured.derived.items():
                if object_id not in objects:
                    objects[object_id] = axes
                    from_masks.add((r.index, object_id))
            if objects:
                per_frame[r.index] = objects
                spacing[r.index] = measured.spacing.spacing_mm
        rows.extend(measure_clip(per_frame, None, source.as_posix(), source.stem, from_masks, spacing))
    return rows
