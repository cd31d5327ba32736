"""The cine bar under the view, shown for multi-frame sources (cine DICOM, multi-page TIFF, video): a frame slider
and play/pause, a strip under the slider marking key frames, propagated drafts and low-confidence frames, and
room for the propagation tools. Playing steps to the next frame at a fixed rate; frames load off the GUI thread
and a frame still loading when the next tick comes is simply skipped."""
from __future__ import annotations

from PyQt5 import QtCore, QtGui, QtWidgets

PLAY_FPS = 15
MARK_COLOURS = {"key": "#4aa3ff", "draft": "#49c46b", "low confidence": "#ff7a3d"}  # by gui.propagation_controller.Mark


class MarkStrip(QtWidgets.QWidget):
    """A thin strip with one coloured tick per marked frame, aligned with the slider's positions."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFixedHeight(6)
        self.marks: list[str | None] = []  # one per frame of the clip, None = unmarked

    def set_marks(self, marks: list[str | None]) -> None:
        self.marks = marks
        self.update()

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:  # noqa: N802
        n = len(self.marks)
        if n == 0 or not any(self.marks):
            return
        painter = QtGui.QPainter(self)
        width = self.width() / n
        for i, mark in enumerate(self.marks):
            if mark is not None:
                painter.fillRect(QtCore.QRectF(i * width, 0, max(width, 2.0), self.height()),
                                 QtGui.QColor(MARK_COLOURS.get(mark, "#999999")))
        painter.end()


class CineBar(QtWidgets.QWidget):
    frame_chosen = QtCore.pyqtSignal(int)  # frame id

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.play_button = QtWidgets.QToolButton()
        self.play_button.setText("Play")
        self.play_button.setCheckable(True)
        self.play_button.setFocusPolicy(QtCore.Qt.NoFocus)
        self.slider = QtWidgets.QSlider(QtCore.Qt.Horizontal)
        self.slider.setFocusPolicy(QtCore.Qt.NoFocus)
        self.label = QtWidgets.QLabel()
        self.label.setMinimumWidth(90)
        self.strip = MarkStrip()
        track = QtWidgets.QVBoxLayout()
        track.setContentsMargins(0, 0, 0, 0)
        track.setSpacing(0)
        track.addWidget(self.slider)
        track.addWidget(self.strip)
        self._layout = layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.addWidget(self.play_button)
        layout.addLayout(track, 1)
        layout.addWidget(self.label)
        self._frames: list[int] = []
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(int(1000 / PLAY_FPS))
        self._timer.timeout.connect(self.step)
        self.play_button.toggled.connect(self.set_playing)
        self.slider.valueChanged.connect(self._on_slider)
        self.setVisible(False)

    def set_frames(self, frames: list[int], current: int) -> None:
        """The frames of the shown source (hidden when it has only one) and the shown one."""
        self._frames = frames
        many = len(frames) > 1
        self.setVisible(many)
        if not many:
            self.set_playing(False)
            return
        self.slider.blockSignals(True)
        self.slider.setRange(0, len(frames) - 1)
        if current in frames:
            self.slider.setValue(frames.index(current))
        self.slider.blockSignals(False)
        self.label.setText(f"{self.slider.value() + 1} / {len(frames)}")

    def set_marks(self, marks: dict[int, str]) -> None:
        """Frame id -> mark ("key", "draft", "low confidence") for the shown source's frames."""
        self.strip.set_marks([marks.get(f) for f in self._frames])
        self.strip.setToolTip("Blue: key frames · green: propagated drafts · orange: low confidence, take a look"
                              if marks else "")

    def add_tools(self, widget: QtWidgets.QWidget) -> None:
        """Tools for the clip (propagation) at the bar's right end."""
        self._layout.addWidget(widget)

    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    def set_playing(self, playing: bool) -> None:
        if playing and len(self._frames) > 1:
            self._timer.start()
        else:
            self._timer.stop()
        self.play_button.blockSignals(True)
        self.play_button.setChecked(self._timer.isActive())
        self.play_button.setText("Pause" if self._timer.isActive() else "Play")
        self.play_button.blockSignals(False)

    def step(self) -> None:
        if self._frames:
            self.slider.setValue((self.slider.value() + 1) % len(self._frames))

    def _on_slider(self, value: int) -> None:
        if 0 <= value < len(self._frames):
            self.label.setText(f"{value + 1} / {len(self._frames)}")
            self.frame_chosen.emit(self._frames[value])
