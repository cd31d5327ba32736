"""A project's annotations as an ExchangeSet: accepted masks only (drafts counted), complete calipers, classes;
on request the sparse labels (clicks, scribbles, boxes) and the frames' effective tags; and the part of such a set
that one format carries."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

from core.annotation.points import PointKind
from core.exchange.model import ClassInfo, ExchangeFrame, ExchangeObject, ExchangeSet
from core.exchange.names import export_names
from core.exchange.registry import Format
from core.project.frame_measurements import clip_measurements, frame_measurements
from core.project.store import ProjectStore

CLICKS = (PointKind.FOREGROUND, PointKind.BACKGROUND)


@dataclass
class Collected:
    annotations: ExchangeSet
    draft_masks: int  # draft masks left out


def collect(store: ProjectStore, include_drafts: bool = False, measure: bool = True, sparse: bool = False,
            tags: bool = False) -> Collected:
    """Every readable frame with an accepted mask or a complete caliper set (with `sparse`, also clicks or strokes;
    with `tags`, also a tag), objects by id."""
    classes = store.classes()
    class_name = {c.id: c.name for c in classes}
    records = store.frames()
    names = export_names(records)
    per_source = Counter(r.path for r in records)
    frame_tags = store.effective_tags() if tags else {}
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
        clicks, strokes = ({}, {}) if not sparse else _sparse_labels(store, r.id)
        if not masks and not calipers and not clicks and not strokes and r.id not in frame_tags:
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
                tuple(clicks.get(oid, ())),
                tuple(strokes.get(oid, ())),
            )
            for oid in sorted(set(masks) | set(calipers) | set(clicks) | set(strokes))
        )
        result.frames.append(
            ExchangeFrame(names[r.id], r.source, r.index, (r.height, r.width), objects, spacing,
                          per_source[r.path] > 1, measurements=tuple(measured.rows) if measured else (),
                          derived=tuple(sorted(measured.derived.items())) if measured else (),
                          tag=frame_tags.get(r.id))
        )
    if measure:
        result.clip_measurements = clip_measurements(store, records, include_drafts)
    return Collected(result, drafts)


def _sparse_labels(store: ProjectStore, frame_id: int) -> tuple[dict[int, list], dict[int, list]]:
    """Object id -> its clicks, object id -> its strokes, in the order they were added."""
    clicks: dict[int, list] = {}
    for p in store.points(frame_id).values():
        if p.kind in CLICKS:
            clicks.setdefault(p.object_id, []).append(p)
    strokes: dict[int, list] = {}
    for s in store.strokes(frame_id).values():
        strokes.setdefault(s.object_id, []).append(s)
    return clicks, strokes


def carried_by(data: ExchangeSet, fmt: Format) -> ExchangeSet:
    """The part of `data` a format writes: objects with a mask or calipers (and with sparse labels when it carries
    them), frames with such objects (and tagged frames when it carries tags)."""
    frames = []
    for frame in data.frames:
        objects = tuple(o for o in frame.objects
                        if o.has_mask or o.calipers is not None or (fmt.carries_sparse and o.has_sparse))
        if objects or (fmt.carries_tags and frame.tag is not None):
            frames.append(replace(frame, objects=objects))
    return replace(data, frames=frames)
