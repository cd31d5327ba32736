"""The calibration tool (L): the user clicks two points a known distance apart on the frame (two ticks of the depth
ruler, say), then types the distance in millimetres and chooses whether it holds for this frame, its folder or the
whole project. The store keeps it as an undoable step of the frame (core/project/calibration.py, the headless half)
and measurements and exports use the frame's effective spacing from then on; the window asks for that spacing
whenever a frame is shown or a calibration changes."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PyQt5 import QtCore, QtWidgets

from gui.project_session import ProjectSession
from gui.read_only_banner import refused

SCOPES = (("This frame", "frame"), ("Every frame of this folder", "folder"), ("The whole project", "project"))
SCOPE_NAMES = {value: text.lower() for text, value in SCOPES}
Answer = tuple[float, str] | None  # distance in mm and scope, or None when the user cancels


def ask_distance(parent: QtWidgets.QWidget | None, length_px: float) -> Answer:
    """A small dialog: the distance between the two points (mm) and the scope; None on Cancel."""
    dialog = QtWidgets.QDialog(parent)
    dialog.setWindowTitle("Calibrate")
    distance = QtWidgets.QDoubleSpinBox()
    distance.setRange(0.01, 1000.0)
    distance.setDecimals(2)
    distance.setValue(10.0)
    distance.setSuffix(" mm")
    scope = QtWidgets.QComboBox()
    for text, value in SCOPES:
        scope.addItem(text, value)
    buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.Ok | QtWidgets.QDialogButtonBox.Cancel)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    form = QtWidgets.QFormLayout(dialog)
    form.addRow(QtWidgets.QLabel(f"The two points are {length_px:.1f} pixels apart."))
    form.addRow("Distance", distance)
    form.addRow("Applies to", scope)
    form.addRow(buttons)
    if dialog.exec_() != QtWidgets.QDialog.Accepted:
        return None
    return distance.value(), str(scope.currentData())


def spacing_text(spacing_mm: tuple[float, float] | None, source: str) -> str:
    """For the status bar: '0.100×0.100 mm/px' plus where it comes from when calibrated."""
    if spacing_mm is None:
        return "no mm (calibrate: L)"
    text = f"{spacing_mm[1]:.3f}×{spacing_mm[0]:.3f} mm/px"
    return text if source in ("file", "") else f"{text} (calibrated: {source})"


class CalibrationTool(QtCore.QObject):
    message = QtCore.pyqtSignal(str)
    points_changed = QtCore.pyqtSignal()  # redraw the points clicked so far
    spacing_changed = QtCore.pyqtSignal()  # a calibration was set: ask again for the shown frame's spacing
    spacing_known = QtCore.pyqtSignal(int, object, str)  # frame id, (row_mm, col_mm) or None, where it comes from

    def __init__(self, ask: Callable[[float], Answer], parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.ask = ask  # the distance dialog (replaceable, e.g. by a test)
        self._session: ProjectSession | None = None
        self.points: list[tuple[float, float]] = []

    def set_session(self, session: ProjectSession | None) -> None:
        self._session = session
        self.reset()

    def ask_spacing(self, frame_id: int) -> None:
        """Read the frame's effective spacing (file, else a calibration) on the store worker: spacing_known."""
        session = self._session
        if session is None:
            return
        store = session.store

        def known(effective: Any) -> None:  # core.project.calibration.EffectiveSpacing
            if session is self._session:
                self.spacing_known.emit(frame_id, effective.spacing_mm, effective.source)

        session.jobs.submit(lambda: store.effective_spacing(frame_id), known)

    def reset(self) -> None:
        if self.points:
            self.points = []
            self.points_changed.emit()

    def start(self) -> None:
        self.reset()
        self.message.emit("Calibrate: click two points a known distance apart (e.g. two ticks of the depth ruler)")

    def add_point(self, frame_id: int | None, x: float, y: float) -> None:
        """One of the two points; after the second the distance is asked for and the calibration stored."""
        if frame_id is None or self._session is None:
            return
        if refused(self._session.store, self.message.emit):
            self.reset()
            return
        self.points.append((float(x), float(y)))
        self.points_changed.emit()
        if len(self.points) == 1:
            self.message.emit("Calibrate: click the second point")
            return
        (x1, y1), (x2, y2) = self.points
        length = float(((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5)
        if length < 1.0:
            self.points.pop()
            self.message.emit("The two points must differ: click the second point elsewhere")
            return
        answer = self.ask(length)
        p1, p2 = self.points
        self.reset()
        if answer is None:
            self.message.emit("Calibration cancelled")
            return
        self._store(frame_id, p1, p2, *answer)

    def _store(self, frame_id: int, p1: tuple[float, float], p2: tuple[float, float], mm: float,
               scope: str) -> None:
        session = self._session
        assert session is not None
        store = session.store

        def done(calibration: Any) -> None:  # core.project.calibration.Calibration
            if session is self._session:
                self.message.emit(f"Calibrated: {calibration.mm_per_px:.4f} mm per pixel for "
                                  f"{SCOPE_NAMES[scope]} · Ctrl+Z undoes")
                self.spacing_changed.emit()

        session.jobs.submit(lambda: store.set_calibration(frame_id, p1, p2, mm, scope), done)
