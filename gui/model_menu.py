"""The Model menu and the status bar's word on the models: open a frame model file, use the starter model (disabled,
with a tooltip saying why, when this copy of SonoClick has none), pick a version (the Model training tab), the click
network, train now. When a project opens both models are started at once (the frame model's process imports torch,
which can take seconds), and the status bar says which models answer and when each is ready."""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from PyQt5 import QtCore, QtWidgets

from core.serving.frame_model import switch_model
from gui.project_session import ProjectSession
from gui.read_only_banner import refused
from gui.training_controller import TrainingController

MODEL_FILES = "SonoClick models (*.safetensors *.pt);;All files (*)"
NO_STARTER = "No starter model comes with this copy of SonoClick (resources/models/ is empty)"


def starter_model() -> Path | None:
    """The frame model shipped in resources/models/ (the first by name), or None."""
    folder = resources.files("resources") / "models"
    if not folder.is_dir():
        return None
    found = sorted(str(p) for p in folder.iterdir() if p.name.endswith((".safetensors", ".pt")))
    return Path(found[0]) if found else None


class ModelMenu(QtCore.QObject):
    status = QtCore.pyqtSignal(str)  # which models answer and whether they are ready, for the status bar
    message = QtCore.pyqtSignal(str)

    def __init__(self, menu: QtWidgets.QMenu, extra: list[QtWidgets.QAction],
                 parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        menu.setToolTipsVisible(True)
        self.open_action = menu.addAction("Open a frame model file…")
        self.open_action.setToolTip("Predict unlabelled frames with a model file from now on")
        self.starter_action = menu.addAction("Use the starter model")
        self.versions_action = menu.addAction("Model versions…")
        self.versions_action.setToolTip("The versions trained in this project: pin one to use it")
        menu.addSeparator()
        menu.addActions(extra)
        self.starter = starter_model()
        self.starter_action.setToolTip("Predict with the model that comes with SonoClick" if self.starter
                                       else NO_STARTER)
        self.open_action.triggered.connect(self._ask_model_file)
        self.starter_action.triggered.connect(lambda: self.starter and self.use_frame_model(self.starter))
        self._session: ProjectSession | None = None
        self._training: TrainingController | None = None
        self._frame_text = self._click_text = ""
        self.project_closed()

    # ----- project -------------------------------------------------------------------------------------
    def project_opened(self, session: ProjectSession, training: TrainingController) -> None:
        """Start both models now rather than on the first frame that needs them."""
        self._session, self._training = session, training
        for action in (self.open_action, self.versions_action):
            action.setEnabled(True)
        self.starter_action.setEnabled(self.starter is not None)
        self._warm_up()

    def project_closed(self) -> None:
        self._session = self._training = None
        for action in (self.open_action, self.starter_action, self.versions_action):
            action.setEnabled(False)
        self._frame_text = self._click_text = ""
        self.status.emit("")

    def _warm_up(self) -> None:
        session = self._session
        assert session is not None
        store, model = session.store, session.model
        frame_path, click_path = model.model_path(store), model.clicks.model_path(store)
        self._frame_text = f"frame model {frame_path.name}: starting…" if frame_path else "no frame model"
        self._click_text = f"click network {click_path.name}: loading…" if click_path else ""
        self._say()
        if frame_path is not None:
            session.workers.inference.submit(lambda: model.warm_up(store),
                                             lambda ok, s=session: self._frame_ready(s, ok))
        if click_path is not None:
            def load() -> bool:
                return model.clicks.predictor(store) is not None and model.clicks.wait_until_loaded(click_path, 300)

            session.workers.aux.submit(load, lambda ok, s=session: self._click_ready(s, click_path, ok))

    def _frame_ready(self, session: ProjectSession, answered: Path | None) -> None:
        if session is not self._session:
            return
        if answered is not None:
            self._frame_text = f"frame model {answered.name}: ready"
        else:
            self._frame_text = "frame model not used"
            error = session.model.take_error()
            if error:
                self.message.emit(error)
        self._say()

    def _click_ready(self, session: ProjectSession, path: Path, loaded: bool) -> None:
        if session is self._session:
            self._click_text = f"click network {path.name}: " + ("ready" if loaded else "not used")
            self._say()

    def _say(self) -> None:
        self.status.emit(" · ".join(t for t in (self._frame_text, self._click_text) if t))

    # ----- choosing a model ----------------------------------------------------------------------------
    def _ask_model_file(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(None, "Open a frame model file", "", MODEL_FILES)
        if path:
            self.use_frame_model(Path(path))

    def use_frame_model(self, path: Path) -> None:
        """Predict the project's unlabelled frames with `path` from now on (their predictions are redone)."""
        session, training = self._session, self._training
        if session is None or training is None or refused(session.store, self.message.emit):
            return  # (the choice is a project setting: none in a read-only project)
        session.model.forget_failure(path)

        def switched(frame_ids: list[int]) -> None:
            if session is self._session:
                self.message.emit(f"Predicting with {path.name}")
                training.refresh_predictions(frame_ids)
                self._warm_up()

        session.jobs.submit(lambda: switch_model(session.store, path), switched)
