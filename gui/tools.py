"""The annotation tools and what a click or a drag means with each.

calipers: left clicks place long-axis end 1, end 2, short-axis end 1, end 2 (then the next nodule); dragging an
    end moves it; a right click is a background click.
clicks:   left = foreground, right = background.
brush / eraser: paint into or erase from the current nodule's mask (click or drag); right button erases.
scribble: a freehand drag on the current nodule, left = nodule, right = background (a click is a dot); its width
    is set like the brush radius.
box:      drag a rectangle round a nodule (a new nodule unless the current one has no calipers or box yet); a
    right click is a background click.
point:    a left click marks one nodule (each click a new one); a right click is a background click.
calibrate: two left clicks a known distance apart, then the distance is typed (gui/calibration_tool.py).
Any tool but brush, eraser and scribble: a right drag sets window/level (horizontal = width, vertical = centre);
other drags pan."""
from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from PyQt5 import QtCore

from core.interactive.brush import MAX_RADIUS, clamp_radius
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
    SCRIBBLE = "scribble"
    BOX = "box"
    POINT = "point"


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
        self.scribble_width = 5
        self._stroke: list[tuple[float, float]] = []  # the scribble being dragged
        self._stroke_foreground = True
        self._window_level_drag = window_level_drag
        self._drag_mode: str | None = None
        self._erase_drag = False
        self._press_screen: QtCore.QPointF | None = None
        view.handler = self
        view.hovered.connect(self._on_hover)

    def set_tool(self, tool: Tool) -> None:
        self.tool = Tool(tool)
        if not self.shows_cursor:
            self.view.show_brush(None, None, 0)
        shape = QtCore.Qt.CrossCursor if self.tool in (Tool.BOX, Tool.POINT) else QtCore.Qt.ArrowCursor
        self.view.viewport().setCursor(shape)
        self.tool_changed.emit(self.tool)

    def set_brush_radius(self, radius: int) -> None:
        self.brush_radius = clamp_radius(radius)

    def set_scribble_width(self, width: int) -> None:
        self.scribble_width = int(min(max(width, 1), 2 * MAX_RADIUS))

    @property
    def painting(self) -> bool:
        return self.tool in (Tool.BRUSH, Tool.ERASER)

    @property
    def shows_cursor(self) -> bool:
        """Whether the tool shows its footprint round the mouse (brush, eraser, scribble)."""
        return self.painting or self.tool == Tool.SCRIBBLE

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
        elif self.tool == Tool.SCRIBBLE:
            self.controller.add_scribble([(x, y)], left, self.scribble_width)
        elif self.tool in (Tool.BOX, Tool.POINT):
            if not left:
                self.controller.add_click(x, y, positive=False)
            elif self.tool == Tool.POINT:
                self.controller.add_point_object(x, y)
            else:
                self.controller.message.emit("Box: drag a rectangle round the nodule")
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
        elif mode in ("scribble", "box"):
            self._drag_stroke(mode, phase, x, y)
        elif mode == "window" and self._press_screen is not None:
            self._window_level_drag(phase, scene_pos.x() - self._press_screen.x(),
                                    scene_pos.y() - self._press_screen.y())
        if finished:
            self._drag_mode = None
        return True

    def _drag_mode_for(self, button: QtCore.Qt.MouseButton, scene_pos: QtCore.QPointF) -> str | None:
        if button not in (QtCore.Qt.LeftButton, QtCore.Qt.RightButton):
            return None
        left = button == QtCore.Qt.LeftButton
        if self.painting:
            self._erase_drag = self.tool == Tool.ERASER or not left
            return "paint"
        if self.tool == Tool.SCRIBBLE:
            self._stroke_foreground = left
            return "scribble"
        if not left:
            return "window"
        if self.tool == Tool.BOX:
            return "box"
        if self.tool == Tool.CALIPERS and self.controller is not None:
            hit = self.controller.caliper_at(
                lambda x, y: self.view.screen_distance(x, y, scene_pos) <= style.HANDLE_PICK_PX)
            if hit is not None:
                self.controller.begin_move(*hit)
                return "move"
        return None  # pan

    def _drag_stroke(self, mode: str, phase: str, x: float, y: float) -> None:
        """A scribble or box being dragged: previewed while the button is held, handed over on release."""
        assert self.controller is not None
        if phase == "start":
            self._stroke = [(x, y)]
        elif (x, y) != self._stroke[-1]:
            self._stroke.append((x, y))
        strokes = self.view.strokes
        if phase != "finish":
            if mode == "scribble":
                strokes.preview_scribble(self._stroke, self._stroke_foreground, self.scribble_width)
                if phase == "move":
                    self.controller.preview_scribble(self._stroke, self._stroke_foreground, self.scribble_width)
            else:
                strokes.preview_box(*self._stroke[0], x, y)
                if phase == "move":
                    self.controller.preview_box(*self._stroke[0], x, y)
            return
        strokes.hide_preview()
        points, self._stroke = self._stroke, []
        if mode == "scribble":
            self.controller.add_scribble(points, self._stroke_foreground, self.scribble_width)
        else:
            self.controller.add_box(*points[0], *points[-1])

    def _on_hover(self, x: float, y: float) -> None:
        if self.painting:
            self.view.show_brush(x, y, self.brush_radius)
        elif self.tool == Tool.SCRIBBLE:
            self.view.show_brush(x, y, self.scribble_width / 2)
