"""Label classes and each object's class (a part of ProjectStore): the class list is project data like settings
(not undoable); an object's class is part of its frame's annotation state, so changing it is an undoable edit."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from core.errors import AnnotationFormatError
from core.io.mask_codec import encode_mask
from core.project import classes as label_classes
from core.project.actions import ActionHistory
from core.project.annotations import checked_point
from core.project.classes import LabelClass
from core.project.db import now_stamp
from core.project.frame_rows import load_state
from core.project.frame_state import FrameState
from core.project.frames_table import size_text
from core.project.object_replace import NewObject, replace_objects
from core.project.records import FrameRecord, MaskProvenance
from core.project.stroke_edits import checked_stroke


class ClassEdits(ActionHistory):
    """Label classes and object classes, and whole objects put into a frame (imports)."""

    def classes(self) -> list[LabelClass]:
        """The project's label classes by id; *nodule* (id 1) is always there."""
        with self._db.read() as db:
            return label_classes.list_classes(db)

    def add_class(self, name: str, colour: str | None = None) -> LabelClass:
        """Add a class (unique name, "#rrggbb" colour or the next palette colour); not undoable, like settings."""
        with self._db.write() as db:
            return label_classes.add_class(db, name, colour)

    def rename_class(self, class_id: int, name: str) -> LabelClass:
        with self._db.write() as db:
            return label_classes.rename_class(db, class_id, name)

    def object_class(self, frame_id: int, object_id: int) -> int:
        """The class id of an object (*nodule* unless set otherwise)."""
        with self._db.read() as db:
            self._frame_in(db, frame_id)
            return label_classes.class_of(label_classes.load_object_classes(db, frame_id), object_id)

    def object_classes(self, frame_id: int) -> dict[int, int]:
        """Object id -> class id for every object of the frame that has points, strokes or a mask."""
        with self._db.read() as db:
            self._frame_in(db, frame_id)
            state = load_state(db, frame_id)
        return {oid: label_classes.class_of(state.classes, oid) for oid in sorted(state.object_ids)}

    def set_object_class(self, frame_id: int, object_id: int, class_id: int) -> None:
        """Give an object a class, as one undoable edit. KeyError for an unknown class."""

        def put(rec: FrameRecord, s: FrameState) -> FrameState:
            with self._db.read() as db:
                label_classes.require_class(db, class_id)
            return replace(s, classes=label_classes.with_object_class(s.classes, object_id, int(class_id)))

        self._edit(frame_id, "set class", put)

    def put_objects(self, frame_id: int, objects: Sequence[NewObject], provenance: MaskProvenance | str) -> None:
        """Put whole objects into a frame as one undoable edit (see core.project.object_replace for what they
        replace). Masks must match the frame's size; classes must exist."""
        origin = MaskProvenance(provenance).value
        encoded = [None if o.mask is None else encode_mask(o.mask) for o in objects]

        def put(rec: FrameRecord, s: FrameState) -> FrameState:
            if rec.error is not None:
                raise AnnotationFormatError(rec.source, f"frame cannot be annotated ({rec.error})")
            for o in objects:
                if o.mask is not None and np.shape(o.mask) != (rec.height, rec.width):
                    raise AnnotationFormatError(
                        rec.source, f"mask is {size_text(np.shape(o.mask))} but the frame is {rec.width}x{rec.height}"
                    )
                for p in (*(o.calipers.to_points() if o.calipers is not None else ()), *o.clicks):
                    checked_point(rec, p)
                for stroke in o.strokes:
                    checked_stroke(rec, stroke)
                with self._db.read() as db:
                    label_classes.require_class(db, o.class_id)
            return replace_objects(s, objects, encoded, origin, now_stamp())

        self._edit(frame_id, "import", put)
