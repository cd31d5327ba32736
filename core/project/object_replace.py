"""One edit that puts whole objects (class, mask, calipers) into a frame, replacing what the frame had: how an
import lands in the store. Pure: FrameState in, FrameState out (see core.project.frame_state)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.annotation.points import Calipers
from core.project.classes import with_object_class
from core.project.frame_state import FrameState, StoredMask


@dataclass(frozen=True)
class NewObject:
    class_id: int
    mask: np.ndarray | None = None  # (H, W), nonzero = inside; stored accepted
    calipers: Calipers | None = None


def replace_objects(
    state: FrameState,
    objects: Sequence[NewObject],
    encoded_masks: Sequence[bytes | None],
    provenance: str,
    when: str,
) -> FrameState:
    """The frame's accepted masks are replaced when any new object has a mask, its caliper points when any has
    calipers; clicks, drafts and the other kind stay. New objects take ids after every id still in use."""
    replace_masks = any(o.mask is not None for o in objects)
    replace_calipers = any(o.calipers is not None for o in objects)
    points = [(pid, p) for pid, p in state.points if not (replace_calipers and p.kind.is_caliper)]
    masks = [m for m in state.masks if not (replace_masks and m.accepted)]
    in_use = {p.object_id for _, p in points} | {m.object_id for m in masks}
    first = max(in_use) + 1 if in_use else 0
    classes = tuple((oid, cid) for oid, cid in state.classes if oid in in_use)
    for k, (obj, png) in enumerate(zip(objects, encoded_masks, strict=True)):
        oid = first + k
        if png is not None:
            masks.append(StoredMask(oid, png, provenance, when, True))
        if obj.calipers is not None:
            points.extend((None, p) for p in obj.calipers.to_points(oid))
        classes = with_object_class(classes, oid, obj.class_id)
    return FrameState(tuple(points), tuple(sorted(masks, key=lambda m: m.object_id)), classes)
