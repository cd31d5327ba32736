"""The legend of the project's label classes: each class's colour swatch, its key (1-9) and its name, and how a
mask's outline tells accepted from draft."""
from __future__ import annotations

from PyQt5 import QtWidgets

from core.project.classes import LabelClass

OUTLINE_NOTE = "outline: solid = accepted, dashed = draft"


def object_title(class_name: str, object_id: int) -> str:
    """'Nodule 1', 'Thyroid gland 2': an object as the app names it (its class and number)."""
    return f"{class_name[:1].upper()}{class_name[1:]} {object_id + 1}"


class ClassLegend(QtWidgets.QWidget):
    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet("QLabel { font-size: 9pt; }")
        self._grid = QtWidgets.QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setVerticalSpacing(2)
        self._grid.setHorizontalSpacing(4)
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
            swatch = QtWidgets.QLabel()
            swatch.setFixedSize(11, 11)
            swatch.setStyleSheet(f"background-color: {c.colour}; border: 1px solid #111;")
            key = str(row + 1) if row < 9 else ""
            self._grid.addWidget(swatch, row, 0)
            self._grid.addWidget(QtWidgets.QLabel(key), row, 1)
            name = QtWidgets.QLabel(c.name)
            name.setWordWrap(True)  # a long class name wraps rather than widening the panel
            self._grid.addWidget(name, row, 2)
        note = QtWidgets.QLabel(OUTLINE_NOTE)
        note.setStyleSheet("color: #aaa;")
        note.setWordWrap(True)
        self._grid.addWidget(note, len(classes), 0, 1, 3)
        self._grid.setColumnStretch(2, 1)

    def entries(self) -> list[tuple[str, str]]:
        """(name, colour) of the classes shown, in order."""
        return [(c.name, c.colour) for c in self._shown or []]
