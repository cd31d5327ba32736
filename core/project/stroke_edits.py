"""Scribbles and boxes of a frame's objects (a part of ProjectStore): every edit goes through ActionHistory._edit,
so it is one undoable step or part of the open action, exactly as for points."""
from __future__ import annotations

from core.annotation.bounds import check_inside
from core.annotation.strokes import Stroke
from core.errors import AnnotationFormatError
from core.project.actions import ActionHistory
from core.project.frame_rows import load_state
from core.project.frame_state import FrameState
from core.project.records import FrameRecord


class StrokeEdits(ActionHistory):
    """Strokes: freehand scribbles (nodule or background) and boxes dragged round an object."""

    def strokes(self, frame_id: int) -> dict[int, Stroke]:
        """Stroke id -> Stroke, in the order they were added."""
        with self._db.read() as db:
            self._frame_in(db, frame_id)
            return {sid: s for sid, s in load_state(db, frame_id).strokes if sid is not None}

    def add_stroke(self, frame_id: int, stroke: Stroke) -> int:
        """Add a stroke (every vertex on the frame) and return its id."""

        def add(rec: FrameRecord, s: FrameState) -> FrameState:
            return s.with_strokes([*s.strokes, (None, checked_stroke(rec, stroke))])

        state = self._edit(frame_id, "add " + stroke.kind.value, add)
        return max(sid for sid, _ in state.strokes if sid is not None)

    def delete_stroke(self, stroke_id: int) -> None:
        """Remove one stroke. KeyError for an unknown id."""
        frame_id = self._frame_of("strokes", stroke_id)
        self._edit(frame_id, "delete stroke",
                   lambda rec, s: s.with_strokes([q for q in s.strokes if q[0] != stroke_id]))


def checked_stroke(record: FrameRecord, stroke: Stroke) -> Stroke:
    """`stroke` when its frame can be annotated and every vertex lies on it; else AnnotationFormatError."""
    if record.error is not None or record.width is None or record.height is None:
        raise AnnotationFormatError(record.source, f"frame cannot be annotated ({record.error})")
    check_inside(record.source, stroke.points, record.width, record.height)
    return stroke
