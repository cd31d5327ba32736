"""The annotation state of one frame (its points, its masks, accepted or draft, its object classes, its strokes -
scribbles and boxes - and its frame tag), as undo/redo snapshots it.

Edits are pure functions FrameState -> FrameState; the store writes the result and keeps both states in its
history, so undo restores exactly the previous state, ids and timestamps included.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field, replace

from core.annotation.points import Point, PointKind
from core.annotation.strokes import Stroke
from core.annotation.tags import FrameTag
from core.project.classes import DEFAULT_CLASS_ID, class_of
from core.project.sparse_rows import stroke_entry, stroke_of_entry


@dataclass(frozen=True)
class StoredMask:
    object_id: int
    png: bytes  # 0/255 PNG, see core.io.mask_codec
    provenance: str
    created_at: str
    accepted: bool = True  # False: a draft (saved as the user edits, not yet accepted)


@dataclass(frozen=True)
class FrameState:
    """points: point id -> Point (id None only for points not yet written); masks: object id -> StoredMask;
    strokes: stroke id -> Stroke (id None only for strokes not yet written); tag: the frame tag the user set."""

    points: tuple[tuple[int | None, Point], ...] = ()
    masks: tuple[StoredMask, ...] = field(default=())
    classes: tuple[tuple[int, int], ...] = ()  # (object id, class id) for objects not of the default class
    strokes: tuple[tuple[int | None, Stroke], ...] = ()
    tag: FrameTag | None = None

    @property
    def object_ids(self) -> set[int]:
        """Every object that has points, strokes or a mask."""
        return ({p.object_id for _, p in self.points} | {s.object_id for _, s in self.strokes}
                | {m.object_id for m in self.masks})

    def with_points(self, points: list[tuple[int | None, Point]]) -> FrameState:
        return replace(self, points=tuple(points))

    def with_masks(self, masks: list[StoredMask]) -> FrameState:
        return replace(self, masks=tuple(sorted(masks, key=lambda m: m.object_id)))

    def with_strokes(self, strokes: list[tuple[int | None, Stroke]]) -> FrameState:
        return replace(self, strokes=tuple(strokes))

    @property
    def nodule_object_ids(self) -> set[int]:
        """The objects of the nodule class (the default one), which a *no nodule* tag says are not there; a thyroid
        gland or any other class outlined on the frame is not a nodule."""
        return {oid for oid in self.object_ids if class_of(self.classes, oid) == DEFAULT_CLASS_ID}

    def without_nodules(self) -> FrameState:
        """The frame with the points, strokes, masks and class rows of its nodule-class objects removed; the other
        classes' objects and the tag stay."""
        gone = self.nodule_object_ids
        return replace(self, points=tuple((pid, p) for pid, p in self.points if p.object_id not in gone),
                       masks=tuple(m for m in self.masks if m.object_id not in gone),
                       classes=tuple((oid, cid) for oid, cid in self.classes if oid not in gone),
                       strokes=tuple((sid, st) for sid, st in self.strokes if st.object_id not in gone))

    def to_bytes(self) -> bytes:
        doc = {
            "points": [[pid, p.object_id, p.kind.value, p.x, p.y] for pid, p in self.points],
            "masks": [
                [m.object_id, m.provenance, m.created_at, base64.b64encode(m.png).decode("ascii"), int(m.accepted)]
                for m in self.masks
            ],
        }
        if self.classes:
            doc["classes"] = [list(pair) for pair in self.classes]
        if self.strokes:
            doc["strokes"] = [[sid, stroke_entry(stroke)] for sid, stroke in self.strokes]
        if self.tag is not None:
            doc["tag"] = self.tag.value
        return json.dumps(doc, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> FrameState:
        doc = json.loads(data.decode("utf-8"))
        points = tuple(
            (int(pid), Point(float(x), float(y), PointKind(kind), int(oid))) for pid, oid, kind, x, y in doc["points"]
        )
        masks = tuple(_stored_mask(*entry) for entry in doc["masks"])
        classes = tuple((int(oid), int(cid)) for oid, cid in doc.get("classes", ()))  # none before schema 3
        strokes = tuple((int(sid), stroke_of_entry(entry)) for sid, entry in doc.get("strokes", ()))  # none before 6
        tag = doc.get("tag")
        return cls(points, masks, classes, strokes, None if tag is None else FrameTag(tag))


def _stored_mask(oid: int, prov: str, ts: str, png: str, accepted: int = 1) -> StoredMask:
    """One mask entry; snapshots written before schema 2 have no flag, and their masks were accepted."""
    return StoredMask(int(oid), base64.b64decode(png), prov, ts, bool(accepted))

