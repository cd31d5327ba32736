"""The annotation tools and what a click or a drag means with each.

calipers: left clicks place long-axis end 1, end 2, short-axis end 1, end 2 (then the next nodule); dragging an
    end moves it; a right click is a background click.
clicks:   left = foreground, right = background.
brush / eraser: paint into or erase from the current nodule's mask (click or drag); right button erases.
calibrate: two left clicks a known distance apart, then the distance is typed (gui/calibration_tool.py).
Any tool: a right drag sets window/level (horizontal = width, vertical = centre); other drags pan."""
from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from PyQt5 import QtCore

from core.interactive.brush import clamp_radius
from gui import style
from gui.calibration_tool import CalibrationTool
from gui.controller import AnnotationController
from gui.frame_view import FrameView


class Tool(StrEnum):
    CALIPERS = "calipers"
    CLICKS = "clicks"
    BRUSH = "brush"
    ERASER = "eraser"
    CALIBRATE = "calibrate"


class ToolDispatcher(QtCore.QObject):
    """The view's MouseHandler: routes mouse input to the controller according to the active tool."""

    tool_changed = QtCore.pyqtSignal(object)

    def __init__(self, controller: AnnotationController | None, view: FrameView,
                 window_level_drag: Callable[[str, float, float], None]) -> None:
        super().__init__(view)
        self.controller = controller
        self.calibration: CalibrationTool | None = None
        self.view = view
        self.tool = Tool.CALIPERS
        self.brush_radius = 6
        self._window_level_drag = window_level_drag
        self._drag_mode: str | None = None
        self._erase_drag = False
        self._press_screen: QtCore.QPointF | None = None
        view.handler = self
        view.hovered.connect(self._on_hover)

    def set_tool(self, tool: Tool) -> None:
        self.tool = Tool(tool)
        if self.tool not in (Tool.BRUSH, Tool.ERASER):
            self.view.show_brush(None, None, 0)
        self.tool_changed.emit(self.tool)

    def set_brush_radius(self, radius: int) -> None:
        self.brush_radius = clamp_radius(radius)

    @property
    def painting(self) -> bool:
        return self.tool in (Tool.BRUSH, Tool.ERASER)

    def on_click(self, x: float, y: float, button: QtCore.Qt.MouseButton) -> None:
        if self.controller is None:
            return
        left = button == QtCore.Qt.LeftButton
        if self.tool == Tool.CALIPERS:
            if left:
                self.controller.place_caliper(x, y)
            else:
                self.controller.add_click(x, y, positive=False)
        elif self.tool == Tool.CALIBRATE:
            if left and self.calibration is not None:
                self.calibration.add_point(self.controller.current_frame_id, x, y)
        elif self.tool == Tool.CLICKS:
            self.controller.add_click(x, y, positive=left)
        else:
            erase = self.tool == Tool.ERASER or not left
            self.controller.paint(x, y, self.brush_radius, erase, finished=True)

    def on_drag(self, phase: str, x: float, y: float, button: QtCore.Qt.MouseButton,
                scene_pos: QtCore.QPointF) -> bool:
        if self.controller is None:
            return False
        if phase == "start":
            self._drag_mode = self._drag_mode_for(button, scene_pos)
            self._press_screen = scene_pos
        mode = self._drag_mode
        if mode is None:
            return False
        finished = phase == "finish"
        if mode == "move":
            self.controller.move_caliper(x, y, finished)
        elif mode == "paint":
            self.controller.paint(x, y, self.brush_radius, self._erase_drag, finished)
        elif mode == "window" and self._press_screen is not None:
            self._window_level_drag(phase, scene_pos.x() - self._press_screen.x(),
                                    scene_pos.y() - self._press_screen.y())
        if finished:
            self._drag_mode = None
        return True

    def _drag_mode_for(self, button: QtCore.Qt.MouseButton, scene_pos: QtCore.QPointF) -> str | None:
        if button == QtCore.Qt.RightButton:
            if self.painting:
                self._erase_drag = True
                return "paint"
            return "window"
        if button != QtCore.Qt.LeftButton:
            return None
        if self.painting:
            self._erase_drag = self.tool == Tool.ERASER
            return "paint"
        if self.tool == Tool.CALIPERS and self.controller is not None:
            hit = self.controller.caliper_at(
                lambda x, y: self.view.screen_distance(x, y, scene_pos) <= style.HANDLE_PICK_PX)
            if hit is not None:
                self.controller.begin_move(*hit)
                return "move"
        return None  # pan

    def _on_hover(self, x: float, y: float) -> None:
        if self.painting:
            self.view.show_brush(x, y, self.brush_radius)
