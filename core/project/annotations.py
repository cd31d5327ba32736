"""The annotation edits of a project (points, calipers, masks accepted or draft) and the queries on them; every
edit goes through ActionHistory._edit, so it is one undoable step or part of the open action."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np

from core.annotation.bounds import check_inside
from core.annotation.points import Calipers, Point, PointKind, calipers_from_points
from core.errors import AnnotationFormatError
from core.io.mask_codec import decode_mask, encode_mask
from core.project import status as store_status
from core.project.actions import ActionHistory
from core.project.frame_rows import load_state
from core.project.frame_state import FrameState, StoredMask
from core.project.frames_table import FRAME_COLUMNS, size_text
from core.project.records import FrameRecord, FrameStatus, MaskProvenance, MaskRecord


class AnnotationEdits(ActionHistory):
    """Points, calipers and masks (a part of ProjectStore)."""

    def points(self, frame_id: int) -> dict[int, Point]:
        """Point id -> Point, in the order they were added."""
        with self._db.read() as db:
            self._frame_in(db, frame_id)
            return {pid: p for pid, p in load_state(db, frame_id).points if pid is not None}

    def calipers(self, frame_id: int) -> dict[int, Calipers]:
        """Object id -> its complete set of caliper points (incomplete sets are left out)."""
        return calipers_from_points(list(self.points(frame_id).values()))

    def add_point(self, frame_id: int, point: Point) -> int:
        """Add a point and return its id."""

        def add(rec: FrameRecord, s: FrameState) -> FrameState:
            return s.with_points([*s.points, (None, checked_point(rec, point))])

        state = self._edit(frame_id, "add point", add)
        return max(pid for pid, _ in state.points if pid is not None)

    def move_point(self, point_id: int, x: float, y: float) -> None:
        """Move a point to (x, y); its kind and object stay."""
        frame_id = self._frame_of("points", point_id)

        def move(rec: FrameRecord, s: FrameState) -> FrameState:
            moved = Point(x, y, *_kind_and_object(s, point_id))
            return s.with_points([(pid, checked_point(rec, moved) if pid == point_id else p) for pid, p in s.points])

        self._edit(frame_id, "move point", move)

    def delete_point(self, point_id: int) -> None:
        frame_id = self._frame_of("points", point_id)
        self._edit(frame_id, "delete point", lambda rec, s: s.with_points([q for q in s.points if q[0] != point_id]))

    def set_calipers(self, frame_id: int, object_id: int, calipers: Calipers) -> None:
        """Replace the caliper points of one object (its foreground/background clicks and mask stay)."""
        self.replace_calipers(frame_id, {object_id: calipers}, only_these=True)

    def replace_calipers(self, frame_id: int, calipers: Mapping[int, Calipers], only_these: bool = False) -> None:
        """Set the calipers of several objects in one edit. Caliper points of objects not in `calipers` are
        removed too, unless only_these=True. Clicks and masks are kept."""

        def replace(rec: FrameRecord, s: FrameState) -> FrameState:
            kept = [
                (pid, p)
                for pid, p in s.points
                if not p.kind.is_caliper or (only_these and p.object_id not in calipers)
            ]
            new = [(None, checked_point(rec, p)) for oid, c in sorted(calipers.items()) for p in c.to_points(oid)]
            return s.with_points(kept + new)

        self._edit(frame_id, "set calipers", replace)

    def clear_object(self, frame_id: int, object_id: int) -> None:
        """Remove every point, stroke and the mask of one object."""

        def clear(rec: FrameRecord, s: FrameState) -> FrameState:
            points = [(pid, p) for pid, p in s.points if p.object_id != object_id]
            cleared = s.with_points(points).with_masks([m for m in s.masks if m.object_id != object_id])
            cleared = cleared.with_strokes([(sid, k) for sid, k in s.strokes if k.object_id != object_id])
            return replace(cleared, classes=tuple(pair for pair in s.classes if pair[0] != object_id))

        self._edit(frame_id, "clear object", clear)

    def set_mask(
        self,
        frame_id: int,
        object_id: int,
        mask: np.ndarray,
        provenance: MaskProvenance | str,
        accepted: bool = True,
    ) -> None:
        """Store `mask` ((H, W), nonzero = nodule) as the object's mask, replacing any previous one: accepted, or
        with accepted=False as a draft (saved as the user edits; accept it later with accept_mask)."""
        origin = MaskProvenance(provenance)
        m = np.asarray(mask)

        def put(rec: FrameRecord, s: FrameState) -> FrameState:
            if rec.error is not None:
                raise AnnotationFormatError(rec.source, f"frame cannot be annotated ({rec.error})")
            if m.shape != (rec.height, rec.width):
                raise AnnotationFormatError(
                    rec.source, f"mask is {size_text(m.shape)} but the frame is {rec.width}x{rec.height}"
                )
            previous = next((x.created_at for x in s.masks if x.object_id == object_id), None)
            stored = StoredMask(object_id, encode_mask(m), origin.value, _stamp_after(previous), bool(accepted))
            return s.with_masks([*(x for x in s.masks if x.object_id != object_id), stored])

        self._edit(frame_id, "set mask", put)

    def accept_mask(self, frame_id: int, object_id: int) -> None:
        """Accept the object's draft mask as it is (pixels, provenance and time stay), as one undoable edit;
        nothing is written when it is accepted already. KeyError if the object has no mask."""

        def accept(rec: FrameRecord, s: FrameState) -> FrameState:
            if not any(m.object_id == object_id for m in s.masks):
                raise KeyError(f"frame {frame_id} has no mask for object {object_id}")
            return s.with_masks([replace(m, accepted=True) if m.object_id == object_id else m for m in s.masks])

        self._edit(frame_id, "accept mask", accept)

    def delete_mask(self, frame_id: int, object_id: int) -> None:
        """Remove the object's mask, accepted or draft (its points stay)."""

        def delete(rec: FrameRecord, s: FrameState) -> FrameState:
            return s.with_masks([m for m in s.masks if m.object_id != object_id])

        self._edit(frame_id, "delete mask", delete)

    def mask(self, frame_id: int, object_id: int | None = None, accepted_only: bool = False) -> np.ndarray | None:
        """The mask of one object, or the union of all objects (object_id=None), drafts included unless
        accepted_only=True; None when there is none."""
        sql, args = "SELECT png FROM masks WHERE frame_id = ?", [frame_id]
        if object_id is not None:
            sql, args = sql + " AND object_id = ?", [*args, object_id]
        if accepted_only:
            sql += " AND accepted = 1"
        with self._db.read() as db:
            self._frame_in(db, frame_id)
            blobs = db.execute(sql, args).fetchall()
        if not blobs:
            return None
        return np.logical_or.reduce([decode_mask(b) for (b,) in blobs])

    def mask_blobs(self, frame_id: int) -> dict[int, tuple[bytes, bool]]:
        """Object id -> (its mask as stored, 0/255 PNG, accepted flag), in one read (for exports)."""
        with self._db.read() as db:
            self._frame_in(db, frame_id)
            rows = db.execute(
                "SELECT object_id, png, accepted FROM masks WHERE frame_id = ? ORDER BY object_id", (frame_id,)
            ).fetchall()
        return {int(oid): (bytes(png), bool(acc)) for oid, png, acc in rows}

    def masks(self, frame_id: int) -> dict[int, MaskRecord]:
        """Object id -> provenance, time and accepted flag of its mask (drafts included)."""
        with self._db.read() as db:
            self._frame_in(db, frame_id)
            rows = db.execute(
                "SELECT object_id, provenance, created_at, accepted FROM masks WHERE frame_id = ? ORDER BY object_id",
                (frame_id,),
            ).fetchall()
        return {oid: MaskRecord(oid, MaskProvenance(prov), ts, bool(acc)) for oid, prov, ts, acc in rows}

    def accepted_frames(self) -> list[FrameRecord]:
        """Frames with at least one accepted mask."""
        return self._frames_with_masks(accepted=True)

    def draft_frames(self) -> list[FrameRecord]:
        """Frames with at least one draft mask (they may have accepted masks too)."""
        return self._frames_with_masks(accepted=False)

    def _frames_with_masks(self, accepted: bool) -> list[FrameRecord]:
        with self._db.read() as db:
            rows = db.execute(
                f"SELECT {FRAME_COLUMNS} FROM frames WHERE id IN (SELECT frame_id FROM masks WHERE accepted = ?)"
                " ORDER BY id",
                (int(accepted),),
            ).fetchall()
        return [self._record(row) for row in rows]

    def frame_status(self, frame_id: int) -> FrameStatus:
        with self._db.read() as db:
            self._frame_in(db, frame_id)
            return store_status.frame_statuses(db, frame_id)[frame_id]

    def frame_statuses(self) -> dict[int, FrameStatus]:
        """Frame id -> status for every frame (see core.project.status for the precedence)."""
        with self._db.read() as db:
            return store_status.frame_statuses(db)


def _stamp_after(previous: str | None) -> str:
    """Now, or a millisecond after `previous` when the clock has not passed it: two writes of one mask never share
    a stamp, so a rewrite within one clock tick is still a change (and an undo step) like any other."""
    now = datetime.now(UTC)
    try:
        last = datetime.fromisoformat(previous) if previous else None
    except ValueError:
        last = None
    if last is not None:
        last = last if last.tzinfo else last.replace(tzinfo=UTC)
        now = max(now, last + timedelta(milliseconds=1))
    return now.isoformat(timespec="milliseconds")



def checked_point(record: FrameRecord, point: Point) -> Point:
    if record.error is not None or record.width is None or record.height is None:
        raise AnnotationFormatError(record.source, f"frame cannot be annotated ({record.error})")
    check_inside(record.source, [(point.x, point.y)], record.width, record.height)
    return Point(float(point.x), float(point.y), PointKind(point.kind), int(point.object_id))


def _kind_and_object(state: FrameState, point_id: int) -> tuple[PointKind, int]:
    point = dict(state.points)[point_id]
    return point.kind, point.object_id
