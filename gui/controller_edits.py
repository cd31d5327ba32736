"""The editing half of the annotation controller: calipers (placing and dragging their ends), clicks, brush and
eraser, accepting and deleting. Each edit goes to the interactive engine (EngineBridge) and, when its mask lands,
to the store as one Commit (gui/controller_history.py); AnnotationController (gui/controller.py) holds the state
these methods share."""
from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from core.annotation.points import CALIPER_ORDER, Calipers, Point, PointKind
from core.annotation.strokes import Stroke
from core.interactive.brush import PaintLayer, apply_stroke, stroke_mask
from core.interactive.engine_state import EngineState
from core.project.frame_edits import Commit, next_caliper_kind
from core.project.records import MaskProvenance
from core.serving.frame_loading import FRAME_MODEL_CLASS
from core.serving.propose import Proposal
from gui.editor_frame import EditorFrame
from gui.engine_bridge import EngineLanded, EngineRequest


class EditingActions:
    """Mixin of AnnotationController: the user's edits of the shown frame."""

    # ----- calipers ------------------------------------------------------------------------------------
    def place_caliper(self, x: float, y: float) -> None:
        """The next caliper end of the current nodule (long axis first); after the fourth a new nodule starts."""
        frame = self._editable(lambda: self.place_caliper(x, y))
        if frame is None or not self._inside(frame, x, y):
            return
        ends = frame.caliper_ends(self.current_object)
        if next_caliper_kind(ends) is None:
            self.new_object()
            ends = {}
        kind = next_caliper_kind(ends)
        assert kind is not None
        obj = self.current_object
        self._claim_class(frame, obj)
        point = Point(float(x), float(y), kind, obj)
        if kind != CALIPER_ORDER[-1]:
            seq = self._next_seq()
            frame.pending_points[seq] = point
            self._commit(Commit(frame.frame_id, add_points=[point]), point_seqs=[seq])
            step = CALIPER_ORDER.index(kind) + 1
            self.message.emit(["", "Long axis: click its other end", "Short axis: click its first end",
                               "Short axis: click its other end"][step])
        else:
            calipers = Calipers(*(ends[k] for k in CALIPER_ORDER[:-1]), (float(x), float(y)))
            state = frame.engine_state(obj)
            self._request(frame, obj, state, state.with_calipers(calipers), "calipers", point)
            self.message.emit(f"Nodule {obj + 1} measured · drag an end to adjust · Enter accepts")
        self.changed.emit()

    def caliper_at(self, pick: Callable[[float, float], bool]) -> tuple[int, int, PointKind] | None:
        """The stored caliper end for which pick(x, y) holds (current nodule first): point id, object, kind."""
        frame = self.current
        if frame is None:
            return None
        candidates = sorted(frame.committed.points.items(), key=lambda kv: kv[1].object_id != self.current_object)
        for pid, p in candidates:
            x, y = frame.pending_moves.get(pid, (p.x, p.y))
            if p.kind.is_caliper and pick(x, y):
                return pid, p.object_id, p.kind
        return None

    def begin_move(self, point_id: int, object_id: int, kind: PointKind) -> None:
        if self.current is None or self._history_busy or self.edits_refused():
            return
        self._drag = (point_id, object_id, kind)
        self.set_current_object(object_id)

    def move_caliper(self, x: float, y: float, finished: bool) -> None:
        """Drag the grabbed caliper end; the mask follows live, and the move is saved on release."""
        frame = self.current
        if frame is None or self._drag is None:
            return
        h, w = frame.shape
        x, y = float(np.clip(x, 0, w - 1)), float(np.clip(y, 0, h - 1))
        pid, obj, kind = self._drag
        frame.pending_moves[pid] = (x, y)
        ends = frame.caliper_ends(obj)
        complete = all(k in ends for k in CALIPER_ORDER)
        state = frame.engine_state(obj)
        if finished:
            self._drag = None
            if complete:
                calipers = Calipers(*(ends[k] for k in CALIPER_ORDER))
                self._request(frame, obj, state, state.with_calipers(calipers), "move", (pid, x, y))
            else:
                self._commit(Commit(frame.frame_id, move_points=[(pid, x, y)]))
        elif complete and not self._preview_in_flight:
            self._preview_in_flight = True
            calipers = Calipers(*(ends[k] for k in CALIPER_ORDER))
            self._request(frame, obj, state, state.with_calipers(calipers), "preview", None)
        self.changed.emit()

    # ----- clicks --------------------------------------------------------------------------------------
    def add_click(self, x: float, y: float, positive: bool) -> None:
        """A foreground (positive) or background click on the current nodule."""
        frame = self._editable(lambda: self.add_click(x, y, positive))
        if frame is None or not self._inside(frame, x, y):
            return
        obj = self.current_object
        self._claim_class(frame, obj)
        kind = PointKind.FOREGROUND if positive else PointKind.BACKGROUND
        point = Point(float(x), float(y), kind, obj)
        state = frame.engine_state(obj)
        self._request(frame, obj, state, state.with_click(x, y, positive), "click", point)
        self.changed.emit()

    def _request(self, frame: EditorFrame, obj: int, start: EngineState, end: EngineState, kind: str,
                 payload: object) -> None:
        seq = self._next_seq()
        request = EngineRequest(seq, frame.frame_id, obj, self._generations.get(frame.frame_id, 0), start, end,
                                kind, payload, time.perf_counter())
        frame.engine_states[obj] = end
        if isinstance(payload, Point):
            frame.pending_points[seq] = payload
        elif isinstance(payload, Stroke):
            frame.pending_strokes[seq] = payload
        self._engine.submit(frame.session(obj, frame.object_class(obj) or self.selected_class), request)

    def _on_landed(self, landed: EngineLanded) -> None:
        request = landed.request
        if request.kind == "preview":
            self._preview_in_flight = False
        frame = self._frames.get(request.frame_id)
        if request.generation != self._generations.get(request.frame_id, 0):
            self._run_after_engine(request.frame_id)
            return  # cancelled by an undo
        if landed.error is not None or landed.mask is None:
            if frame is not None:
                frame.pending_points.pop(request.seq, None)
                frame.pending_strokes.pop(request.seq, None)
                frame.engine_states[request.object_id] = request.start
            self.message.emit(f"The engine could not update the mask: {landed.error}")
        else:
            self._land(frame, request, landed)
        self._run_after_engine(request.frame_id)
        if request.frame_id == self._current_id:
            self.changed.emit()

    def _land(self, frame: EditorFrame | None, request: EngineRequest, landed: EngineLanded) -> None:
        obj = request.object_id
        mask = landed.mask
        assert mask is not None
        provenance = MaskProvenance.REFINED if request.end.clicks or request.end.scribbles else MaskProvenance.GENERATED
        if frame is not None and obj in frame.paint and frame.paint[obj].touched:
            mask = frame.paint[obj].apply(mask)
            provenance = MaskProvenance.PAINTED
        if frame is not None:
            frame.live_masks[obj] = (request.seq, mask, provenance)
        if request.frame_id == self._current_id and not self._engine.in_flight(request.frame_id):
            self.click_to_mask.emit(landed.click_to_mask_seconds)  # the newest edit's mask is on screen
        if request.kind == "preview":
            return
        stays_accepted = (frame is not None and request.kind == "move" and obj in frame.committed.masks
                          and obj not in frame.committed.drafts)
        if stays_accepted:  # adjusting an accepted nodule keeps it accepted (and exported): no silent draft
            commit = Commit(request.frame_id, accepted_masks={obj: (mask, provenance)})
            self.message.emit(f"Nodule {obj + 1} adjusted, still accepted · Ctrl+Z undoes the move")
        else:
            commit = Commit(request.frame_id, draft_masks={obj: (mask, provenance)})
        if isinstance(request.payload, Point):
            commit.add_points.append(request.payload)
        elif isinstance(request.payload, Stroke):
            commit.add_strokes.append(request.payload)
        elif request.kind == "move":
            commit.move_points.append(request.payload)  # type: ignore[arg-type]
        self._commit(commit, point_seqs=[request.seq], live_seq=request.seq)

    def _run_after_engine(self, frame_id: int) -> None:
        if frame_id in self._after_engine and not self._engine.in_flight(frame_id):
            for action in self._after_engine.pop(frame_id):
                action()

    # ----- brush and eraser ----------------------------------------------------------------------------
    def paint(self, x: float, y: float, radius: int, erase: bool, finished: bool) -> None:
        """Extend the brush (or eraser) stroke to (x, y); on release it is applied to the current nodule."""
        frame = self._editable(lambda: self.paint(x, y, radius, erase, finished))
        if frame is None:
            return
        obj = self.current_object
        if not self._stroke:  # a new stroke: remember the mask it applies to
            base, _ = frame.shown_mask(obj)
            if base is None and frame.shows_prediction and self.selected_class == FRAME_MODEL_CLASS:
                base = frame.committed.predicted_mask
            self._stroke_base = np.zeros(frame.shape, bool) if base is None else base
        self._stroke.append((x, y))
        stroke = stroke_mask(frame.shape, self._stroke, radius)
        painted = apply_stroke(self._stroke_base, stroke, erase)
        if not finished:
            frame.stroke_preview = (obj, painted)
            self.changed.emit()
            return
        self._stroke = []
        frame.stroke_preview = None
        self._claim_class(frame, obj)
        frame.paint.setdefault(obj, PaintLayer.empty(frame.shape)).add_stroke(stroke, erase)
        seq = self._next_seq()
        frame.live_masks[obj] = (seq, painted, MaskProvenance.PAINTED)
        self._commit(Commit(frame.frame_id, draft_masks={obj: (painted, MaskProvenance.PAINTED)}), live_seq=seq)
        self.changed.emit()

    # ----- proposals -----------------------------------------------------------------------------------
    def next_object_id(self, frame: EditorFrame) -> int:
        ids = frame.object_ids()
        return max(ids) + 1 if ids else 0

    def add_proposal(self, frame_id: int, proposal: Proposal) -> bool:
        """Show `proposal` (core.serving.propose) as the draft of a new *nodule* and save it as one undo step; its
        session, which starts from the draft, answers the clicks that refine it. False when the frame changed
        meanwhile (closed, or the object id taken): nothing is written."""
        frame = self._frames.get(frame_id)
        obj = proposal.object_id
        if frame is None or proposal.session is None or obj in frame.object_ids() or self.edits_refused():
            return False
        frame.loaded.sessions[obj] = proposal.session
        frame.engine_states.pop(obj, None)
        frame.pending_classes[obj] = FRAME_MODEL_CLASS
        seq = self._next_seq()
        frame.live_masks[obj] = (seq, proposal.mask, MaskProvenance.GENERATED)
        self._commit(Commit(frame_id, draft_masks={obj: (proposal.mask, MaskProvenance.GENERATED)},
                            title="Propose mask"), live_seq=seq)
        if frame_id == self._current_id:
            self.set_current_object(obj)
            self._follow_object_class()
            self.changed.emit()
        return True

    # ----- accept, delete ------------------------------------------------------------------------------
    def accept(self) -> None:
        """Accept every draft mask of the frame (or the model's mask when nothing else is there)."""
        frame = self._editable(self.accept)
        if frame is not None:
            self._accept(frame)

    def _accept(self, frame: EditorFrame) -> None:
        if self._engine.in_flight(frame.frame_id):  # accept the mask of the edit still computing, when it lands
            self._after_engine.setdefault(frame.frame_id, []).append(lambda: self._accept(frame))
            return
        masks: dict[int, tuple[np.ndarray, MaskProvenance]] = {}
        if frame.shows_prediction:
            predicted = frame.committed.predicted_mask
            if predicted is not None and predicted.any():
                masks[0] = (predicted, MaskProvenance.GENERATED)
                frame.pending_classes[0] = FRAME_MODEL_CLASS  # the frame model's mask is a nodule
                self._follow_object_class()
        for obj in frame.object_ids():
            mask, kind = frame.shown_mask(obj)
            provenance = frame.shown_provenance(obj)
            if mask is not None and kind == "draft" and provenance is not None:
                masks[obj] = (mask, provenance)
        if not masks:
            has_accepted = any(k == "accepted" for _, k in map(frame.shown_mask, frame.object_ids()))
            self.message.emit("Already accepted" if has_accepted else "No mask to accept yet")
            return
        self._commit(Commit(frame.frame_id, accepted_masks=masks))
        self.message.emit(f"Accepted {len(masks)} mask{'s' if len(masks) > 1 else ''}")

    def delete_object(self) -> None:
        """Remove the current object: its points, its mask and its class (undoable)."""
        frame = self._editable(self.delete_object)
        if frame is None:
            return
        obj = self.current_object
        if obj not in frame.committed.object_ids():
            self.message.emit("Nothing to delete")
            return
        frame.engine_states.pop(obj, None)
        frame.live_masks.pop(obj, None)
        frame.paint.pop(obj, None)
        frame.pending_classes.pop(obj, None)  # its id may be reused by a new object of another class
        self._commit(Commit(frame.frame_id, clear_objects=[obj]))
        self.message.emit(f"Nodule {obj + 1} deleted")
