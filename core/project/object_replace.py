"""One edit that puts whole objects (class, mask, calipers, clicks and strokes) into a frame, replacing what the
frame had: how an import lands in the store. Pure: FrameState in, FrameState out (see core.project.frame_state)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from core.annotation.points import Calipers, Point
from core.annotation.strokes import Stroke
from core.project.classes import with_object_class
from core.project.frame_state import FrameState, StoredMask


@dataclass(frozen=True)
class NewObject:
    class_id: int
    mask: np.ndarray | None = None  # (H, W), nonzero = inside; stored accepted
    calipers: Calipers | None = None
    clicks: tuple[Point, ...] = ()  # foreground/background points (their object_id is replaced)
    strokes: tuple[Stroke, ...] = ()  # scribbles and boxes (their object_id is replaced)

    @property
    def sparse(self) -> bool:
        return bool(self.clicks or self.strokes)


def replace_objects(
    state: FrameState,
    objects: Sequence[NewObject],
    encoded_masks: Sequence[bytes | None],
    provenance: str,
    when: str,
) -> FrameState:
    """The frame's accepted masks are replaced when any new object has a mask, its caliper points when any has
    calipers, its clicks and strokes when any has clicks or strokes; drafts and the other kinds stay. New objects
    take ids after every id still in use."""
    replace_masks = any(o.mask is not None for o in objects)
    replace_calipers = any(o.calipers is not None for o in objects)
    replace_sparse = any(o.sparse for o in objects)
    points = [(pid, p) for pid, p in state.points
              if not (p.kind.is_caliper and replace_calipers or not p.kind.is_caliper and replace_sparse)]
    strokes = [] if replace_sparse else list(state.strokes)
    masks = [m for m in state.masks if not (replace_masks and m.accepted)]
    kept = FrameState(tuple(points), tuple(masks), (), tuple(strokes))
    in_use = kept.object_ids
    first = max(in_use) + 1 if in_use else 0
    classes = tuple((oid, cid) for oid, cid in state.classes if oid in in_use)
    for k, (obj, png) in enumerate(zip(objects, encoded_masks, strict=True)):
        oid = first + k
        if png is not None:
            masks.append(StoredMask(oid, png, provenance, when, True))
        if obj.calipers is not None:
            points.extend((None, p) for p in obj.calipers.to_points(oid))
        points.extend((None, replace(p, object_id=oid)) for p in obj.clicks)
        strokes.extend((None, replace(s, object_id=oid)) for s in obj.strokes)
        classes = with_object_class(classes, oid, obj.class_id)
    return FrameState(tuple(points), tuple(sorted(masks, key=lambda m: m.object_id)), classes, tuple(strokes),
                      state.tag)
