"""The sparse-label half of the annotation controller: scribbles, boxes and single points. Each goes to the
interactive engine like a click and, when its mask lands, to the store with that mask as one step
(gui/controller_edits.py lands it); AnnotationController (gui/controller.py) holds the state these share."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from core.annotation.strokes import MAX_STROKE_VERTICES, Stroke, StrokeKind
from core.interactive.engine_state import EngineState
from gui.editor_frame import EditorFrame


class SparseLabelActions:
    """Mixin of AnnotationController: the scribble, box and point tools' edits of the shown frame."""

    def add_scribble(self, points: list[tuple[float, float]], foreground: bool, width: float) -> None:
        """A freehand stroke on the current nodule: nodule (foreground) or background pixels, `width` px wide."""
        frame = self._editable(lambda: self.add_scribble(points, foreground, width))
        if frame is None or not points:
            return
        vertices = _in_frame(points, frame)
        obj = self.current_object
        stroke = Stroke(StrokeKind.SCRIBBLE, vertices, foreground, float(width), obj)
        state = frame.engine_state(obj)
        self._claim_class(frame, obj)
        self._request(frame, obj, state, state.with_scribble(stroke), "scribble", stroke)
        side = "object" if foreground else "background"
        self.message.emit(f"{self.object_title(obj)}: {side} scribble · Ctrl+Z undoes it · Enter accepts")
        self.changed.emit()

    def preview_scribble(self, points: list[tuple[float, float]], foreground: bool, width: float) -> None:
        """While a scribble is dragged: the current nodule's mask with the scribble so far (one preview computing
        at a time; nothing is saved until the scribble is finished)."""
        frame = self._previewable()
        if frame is None or not points:
            return
        obj = self.current_object
        stroke = Stroke(StrokeKind.SCRIBBLE, _in_frame(points, frame), foreground, float(width), obj)
        self._preview(frame, obj, lambda state: state.with_scribble(stroke))

    def preview_box(self, x0: float, y0: float, x1: float, y1: float) -> None:
        """While a box is dragged round the current object (one that will take it): its mask from the box so far."""
        frame = self._previewable()
        if frame is None or _starts_new_object(frame, self.current_object):
            return
        obj = self.current_object
        stroke = Stroke(StrokeKind.BOX, _in_frame([(x0, y0), (x1, y1)], frame, deduplicate=False), object_id=obj)
        try:
            end = frame.engine_state(obj).with_box(stroke, frame.shape)
        except ValueError:  # still too small to say anything
            return
        self._preview(frame, obj, lambda _: end)

    def _previewable(self) -> EditorFrame | None:
        """The shown frame if a preview may be computed now (quietly None otherwise: the drag goes on)."""
        frame = self.current
        if (frame is None or not frame.loaded.readable or self._preview_in_flight or self._history_busy
                or self.store.read_only_reason is not None):
            return None
        return frame

    def _preview(self, frame: EditorFrame, obj: int, to: Callable[[EngineState], EngineState]) -> None:
        state = frame.engine_state(obj)
        self._preview_in_flight = True
        self._request(frame, obj, state, to(state), "preview", None)
        frame.engine_states[obj] = state  # a preview is not an edit: the next one starts from the same state

    def add_box(self, x0: float, y0: float, x1: float, y1: float) -> None:
        """A box dragged round a nodule: it starts the current nodule, or a new one if that one already has
        calipers or a box."""
        frame = self._editable(lambda: self.add_box(x0, y0, x1, y1))
        if frame is None:
            return
        if _starts_new_object(frame, self.current_object):
            self.new_object()
        state = frame.engine_state(self.current_object)
        obj = self.current_object
        (cx0, cy0), (cx1, cy1) = _in_frame([(x0, y0), (x1, y1)], frame, deduplicate=False)
        stroke = Stroke(StrokeKind.BOX, ((cx0, cy0), (cx1, cy1)), object_id=obj)
        try:
            end = state.with_box(stroke, frame.shape)
        except ValueError:
            self.message.emit("Drag a larger box round the object")
            return
        self._claim_class(frame, obj)
        self._request(frame, obj, state, end, "box", stroke)
        self.message.emit(f"{self.object_title(obj)}: box · click or scribble to correct · Enter accepts")
        self.changed.emit()

    def add_point_object(self, x: float, y: float) -> None:
        """The point tool: one foreground click per nodule (a nodule that already has something gets a new one)."""
        frame = self._editable(lambda: self.add_point_object(x, y))
        if frame is None or not self._inside(frame, x, y):
            return
        if self.current_object in frame.object_ids():
            self.new_object()
        self.add_click(x, y, positive=True)


def _starts_new_object(frame: EditorFrame, object_id: int) -> bool:
    """Whether a box dragged now starts a new object: the current one has calipers (or some of their ends) or
    a box already."""
    state = frame.engine_state(object_id)
    return state.calipers is not None or state.box is not None or bool(frame.caliper_ends(object_id))


def _in_frame(points: list[tuple[float, float]], frame: EditorFrame,
              deduplicate: bool = True) -> tuple[tuple[float, float], ...]:
    """The points clipped to the frame, repeats of the same pixel dropped, at most MAX_STROKE_VERTICES."""
    h, w = frame.shape
    xy = np.column_stack([np.clip([p[0] for p in points], 0, w - 1), np.clip([p[1] for p in points], 0, h - 1)])
    if deduplicate and len(xy) > 1:
        pixel = np.rint(xy)
        keep = np.concatenate([[True], np.any(pixel[1:] != pixel[:-1], axis=1)])
        xy = xy[keep]
    if len(xy) > MAX_STROKE_VERTICES:
        xy = xy[np.linspace(0, len(xy) - 1, MAX_STROKE_VERTICES).astype(int)]
    return tuple((float(x), float(y)) for x, y in xy)
