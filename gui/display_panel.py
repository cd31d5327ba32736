"""The side panel: overlay controls, window/level, brush size, the legend of label classes and marks; and (in
`nodules_box`, which the window puts in a dock of its own) the measurements of the shown objects, each named
by its class."""
from __future__ import annotations

import hashlib
import html
from collections.abc import Callable

import numpy as np
from PyQt5 import QtCore, QtWidgets

from core.annotation.points import Calipers
from gui import style
from gui.caliper_items import format_length
from gui.class_legend import ClassLegend, object_title
from gui.editor_frame import ObjectDisplay

DERIVED_CACHE = 64  # masks whose derived axes are remembered
KIND_TEXT = {"accepted": "accepted", "draft": "draft (Enter accepts)", "predicted": "model prediction", "": "no mask"}


class DisplayPanel(QtWidgets.QWidget):
    overlay_toggled = QtCore.pyqtSignal(bool)
    opacity_changed = QtCore.pyqtSignal(float)
    confidence_toggled = QtCore.pyqtSignal(bool)
    levels_changed = QtCore.pyqtSignal(float, float)  # low, high
    levels_reset = QtCore.pyqtSignal()
    brush_changed = QtCore.pyqtSignal(int)
    scribble_changed = QtCore.pyqtSignal(int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        # the long and short axes of a mask (core.annotation.mask_axes); None: masks without calipers unmeasured
        self.derive_axes: Callable[[np.ndarray, tuple[float, float] | None], Calipers] | None = None
        self._derived_cache: dict[tuple, Calipers] = {}
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.measurements = QtWidgets.QLabel("No calipers")
        self.measurements.setTextFormat(QtCore.Qt.RichText)
        self.measurements.setWordWrap(True)
        self.measurements.setAlignment(QtCore.Qt.AlignTop | QtCore.Qt.AlignLeft)
        self.measurements.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)
        self.nodules_box = QtWidgets.QWidget()  # shown in a dock of its own, so it stays visible beside any tab
        nodules_layout = QtWidgets.QVBoxLayout(self.nodules_box)
        nodules_layout.setContentsMargins(6, 6, 6, 6)
        nodules_layout.addWidget(self.measurements)
        nodules_layout.addStretch(1)
        layout.addWidget(self._group("Overlay", self._build_overlay()))
        levels, reset = self._build_levels()
        layout.addWidget(self._group("Window / level", levels))
        self.brush = self._size_box(60, 6, "r ", "Brush and eraser radius ([ and ] change it)")
        self.scribble = self._size_box(40, 5, "w ", "Scribble width ([ and ] change it while the scribble tool is on)")
        sizes = QtWidgets.QWidget()
        row = QtWidgets.QHBoxLayout(sizes)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.brush)
        row.addWidget(self.scribble)
        layout.addWidget(self._group("Brush · scribble  [ ]", sizes))
        self.class_legend = ClassLegend()
        layout.addWidget(self._group("Classes (keys 1-9)", self.class_legend))
        layout.addWidget(self._group("Legend", self._build_legend()))
        layout.addStretch(1)

        self.show_masks.toggled.connect(self.overlay_toggled)
        self.opacity.valueChanged.connect(lambda v: self.opacity_changed.emit(v / 100.0))
        self.confidence.toggled.connect(self.confidence_toggled)
        self.window_box.valueChanged.connect(self._emit_levels)
        self.level_box.valueChanged.connect(self._emit_levels)
        reset.clicked.connect(self.levels_reset)
        self.brush.valueChanged.connect(self.brush_changed)
        self.scribble.valueChanged.connect(self.scribble_changed)
        for widget in (self.show_masks, self.opacity, self.confidence, self.window_box, self.level_box, self.brush,
                       self.scribble):
            widget.setFocusPolicy(QtCore.Qt.ClickFocus)

    def _build_overlay(self) -> QtWidgets.QWidget:
        overlay = QtWidgets.QWidget()
        form = QtWidgets.QFormLayout(overlay)
        form.setContentsMargins(0, 0, 0, 0)
        self.show_masks = QtWidgets.QCheckBox("Show masks (Space)")
        self.show_masks.setChecked(True)
        self.opacity = QtWidgets.QSlider(QtCore.Qt.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(int(style.DEFAULT_OPACITY * 100))
        self.confidence = QtWidgets.QCheckBox("Certainty map (H)")
        self.confidence.setToolTip("Confident nodule (green) and uncertain band (amber) from the calipers (HCL-HRL "
                                   "labels); confident background stays clear")
        form.addRow(self.show_masks)
        form.addRow("Fill", self.opacity)
        form.addRow(self.confidence)
        return overlay

    def _build_levels(self) -> tuple[QtWidgets.QWidget, QtWidgets.QToolButton]:
        levels = QtWidgets.QWidget()
        levels.setToolTip("Right-drag on the image: sideways = width, up/down = centre")
        grid = QtWidgets.QGridLayout(levels)
        grid.setContentsMargins(0, 0, 0, 0)
        self.window_box = QtWidgets.QDoubleSpinBox()
        self.level_box = QtWidgets.QDoubleSpinBox()
        for box in (self.window_box, self.level_box):
            box.setRange(-70000, 70000)
            box.setDecimals(0)
            box.setKeyboardTracking(False)
            box.setButtonSymbols(QtWidgets.QAbstractSpinBox.NoButtons)
            box.setMinimumWidth(56)
            box.setSizePolicy(QtWidgets.QSizePolicy.Ignored, QtWidgets.QSizePolicy.Fixed)
        self.window_box.setMinimum(1)
        reset = QtWidgets.QToolButton()
        reset.setText("Reset")
        reset.setToolTip("Back to the frame's own window / level")
        reset.setFocusPolicy(QtCore.Qt.NoFocus)
        grid.addWidget(QtWidgets.QLabel("W"), 0, 0)
        grid.addWidget(self.window_box, 0, 1)
        grid.addWidget(QtWidgets.QLabel("C"), 0, 2)
        grid.addWidget(self.level_box, 0, 3)
        grid.addWidget(reset, 1, 3, QtCore.Qt.AlignRight)
        return levels, reset

    @staticmethod
    def _build_legend() -> QtWidgets.QWidget:
        legend = QtWidgets.QWidget()
        legend_grid = QtWidgets.QGridLayout(legend)
        legend_grid.setContentsMargins(0, 0, 0, 0)
        legend_grid.setVerticalSpacing(2)
        legend_grid.setHorizontalSpacing(4)
        legend.setStyleSheet("QLabel { font-size: 9pt; }")
        entries = [
            (style.MASK_PREDICTED, "predicted"), (style.CALIPER_LONG, "long axis"),
            (style.CALIPER_SHORT, "short axis"), (style.CLICK_POSITIVE, "nodule click"),
            (style.CLICK_NEGATIVE, "background"), (style.CONFIDENT_NODULE, "confident"),
            (style.UNCERTAIN, "uncertain"),
        ]
        for i, (rgb, text) in enumerate(entries):
            swatch = QtWidgets.QLabel()
            swatch.setFixedSize(11, 11)
            swatch.setStyleSheet(f"background-color: rgb{rgb}; border: 1px solid #111;")
            legend_grid.addWidget(swatch, i // 2, 2 * (i % 2))
            legend_grid.addWidget(QtWidgets.QLabel(text), i // 2, 2 * (i % 2) + 1)
        return legend

    @staticmethod
    def _size_box(largest: int, value: int, prefix: str, tip: str) -> QtWidgets.QSpinBox:
        box = QtWidgets.QSpinBox()
        box.setRange(1, largest)
        box.setValue(value)
        box.setSuffix(" px")
        box.setPrefix(prefix)
        box.setToolTip(tip)
        return box

    @staticmethod
    def _group(title: str, content: QtWidgets.QWidget) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox(title)
        inner = QtWidgets.QVBoxLayout(box)
        inner.setContentsMargins(6, 4, 6, 6)
        inner.addWidget(content)
        return box

    def show_levels(self, low: float, high: float) -> None:
        for box, value in ((self.window_box, high - low), (self.level_box, (high + low) / 2)):
            box.blockSignals(True)
            box.setValue(value)
            box.blockSignals(False)

    def _emit_levels(self) -> None:
        width, centre = self.window_box.value(), self.level_box.value()
        self.levels_changed.emit(centre - width / 2, centre + width / 2)

    def _derived(self, mask: np.ndarray, spacing_mm: tuple[float, float] | None) -> Calipers | None:
        """The mask's derived axes (cached by the mask's pixels: a redraw without a new mask costs a hash)."""
        if self.derive_axes is None or not mask.any():
            return None
        key = (hashlib.blake2b(np.packbits(mask).tobytes() + str(mask.shape).encode(), digest_size=16).digest(),
               spacing_mm)
        if key not in self._derived_cache:
            if len(self._derived_cache) > DERIVED_CACHE:
                self._derived_cache.clear()
            self._derived_cache[key] = self.derive_axes(mask, spacing_mm)
        return self._derived_cache[key]

    def show_nodules(self, objects: list[ObjectDisplay], spacing_mm: tuple[float, float] | None,
                     class_names: dict[int, str] | None = None) -> None:
        rows = []
        for obj in objects:
            calipers = obj.calipers
            derived = None if obj.mask is None else self._derived(obj.mask, spacing_mm)
            sizes = "calipers incomplete" if obj.caliper_ends else "no calipers"
            if calipers is not None:
                sizes = _sizes(calipers, spacing_mm, "13pt")
            elif derived is not None:
                sizes = _sizes(derived, spacing_mm, "13pt") + ' <span style="color:#aaa;">(derived)</span>'
            marker = "&#9654; " if obj.current else ""
            mask_line = f"mask: {KIND_TEXT.get(obj.mask_kind, obj.mask_kind)}"
            if calipers is not None and derived is not None:  # both: the mask's own axes beside the calipers
                mask_line += f"; derived {_sizes(derived, spacing_mm, None)}"
            rows.append(f"{marker}{html.escape(_title(obj, class_names or {}))}<br>{sizes}<br>"
                        f'<span style="color:#aaa;">{mask_line}</span>')
        if not rows:
            rows = ["No nodule yet: place calipers (C) or click on it (K)"]
        if spacing_mm is None and objects:
            rows.append('<span style="color:#aaa;">Pixel size unknown: lengths in pixels (L calibrates)</span>')
        text = "<br>".join(rows)
        if text != self.measurements.text():  # relaying out rich text is the slow part
            self.measurements.setText(text)


def _title(obj: ObjectDisplay, class_names: dict[int, str]) -> str:
    """The object's class and number (the model's prediction is a nodule)."""
    name = "nodule" if obj.mask_kind == "predicted" else class_names.get(obj.class_id, "nodule")
    return object_title(name, obj.object_id)


def _sizes(calipers: Calipers, spacing_mm: tuple[float, float] | None, font_size: str | None) -> str:
    long_text = format_length(calipers.long_1, calipers.long_2, spacing_mm)
    short_text = format_length(calipers.short_1, calipers.short_2, spacing_mm)
    text = f"<b>{long_text}</b> &times; <b>{short_text}</b>" if font_size else f"{long_text} &times; {short_text}"
    return f'<span style="font-size: {font_size};">{text}</span>' if font_size else text
