"""The legend beside the image: the project's label classes (each class's colour swatch, its key 1-9 and its
name), the colours of the marks drawn over the image (prediction, caliper axes, clicks, certainty), and how a
mask's outline tells accepted from draft. One box, so the right-hand column fits 1280 x 800 without scrolling."""
from __future__ import annotations

from PyQt5 import QtWidgets

from core.project.classes import LabelClass
from gui import style

OUTLINE_NOTE = "outline: solid = accepted, dashed = draft"
MARKS = [
    (style.MASK_PREDICTED, "predicted"), (style.CALIPER_LONG, "long axis"),
    (style.CALIPER_SHORT, "short axis"), (style.CLICK_POSITIVE, "nodule click"),
    (style.CLICK_NEGATIVE, "background"), (style.CONFIDENT_NODULE, "confident"),
    (style.UNCERTAIN, "uncertain"),
]
SWATCH_PX = 11


def object_title(class_name: str, object_id: int) -> str:
    """'Nodule 1', 'Thyroid gland 2': an object as the app names it (its class and number)."""
    return f"{class_name[:1].upper()}{class_name[1:]} {object_id + 1}"


def _swatch(css_colour: str) -> QtWidgets.QLabel:
    swatch = QtWidgets.QLabel()
    swatch.setFixedSize(SWATCH_PX, SWATCH_PX)
    swatch.setStyleSheet(f"background-color: {css_colour}; border: 1px solid #111;")
    return swatch


def _grid(parent_layout: QtWidgets.QVBoxLayout) -> QtWidgets.QGridLayout:
    grid = QtWidgets.QGridLayout()
    grid.setContentsMargins(0, 0, 0, 0)
    grid.setVerticalSpacing(2)
    grid.setHorizontalSpacing(4)
    parent_layout.addLayout(grid)
    return grid


class ClassLegend(QtWidgets.QWidget):
    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet("QLabel { font-size: 9pt; }")
        self.setToolTip("Keys 1-9 choose the class of the next object; Ctrl+1-9 give the current object a class")
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        self._grid = _grid(layout)
        self._grid.setColumnStretch(2, 1)
        marks = _grid(layout)
        for i, (rgb, text) in enumerate(MARKS):
            marks.addWidget(_swatch(f"rgb{rgb}"), i // 2, 2 * (i % 2))
            marks.addWidget(QtWidgets.QLabel(text), i // 2, 2 * (i % 2) + 1)
        note = QtWidgets.QLabel(OUTLINE_NOTE)
        note.setStyleSheet("color: #aaa;")
        note.setWordWrap(True)
        layout.addWidget(note)
        self._shown: list[LabelClass] | None = None
        self.set_classes([])

    def set_classes(self, classes: list[LabelClass]) -> None:
        if classes == self._shown:
            return
        self._shown = list(classes)
        while self._grid.count():
            item = self._grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        for row, c in enumerate(classes):
            key = str(row + 1) if row < 9 else ""
            self._grid.addWidget(_swatch(c.colour), row, 0)
            self._grid.addWidget(QtWidgets.QLabel(key), row, 1)
            name = QtWidgets.QLabel(c.name)
            name.setWordWrap(True)  # a long class name wraps rather than widening the panel
            self._grid.addWidget(name, row, 2)

    def entries(self) -> list[tuple[str, str]]:
        """(name, colour) of the classes shown, in order."""
        return [(c.name, c.colour) for c in self._shown or []]
