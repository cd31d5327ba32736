"""Export and import (non-modal). Export writes, under the chosen folder, masks/<name>.png (PNG masks),
labels/<name>.json (HCL-HRL point JSON) and measurements.csv (core.project.file_exchange.export_project). Import takes a
point JSON or a mask into the shown frame, or a whole folder laid out like an export (matched by name). Work
runs off the GUI thread; results and problems are listed in the dialog, never in a blocking box."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PyQt5 import QtCore, QtWidgets

from core.errors import SonoClickError
from core.project.display_status import draft_frame_ids
from core.project.file_exchange import ExportSummary, export_names, export_project, import_mask, import_point_json
from core.project.store import ProjectStore
from gui.project_session import ProjectSession


def import_folder(store: ProjectStore, folder: Path) -> tuple[list[int], list[str]]:
    """Import folder/labels/<name>.json and folder/masks/<name>.png for every frame whose export name matches.
    Returns the frames changed and one line per file that failed (the others are still imported)."""
    records = [r for r in store.frames() if r.readable]
    names = export_names(store.frames())
    changed: list[int] = []
    problems: list[str] = []
    for record in records:
        name = names[record.id]
        for path, action in ((folder / "labels" / f"{name}.json", import_point_json),
                             (folder / "masks" / f"{name}.png", import_mask)):
            if not path.is_file():
                continue
            try:
                with store.action(f"Import {path.name}", record.id):
                    action(store, record.id, path)
            except SonoClickError as exc:
                problems.append(str(exc))
                continue
            if record.id not in changed:
                changed.append(record.id)
    return changed, problems


def count_draft_frames(store: ProjectStore) -> int:
    """Frames with at least one mask that is still a draft (worker thread)."""
    return len(draft_frame_ids(store))


class ExportDialog(QtWidgets.QDialog):
    finished_work = QtCore.pyqtSignal(str)  # a line describing the outcome (tests wait for it)

    def __init__(self, session: ProjectSession, current_frame: Callable[[], int | None],
                 current_object: Callable[[], int], after_import: Callable[[list[int]], None],
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export / import")
        self.setModal(False)
        self._session = session
        self._current_frame = current_frame
        self._current_object = current_object
        self._after_import = after_import

        self.folder_edit = QtWidgets.QLineEdit(str(session.folder.parent / "sonoclick-export"))
        browse = QtWidgets.QPushButton("Browse…")
        self.export_button = QtWidgets.QPushButton("Export")
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.folder_edit, 1)
        row.addWidget(browse)
        export_box = QtWidgets.QGroupBox("Export every annotated frame")
        export_layout = QtWidgets.QVBoxLayout(export_box)
        export_layout.addLayout(row)
        explain = QtWidgets.QLabel("Writes, for every frame with calipers or a mask:\n"
                                   "  masks/<name>.png — the accepted mask, 0 / 255 (drafts are left out)\n"
                                   "  labels/<name>.json — HCL-HRL point JSON (long axis, then short axis)\n"
                                   "  measurements.csv — both axes per nodule, in mm when the spacing is known")
        export_layout.addWidget(explain)
        self.drafts_note = QtWidgets.QLabel("")
        self.drafts_note.setWordWrap(True)
        self.drafts_note.setStyleSheet("color: #f5c400;")
        export_layout.addWidget(self.drafts_note)
        export_layout.addWidget(self.export_button, 0, QtCore.Qt.AlignRight)

        import_box = QtWidgets.QGroupBox("Import")
        import_layout = QtWidgets.QVBoxLayout(import_box)
        self.import_json_button = QtWidgets.QPushButton("Point JSON into this frame…")
        self.import_mask_button = QtWidgets.QPushButton("Mask PNG into this frame's current nodule…")
        self.import_folder_button = QtWidgets.QPushButton("Folder laid out like an export…")
        for button in (self.import_json_button, self.import_mask_button, self.import_folder_button):
            import_layout.addWidget(button)

        self.log = QtWidgets.QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(500)
        close = QtWidgets.QPushButton("Close")
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(export_box)
        layout.addWidget(import_box)
        layout.addWidget(self.log, 1)
        layout.addWidget(close, 0, QtCore.Qt.AlignRight)
        self.resize(600, 520)

        browse.clicked.connect(self._browse)
        self.export_button.clicked.connect(lambda: self.export_to(Path(self.folder_edit.text())))
        self.import_json_button.clicked.connect(lambda: self._pick_and_import("Point JSON (*.json)", "json"))
        self.import_mask_button.clicked.connect(lambda: self._pick_and_import("Masks (*.png *.tif *.tiff)", "mask"))
        self.import_folder_button.clicked.connect(self._pick_folder_and_import)
        close.clicked.connect(self.close)

    def showEvent(self, event: QtCore.QEvent) -> None:  # noqa: N802
        super().showEvent(event)
        self._session.jobs.submit(lambda: count_draft_frames(self._session.store), self._show_drafts)

    def _show_drafts(self, count: int) -> None:
        self.drafts_note.setText(
            f"{count} frame{'s have' if count != 1 else ' has'} a draft mask not yet accepted (Enter); "
            "the export leaves it out." if count else "")

    def _say(self, text: str) -> None:
        self.log.appendPlainText(text)
        self.finished_work.emit(text)

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, SonoClickError):
            self._say(f"Failed: {exc}")
        else:
            self._say(f"Failed: {type(exc).__name__}: {exc}")
            raise exc

    # ----- export --------------------------------------------------------------------------------------
    def _browse(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "Export to", self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)

    def export_to(self, folder: Path) -> None:
        self.export_button.setEnabled(False)
        self.log.appendPlainText(f"Exporting to {folder} …")

        def done(summary: ExportSummary) -> None:
            self.export_button.setEnabled(True)
            self.export_button.setFocus()  # disabling it sent the focus to an import button (Enter: a dialog)
            skipped = summary.draft_masks_skipped
            self._say(f"Exported {len(summary.masks)} masks, {len(summary.labels)} point files and "
                      f"{summary.measurements} to {folder}"
                      + (f" ({skipped} draft mask{'s' if skipped != 1 else ''} not accepted, left out)"
                         if skipped else ""))

        def failed(exc: BaseException) -> None:
            self.export_button.setEnabled(True)
            self.export_button.setFocus()
            self._failed(exc)

        store = self._session.store
        self._session.jobs.submit(lambda: export_project(store, folder), done, failed)

    # ----- import --------------------------------------------------------------------------------------
    def _pick_and_import(self, file_filter: str, kind: str) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Import", str(self._session.folder.parent),
                                                        file_filter)
        if path:
            self.import_file(Path(path), kind)

    def import_file(self, path: Path, kind: str) -> None:
        """Import a point JSON ("json") or a mask ("mask") into the shown frame."""
        frame_id = self._current_frame()
        if frame_id is None:
            self._say("Open a frame first")
            return
        object_id = self._current_object()
        store = self._session.store

        def work() -> None:
            with store.action(f"Import {path.name}", frame_id):
                if kind == "json":
                    import_point_json(store, frame_id, path)
                else:
                    import_mask(store, frame_id, path, object_id)

        def done(_: None) -> None:
            self._after_import([frame_id])
            self._say(f"Imported {path.name}")

        self._session.jobs.submit(work, done, self._failed)

    def _pick_folder_and_import(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "Import folder", self.folder_edit.text())
        if folder:
            self.import_from(Path(folder))

    def import_from(self, folder: Path) -> None:
        store = self._session.store

        def done(result: tuple[list[int], list[str]]) -> None:
            changed, problems = result
            self._after_import(changed)
            for line in problems:
                self.log.appendPlainText(f"Skipped: {line}")
            self._say(f"Imported annotations for {len(changed)} frames from {folder}"
                      + (f" ({len(problems)} files skipped)" if problems else ""))

        self._session.jobs.submit(lambda: import_folder(store, folder), done, self._failed)
