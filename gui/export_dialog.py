"""Export and import (non-modal), both through core.exchange's format registry. Export writes the checked formats
into the chosen folder, all or nothing, accepted masks only (drafts are counted and left out). Import reads a
file or folder in any readable format, checks all of it and lists what will change; "Apply" then writes it in one
transaction. A point JSON or a mask can also go straight into the shown frame. Work runs off the GUI thread;
results and problems are listed in the dialog, never in a blocking box."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PyQt5 import QtCore, QtWidgets

from core.errors import SonoClickError
from core.exchange.export import ExportReport, export_project
from core.exchange.file_exchange import DEFAULT_EXPORT, import_mask, import_point_json
from core.exchange.importing import ImportPlan, apply_import, plan_import
from core.exchange.registry import formats
from core.project.classes import DEFAULT_CLASS_ID
from core.project.display_status import draft_frame_ids
from core.project.store import ProjectStore
from gui.project_session import ProjectSession
from gui.read_only_banner import refused

FILE_FORMATS = {"coco": "COCO JSON (*.json)", "cvat": "CVAT XML (*.xml)", "labelme": "labelme JSON (*.json)",
                "points": "Point JSON (*.json)", "dicom-seg": "DICOM-SEG (*.dcm)",
                "tags": "Frame tags CSV (*.csv)"}  # the others take a folder


def count_draft_frames(store: ProjectStore) -> int:
    """Frames with at least one mask that is still a draft (worker thread)."""
    return len(draft_frame_ids(store))


def apply_and_group(store: ProjectStore, plan: ImportPlan) -> list[int]:
    """Apply the plan, all or nothing, as one undo step (worker thread)."""
    return apply_import(store, plan)


class ExportDialog(QtWidgets.QDialog):
    finished_work = QtCore.pyqtSignal(str)  # a line describing the outcome (tests wait for it)

    def __init__(self, session: ProjectSession, current_frame: Callable[[], int | None],
                 current_object: Callable[[], int], after_import: Callable[[list[int]], None],
                 parent: QtWidgets.QWidget | None = None, current_class: Callable[[], int] | None = None) -> None:
        """current_object / current_class: the object a mask file goes into, and its class (the selected one)."""
        super().__init__(parent)
        self.setWindowTitle("Export / import")
        self.setModal(False)
        self._session = session
        self._current_frame = current_frame
        self._current_object = current_object
        self._current_class = current_class or (lambda: DEFAULT_CLASS_ID)
        self._after_import = after_import
        self._plan: ImportPlan | None = None
        known = formats()

        self.folder_edit = QtWidgets.QLineEdit(str(session.folder.parent / "sonoclick-export"))
        browse = QtWidgets.QPushButton("Browse…")
        self.export_button = QtWidgets.QPushButton("Export")
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.folder_edit, 1)
        row.addWidget(browse)
        export_box = QtWidgets.QGroupBox("Export every annotated frame (accepted masks; drafts are left out)")
        export_layout = QtWidgets.QVBoxLayout(export_box)
        export_layout.addLayout(row)
        self.format_list = QtWidgets.QListWidget()
        for name, fmt in known.items():
            if fmt.writer is None:
                continue
            item = QtWidgets.QListWidgetItem(f"{fmt.title} — {fmt.writes}")
            item.setData(QtCore.Qt.UserRole, name)
            item.setFlags(item.flags() | QtCore.Qt.ItemIsUserCheckable)
            item.setCheckState(QtCore.Qt.Checked if name in DEFAULT_EXPORT else QtCore.Qt.Unchecked)
            self.format_list.addItem(item)
        self.format_list.setMaximumHeight(150)
        export_layout.addWidget(self.format_list)
        self.drafts_note = QtWidgets.QLabel("")
        self.drafts_note.setWordWrap(True)
        self.drafts_note.setStyleSheet("color: #f5c400;")
        export_layout.addWidget(self.drafts_note)
        export_layout.addWidget(self.export_button, 0, QtCore.Qt.AlignRight)

        import_box = QtWidgets.QGroupBox("Import")
        import_layout = QtWidgets.QVBoxLayout(import_box)
        pick = QtWidgets.QHBoxLayout()
        self.import_format = QtWidgets.QComboBox()
        for name, fmt in known.items():
            if fmt.reader is not None:
                self.import_format.addItem(fmt.title, name)
        self.import_button = QtWidgets.QPushButton("Choose and check…")
        self.apply_button = QtWidgets.QPushButton("Apply import")
        self.apply_button.setEnabled(False)
        pick.addWidget(self.import_format, 1)
        pick.addWidget(self.import_button)
        pick.addWidget(self.apply_button)
        import_layout.addLayout(pick)
        self.import_json_button = QtWidgets.QPushButton("Point JSON into this frame…")
        self.import_mask_button = QtWidgets.QPushButton("Mask PNG into this frame's current object…")
        for button in (self.import_json_button, self.import_mask_button):
            import_layout.addWidget(button)

        self.log = QtWidgets.QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(2000)
        close = QtWidgets.QPushButton("Close")
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(export_box)
        layout.addWidget(import_box)
        layout.addWidget(self.log, 1)
        layout.addWidget(close, 0, QtCore.Qt.AlignRight)
        self.resize(680, 640)

        browse.clicked.connect(self._browse)
        self.export_button.clicked.connect(lambda: self.export_to(Path(self.folder_edit.text())))
        self.import_button.clicked.connect(self._pick_and_plan)
        self.apply_button.clicked.connect(self.apply_plan)
        self.import_json_button.clicked.connect(lambda: self._pick_and_import("Point JSON (*.json)", "json"))
        self.import_mask_button.clicked.connect(lambda: self._pick_and_import("Masks (*.png *.tif *.tiff)", "mask"))
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

    def chosen_formats(self) -> list[str]:
        items = (self.format_list.item(k) for k in range(self.format_list.count()))
        return [i.data(QtCore.Qt.UserRole) for i in items if i.checkState() == QtCore.Qt.Checked]

    def set_formats(self, names: list[str]) -> None:
        for k in range(self.format_list.count()):
            item = self.format_list.item(k)
            item.setCheckState(QtCore.Qt.Checked if item.data(QtCore.Qt.UserRole) in names else QtCore.Qt.Unchecked)

    def export_to(self, folder: Path) -> None:
        names = self.chosen_formats()
        if not names:
            self._say("Tick at least one format")
            return
        self.export_button.setEnabled(False)
        self.log.appendPlainText(f"Exporting {', '.join(names)} to {folder} …")

        def done(report: ExportReport) -> None:
            self.export_button.setEnabled(True)
            self.export_button.setFocus()  # disabling it sent the focus to an import button (Enter: a dialog)
            for line in report.skipped:
                self.log.appendPlainText(f"Skipped: {line}")
            drafts = report.draft_masks
            note = f" ({drafts} draft mask{'s' if drafts != 1 else ''} not accepted, left out)" if drafts else ""
            self._say(f"Exported {report.frames} frames, {report.objects} objects ({', '.join(report.formats)}) to "
                      f"{folder}" + (f"; {len(report.skipped)} left out" if report.skipped else "") + note)

        def failed(exc: BaseException) -> None:
            self.export_button.setEnabled(True)
            self.export_button.setFocus()
            self._failed(exc)

        store = self._session.store
        self._session.jobs.submit(lambda: export_project(store, folder, names), done, failed)

    # ----- import through the registry ------------------------------------------------------------------
    def _pick_and_plan(self) -> None:
        if refused(self._session.store, self._say):  # an import edits the project
            return
        name = self.import_format.currentData()
        start = self.folder_edit.text()
        if name in FILE_FORMATS:
            path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Import", start, FILE_FORMATS[name] + ";;Folder…")
            if not path:
                path = QtWidgets.QFileDialog.getExistingDirectory(self, "Import folder", start)
        else:
            path = QtWidgets.QFileDialog.getExistingDirectory(self, "Import folder", start)
        if path:
            self.check_import(name, Path(path))

    def check_import(self, format_name: str, path: Path, sources: Path | None = None) -> None:
        """Read and check `path`, then list what the import would change (nothing is written yet)."""
        self._plan = None
        self.apply_button.setEnabled(False)
        self.log.appendPlainText(f"Checking {path} ({format_name}) …")
        store = self._session.store

        def done(plan: ImportPlan) -> None:
            self._plan = plan
            for line in plan.preview():
                self.log.appendPlainText(line)
            self.apply_button.setEnabled(bool(plan.changes))
            self._say(f"Ready to import {len(plan.changes)} frames — press Apply import" if plan.changes
                      else "Nothing to import")

        self._session.jobs.submit(lambda: plan_import(store, format_name, path, sources), done, self._failed)

    def apply_plan(self) -> None:
        plan = self._plan
        if plan is None:
            return
        self._plan = None
        self.apply_button.setEnabled(False)
        store = self._session.store

        def done(changed: list[int]) -> None:
            self._after_import(changed)
            self._say(f"Imported annotations for {len(changed)} frames from {plan.input}")

        self._session.jobs.submit(lambda: apply_and_group(store, plan), done, self._failed)

    # ----- one file into the shown frame --------------------------------------------------------------
    def _pick_and_import(self, file_filter: str, kind: str) -> None:
        if refused(self._session.store, self._say):
            return
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
        object_id, class_id = self._current_object(), self._current_class()
        store = self._session.store

        def work() -> None:
            with store.action(f"Import {path.name}", frame_id):
                if kind == "json":
                    import_point_json(store, frame_id, path)
                else:
                    import_mask(store, frame_id, path, object_id)
                    store.set_object_class(frame_id, object_id, class_id)

        def done(_: None) -> None:
            self._after_import([frame_id])
            self._say(f"Imported {path.name}")

        self._session.jobs.submit(work, done, self._failed)
