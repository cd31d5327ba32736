"""The frame model's predictions for the editor: asked for on the inference worker once a frame has loaded (so
loading never waits for the model, whose first answer includes starting its process), stored on the store
worker, and handed to the editor at once with engine sessions already made from them (off the GUI thread): the
mask is on screen before its write lands (the frame's later writes queue behind it). Says in
`state` while the model is still starting."""
from __future__ import annotations

from collections.abc import Callable

from PyQt5 import QtCore

from core.interactive.session import InteractionSession
from core.project.store import ProjectStore
from core.serving.frame_loading import LoadedFrame, new_session
from core.serving.frame_model import ModelAnswer, ModelProvider
from gui.store_writes import StoreWrites
from gui.workers import JobRunner

MODEL_STARTING = "Model starting… (its predictions appear when it is ready)"
MODEL_PREDICTING = "Predicting…"
Stored = Callable[[int, ModelAnswer, dict[int, InteractionSession]], None]
Answer = tuple[ModelAnswer, dict[int, InteractionSession]] | None


class FramePredictions(QtCore.QObject):
    state = QtCore.pyqtSignal(str)  # what the model is doing, for the status bar ("" when nothing to say)
    message = QtCore.pyqtSignal(str)  # why a model is not used

    def __init__(self, store: ProjectStore, model: ModelProvider, inference: JobRunner, writes: StoreWrites,
                 stored: Stored, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._model = model
        self._inference = inference
        self._writes = writes
        self._stored = stored  # frame id, the model's answer, engine sessions: on the GUI thread at once
        self._waiting: set[int] = set()
        self.text = ""

    @property
    def idle(self) -> bool:
        return self._inference.idle

    def waiting(self) -> set[int]:
        """Frames whose prediction is on its way."""
        return set(self._waiting)

    def ask(self, loaded: LoadedFrame) -> None:
        """Predict the loaded frame with `loaded.predict_with`."""
        path = loaded.predict_with
        assert path is not None and loaded.gray is not None
        frame_id, gray, session_ids = loaded.record.id, loaded.gray, list(loaded.sessions)

        def work() -> Answer:
            answer = self._model.predict(path, gray)
            if answer is None:
                return None
            return answer, {oid: new_session(loaded, oid, answer.probability) for oid in session_ids}

        def done(result: Answer) -> None:
            self._settle(frame_id)
            if result is not None:
                answer, sessions = result
                self._stored(frame_id, answer, sessions)  # on screen now; stored after
                if self._store.read_only_reason is not None:
                    return  # shown, not kept: a read-only project is never written
                self._writes.submit(
                    frame_id, lambda: self._store.set_prediction(frame_id, answer.probability, answer.model_version),
                    lambda _: None)

        def failed(exc: BaseException) -> None:
            self._settle(frame_id)
            self._inference.report(exc)

        self._waiting.add(frame_id)
        self._show_state()
        self._inference.submit(work, done, failed)

    def report_error(self) -> None:
        """Say (once) why the model is not used, if it failed."""
        error = self._model.take_error()
        if error:
            self.message.emit(error)

    def _settle(self, frame_id: int) -> None:
        self._waiting.discard(frame_id)
        self._show_state()
        self.report_error()

    def _show_state(self) -> None:
        text = "" if not self._waiting else MODEL_STARTING if self._model.starting else MODEL_PREDICTING
        if text != self.text:
            self.text = text
            self.state.emit(text)
