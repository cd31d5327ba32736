"""The annotation state of one frame (its points, its masks, accepted or draft, and its object classes), as
undo/redo snapshots it.

Edits are pure functions FrameState -> FrameState; the store writes the result and keeps both states in its
history, so undo restores exactly the previous state, ids and timestamps included.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field, replace

from core.annotation.points import Point, PointKind


@dataclass(frozen=True)
class StoredMask:
    object_id: int
    png: bytes  # 0/255 PNG, see core.io.mask_codec
    provenance: str
    created_at: str
    accepted: bool = True  # False: a draft (saved as the user edits, not yet accepted)


@dataclass(frozen=True)
class FrameState:
    """points: point id -> Point (id None only for points not yet written); masks: object id -> StoredMask."""

    points: tuple[tuple[int | None, Point], ...] = ()
    masks: tuple[StoredMask, ...] = field(default=())
    classes: tuple[tuple[int, int], ...] = ()  # (object id, class id) for objects not of the default class

    def with_points(self, points: list[tuple[int | None, Point]]) -> FrameState:
        return replace(self, points=tuple(points))

    def with_masks(self, masks: list[StoredMask]) -> FrameState:
        return replace(self, masks=tuple(sorted(masks, key=lambda m: m.object_id)))

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
        return json.dumps(doc, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> FrameState:
        doc = json.loads(data.decode("utf-8"))
        points = tuple(
            (int(pid), Point(float(x), float(y), PointKind(kind), int(oid))) for pid, oid, kind, x, y in doc["points"]
        )
        masks = tuple(_stored_mask(*entry) for entry in doc["masks"])
        classes = tuple((int(oid), int(cid)) for oid, cid in doc.get("classes", ()))  # none before schema 3
        return cls(points, masks, classes)


def _stored_mask(oid: int, prov: str, ts: str, png: str, accepted: int = 1) -> StoredMask:
    """One mask entry; snapshots written before schema 2 have no flag, and their masks were accepted."""
    return StoredMask(int(oid), base64.b64decode(png), prov, ts, bool(accepted))
