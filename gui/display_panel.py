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
DETAIL_FONT = "10pt"
NO_SPACING_NOTE = "Pixel size unknown (L calibrates)"
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
        layout.setSpacing(4)
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
        layout.addWidget(self._group("Classes and marks", self.class_legend))
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
        row = QtWidgets.QHBoxLayout(levels)  # one row: the column below it fits 1280 x 800 without scrolling
        row.setContentsMargins(0, 0, 0, 0)
        self.window_box = QtWidgets.QDoubleSpinBox()
        self.level_box = QtWidgets.QDoubleSpinBox()
        for box, prefix in ((self.window_box, "W "), (self.level_box, "C ")):
            box.setPrefix(prefix)
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
        self.window_box.setToolTip("Window width (W)")
        self.level_box.setToolTip("Window centre (C)")
        row.addWidget(self.window_box)
        row.addWidget(self.level_box)
        row.addWidget(reset)
        return levels, reset

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
        inner.setContentsMargins(6, 2, 6, 4)
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
                sizes = _sizes(derived, spacing_mm, "13pt") + " " + _detail("(derived)")
            details = [f"mask: {KIND_TEXT.get(obj.mask_kind, obj.mask_kind)}"]
            if calipers is not None and derived is not None:  # both: the mask's own axes below the calipers
                details.append(f"derived {_sizes(derived, spacing_mm, None)}")
            title = _title(obj, class_names or {})
            rows.append(_object_html(title, obj.current, sizes, details))
        if not rows:
            rows = ["No nodule yet: place calipers (C) or click on it (K)"]
        if spacing_mm is None and objects:
            rows.append(_detail(NO_SPACING_NOTE))
        text = "<br>".join(rows)
        if text != self.measurements.text():  # relaying out rich text is the slow part
            self.measurements.setText(text)

    def nodules_height(self, width: int) -> int:
        """The Nodules box's height for one nodule with calipers, a derived size and no pixel size, `width` wide:
        what the window gives it so the usual case needs no scrolling."""
        axes = Calipers((0.0, 0.0), (0.0, 888.0), (0.0, 0.0), (888.0, 0.0))  # 88.8 mm at 0.1 mm per pixel
        spacing = (0.1, 0.1)
        sample = _object_html("Nodule 1", True, _sizes(axes, spacing, "13pt"),
                              [f"mask: {KIND_TEXT['draft']}", f"derived {_sizes(axes, spacing, None)}"])
        probe = QtWidgets.QLabel(sample + "<br>" + _detail(NO_SPACING_NOTE))
        probe.setFont(self.measurements.font())
        probe.setWordWrap(True)
        margins = self.nodules_box.layout().contentsMargins()
        text_width = width - margins.left() - margins.right()
        return probe.heightForWidth(text_width) + margins.top() + margins.bottom()


def _detail(text: str) -> str:
    """A secondary line: smaller and grey, so the sizes stand out and each detail keeps to one line."""
    return f'<span style="color:#aaa; font-size: {DETAIL_FONT};">{text}</span>'


def _object_html(title: str, current: bool, sizes: str, details: list[str]) -> str:
    marker = "&#9654; " if current else ""
    return "<br>".join([f"{marker}{html.escape(title)}", sizes, *(_detail(d) for d in details)])


def _title(obj: ObjectDisplay, class_names: dict[int, str]) -> str:
    """The object's class and number (the model's prediction is a nodule)."""
    name = "nodule" if obj.mask_kind == "predicted" else class_names.get(obj.class_id, "nodule")
    return object_title(name, obj.object_id)


def _sizes(calipers: Calipers, spacing_mm: tuple[float, float] | None, font_size: str | None) -> str:
    long_text = format_length(calipers.long_1, calipers.long_2, spacing_mm)
    short_text = format_length(calipers.short_1, calipers.short_2, spacing_mm)
    if not font_size:
        return f"{long_text} &times; {short_text}"
    return (f'<span style="font-size: {font_size}; white-space: nowrap;"><b>{long_text}</b> &times; '
            f"<b>{short_text}</b></span>")
