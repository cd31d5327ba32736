"""A project's annotations as an ExchangeSet: accepted masks only (drafts counted), complete calipers, classes."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from core.exchange.model import ClassInfo, ExchangeFrame, ExchangeObject, ExchangeSet
from core.exchange.names import export_names
from core.project.frame_measurements import clip_measurements, frame_measurements
from core.project.store import ProjectStore


@dataclass
class Collected:
    annotations: ExchangeSet
    draft_masks: int  # draft masks left out


def collect(store: ProjectStore, include_drafts: bool = False, measure: bool = True) -> Collected:
    """Every readable frame with an accepted mask or a complete caliper set, objects by id."""
    classes = store.classes()
    class_name = {c.id: c.name for c in classes}
    records = store.frames()
    names = export_names(records)
    per_source = Counter(r.path for r in records)
    result = ExchangeSet([ClassInfo(c.name, c.colour) for c in classes])
    drafts = 0
    for r in records:
        if not r.readable:
            continue
        masks = store.mask_blobs(r.id)
        if not include_drafts:
            drafts += sum(1 for _, accepted in masks.values() if not accepted)
            masks = {oid: entry for oid, entry in masks.items() if entry[1]}
        calipers = store.calipers(r.id)
        if not masks and not calipers:
            continue
        if masks:  # a frame file changed since it was annotated: its masks no longer fit it
            store.verify_frame(r.id).raise_if_changed(r.source)
        measured = frame_measurements(store, r, names[r.id], include_drafts) if measure else None
        spacing = measured.spacing.spacing_mm if measured else store.effective_spacing(r.id).spacing_mm
        of_class = store.object_classes(r.id)
        objects = tuple(
            ExchangeObject(
                class_name[of_class[oid]],
                masks[oid][0] if oid in masks else None,
                calipers.get(oid),
                oid,
            )
            for oid in sorted(set(masks) | set(calipers))
        )
        result.frames.append(
            ExchangeFrame(names[r.id], r.source, r.index, (r.height, r.width), objects, spacing,
                          per_source[r.path] > 1, measurements=tuple(measured.rows) if measured else (),
                          derived=tuple(sorted(measured.derived.items())) if measured else ())
        )
    if measure:
        result.clip_measurements = clip_measurements(store, records, include_drafts)
    return Collected(result, drafts)
