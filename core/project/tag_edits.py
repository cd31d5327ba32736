"""Frame tags (a part of ProjectStore): whether a frame holds a nodule, judged without drawing it. The tag is part of
the frame's annotation state, so tagging is undoable like any edit; tagging several frames at once is one action.

A frame tagged *no nodule* has no objects of the nodule class (the default one; a thyroid gland or another class
outlined there stays): set_tag refuses to tag a frame that has nodule points, strokes or masks unless asked to
remove them, and an edit that gives such a frame a nodule drops the tag in the same step (see
ActionHistory._edit). A frame with an accepted nodule mask counts as *nodule present* (effective_tags)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from core.annotation.tags import FrameTag
from core.errors import AnnotationFormatError, ProjectError
from core.project.actions import ActionHistory
from core.project.classes import DEFAULT_CLASS_ID
from core.project.frame_rows import load_state
from core.project.frame_state import FrameState
from core.project.records import FrameRecord
from core.project.sparse_rows import frames_with_accepted_nodules, load_tag, user_tags


class TagEdits(ActionHistory):
    """Frame tags: *no nodule* / *nodule present*."""

    def tag(self, frame_id: int) -> FrameTag | None:
        """The tag the user set on the frame; None when none."""
        with self._db.read() as db:
            self._frame_in(db, frame_id)
            return load_tag(db, frame_id)

    def tags(self) -> dict[int, FrameTag]:
        """Frame id -> the tag the user set, for every tagged frame."""
        with self._db.read() as db:
            return user_tags(db)

    def effective_tags(self) -> dict[int, FrameTag]:
        """Frame id -> tag for every frame that has a tag or an accepted nodule mask: that counts as NODULE (a
        frame tagged NO_NODULE has no nodule, so no nodule mask)."""
        with self._db.read() as db:
            tags = user_tags(db)
            tags.update(dict.fromkeys(frames_with_accepted_nodules(db, DEFAULT_CLASS_ID), FrameTag.NODULE))
        return dict(sorted(tags.items()))

    def set_tag(self, frame_ids: Sequence[int], tag: FrameTag | None, *, remove_objects: bool = False) -> None:
        """Tag every frame of `frame_ids` (None: clear their tags) as one undoable action. Tagging NO_NODULE frames
        that have nodules (points, strokes or masks of the nodule class) raises ProjectError naming them, unless
        remove_objects=True, which deletes those nodules in the same action. Unreadable frames raise
        AnnotationFormatError; nothing is written when anything raises."""
        ids = list(dict.fromkeys(int(fid) for fid in frame_ids))
        if not ids:
            return
        chosen = None if tag is None else FrameTag(tag)
        if chosen is FrameTag.NO_NODULE and not remove_objects:
            self._refuse_frames_with_objects(ids)
        name = "clear tag" if chosen is None else f"tag {chosen.title.lower()}"

        def put(rec: FrameRecord, s: FrameState) -> FrameState:
            if not rec.readable:
                raise AnnotationFormatError(rec.source, f"frame cannot be tagged ({rec.error})")
            cleared = s.without_nodules() if chosen is FrameTag.NO_NODULE else s
            return replace(cleared, tag=chosen)

        with self.action(name, frame_ids=ids):
            for fid in ids:
                self._edit(fid, name, put)

    def frames_with_nodules(self, frame_ids: Sequence[int]) -> list[int]:
        """Those of the frames that have nodule-class points, strokes or masks (what *no nodule* would remove)."""
        with self._db.read() as db:
            for fid in frame_ids:
                self._frame_in(db, fid)
            return [fid for fid in frame_ids if load_state(db, fid).nodule_object_ids]

    def _refuse_frames_with_objects(self, frame_ids: list[int]) -> None:
        busy = self.frames_with_nodules(frame_ids)
        if busy:
            shown = ", ".join(str(fid) for fid in busy[:20]) + (" ..." if len(busy) > 20 else "")
            raise ProjectError(f"frame(s) {shown} have points, strokes or masks: remove them to tag the frame(s) "
                               f"'no nodule'")
