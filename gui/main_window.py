"""The main window: frame list (left), frame view with cine bar (centre), nodules and display controls (right),
tools in the toolbar, and everything reachable by keyboard (gui/shortcuts.py). No Save button: every edit is
written as it happens, and no modal dialog interrupts annotation."""
from __future__ import annotations

import gc
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PyQt5 import QtCore, QtWidgets

from core.errors import SonoClickError
from core.project.display_status import DisplayStatus, list_frames
from core.project.location import OpenPlan, fallback_plan, open_project, plan_open
from core.project.recent import RecentProjects
from core.project.store import ProjectStore
from core.serving.click_model import CLICK_MODEL_SETTING
from gui.cine_bar import CineBar
from gui.controller import AnnotationController
from gui.display_panel import DisplayPanel
from gui.errors import ErrorReporter
from gui.export_dialog import ExportDialog
from gui.frame_list import FrameList
from gui.frame_loader import LoadedFrame
from gui.frame_view import FrameView
from gui.menus import build_menus, build_toolbar, make_actions
from gui.project_session import ProjectSession
from gui.propagation_bar import PropagationUi
from gui.shortcuts import ShortcutsDialog
from gui.tools import Tool, ToolDispatcher
from gui.training_controller import TrainingController, TrainingOptions
from gui.training_dock import TrainingDock
from gui.window_level import WindowLevel

log = logging.getLogger("sonoclick")


class MainWindow(QtWidgets.QMainWindow):
    frame_displayed = QtCore.pyqtSignal(int)  # a frame and its annotations are on screen

    def __init__(self, reporter: ErrorReporter | None = None, recent: RecentProjects | None = None) -> None:
        super().__init__()
        self.setWindowTitle("SonoClick")
        self.reporter = reporter or ErrorReporter(parent=self)
        self.recent = recent or RecentProjects()
        self.session: ProjectSession | None = None
        self.controller: AnnotationController | None = None
        self._select_source: Path | None = None
        self._loaded: LoadedFrame | None = None
        self.window_level = WindowLevel(self)
        self.last_click_to_mask: float | None = None
        self._dialogs: dict[str, QtWidgets.QDialog] = {}
        self.training: TrainingController | None = None
        self.training_options: TrainingOptions | None = None  # None: defaults + the project's "trainer.options"

        self.view = FrameView()
        self.cine = CineBar()
        centre = QtWidgets.QWidget()
        centre_layout = QtWidgets.QVBoxLayout(centre)
        centre_layout.setContentsMargins(0, 0, 0, 0)
        centre_layout.setSpacing(0)
        centre_layout.addWidget(self.view, 1)
        centre_layout.addWidget(self.cine)
        self.setCentralWidget(centre)
        self.frame_list = FrameList()
        self.panel = DisplayPanel()
        self._dock("Frames", self.frame_list, QtCore.Qt.LeftDockWidgetArea, 275)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidget(self.panel)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.NoFrame)
        scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarAlwaysOff)
        self._dock("Nodules and display", scroll, QtCore.Qt.RightDockWidgetArea, 285)
        self.training_dock = TrainingDock()
        training_scroll = QtWidgets.QScrollArea()
        training_scroll.setWidget(self.training_dock)
        training_scroll.setWidgetResizable(True)
        training_scroll.setFrameShape(QtWidgets.QFrame.NoFrame)
        training_scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarAlwaysOff)
        self._dock("Model training", training_scroll, QtCore.Qt.RightDockWidgetArea, 285)
        docks = {d.objectName(): d for d in self.findChildren(QtWidgets.QDockWidget)}
        self.tabifyDockWidget(docks["Nodules and display"], docks["Model training"])  # a tab beside the nodules
        self.setTabPosition(QtCore.Qt.RightDockWidgetArea, QtWidgets.QTabWidget.North)
        docks["Nodules and display"].raise_()
        self.training_dock_widget = docks["Model training"]
        self.tools = ToolDispatcher(None, self.view, self.window_level.drag)
        self.propagation = PropagationUi(self)

        self.frame_label = QtWidgets.QLabel()
        self.timing_label = QtWidgets.QLabel()
        self.cursor_label = QtWidgets.QLabel()
        self.model_label = QtWidgets.QLabel()  # while the frame model is still starting
        for label in (self.cursor_label, self.model_label, self.frame_label, self.timing_label):
            label.setContentsMargins(10, 0, 10, 0)
            self.statusBar().addPermanentWidget(label)
        self.timing_label.setToolTip("Time from your last click to its mask on screen")

        self._build_actions()
        self._redraw_timer = QtCore.QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(0)
        self._redraw_timer.timeout.connect(self._redraw)
        self._remember_timer = QtCore.QTimer(self)
        self._remember_timer.setSingleShot(True)
        self._remember_timer.setInterval(1000)
        self._remember_timer.timeout.connect(self._remember_frame)

        self.frame_list.frame_chosen.connect(self.show_frame)
        self.cine.frame_chosen.connect(self.show_frame)
        self.view.hovered.connect(self._on_hover)
        self.panel.overlay_toggled.connect(lambda _: self._schedule_redraw())
        self.panel.opacity_changed.connect(lambda _: self._schedule_redraw())
        self.panel.confidence_toggled.connect(lambda _: self._schedule_redraw())
        self.panel.levels_changed.connect(self.window_level.set_by_hand)
        self.panel.levels_reset.connect(self.window_level.reset)
        self.window_level.changed.connect(self.view.set_levels)
        self.window_level.changed.connect(self.panel.show_levels)
        self.panel.brush_changed.connect(self.tools.set_brush_radius)
        for box in (self.panel.window_box, self.panel.level_box, self.panel.brush):
            box.editingFinished.connect(self.view.setFocus)  # keys go back to the annotation shortcuts
        self.view.setFocusPolicy(QtCore.Qt.StrongFocus)
        self.tools.tool_changed.connect(self._on_tool_changed)
        self.set_tool(Tool.CALIPERS)

    # ----- construction --------------------------------------------------------------------------------
    def _dock(self, title: str, widget: QtWidgets.QWidget, area: QtCore.Qt.DockWidgetArea, width: int) -> None:
        dock = QtWidgets.QDockWidget(title, self)
        dock.setObjectName(title)
        dock.setWidget(widget)
        dock.setFeatures(QtWidgets.QDockWidget.DockWidgetMovable | QtWidgets.QDockWidget.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        self.resizeDocks([dock], [width], QtCore.Qt.Horizontal)

    def _build_actions(self) -> None:
        c = self._with_controller
        handlers = {
            "calipers": lambda: self.set_tool(Tool.CALIPERS),
            "clicks": lambda: self.set_tool(Tool.CLICKS),
            "brush": lambda: self.set_tool(Tool.BRUSH),
            "eraser": lambda: self.set_tool(Tool.ERASER),
            "brush_smaller": lambda: self.panel.brush.setValue(self.panel.brush.value() - 1),
            "brush_larger": lambda: self.panel.brush.setValue(self.panel.brush.value() + 1),
            "new_object": lambda: c(lambda ctl: ctl.new_object()),
            "delete_object": lambda: c(lambda ctl: ctl.delete_object()),
            "accept": lambda: c(lambda ctl: ctl.accept()),
            "undo": lambda: c(lambda ctl: ctl.undo()),
            "redo": lambda: c(lambda ctl: ctl.redo()),
            "next": lambda: self.step_frame(1),
            "previous": lambda: self.step_frame(-1),
            "next_unlabelled": self.next_unlabelled,
            "next_useful": self.next_most_useful,
            "train": lambda: self.training.train() if self.training else None,
            "toggle_overlay": self.panel.show_masks.toggle,
            "toggle_confidence": self.panel.confidence.toggle,
            "play": lambda: self.cine.set_playing(not self.cine.playing),
            "propagate": lambda: self.propagation.propagate("both"),
            "propagate_forward": lambda: self.propagation.propagate("forward"),
            "propagate_backward": lambda: self.propagation.propagate("backward"),
            "accept_range": lambda: self.propagation.accept_range(),
            "cancel_propagation": lambda: self.propagation.cancel(),
            "fit": self.view.fit,
            "export": self.show_export_dialog,
            "import": lambda: (dialog := self.show_export_dialog()) and dialog.import_button.setFocus(),
            "open_folder": self._ask_open_folder,
            "open_file": self._ask_open_file,
            "click_model": self._ask_click_model,
            "help": self.show_shortcuts,
            "quit": self.close,
        }
        self.actions = make_actions(self, handlers)
        self.recent_menu = build_menus(self, self.actions)
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self.object_box = QtWidgets.QComboBox()
        self.object_box.setFocusPolicy(QtCore.Qt.NoFocus)
        self.object_box.setToolTip("The nodule that clicks, brush and eraser edit")
        self.object_box.activated.connect(self._on_object_chosen)
        build_toolbar(self, self.actions, self.object_box)
        model_menu = self.menuBar().addMenu("&Model")
        model_menu.addActions([self.actions["train"], self.actions["next_useful"]])
        self.menuBar().insertMenu(self.menuBar().actions()[-2], model_menu)  # before Help

    # ----- projects ------------------------------------------------------------------------------------
    def open_path(self, path: str | Path, project_dir: str | Path | None = None) -> bool:
        """Open a project folder, a folder of frames, or one frame file; False (with a message) if impossible."""
        try:
            plan = plan_open(path, project_dir)
        except FileNotFoundError as exc:
            self.reporter.warn(str(exc))
            return False
        return self.open_plan(plan)

    def open_plan(self, plan: OpenPlan) -> bool:
        self.close_project()
        try:
            store = self._open_store(plan)
        except SonoClickError as exc:
            fallback = fallback_plan(plan)
            if fallback is None:
                self.reporter.warn(f"Cannot open the project: {exc}")
                return False
            log.warning("%s; using %s instead", exc, fallback.project_dir)
            return self.open_plan(fallback)
        log.info("opened project %s", plan.project_dir)
        self.session = ProjectSession(store, lambda exc: self.reporter.report(exc), self)
        self.controller = AnnotationController(store, self.session.workers, self.session.model, self)
        self.tools.controller = self.controller
        c = self.controller
        c.frame_loaded.connect(self._on_frame_loaded)
        c.changed.connect(self._schedule_redraw)
        c.status_changed.connect(self._on_status_changed)
        c.other_frames_changed.connect(self.refresh_frames)
        c.message.connect(lambda text: self.statusBar().showMessage(text, 6000))
        c.click_to_mask.connect(self._on_click_to_mask)
        c.current_object_changed.connect(lambda _: self._schedule_redraw())
        c.model_state.connect(self.model_label.setText)
        self.training = TrainingController(store, self.training_dock, self.session.model,
                                           lambda exc: self.reporter.report(exc), self.training_options,
                                           self.controller.reload, self)
        c.status_changed.connect(self.training.note_status)
        self.training.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.training.show_frame_requested.connect(self.show_frame)
        self.training.frame_status.connect(self._on_status_changed)
        self.session.frames_added.connect(self._on_frames_added)
        self.session.listed.connect(self._on_listed)
        self.session.scan_progress.connect(self._on_scan_progress)
        self.session.scan_finished.connect(self._on_scan_finished)
        self._select_source = plan.select
        self.frame_list.clear()
        self.setWindowTitle(f"SonoClick — {self._project_title(plan.project_dir)}")
        self.recent.add(plan.project_dir)
        self.propagation.project_opened(store)
        self.session.start(plan.sources)
        # Everything alive now (modules, widgets, the project) lives as long as the window: keep it out of the
        # garbage collector's full passes, which otherwise walk it all and can stall the GUI for 50-100 ms.
        # (One full pass now, at opening, frees what the previous project left.)
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        return True

    @staticmethod
    def _open_store(plan: OpenPlan) -> ProjectStore:
        """Create or open the project off the GUI thread (creating it writes the database); opening takes
        milliseconds, so the GUI thread waits for it."""
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sonoclick-open") as opener:
            return opener.submit(open_project, plan).result()

    @staticmethod
    def _project_title(project_dir: Path) -> str:
        return str(project_dir.parent if project_dir.name == ".sonoclick" else project_dir)

    def _remember_frame(self) -> None:
        if self.session is not None and self.controller is not None and self.controller.current_frame_id is not None:
            self.session.remember_frame(self.controller.current_frame_id)

    def close_project(self) -> None:
        if self.session is None:
            return
        self.cine.set_playing(False)
        self._remember_timer.stop()
        self._remember_frame()
        if self.training is not None:
            self.training.close()  # cancels a running training; the project keeps nothing from it
            self.training.deleteLater()
            self.training = None
        self.propagation.project_closed()
        if self.controller is not None:
            self.controller.finish()
            self.controller.deleteLater()
        self.session.close()
        self.session.deleteLater()
        self.session = self.controller = self.tools.controller = None
        self._loaded = None
        self.model_label.setText("")
        self.view.set_frame(None)
        self.frame_list.clear()

    def closeEvent(self, event: QtCore.QEvent) -> None:  # noqa: N802
        self.close_project()
        for dialog in self._dialogs.values():
            dialog.close()
        super().closeEvent(event)

    @property
    def idle(self) -> bool:
        """No scan, load, engine computation or write in progress (tests wait for this)."""
        return self.session is None or (self.session.idle and self.controller is not None and self.controller.idle
                                        and self.propagation.idle)

    # ----- project events ------------------------------------------------------------------------------
    def _first_to_show(self, records: list, last_frame: int | None = None) -> int | None:
        """The opened file's first frame, else the frame shown last time, else the first readable one."""
        if self._select_source is not None:
            wanted = [r.id for r in records if r.source == self._select_source]
            return wanted[0] if wanted else None
        ids = [r.id for r in records]
        if last_frame in ids:
            return last_frame
        return next((r.id for r in records if r.readable), None)

    def _on_frames_added(self, records: list, statuses: dict) -> None:
        self.frame_list.add_frames(records, statuses)
        if self.controller is not None and self.controller.current_frame_id is None and records:
            first = self._first_to_show(records)
            if first is not None:
                self.show_frame(first)

    def _on_listed(self, last_frame: int | None) -> None:
        if self.controller is None or self.controller.current_frame_id is not None:
            return
        records = [self.frame_list.record(f) for f in self.frame_list.frame_ids()]
        first = self._first_to_show([r for r in records if r is not None], last_frame)
        if first is not None:
            self.show_frame(first)

    def _on_scan_progress(self, done: int, total: int) -> None:
        self.frame_list.scanning_text = f"Reading files: {done} / {total}" if done < total else ""

    def _on_scan_finished(self) -> None:
        self.frame_list.scanning_text = ""
        self.frame_list.add_frames([], {})
        if self.controller is not None and self.controller.current_frame_id is None:
            ids = self.frame_list.frame_ids()
            readable = [f for f in ids if self.frame_list.status(f) != DisplayStatus.UNREADABLE]
            if ids:
                self.show_frame((readable or ids)[0])
            else:
                self.view.show_message("No frames found in this folder")

    def _on_status_changed(self, frame_id: int, status: DisplayStatus) -> None:
        self.frame_list.set_status(frame_id, status)
        if self.controller is not None and frame_id == self.controller.current_frame_id:
            self._update_frame_label()

    # ----- navigation ----------------------------------------------------------------------------------
    def show_frame(self, frame_id: int) -> None:
        if self.controller is None:
            return
        self.frame_list.select(frame_id)
        self.controller.show_frame(frame_id)
        self._remember_timer.start()  # saved once navigation pauses, not on every step

    def step_frame(self, delta: int) -> None:
        """The next/previous readable frame in the list as filtered."""
        if self.controller is None:
            return
        order = [f for f in self.frame_list.visible_ids()
                 if self.frame_list.status(f) != DisplayStatus.UNREADABLE or f == self.controller.current_frame_id]
        if not order:
            return
        current = self.controller.current_frame_id
        if current in order:
            index = order.index(current) + delta
        else:
            index = 0 if delta > 0 else len(order) - 1
        if 0 <= index < len(order) and order[index] != current:
            self.show_frame(order[index])

    def next_unlabelled(self) -> None:
        if self.controller is None:
            return
        ids = self.frame_list.frame_ids()
        current = self.controller.current_frame_id
        start = ids.index(current) + 1 if current in ids else 0
        for fid in ids[start:] + ids[:start]:
            status = self.frame_list.status(fid)
            if status is not None and status.needs_work and fid != current:
                self.show_frame(fid)
                return
        self.statusBar().showMessage("Every frame has a human annotation", 6000)

    def next_most_useful(self) -> None:
        """The unlabelled frame the model is least sure about (from its stored predictions)."""
        if self.training is not None and self.controller is not None:
            self.training.next_most_useful(self.controller.current_frame_id)

    # ----- the shown frame -----------------------------------------------------------------------------
    def _on_frame_loaded(self, loaded: LoadedFrame) -> None:
        self._loaded = loaded
        self.view.set_frame(loaded)
        if loaded.readable:
            self.window_level.frame_shown(loaded)
            self.view.set_levels(*self.window_level.levels)
        else:
            self.frame_list.mark_unreadable(loaded.record.id, loaded.error or "cannot be read")
        self.frame_list.select(loaded.record.id)
        self.cine.set_frames(self.frame_list.source_frames(loaded.record.id), loaded.record.id)
        self.propagation.refresh_marks()
        self._update_frame_label()
        self._schedule_redraw()

    def _update_frame_label(self) -> None:
        loaded = self._loaded
        if loaded is None:
            self.frame_label.setText("")
            return
        r = loaded.record
        status = self.frame_list.status(r.id)
        size = f"{r.width}×{r.height}" if r.width else "?"
        spacing = (f"{r.spacing_mm[1]:.3f}×{r.spacing_mm[0]:.3f} mm/px" if r.spacing_mm else "spacing unknown")
        self.frame_label.setText(f"{self.frame_list.frame_name(r.id)}  ·  {size}  ·  {spacing}  ·  "
                                 f"{status.value if status else ''}")

    def _schedule_redraw(self) -> None:
        self._redraw_timer.start()

    def _redraw(self) -> None:
        c = self.controller
        if c is None or self._loaded is None or c.current is None:
            return
        objects = c.display()
        spacing = self._loaded.record.spacing_mm
        confidence = c.confidence_labels() if self.panel.confidence.isChecked() else None
        self.view.draw(objects, spacing, self.panel.opacity.value() / 100.0, self.panel.show_masks.isChecked(),
                       confidence)
        self.panel.show_nodules(objects, spacing)
        self._fill_object_box(c)
        frame = c.current
        self.actions["undo"].setEnabled(frame.committed.can_undo or bool(frame.pending_points))
        self.actions["redo"].setEnabled(frame.committed.can_redo)
        self.frame_displayed.emit(frame.frame_id)

    def _fill_object_box(self, c: AnnotationController) -> None:
        ids = c.object_ids()
        if [self.object_box.itemData(i) for i in range(self.object_box.count())] == ids:
            if self.object_box.currentIndex() != ids.index(c.current_object):
                self.object_box.blockSignals(True)
                self.object_box.setCurrentIndex(ids.index(c.current_object))
                self.object_box.blockSignals(False)
            return
        self.object_box.blockSignals(True)
        self.object_box.clear()
        for oid in ids:
            self.object_box.addItem(f"Nodule {oid + 1}", oid)
        self.object_box.setCurrentIndex(ids.index(c.current_object))
        self.object_box.blockSignals(False)

    def _on_object_chosen(self, index: int) -> None:
        if self.controller is not None and index >= 0:
            self.controller.set_current_object(int(self.object_box.itemData(index)))

    def _on_click_to_mask(self, seconds: float) -> None:
        self.timing_label.setText(f"click → mask {seconds * 1000:.0f} ms")
        self.last_click_to_mask = seconds

    def _on_hover(self, x: float, y: float) -> None:
        value = self.view.pixel_value(x, y)
        self.cursor_label.setText("" if value is None else f"x {x:.0f}  y {y:.0f}  value {value}")

    # ----- tools and display ---------------------------------------------------------------------------
    def set_tool(self, tool: Tool) -> None:
        self.tools.set_tool(tool)

    def _on_tool_changed(self, tool: Tool) -> None:
        self.actions[tool.value].setChecked(True)
        hints = {
            Tool.CALIPERS: "Calipers: click both ends of the long axis, then of the short axis",
            Tool.CLICKS: "Clicks: left = nodule, right = background",
            Tool.BRUSH: "Brush: drag to paint the current nodule (right drag erases)",
            Tool.ERASER: "Eraser: drag to erase from the current nodule",
        }
        self.statusBar().showMessage(hints[tool], 6000)

    def _with_controller(self, action: object) -> None:
        if self.controller is not None:
            action(self.controller)  # type: ignore[operator]

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
                                  self._after_import, self)
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
            self, "Choose a click network (trained with train --supervision interactive)", "",
            "SonoClick models (*.safetensors *.pt);;All files (*)")
        if path:
            self.use_click_model(Path(path))

    def use_click_model(self, path: Path) -> None:
        """Answer clicks with this click network from now on (it loads in the background; until then, and if it
        fails, clicks are answered without it)."""
        assert self.session is not None and self.controller is not None
        session, controller = self.session, self.controller
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
