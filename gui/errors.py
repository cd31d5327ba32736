"""Unexpected exceptions: logged with their traceback and shown in a non-modal message box; the app goes on.

Installed as sys.excepthook (PyQt5 routes exceptions raised in slots there) and threading.excepthook; worker
code reports the exceptions it catches through ErrorReporter.report. Every database edit is one transaction, so
an exception mid-edit leaves the project as it was before that edit.

A project that fails while in use is not an unexpected error: a full disk, a refused write and a damaged database
each get their own plain message (what happened, what to do), and for a damaged database the box offers
"Save a copy…" (`backup_requested`), which saves what can still be read before anything else goes wrong."""
from __future__ import annotations

import logging
import sys
import threading
import traceback
from pathlib import Path
from types import TracebackType

from PyQt5 import QtCore, QtWidgets

from core.errors import ProjectCorrupt, ProjectDiskFull, ProjectPermissionDenied, ProjectReadOnly

log = logging.getLogger("sonoclick")


def setup_logging(path: Path) -> Path | None:
    """Append the app's log to `path` (folders created); None when it cannot be written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return path


# what the user reads first for each failing-project class (the error's own text, naming the file, follows)
PROJECT_PROBLEMS: dict[type[BaseException], str] = {
    ProjectDiskFull: "The disk is full: your last edit was not saved. Free some space, then redo it.",
    ProjectCorrupt: "The project database is damaged. Save a copy of it now (Save a copy…), before anything else.",
    ProjectPermissionDenied: "The project can no longer be written (permission denied): your last edit was not "
                             "saved. Reopen the project to view and export it read-only.",
    ProjectReadOnly: "This project is read-only: edits are off.",
}


def project_problem(exc_type: type[BaseException]) -> str | None:
    """The plain message for a failing-project error class, or None for any other exception."""
    return next((text for cls, text in PROJECT_PROBLEMS.items() if issubclass(exc_type, cls)), None)


class ErrorReporter(QtCore.QObject):
    """Thread-safe: reports from any thread are shown on the GUI thread (queued signal)."""

    shown = QtCore.pyqtSignal(str)  # the summary line, after the message box is up
    backup_requested = QtCore.pyqtSignal()  # "Save a copy…" pressed in the box of a damaged database
    _deliver = QtCore.pyqtSignal(str, str, bool, bool)  # summary, details, is_warning, offer a copy

    def __init__(self, log_path: Path | None = None, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.log_path = log_path
        self._parent = parent
        self._box: QtWidgets.QMessageBox | None = None
        self._count = 0
        self._previous_hooks: tuple | None = None
        self._copy_button: QtWidgets.QPushButton | None = None
        self._deliver.connect(self._show, QtCore.Qt.QueuedConnection)

    def set_window(self, window: QtWidgets.QWidget) -> None:
        """The window the message box belongs to (it stays on top of it, never modal)."""
        self._parent = window
        self.setParent(window)

    # ----- installation -------------------------------------------------------------------------------
    def install(self) -> None:
        self._previous_hooks = (sys.excepthook, threading.excepthook)
        sys.excepthook = self.excepthook
        threading.excepthook = self._thread_hook

    def uninstall(self) -> None:
        if self._previous_hooks is not None:
            sys.excepthook, threading.excepthook = self._previous_hooks
            self._previous_hooks = None

    def excepthook(self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            QtWidgets.QApplication.quit()
            return
        self._report(exc_type, exc, tb, "Unexpected error")

    def _thread_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_type is not None and args.exc_value is not None:
            self._report(args.exc_type, args.exc_value, args.exc_traceback, "Unexpected error in a background task")

    # ----- reporting ----------------------------------------------------------------------------------
    def report(self, exc: BaseException, context: str = "Unexpected error") -> None:
        """An exception caught by worker code: log it and show it."""
        self._report(type(exc), exc, exc.__traceback__, context)

    def warn(self, message: str) -> None:
        """An expected problem (a bad file, say): log and show the one-line message, no traceback."""
        log.warning(message)
        self._deliver.emit(message, "", True, False)

    def _report(self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None,
                context: str) -> None:
        details = "".join(traceback.format_exception(exc_type, exc, tb))
        log.error("%s: %s", context, details.rstrip())
        problem = project_problem(exc_type)
        if problem is not None:
            self._deliver.emit(f"{problem}\n\n{exc}", details, True, issubclass(exc_type, ProjectCorrupt))
            return
        summary = f"{context}: {exc_type.__name__}: {exc}".strip()
        self._deliver.emit(summary, details, False, False)

    def _show(self, summary: str, details: str, is_warning: bool, offer_copy: bool) -> None:
        self._count += 1
        box = self._box
        if box is None or not box.isVisible():
            box = self._box = QtWidgets.QMessageBox(self._parent)
            box.setWindowTitle("SonoClick")
            box.setWindowModality(QtCore.Qt.NonModal)
            box.setStandardButtons(QtWidgets.QMessageBox.Close)
            self._count = 1
        box.setIcon(QtWidgets.QMessageBox.Warning if is_warning else QtWidgets.QMessageBox.Critical)
        extra = f"\n\n({self._count} problems so far)" if self._count > 1 else ""
        where = f"\n\nDetails are in the log: {self.log_path}" if self.log_path and not is_warning else ""
        box.setText(f"{summary}{extra}")
        box.setInformativeText(
            ("Your annotations up to the last completed edit are saved." if not is_warning else "") + where
        )
        box.setDetailedText(details)
        if offer_copy and self.copy_button is None:
            self._copy_button = box.addButton("Save a copy…", QtWidgets.QMessageBox.ActionRole)
            self._copy_button.clicked.connect(self.backup_requested)
        box.show()  # never exec(): the message must not block annotation
        self.shown.emit(summary)

    @property
    def copy_button(self) -> QtWidgets.QPushButton | None:
        """The box's "Save a copy…" button while one is offered (tests press it)."""
        box = self._box
        return self._copy_button if box is not None and self._copy_button in box.buttons() else None
