"""A project that cannot be edited: the amber bar above the image saying why edits are off, with "Save a copy…"
(a complete, writable copy of the project in a folder the user picks, made on a worker thread), and the one-line
refusal every edit action gives up front instead of letting the store raise.

A bar, not a dialog: the project stays usable for viewing and export, and nothing interrupts the user."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PyQt5 import QtCore, QtWidgets

from core.project.location import save_copy
from core.project.store import ProjectStore
from gui.project_session import ProjectSession

REFUSED = "This project is read-only: edits are off (use “Save a copy…” to edit a copy)"
BANNER_STYLE = "background: #f5b942; color: #201600; padding: 6px 10px;"


def refused(store: ProjectStore | None, say: Callable[[str], None]) -> bool:
    """Whether edits of `store` are off; if so `say` tells the user why (the caller then does nothing)."""
    if store is None or store.read_only_reason is None:
        return False
    say(REFUSED)
    return True


def banner_text(why: str) -> str:
    return f"This project is read-only ({why}): you can view and export; edits are off"


class ReadOnlyBanner(QtWidgets.QFrame):
    """The bar; hidden until `show_reason`. "Save a copy…" asks for a folder (`ask_folder`, patched in tests) and
    copies the project there; `copy_saved(folder)` or `copy_failed(message)` follow on the GUI thread."""

    copy_saved = QtCore.pyqtSignal(object)  # the copy's project folder (Path)
    copy_failed = QtCore.pyqtSignal(str)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("readOnlyBanner")
        self.setStyleSheet(f"QFrame#readOnlyBanner {{ {BANNER_STYLE} }}")
        self.label = QtWidgets.QLabel()
        self.label.setWordWrap(True)
        self.save_button = QtWidgets.QPushButton("Save a copy…")
        self.save_button.setToolTip("Copy the project, with all its annotations, to a folder you can write")
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.save_button)
        self.save_button.clicked.connect(self.offer_copy)
        self._session: ProjectSession | None = None
        self.hide()

    def ask_folder(self) -> str:
        return QtWidgets.QFileDialog.getExistingDirectory(self.window(), "Save a copy of the project in (an empty "
                                                                         "folder)", str(Path.home()))

    def show_reason(self, session: ProjectSession, why: str) -> None:
        self._session = session
        self.label.setText(banner_text(why))
        self.show()

    def clear(self) -> None:
        self._session = None
        self.hide()

    def offer_copy(self, session: ProjectSession | None = None) -> None:
        """Ask for a folder and save a copy of the project there (a damaged project too: what can be read)."""
        session = session or self._session
        if session is None:
            return
        folder = self.ask_folder()
        if not folder:
            return
        store = session.store
        self.save_button.setEnabled(False)

        def done(copy: Path) -> None:
            self.save_button.setEnabled(True)
            self.copy_saved.emit(copy)

        def failed(exc: BaseException) -> None:
            self.save_button.setEnabled(True)
            self.copy_failed.emit(f"The copy could not be saved: {exc}")

        session.workers.aux.submit(lambda: save_copy(store, folder), done, failed)
