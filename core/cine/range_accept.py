"""Propagated masks in a project: each finished frame's draft is written as it comes (accepted=False, so nothing is
lost and nothing counts as labelled yet), and accepting the range accepts every frame's mask in one action: one
transaction (all frames or none) and one undo step on all of them (see ProjectStore.action)."""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from core.project.classes import DEFAULT_CLASS_ID
from core.project.records import MaskProvenance
from core.project.store import ProjectStore

ACTION_TITLE = "accept propagated range"


def save_draft(store: ProjectStore, frame_id: int, object_id: int, mask: np.ndarray,
               class_id: int = DEFAULT_CLASS_ID) -> None:
    """A propagated frame's mask as the object's draft (replacing an earlier draft or accepted mask there), of
    the class of the object it was propagated from (one undo step)."""
    with store.action("set mask", frame_id):
        store.set_mask(frame_id, object_id, mask, MaskProvenance.GENERATED, accepted=False)
        store.set_object_class(frame_id, object_id, class_id)


def accept_range(store: ProjectStore, frame_ids: Iterable[int], object_id: int) -> list[int]:
    """Accept the object's mask (draft or corrected) on each of the frames that has one, as one action; returns
    the frames whose mask was a draft and is now accepted."""
    frames = list(frame_ids)
    accepted = []
    with store.action(ACTION_TITLE, frame_ids=frames):
        for frame_id in frames:
            record = store.masks(frame_id).get(object_id)
            if record is not None and not record.accepted:
                store.accept_mask(frame_id, object_id)
                accepted.append(frame_id)
    return accepted
