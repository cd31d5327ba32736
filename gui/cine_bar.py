"""The cine bar under the view, shown for multi-frame sources (cine DICOM, multi-page TIFF, video): a frame slider
and play/pause. Playing steps to the next frame at a fixed rate; frames load off the GUI thread and a frame
still loading when the next tick comes is simply skipped."""
from __future__ import annotations

from PyQt5 import QtCore, QtWidgets

PLAY_FPS = 15


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
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.addWidget(self.play_button)
        layout.addWidget(self.slider, 1)
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
