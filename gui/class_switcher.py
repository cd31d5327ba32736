"""The class switcher in the toolbar: the project's label classes with their colour swatches, then "Add class…"
and "Rename class…", each opening a small name dialog (non-modal: annotation goes on behind it). Choosing a class
emits `class_chosen`; the window hands it to the controller, which owns what a class choice means."""
from __future__ import annotations

from collections.abc import Callable

from PyQt5 import QtCore, QtGui, QtWidgets

from core.project.classes import MAX_NAME, LabelClass

ADD, RENAME = "add", "rename"  # item data of the two entries after the classes


def swatch(colour: str, size: int = 12) -> QtGui.QIcon:
    pixmap = QtGui.QPixmap(size, size)
    pixmap.fill(QtGui.QColor(colour))
    return QtGui.QIcon(pixmap)


class ClassNameDialog(QtWidgets.QDialog):
    """A class name: OK emits `named` with the text (blank is refused here, the rest by the store)."""

    named = QtCore.pyqtSignal(str)

    def __init__(self, title: str, text: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setModal(False)
        self.name_edit = QtWidgets.QLineEdit(text)
        self.name_edit.setMaxLength(MAX_NAME)
        self.name_edit.setPlaceholderText("e.g. thyroid gland")
        self.buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.Ok | QtWidgets.QDialogButtonBox.Cancel)
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)
        form = QtWidgets.QFormLayout(self)
        form.addRow("Class name", self.name_edit)
        form.addRow(self.buttons)
        self.name_edit.textChanged.connect(self._enable)
        self._enable(text)

    def _enable(self, text: str) -> None:
        self.buttons.button(QtWidgets.QDialogButtonBox.Ok).setEnabled(bool(text.strip()))

    def _submit(self) -> None:
        name = self.name_edit.text().strip()
        if name:
            self.named.emit(name)
            self.accept()


class ClassSwitcher(QtWidgets.QComboBox):
    class_chosen = QtCore.pyqtSignal(int)  # class id
    add_requested = QtCore.pyqtSignal(str)  # name of the new class
    rename_requested = QtCore.pyqtSignal(int, str)  # class id, new name

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(QtCore.Qt.NoFocus)
        self.setSizeAdjustPolicy(QtWidgets.QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(len("nodule"))  # a crowded toolbar squeezes it to this (its list shows all)
        self.setToolTip("Label class of the current object: keys 1-9 choose one, Ctrl+1-9 give the current object "
                        "that class")
        self.dialog: ClassNameDialog | None = None
        self._classes: list[LabelClass] = []
        self._selected: int | None = None
        self.activated.connect(self._on_activated)

    def set_classes(self, classes: list[LabelClass]) -> None:
        if classes == self._classes and self.count():
            return
        self._classes = list(classes)
        self.blockSignals(True)
        self.clear()
        for k, c in enumerate(classes):
            self.addItem(swatch(c.colour), f"{k + 1} {c.name}" if k < 9 else c.name, c.id)
        self.insertSeparator(self.count())
        self.addItem("Add class…", ADD)
        self.addItem("Rename class…", RENAME)
        self.blockSignals(False)
        self._show_selected()

    def show_class(self, class_id: int) -> None:
        self._selected = class_id
        self._show_selected()

    def _show_selected(self) -> None:
        index = self.findData(self._selected)
        if index >= 0 and index != self.currentIndex():
            self.blockSignals(True)
            self.setCurrentIndex(index)
            self.blockSignals(False)

    def _on_activated(self, index: int) -> None:
        data = self.itemData(index)
        self._show_selected()  # the entries after the classes are commands, never the selection
        if data == ADD:
            self._ask("Add class", "", self.add_requested.emit)
        elif data == RENAME:
            chosen = next((c for c in self._classes if c.id == self._selected), None)
            if chosen is not None:
                self._ask(f"Rename class {chosen.name!r}", chosen.name,
                          lambda name: self.rename_requested.emit(chosen.id, name))
        elif isinstance(data, int):
            self.class_chosen.emit(data)

    def _ask(self, title: str, text: str, then: Callable[[str], None]) -> None:
        if self.dialog is not None:
            self.dialog.close()
        self.dialog = ClassNameDialog(title, text, self.window())
        self.dialog.named.connect(then)
        self.dialog.show()
        self.dialog.name_edit.setFocus()
