"""A frame's labelling status, worked out in SQL so that a list of thousands of frames costs one query."""
from __future__ import annotations

import sqlite3

from core.annotation.points import PointKind
from core.project.records import FrameStatus

_CALIPER_KINDS = tuple(k.value for k in PointKind if k.is_caliper)


def frame_statuses(db: sqlite3.Connection, frame_id: int | None = None) -> dict[int, FrameStatus]:
    """Frame id -> status (of one frame, or of all). Precedence: unreadable, mask accepted (at least one accepted
    mask), calipers (a complete set of four points for some object, or a draft mask), predicted only, unlabelled.
    Loose clicks, strokes and frame tags alone do not change it (tags: ProjectStore.effective_tags).

    A frame whose only masks are drafts is CALIPERS even without calipers: a human has begun labelling it (the
    draft came from their clicks, calipers or brush) but accepted nothing, which is what CALIPERS stands for to its
    users (core.learning.suggest skips it, the app lists it as "not accepted"); UNLABELLED would offer it for labelling
    again, and PREDICTED_ONLY would say no human touched it."""
    kinds = ",".join("?" * len(_CALIPER_KINDS))
    where, args = ("", ()) if frame_id is None else ("WHERE f.id = ?", (frame_id,))
    rows = db.execute(
        f"""SELECT f.id, f.error IS NOT NULL,
               EXISTS (SELECT 1 FROM masks m WHERE m.frame_id = f.id AND m.accepted = 1),
               EXISTS (SELECT 1 FROM masks m WHERE m.frame_id = f.id AND m.accepted = 0),
               EXISTS (SELECT 1 FROM points p WHERE p.frame_id = f.id AND p.kind IN ({kinds})
                       GROUP BY p.object_id HAVING COUNT(DISTINCT p.kind) = {len(_CALIPER_KINDS)}),
               EXISTS (SELECT 1 FROM predictions r WHERE r.frame_id = f.id)
            FROM frames f {where} ORDER BY f.id""",
        (*_CALIPER_KINDS, *args),
    ).fetchall()
    return {fid: _status(*flags) for fid, *flags in rows}


def _status(unreadable: int, has_accepted: int, has_draft: int, has_calipers: int, has_prediction: int) -> FrameStatus:
    if unreadable:
        return FrameStatus.UNREADABLE
    if has_accepted:
        return FrameStatus.MASK_ACCEPTED
    if has_calipers or has_draft:
        return FrameStatus.CALIPERS
    if has_prediction:
        return FrameStatus.PREDICTED_ONLY
    return FrameStatus.UNLABELLED
