"""The main window's dialogs and files: help, export/import, open folder or file, the click network, recent
projects."""
from __future__ import annotations

from pathlib import Path

from PyQt5 import QtWidgets

from core.project.classes import DEFAULT_CLASS_ID
from core.project.display_status import list_frames
from core.serving.click_model import CLICK_MODEL_SETTING
from gui.export_dialog import ExportDialog
from gui.read_only_banner import refused
from gui.shortcuts import ShortcutsDialog


class FileActions:
    """Mixin of MainWindow: dialogs, files and recent projects."""

    # ----- dialogs and files ---------------------------------------------------------------------------
    def show_shortcuts(self) -> None:
        dialog = self._dialogs.get("help") or ShortcutsDialog(self)
        self._dialogs["help"] = dialog
        dialog.show()
        dialog.raise_()

    def show_export_dialog(self) -> ExportDialog | None:
        if self.session is None:
            self.statusBar().showMessage("Open a project first", 6000)
            return None
        dialog = self._dialogs.get("export")
        if not isinstance(dialog, ExportDialog) or dialog.parent() is None or getattr(dialog, "_session", None) \
                is not self.session:
            dialog = ExportDialog(self.session, lambda: self.controller.current_frame_id if self.controller else None,
                                  lambda: self.controller.current_object if self.controller else 0,
                                  self._after_import, self,
                                  lambda: self.controller.selected_class if self.controller else DEFAULT_CLASS_ID)
            self._dialogs["export"] = dialog
        dialog.show()
        dialog.raise_()
        return dialog

    def refresh_frames(self, frame_ids: list[int]) -> None:
        """Frames changed outside the editor (imports, propagation): read them again, and every status."""
        self._after_import(frame_ids)

    def _after_import(self, frame_ids: list[int]) -> None:
        if self.session is None or self.controller is None:
            return
        for fid in frame_ids:
            self.controller.reload(fid)
        self.frame_tags.schedule_refresh()
        session = self.session
        session.jobs.submit(lambda: list_frames(session.store)[1],
                            lambda statuses: [self.frame_list.set_status(f, s) for f, s in statuses.items()])

    def _ask_open_folder(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "Open a folder of frames or a project")
        if folder:
            self.open_path(folder)

    def _ask_open_file(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Open a frame file", "",
            "Frames (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.dcm *.dicom *.avi *.mp4 *.mov *.mkv);;All files (*)")
        if path:
            self.open_path(path)

    def _ask_click_model(self) -> None:
        if self.session is None or self.controller is None:
            return
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Choose a click network (a model file trained to follow clicks)", "",
            "SonoClick models (*.safetensors *.pt);;All files (*)")
        if path:
            self.use_click_model(Path(path))

    def use_click_model(self, path: Path) -> None:
        """Answer clicks with this click network from now on (it loads in the background; until then, and if it
        fails, clicks are answered without it)."""
        assert self.session is not None and self.controller is not None
        session, controller = self.session, self.controller
        if refused(session.store, lambda text: self.statusBar().showMessage(text, 6000)):
            return
        session.model.clicks.forget_failure(path)

        def chosen(_: object) -> None:
            self.statusBar().showMessage(f"Clicks are answered with {path.name} once it has loaded", 8000)
            current = controller.current
            if current is not None:
                controller.reload(current.frame_id)

        session.jobs.submit(lambda: session.store.set_setting(CLICK_MODEL_SETTING, str(path)), chosen)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        entries = self.recent.load()
        if not entries:
            self.recent_menu.addAction("(none)").setEnabled(False)
        for project in entries:
            action = self.recent_menu.addAction(self._project_title(project))
            action.triggered.connect(lambda _=False, p=project: self.open_path(p))
