"""A frame's annotations as read from the store in one go (on a worker thread), and the writes the app makes:
each user action is one Commit, applied in order on the store worker as one store action (one transaction and
one undo step: all of it or, if a write fails, none of it)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.annotation.points import CALIPER_ORDER, Calipers, Point, PointKind, calipers_from_points
from core.annotation.strokes import Stroke, StrokeKind
from core.annotation.tags import FrameTag
from core.project.classes import DEFAULT_CLASS_ID
from core.project.display_status import DisplayStatus, display_status, draft_objects
from core.project.records import FrameRecord, MaskProvenance
from core.project.store import ProjectStore


@dataclass(frozen=True)
class FrameAnnotations:
    """Points (by point id), masks (by object id) and their provenance, which masks are drafts, the class of
    each object, strokes (by stroke id), the frame's tag, the model's probability (if any), and whether undo/redo
    can do something."""

    frame_id: int
    points: dict[int, Point] = field(default_factory=dict)
    masks: dict[int, np.ndarray] = field(default_factory=dict)
    provenance: dict[int, MaskProvenance] = field(default_factory=dict)
    drafts: frozenset[int] = frozenset()
    prediction: np.ndarray | None = None
    can_undo: bool = False
    can_redo: bool = False
    classes: dict[int, int] = field(default_factory=dict)  # object id -> class id, for every object
    strokes: dict[int, Stroke] = field(default_factory=dict)
    tag: FrameTag | None = None

    def class_of(self, object_id: int) -> int:
        """The object's class id (*nodule* for an object the store does not hold)."""
        return self.classes.get(object_id, DEFAULT_CLASS_ID)

    def object_ids(self) -> list[int]:
        return sorted({p.object_id for p in self.points.values()} | set(self.masks)
                      | {s.object_id for s in self.strokes.values()})

    def calipers(self) -> dict[int, Calipers]:
        return calipers_from_points(list(self.points.values()))

    def caliper_ends(self, object_id: int) -> dict[PointKind, tuple[int, Point]]:
        """The object's caliper points placed so far: kind -> (point id, point)."""
        return {p.kind: (pid, p) for pid, p in self.points.items() if p.object_id == object_id and p.kind.is_caliper}

    @property
    def predicted_mask(self) -> np.ndarray | None:
        return None if self.prediction is None else self.prediction > 0.5

    def status(self, record: FrameRecord) -> DisplayStatus:
        accepted = any(oid not in self.drafts for oid in self.masks)
        return display_status(not record.readable, accepted, bool(self.calipers()), bool(self.drafts),
                              self.prediction is not None)


def next_caliper_kind(ends: dict[PointKind, object]) -> PointKind | None:
    """The caliper end to place next (long axis first), or None when all four are placed."""
    return next((k for k in CALIPER_ORDER if k not in ends), None)


def read_annotations(store: ProjectStore, frame_id: int) -> FrameAnnotations:
    """Everything the editor shows for a frame (worker thread)."""
    records = store.masks(frame_id)
    masks = {}
    for oid in records:
        mask = store.mask(frame_id, oid)
        if mask is not None:
            masks[oid] = mask
    prediction = store.prediction(frame_id)
    return FrameAnnotations(
        frame_id=frame_id,
        points=store.points(frame_id),
        masks=masks,
        provenance={oid: rec.provenance for oid, rec in records.items()},
        drafts=draft_objects(records),
        prediction=None if prediction is None else prediction.probability,
        can_undo=store.can_undo(frame_id),
        can_redo=store.can_redo(frame_id),
        classes=store.object_classes(frame_id),
        strokes=store.strokes(frame_id),
        tag=store.tag(frame_id),
    )


@dataclass
class Commit:
    """The store edits of one user action on one frame, applied in this order."""

    frame_id: int
    add_points: list[Point] = field(default_factory=list)
    move_points: list[tuple[int, float, float]] = field(default_factory=list)
    delete_points: list[int] = field(default_factory=list)
    draft_masks: dict[int, tuple[np.ndarray, MaskProvenance]] = field(default_factory=dict)
    accepted_masks: dict[int, tuple[np.ndarray, MaskProvenance]] = field(default_factory=dict)
    clear_objects: list[int] = field(default_factory=list)
    object_classes: dict[int, int] = field(default_factory=dict)  # object id -> class id
    add_strokes: list[Stroke] = field(default_factory=list)
    title: str = ""  # the history's name for the action when the edits alone do not say it (e.g. a proposal)

    @property
    def name(self) -> str:
        """What the user did, as the history names it."""
        if self.title:
            return self.title
        if self.accepted_masks and not (self.add_points or self.move_points):
            return f"Accept {len(self.accepted_masks)} mask" + ("s" if len(self.accepted_masks) > 1 else "")
        boxes = [s for s in self.add_strokes if s.kind is StrokeKind.BOX]
        for edits, name in ((self.clear_objects, "Clear nodule"), (self.delete_points, "Delete point"),
                            (self.move_points, "Move point"), (self.add_points, "Add point"),
                            (boxes, "Add box"), (self.add_strokes, "Add scribble")):
            if edits:
                return name
        if self.object_classes and not (self.draft_masks or self.accepted_masks):
            return "Set class"
        return "Edit mask"

    def apply(self, store: ProjectStore) -> FrameAnnotations:
        """Write everything (worker thread) as one store action."""
        with store.action(self.name, self.frame_id):
            for object_id, class_id in self.object_classes.items():
                store.set_object_class(self.frame_id, object_id, class_id)
            for point in self.add_points:
                store.add_point(self.frame_id, point)
            for point_id, x, y in self.move_points:
                store.move_point(point_id, x, y)
            for point_id in self.delete_points:
                store.delete_point(point_id)
            for stroke in self.add_strokes:
                store.add_stroke(self.frame_id, stroke)
            for object_id in self.clear_objects:
                store.clear_object(self.frame_id, object_id)
            for object_id, (mask, provenance) in self.draft_masks.items():
                if not mask.any():  # nothing left of the nodule: no mask rather than an empty one
                    if object_id in store.masks(self.frame_id):
                        store.delete_mask(self.frame_id, object_id)
                    continue
                store.set_mask(self.frame_id, object_id, mask, provenance, accepted=False)
            for object_id, (mask, provenance) in self.accepted_masks.items():
                if mask.any():
                    if _is_stored_draft(store, self.frame_id, object_id, mask):
                        store.accept_mask(self.frame_id, object_id)  # the draft as saved: only the flag changes
                    else:  # e.g. the model's mask, never saved as a draft
                        store.set_mask(self.frame_id, object_id, mask, provenance)
        return read_annotations(store, self.frame_id)


def _is_stored_draft(store: ProjectStore, frame_id: int, object_id: int, mask: np.ndarray) -> bool:
    """Whether the object's stored mask is a draft with exactly these pixels."""
    record = store.masks(frame_id).get(object_id)
    if record is None or record.accepted:
        return False
    stored = store.mask(frame_id, object_id)
    return stored is not None and np.array_equal(stored, mask != 0)
