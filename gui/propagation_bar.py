"""The propagation tools in the cine bar (Propagate forward / backward / both ways, up to N frames or the clip's
end; Accept range; a progress bar with Cancel while it runs) and their glue to the main window: the shown frame
and nodule go to gui.propagation_controller, finished drafts reload the shown frame, and the cine bar's marks
follow the propagation."""
from __future__ import annotations

from typing import TYPE_CHECKING

from PyQt5 import QtCore, QtWidgets

from core.cine.propagation import Direction
from core.project.store import ProjectStore
from gui.propagation_controller import PropagationController

if TYPE_CHECKING:
    from gui.main_window import MainWindow


class PropagationBar(QtWidgets.QWidget):
    propagate_requested = QtCore.pyqtSignal(str)  # Direction value
    accept_requested = QtCore.pyqtSignal()
    cancel_requested = QtCore.pyqtSignal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.propagate_button = QtWidgets.QToolButton()
        self.propagate_button.setText("Propagate")
        self.propagate_button.setToolTip("Carry the current nodule through the clip from this frame (both ways)")
        self.propagate_button.setPopupMode(QtWidgets.QToolButton.MenuButtonPopup)
        menu = QtWidgets.QMenu(self.propagate_button)
        for direction, title in ((Direction.BOTH, "Both ways"), (Direction.FORWARD, "Forward"),
                                 (Direction.BACKWARD, "Backward")):
            menu.addAction(title).triggered.connect(lambda _=False, d=direction: self.propagate_requested.emit(d.value))
        self.propagate_button.setMenu(menu)
        self.propagate_button.clicked.connect(lambda: self.propagate_requested.emit(Direction.BOTH.value))
        self.limit = QtWidgets.QSpinBox()
        self.limit.setRange(0, 10_000)
        self.limit.setSpecialValueText("clip end")
        self.limit.setPrefix("up to ")
        self.limit.setToolTip("Frames to propagate in each direction (0: to the clip's end)")
        self.accept_button = QtWidgets.QToolButton()
        self.accept_button.setText("Accept range")
        self.accept_button.setToolTip("Accept the masks of every propagated frame of this clip (one action)")
        self.accept_button.clicked.connect(self.accept_requested)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setMaximumWidth(140)
        self.progress.setFormat("%v / %m")
        self.cancel_button = QtWidgets.QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.clicked.connect(self.cancel_requested)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 0, 0)
        for widget in (self.propagate_button, self.limit, self.accept_button, self.progress, self.cancel_button):
            widget.setFocusPolicy(QtCore.Qt.NoFocus if widget is not self.limit else QtCore.Qt.ClickFocus)
            layout.addWidget(widget)
        self.set_running(False)

    @property
    def max_frames(self) -> int | None:
        return self.limit.value() or None

    def set_running(self, running: bool) -> None:
        self.progress.setVisible(running)
        self.cancel_button.setVisible(running)
        self.propagate_button.setEnabled(not running)
        self.accept_button.setEnabled(not running)
        if running:
            self.progress.setRange(0, 0)  # busy until the first frame says how many are planned

    def show_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)


class PropagationUi(QtCore.QObject):
    """Connects the bar, the main window and a PropagationController for the open project."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.bar = PropagationBar()
        window.cine.add_tools(self.bar)
        self.controller: PropagationController | None = None
        self.bar.propagate_requested.connect(self.propagate)
        self.bar.accept_requested.connect(self.accept_range)
        self.bar.cancel_requested.connect(self.cancel)

    @property
    def idle(self) -> bool:
        return self.controller is None or self.controller.idle

    def project_opened(self, store: ProjectStore) -> None:
        self.controller = c = PropagationController(store, self.window.reporter.report, self)
        c.progress.connect(self.bar.show_progress)
        c.frame_written.connect(self._on_frame_written)
        c.marks_changed.connect(self.refresh_marks)
        c.finished.connect(self._on_finished)

    def project_closed(self) -> None:
        if self.controller is not None:
            self.controller.close()
            self.controller.deleteLater()
            self.controller = None
        self.bar.set_running(False)

    def _shown(self) -> tuple[int, int] | None:
        editor = self.window.controller
        if self.controller is None or editor is None or editor.current_frame_id is None:
            return None
        return editor.current_frame_id, editor.current_object

    def propagate(self, direction: str = Direction.BOTH.value) -> None:
        shown = self._shown()
        if shown is None or self.controller is None:
            return
        if self.controller.propagate(*shown, direction, self.bar.max_frames):
            self.bar.set_running(True)

    def accept_range(self) -> None:
        shown = self._shown()
        if shown is None or self.controller is None:
            return
        if self.controller.accept_range(*shown, self.window.refresh_frames):
            self.bar.set_running(True)
        else:
            self.window.statusBar().showMessage("Nothing propagated on this clip for this nodule yet", 6000)

    def cancel(self) -> None:
        if self.controller is not None:
            self.controller.cancel()

    def refresh_marks(self) -> None:
        shown = self._shown()
        marks = {} if shown is None or self.controller is None else self.controller.marks(*shown)
        self.window.cine.set_marks(marks)

    def _on_frame_written(self, frame_id: int) -> None:
        editor = self.window.controller
        if editor is not None:
            editor.reload(frame_id)  # the shown frame shows its new draft; others load it when shown

    def _on_finished(self, message: str) -> None:
        self.bar.set_running(False)
        self.refresh_marks()
        self.window.statusBar().showMessage(message, 8000)
        shown = self._shown()
        if shown is not None and self.controller is not None:
            self.window.refresh_frames(list(self.controller.marks(*shown)))  # new statuses in the frame list
