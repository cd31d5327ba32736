"""The main window: frame list (left), frame view with cine bar (centre), nodules and display controls (right),
tools in the toolbar, and everything reachable by keyboard (gui/shortcuts.py). No Save button: every edit is
written as it happens, and no modal dialog interrupts annotation."""
from __future__ import annotations

import logging
from pathlib import Path

from PyQt5 import QtCore, QtWidgets

from core.annotation.mask_axes import mask_axes
from core.annotation.tags import FrameTag
from core.project.display_status import DisplayStatus, needs_work
from core.project.recent import RecentProjects
from core.serving.frame_loading import LoadedFrame
from core.serving.frame_model import app_model_process
from core.serving.process_pool import ModelProcess
from gui.calibration_tool import CalibrationTool, ask_distance, spacing_text
from gui.cine_bar import CineBar
from gui.controller import AnnotationController
from gui.display_panel import DisplayPanel
from gui.errors import ErrorReporter
from gui.frame_list import FrameList
from gui.frame_tags import FrameTagsUi
from gui.frame_view import FrameView
from gui.menus import build_menus, build_toolbar, make_actions
from gui.model_menu import ModelMenu
from gui.project_session import ProjectSession
from gui.propagation_bar import PropagationUi
from gui.propose_action import ProposeUi
from gui.status_line import StatusLine
from gui.tools import Tool, ToolDispatcher
from gui.training_controller import TrainingController
from gui.training_dock import TrainingDock
from gui.training_options import TrainingOptions
from gui.window_classes import ClassControls
from gui.window_docks import TRAINING, add_docks, add_panels_menu, size_docks
from gui.window_files import FileActions
from gui.window_level import WindowLevel
from gui.window_projects import ProjectActions

log = logging.getLogger("sonoclick")


class MainWindow(ProjectActions, FileActions, ClassControls, QtWidgets.QMainWindow):
    frame_displayed = QtCore.pyqtSignal(int)  # a frame and its annotations are on screen

    def __init__(self, reporter: ErrorReporter | None = None, recent: RecentProjects | None = None,
                 model_process: ModelProcess | None = None) -> None:
        super().__init__()
        # the frame model's process, kept across projects (gui/app.py starts it before any project opens)
        self.model_process = model_process or app_model_process()
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
        self._build_docks()
        self.tools = ToolDispatcher(None, self.view, self.window_level.drag)
        self.propagation = PropagationUi(self)
        self.frame_tags = FrameTagsUi(self)
        self.frame_tags.range.changed.connect(self._update_frame_label)
        self.proposals = ProposeUi(self)
        self.calibration = CalibrationTool(lambda length: ask_distance(self, length), self)
        self.tools.calibration = self.calibration
        self._spacing: tuple[float, float] | None = None  # the shown frame's effective spacing (mm per pixel)
        self._spacing_source = "file"
        self._build_status_bar()
        self._build_actions()
        self._redraw_timer = QtCore.QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(0)
        self._redraw_timer.timeout.connect(self._redraw)
        self._remember_timer = QtCore.QTimer(self)
        self._remember_timer.setSingleShot(True)
        self._remember_timer.setInterval(1000)
        self._remember_timer.timeout.connect(self._remember_frame)
        self._connect_widgets()
        self.set_tool(Tool.CALIPERS)

    # ----- construction --------------------------------------------------------------------------------
    def _build_docks(self) -> None:
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
        self.panel.derive_axes = mask_axes
        self.training_dock = TrainingDock()
        self.docks = add_docks(self, self.frame_list, self.panel.nodules_box, self.panel, self.training_dock)
        self.training_dock_widget = self.docks[TRAINING]
        self._docks_sized = False

    def _build_status_bar(self) -> None:
        self.status_line = StatusLine(self.statusBar())
        self.frame_label = self.status_line.frame
        self.timing_label = self.status_line.timing
        self.cursor_label = self.status_line.cursor
        self.model_label = self.status_line.models
        self._model_state = self._models_text = self._verdict = ""

    def _connect_widgets(self) -> None:
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
        self.panel.scribble_changed.connect(self.tools.set_scribble_width)
        for box in (self.panel.window_box, self.panel.level_box, self.panel.brush, self.panel.scribble):
            box.editingFinished.connect(self.view.setFocus)  # keys go back to the annotation shortcuts
        self.view.setFocusPolicy(QtCore.Qt.StrongFocus)
        self.tools.tool_changed.connect(self._on_tool_changed)
        self.calibration.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.calibration.spacing_changed.connect(self._ask_spacing)
        self.calibration.spacing_known.connect(self._on_spacing_known)

    def _build_actions(self) -> None:
        c = self._with_controller
        handlers = {
            "calipers": lambda: self.set_tool(Tool.CALIPERS),
            "clicks": lambda: self.set_tool(Tool.CLICKS),
            "brush": lambda: self.set_tool(Tool.BRUSH),
            "eraser": lambda: self.set_tool(Tool.ERASER),
            "scribble": lambda: self.set_tool(Tool.SCRIBBLE),
            "box": lambda: self.set_tool(Tool.BOX),
            "point": lambda: self.set_tool(Tool.POINT),
            "calibrate": lambda: self.set_tool(Tool.CALIBRATE),
            "brush_smaller": lambda: self._size_box().setValue(self._size_box().value() - 1),
            "brush_larger": lambda: self._size_box().setValue(self._size_box().value() + 1),
            "new_object": lambda: c(lambda ctl: ctl.new_object()),
            "delete_object": lambda: c(lambda ctl: ctl.delete_object()),
            "accept": lambda: c(lambda ctl: ctl.accept()),
            "tag_no_nodule": lambda: self.frame_tags.tag(FrameTag.NO_NODULE),
            "tag_nodule": lambda: self.frame_tags.tag(FrameTag.NODULE),
            "clear_tag": lambda: self.frame_tags.tag(None),
            "tag_range": lambda: self.frame_tags.range.toggle(),
            "propose": self.proposals.propose,
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
        view_menu = next(a.menu() for a in self.menuBar().actions() if a.text() == "&View")
        add_panels_menu(view_menu, self.docks)
        self.object_box = QtWidgets.QComboBox()
        self.object_box.setFocusPolicy(QtCore.Qt.NoFocus)
        self.object_box.setSizeAdjustPolicy(QtWidgets.QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.object_box.setMinimumContentsLength(len("Nodule"))  # a crowded toolbar squeezes it to this
        self.object_box.setToolTip("The object that calipers, clicks, brush and eraser edit")
        self.object_box.activated.connect(self._on_object_chosen)
        self._build_class_controls()
        build_toolbar(self, self.actions, self.object_box, self.class_switcher)
        model_menu = self.menuBar().addMenu("&Model")
        self.model_menu = ModelMenu(model_menu, [self.actions[n] for n in ("click_model", "train", "next_useful")],
                                    self)
        self.model_menu.versions_action.triggered.connect(self.training_dock_widget.raise_)
        self.model_menu.status.connect(self._on_models_status)
        self.model_menu.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.menuBar().insertMenu(self.menuBar().actions()[-2], model_menu)  # before Help

    def showEvent(self, event: QtCore.QEvent) -> None:  # noqa: N802
        super().showEvent(event)
        if not self._docks_sized:
            self._docks_sized = True
            size_docks(self, self.docks, self.panel.nodules_height)

    def closeEvent(self, event: QtCore.QEvent) -> None:  # noqa: N802
        self.close_project()
        self.model_process.close()
        for dialog in self._dialogs.values():
            dialog.close()
        super().closeEvent(event)

    # ----- navigation ----------------------------------------------------------------------------------
    def show_frame(self, frame_id: int) -> None:
        if self.controller is None:
            return
        if frame_id != self.controller.current_frame_id:
            self.statusBar().clearMessage()  # what was said about the previous frame no longer holds
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
            if needs_work(self.frame_list.status(fid), self.frame_list.tag(fid)) and fid != current:
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
        self._spacing, self._spacing_source = loaded.record.spacing_mm, "file"
        self._ask_spacing()
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
        spacing = spacing_text(self._spacing, self._spacing_source)
        mark = self.frame_tags.range.label()
        self.frame_label.setText(f"{self.frame_list.frame_name(r.id)} · {size} · {spacing} · "
                                 f"{status.value if status else ''}" + (f" · {mark}" if mark else ""))

    def _ask_spacing(self) -> None:
        if self._loaded is not None:
            self.calibration.ask_spacing(self._loaded.record.id)

    def _on_spacing_known(self, frame_id: int, spacing: tuple[float, float] | None, source: str) -> None:
        if self._loaded is not None and frame_id == self._loaded.record.id:
            self._spacing, self._spacing_source = spacing, source
            self._update_frame_label()
            self._schedule_redraw()

    def _schedule_redraw(self) -> None:
        self._redraw_timer.start()

    def _redraw(self) -> None:
        c = self.controller
        if c is None or self._loaded is None or c.current is None:
            self._show_verdict("")
            return
        self._show_verdict(c.current.model_verdict())
        objects = c.display()
        spacing = self._spacing
        confidence = c.confidence_labels() if self.panel.confidence.isChecked() else None
        self.view.draw(objects, spacing, self.panel.opacity.value() / 100.0, self.panel.show_masks.isChecked(),
                       confidence, self.class_colours)
        self.panel.show_nodules(objects, spacing, self.class_names)
        self._fill_object_box(c)
        frame = c.current
        self.actions["undo"].setEnabled(frame.committed.can_undo or bool(frame.pending_points)
                                          or bool(frame.pending_strokes))
        self.actions["redo"].setEnabled(frame.committed.can_redo)
        self.frame_displayed.emit(frame.frame_id)

    def _fill_object_box(self, c: AnnotationController) -> None:
        ids = c.object_ids()
        titles = [c.object_title(oid) for oid in ids]
        shown = [self.object_box.itemText(i) for i in range(self.object_box.count())]
        if [self.object_box.itemData(i) for i in range(self.object_box.count())] == ids and shown == titles:
            if self.object_box.currentIndex() != ids.index(c.current_object):
                self.object_box.blockSignals(True)
                self.object_box.setCurrentIndex(ids.index(c.current_object))
                self.object_box.blockSignals(False)
            return
        self.object_box.blockSignals(True)
        self.object_box.clear()
        for oid, title in zip(ids, titles, strict=True):
            self.object_box.addItem(title, oid)
        self.object_box.setCurrentIndex(ids.index(c.current_object))
        self.object_box.blockSignals(False)

    def _on_object_chosen(self, index: int) -> None:
        if self.controller is not None and index >= 0:
            self.controller.set_current_object(int(self.object_box.itemData(index)))

    def _on_models_status(self, text: str) -> None:
        self._models_text = text
        self._show_model_label()

    def _on_model_state(self, text: str) -> None:
        self._model_state = text
        self._show_model_label()

    def _show_verdict(self, text: str) -> None:
        if text != self._verdict:
            self._verdict = text
            self._show_model_label()

    def _show_model_label(self) -> None:
        """What the frame model is doing for the shown frame (starting, predicting) first, else whether its
        prediction found no nodule there, and which models answer and whether they are ready."""
        self.model_label.setText(self._model_state or " · ".join(t for t in (self._verdict, self._models_text) if t))

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
            Tool.SCRIBBLE: "Scribble: left drag over the nodule, right drag over the background ([ ] width)",
            Tool.BOX: "Box: drag a rectangle round a nodule",
            Tool.POINT: "Point: click once on each nodule",
        }
        self.calibration.reset()
        if tool == Tool.CALIBRATE:
            self.calibration.start()
        else:
            self.statusBar().showMessage(hints[tool], 6000)

    def _size_box(self) -> QtWidgets.QSpinBox:
        """The size [ and ] change: the scribble's width with the scribble tool, else the brush radius."""
        return self.panel.scribble if self.tools.tool == Tool.SCRIBBLE else self.panel.brush

    def _with_controller(self, action: object) -> None:
        if self.controller is not None:
            action(self.controller)  # type: ignore[operator]
