"""The annotation controller: turns the user's actions on the open frame into engine requests and store writes.

Threads: the GUI thread only records intentions and draws. The interactive engine runs on core.interactive.live_engine's
worker (EngineBridge); frames load on the load worker, the frame model predicts on the inference worker, and
writing edits and undo/redo run in order on the store worker (gui/workers.py), so neither loading nor writing ever
waits for the model. A frame is never read while a write of it is still queued: such a frame stays cached, and
is read again only on the store worker, after its writes. Each edit is saved as it lands: its points and
the engine's mask as one store action, i.e. one transaction and one undo step (provenance generated = calipers
or model only, refined = clicks, painted = brush/eraser), as a draft; Enter accepts the drafts (see
core/project/display_status.py)."""
from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

import numpy as np
from PyQt5 import QtCore

from core.annotation.points import CALIPER_ORDER, Calipers, Point, PointKind
from core.interactive.brush import PaintLayer, apply_stroke, stroke_mask
from core.interactive.engine_state import EngineState
from core.interactive.session import InteractionSession
from core.labels.high_confidence import FrameLabels
from core.project.display_status import DisplayStatus
from core.project.records import FrameRecord, HistoryStep, MaskProvenance
from core.project.store import ProjectStore
from core.serving.frame_model import ModelProvider
from gui.certainty import CertaintyLabels
from gui.editor_frame import EditorFrame, ObjectDisplay
from gui.engine_bridge import EngineBridge, EngineLanded, EngineRequest
from gui.frame_loader import LoadedFrame, load_frame
from gui.frame_predictions import FramePredictions
from gui.frame_state import Commit, FrameAnnotations, next_caliper_kind, read_annotations
from gui.store_writes import StoreWrites
from gui.workers import Workers

CACHED_FRAMES = 6  # recently open frames kept in memory (with their engine sessions), besides busy ones


class AnnotationController(QtCore.QObject):
    frame_loaded = QtCore.pyqtSignal(object)  # LoadedFrame of the newly shown frame
    changed = QtCore.pyqtSignal()  # annotations of the shown frame changed: redraw
    status_changed = QtCore.pyqtSignal(int, object)  # frame id, DisplayStatus
    other_frames_changed = QtCore.pyqtSignal(list)  # frame ids an undo/redo changed besides the shown frame
    message = QtCore.pyqtSignal(str)
    click_to_mask = QtCore.pyqtSignal(float)  # seconds from the user's edit to its mask on screen
    current_object_changed = QtCore.pyqtSignal(int)
    model_state = QtCore.pyqtSignal(str)  # what the frame model is doing, for the status bar ("" when nothing)

    def __init__(self, store: ProjectStore, workers: Workers, model: ModelProvider | None,
                 parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self._jobs = workers.store
        self._writes = StoreWrites(workers.store)
        self._loads = workers.loads
        self._model = model
        self._predictions = None if model is None else FramePredictions(
            store, model, workers.inference, self._writes, self._prediction_stored, self)
        self._engine = EngineBridge(self)
        self._engine.landed.connect(self._on_landed)
        self._frames: OrderedDict[int, EditorFrame] = OrderedDict()
        self._generations: dict[int, int] = {}
        self._seq = 0
        self._load_seq = 0
        self._loading: int | None = None
        self._current_id: int | None = None
        self.current_object = 0
        self._history_busy = False
        self._deferred: list[Callable[[], None]] = []
        self._after_engine: dict[int, list[Callable[[], None]]] = {}  # frame id -> actions waiting for its edits
        self._drag: tuple[int, int, PointKind] | None = None  # point id, object id, kind
        self._preview_in_flight = False
        self._stroke: list[tuple[float, float]] = []
        self._stroke_base: np.ndarray | None = None
        self._certainty = CertaintyLabels(workers.aux, self.changed.emit)
        if self._predictions is not None:
            self._predictions.message.connect(self.message)
            self._predictions.state.connect(self.model_state)

    # ----- state ---------------------------------------------------------------------------------------
    @property
    def current_frame_id(self) -> int | None:
        return self._current_id

    @property
    def current(self) -> EditorFrame | None:
        """The shown frame once loaded (None while loading or when none is chosen)."""
        frame = self._frames.get(self._current_id) if self._current_id is not None else None
        return frame if frame is not None and self._loading is None else None

    @property
    def idle(self) -> bool:
        """Nothing loading, computing or being written (tests wait for this)."""
        return (self._loading is None and self._engine.idle and self._jobs.idle and self._loads.idle
                and (self._predictions is None or self._predictions.idle) and not self._history_busy)

    def display(self) -> list[ObjectDisplay]:
        frame = self.current
        return [] if frame is None or not frame.loaded.readable else frame.display(self.current_object)

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    # ----- loading -------------------------------------------------------------------------------------
    def show_frame(self, frame_id: int) -> None:
        if frame_id == self._current_id and self._loading is None:
            return
        if self.current is not None:
            self.current.stroke_preview = None
        self._drag, self._stroke = None, []
        self._current_id = frame_id
        self._load_seq += 1  # any load still on its way is for a frame no longer wanted
        seq = self._load_seq
        cached = self._frames.get(frame_id)
        if cached is not None:
            self._loading = None
            self._frames.move_to_end(frame_id)
            self._enter(cached)
            return
        self._loading = frame_id

        def work() -> LoadedFrame | None:
            if seq != self._load_seq:  # the user has moved on: skip
                return None
            return load_frame(self.store, frame_id, self._model)

        runner = self._jobs if self._writes.pending(frame_id) else self._loads  # after its writes, if any
        runner.submit(work, lambda loaded: self._on_loaded(seq, loaded))

    def _on_loaded(self, seq: int, loaded: LoadedFrame | None) -> None:
        if loaded is None or seq != self._load_seq:
            return
        self._loading = None
        frame = EditorFrame(loaded, loaded.annotations)
        self._frames[loaded.record.id] = frame
        self._forget_old_frames()
        self._enter(frame)
        status = frame.committed.status(loaded.record) if loaded.readable else DisplayStatus.UNREADABLE
        self.status_changed.emit(loaded.record.id, status)
        if self._predictions is not None:
            self._predictions.report_error()
            if loaded.predict_with is not None:
                self._predictions.ask(loaded)

    def _forget_old_frames(self) -> None:
        """Drop the least recently shown frames beyond CACHED_FRAMES, but never one with edits on their way."""
        busy = {r.frame_id for r in self._engine.in_flight()} | self._writes.frames() | {self._current_id}
        if self._predictions is not None:
            busy |= self._predictions.waiting()
        for frame_id in list(self._frames):
            if len(self._frames) <= CACHED_FRAMES:
                break
            if frame_id not in busy:
                del self._frames[frame_id]

    def _prediction_stored(self, frame_id: int, probability: np.ndarray,
                           sessions: dict[int, InteractionSession]) -> None:
        frame = self._frames.get(frame_id)
        if frame is None:
            return
        frame.use_prediction(probability, sessions)
        self.status_changed.emit(frame_id, frame.committed.status(frame.loaded.record))
        if frame_id == self._current_id:
            self.changed.emit()

    def _enter(self, frame: EditorFrame) -> None:
        ids = frame.object_ids()
        self.current_object = ids[0] if ids else 0
        self.frame_loaded.emit(frame.loaded)
        self.current_object_changed.emit(self.current_object)
        self.changed.emit()

    def reload(self, frame_id: int) -> None:
        """Forget the cached frame and read it again (after edits made outside the editor, e.g. imports)."""
        self._frames.pop(frame_id, None)
        if frame_id == self._current_id:
            self._current_id = None
            self.show_frame(frame_id)

    # ----- objects -------------------------------------------------------------------------------------
    def object_ids(self) -> list[int]:
        frame = self.current
        ids = frame.object_ids() if frame else []
        return sorted(set(ids) | {self.current_object})

    def set_current_object(self, object_id: int) -> None:
        if object_id != self.current_object:
            self.current_object = object_id
            self.current_object_changed.emit(object_id)
            self.changed.emit()

    def new_object(self) -> int:
        frame = self.current
        ids = frame.object_ids() if frame else []
        new_id = max(ids) + 1 if ids else 0
        self.set_current_object(new_id)
        self.message.emit(f"Nodule {new_id + 1}: place its calipers or click on it")
        return new_id

    # ----- guards --------------------------------------------------------------------------------------
    def _editable(self, action: Callable[[], None]) -> EditorFrame | None:
        """The frame to edit, or None (the action is deferred while an undo/redo is being written)."""
        if self._history_busy:
            frame_id = self._current_id
            self._deferred.append(lambda: action() if self._current_id == frame_id else None)
            return None
        frame = self.current
        if frame is None:
            self.message.emit("The frame is still loading")
            return None
        if not frame.loaded.readable:
            self.message.emit(f"This frame cannot be annotated: {frame.loaded.error}")
            return None
        return frame

    def _inside(self, frame: EditorFrame, x: float, y: float) -> bool:
        h, w = frame.shape
        return 0 <= x <= w - 1 and 0 <= y <= h - 1

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
        if self.current is None or self._history_busy:
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
        self._engine.submit(frame.session(obj), request)

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
        provenance = MaskProvenance.REFINED if request.end.clicks else MaskProvenance.GENERATED
        if frame is not None and obj in frame.paint and frame.paint[obj].touched:
            mask = frame.paint[obj].apply(mask)
            provenance = MaskProvenance.PAINTED
        if frame is not None:
            frame.live_masks[obj] = (request.seq, mask, provenance)
        if request.frame_id == self._current_id and not self._engine.in_flight(request.frame_id):
            self.click_to_mask.emit(landed.click_to_mask_seconds)  # the newest edit's mask is on screen
        if request.kind == "preview":
            return
        commit = Commit(request.frame_id, draft_masks={obj: (mask, provenance)})
        if isinstance(request.payload, Point):
            commit.add_points.append(request.payload)
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
            if base is None and frame.shows_prediction:
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
        frame.paint.setdefault(obj, PaintLayer.empty(frame.shape)).add_stroke(stroke, erase)
        seq = self._next_seq()
        frame.live_masks[obj] = (seq, painted, MaskProvenance.PAINTED)
        self._commit(Commit(frame.frame_id, draft_masks={obj: (painted, MaskProvenance.PAINTED)}), live_seq=seq)
        self.changed.emit()

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
        """Remove the current nodule: its points and its mask (undoable)."""
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
        self._commit(Commit(frame.frame_id, clear_objects=[obj]))
        self.message.emit(f"Nodule {obj + 1} deleted")

    # ----- writing -------------------------------------------------------------------------------------
    def _commit(self, commit: Commit, point_seqs: list[int] | None = None, live_seq: int | None = None) -> None:
        seqs = list(point_seqs or [])
        moved = [pid for pid, _, _ in commit.move_points]
        objects = set(commit.draft_masks) | set(commit.accepted_masks) | set(commit.clear_objects)

        def done(result: tuple[FrameAnnotations, FrameRecord]) -> None:
            snapshot, record = result
            frame = self._frames.get(commit.frame_id)
            if frame is not None:
                frame.committed = snapshot
                for s in seqs:
                    frame.pending_points.pop(s, None)
                for pid in moved:
                    frame.pending_moves.pop(pid, None)
                for obj in objects:
                    live = frame.live_masks.get(obj)
                    if live is not None and (live_seq is None or live[0] <= live_seq):
                        del frame.live_masks[obj]
            self.status_changed.emit(commit.frame_id, snapshot.status(record))
            if commit.frame_id == self._current_id:
                self.changed.emit()

        self._writes.submit(commit.frame_id,
                            lambda: (commit.apply(self.store), self.store.frame(commit.frame_id)), done)

    # ----- undo / redo ---------------------------------------------------------------------------------
    def undo(self) -> None:
        """Undo the latest action on this frame; an edit still computing is simply cancelled."""
        frame = self.current
        if frame is None or self._history_busy:
            return
        cancelled = [r for r in self._engine.in_flight(frame.frame_id)]
        if cancelled:
            self._generations[frame.frame_id] = self._generations.get(frame.frame_id, 0) + 1
            for request in sorted(cancelled, key=lambda r: -r.seq):
                frame.pending_points.pop(request.seq, None)
                frame.engine_states[request.object_id] = request.start
                frame.live_masks.pop(request.object_id, None)  # a drag preview's mask
            frame.pending_moves.clear()
            self._preview_in_flight = False
            self.message.emit("Edit cancelled")
            self.changed.emit()
            return
        self._history(lambda store, frame_id: store.undo_step(frame_id), "Undo", "Nothing to undo")

    def redo(self) -> None:
        if self.current is None or self._history_busy or self._engine.in_flight(self._current_id):
            return
        self._history(lambda store, frame_id: store.redo_step(frame_id), "Redo", "Nothing to redo")

    def _history(self, step: Callable[[ProjectStore, int], HistoryStep | None], verb: str, nothing: str) -> None:
        frame = self.current
        assert frame is not None
        frame_id = frame.frame_id
        self._history_busy = True
        self._drag, self._stroke = None, []

        def work() -> tuple[HistoryStep | None, FrameAnnotations]:
            changed = step(self.store, frame_id)
            return changed, read_annotations(self.store, frame_id)

        def done(result: tuple[HistoryStep | None, FrameAnnotations]) -> None:
            self._history_busy = False
            changed, snapshot = result
            others = [] if changed is None else [f for f in changed.frame_ids if f != frame_id]
            if others:  # an action on several frames, or a later edit elsewhere that had to go first
                self.message.emit(f"{verb}: {changed.label(frame_id)}")
                self.other_frames_changed.emit(others)
            cached = self._frames.get(frame_id)
            if cached is not None:
                cached.committed = snapshot
                cached.reset_to_committed()
                self.status_changed.emit(frame_id, snapshot.status(cached.loaded.record))
            self._generations[frame_id] = self._generations.get(frame_id, 0) + 1
            if not changed:
                self.message.emit(nothing)
            if frame_id == self._current_id:
                ids = cached.object_ids() if cached else []
                if ids and self.current_object not in ids:
                    self.set_current_object(ids[-1])
                self.changed.emit()
            deferred, self._deferred = self._deferred, []
            for action in deferred:
                action()

        def failed(exc: BaseException) -> None:
            self._history_busy = False
            self._deferred = []
            raise exc

        self._jobs.submit(work, done, failed)

    # ----- confident / uncertain regions ---------------------------------------------------------------
    def confidence_labels(self) -> FrameLabels | None:
        """The HCL-HRL confident/uncertain labels for the shown calipers; computed off the GUI thread, so the
        first call for new calipers returns None and `changed` fires when they are ready."""
        frame = self.current
        if frame is None or not frame.loaded.readable or frame.loaded.gray is None:
            return None
        calipers = [o.calipers for o in frame.display(self.current_object) if o.calipers is not None]
        return self._certainty.labels(frame.frame_id, frame.loaded.gray, calipers, frame.committed.prediction)

    # ----- closing -------------------------------------------------------------------------------------
    def finish(self, timeout: float = 10.0) -> None:
        """Let the engine finish and hand its last masks to the store worker (called when closing)."""
        self._engine.wait_idle(timeout)
        deadline = time.monotonic() + timeout
        while not self._engine.idle and time.monotonic() < deadline:
            QtCore.QCoreApplication.processEvents(QtCore.QEventLoop.AllEvents, 50)
        self._engine.stop()
