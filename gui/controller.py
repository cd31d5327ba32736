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

from core.annotation.points import PointKind
from core.interactive.session import InteractionSession
from core.labels.high_confidence import FrameLabels
from core.project.classes import DEFAULT_CLASS_ID, LabelClass
from core.project.display_status import DisplayStatus
from core.project.store import ProjectStore
from core.serving.frame_loading import LoadedFrame, load_frame
from core.serving.frame_model import ModelAnswer, ModelProvider
from gui.certainty import CertaintyLabels
from gui.controller_classes import ClassActions
from gui.controller_edits import EditingActions
from gui.controller_history import HistoryActions
from gui.controller_sparse import SparseLabelActions
from gui.editor_frame import EditorFrame, ObjectDisplay
from gui.engine_bridge import EngineBridge
from gui.frame_predictions import FramePredictions
from gui.read_only_banner import refused
from gui.store_writes import StoreWrites
from gui.workers import Workers

CACHED_FRAMES = 6  # recently open frames kept in memory (with their engine sessions), besides busy ones


class AnnotationController(EditingActions, SparseLabelActions, HistoryActions, ClassActions, QtCore.QObject):
    frame_loaded = QtCore.pyqtSignal(object)  # LoadedFrame of the newly shown frame
    changed = QtCore.pyqtSignal()  # annotations of the shown frame changed: redraw
    status_changed = QtCore.pyqtSignal(int, object)  # frame id, DisplayStatus
    other_frames_changed = QtCore.pyqtSignal(list)  # frame ids an undo/redo changed besides the shown frame
    message = QtCore.pyqtSignal(str)
    click_to_mask = QtCore.pyqtSignal(float)  # seconds from the user's edit to its mask on screen
    current_object_changed = QtCore.pyqtSignal(int)
    model_state = QtCore.pyqtSignal(str)  # what the frame model is doing, for the status bar ("" when nothing)
    classes_changed = QtCore.pyqtSignal(list)  # the project's LabelClass list, by id
    class_changed = QtCore.pyqtSignal(int)  # the selected class (the current object's)

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
        self.classes: list[LabelClass] = []
        self.selected_class = DEFAULT_CLASS_ID
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
        self.load_classes()

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

    def _prediction_stored(self, frame_id: int, answer: ModelAnswer, sessions: dict[int, InteractionSession]) -> None:
        frame = self._frames.get(frame_id)
        if frame is None:
            return
        frame.use_prediction(answer.probability, sessions, answer.presence, answer.withheld)
        self.status_changed.emit(frame_id, frame.committed.status(frame.loaded.record))
        if frame_id == self._current_id:
            self.changed.emit()

    def _enter(self, frame: EditorFrame) -> None:
        self.current_object = self._first_object_of_selected_class(frame)
        self.frame_loaded.emit(frame.loaded)
        self.current_object_changed.emit(self.current_object)
        self.class_changed.emit(self.selected_class)
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
            self._follow_object_class()
            self.current_object_changed.emit(object_id)
            self.changed.emit()

    def new_object(self) -> int:
        frame = self.current
        ids = frame.object_ids() if frame else []
        new_id = max(ids) + 1 if ids else 0
        self.set_current_object(new_id)
        self.message.emit(f"{self.object_title(new_id)}: place its calipers or click on it")
        return new_id

    # ----- guards --------------------------------------------------------------------------------------
    def _editable(self, action: Callable[[], None]) -> EditorFrame | None:
        """The frame to edit, or None (refused in a read-only project; deferred while an undo/redo is being
        written)."""
        if self.edits_refused():
            return None
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

    def edits_refused(self) -> bool:
        """Whether the project is read-only; if so the status bar says so and the edit is not made (the store
        would refuse it later, with an error instead of a message)."""
        return refused(self.store, self.message.emit)

    def _inside(self, frame: EditorFrame, x: float, y: float) -> bool:
        h, w = frame.shape
        return 0 <= x <= w - 1 and 0 <= y <= h - 1

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
