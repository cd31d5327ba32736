"""Drawing of scribbles (nodule or background, as wide as drawn, in image pixels) and boxes (dashed
rectangles), stored or on their way, and the preview of the one being dragged."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt5 import QtCore, QtGui

from core.annotation.strokes import Stroke, StrokeKind
from gui import style
from gui.caliper_items import Pool
from gui.editor_frame import ObjectDisplay

STROKE_Z = 15  # above the mask overlay and its contours, below calipers and clicks


def scribble_pen(foreground: bool, width: float) -> QtGui.QPen:
    """A scribble's pen: its width in image pixels (it covers exactly what the engine takes as seeds)."""
    rgb = style.SCRIBBLE_NODULE if foreground else style.SCRIBBLE_BACKGROUND
    pen = pg.mkPen(color=(*rgb, style.STROKE_OPACITY), width=width)
    pen.setCosmetic(False)
    pen.setCapStyle(QtCore.Qt.RoundCap)
    pen.setJoinStyle(QtCore.Qt.RoundJoin)
    return pen


def box_pen(current: bool) -> QtGui.QPen:
    pen = pg.mkPen(color=style.BOX_OUTLINE, width=1.8 if current else 1.2, style=QtCore.Qt.DashLine)
    pen.setCosmetic(True)  # width in screen pixels at any zoom
    return pen


def box_outline(x0: float, y0: float, x1: float, y1: float) -> tuple[np.ndarray, np.ndarray]:
    """The closed outline of a box round pixels x0..x1, y0..y1 (pixel centres on integers: edges half out)."""
    left, right = min(x0, x1) - 0.5, max(x0, x1) + 0.5
    top, bottom = min(y0, y1) - 0.5, max(y0, y1) + 0.5
    return np.array([left, right, right, left, left]), np.array([top, top, bottom, bottom, top])


class StrokeLayer:
    """The strokes of the shown objects and the preview of a stroke being drawn, inside a ViewBox."""

    def __init__(self, view_box: pg.ViewBox) -> None:
        self._curves = Pool(view_box, pg.PlotCurveItem, STROKE_Z)
        self.preview = pg.PlotCurveItem()
        self.preview.setZValue(STROKE_Z + 1)
        self.preview.setVisible(False)
        view_box.addItem(self.preview)
        self.drawn: list[Stroke] = []  # what the last draw showed (tests and the status read it)

    def draw(self, objects: list[ObjectDisplay]) -> None:
        self.drawn = []
        for obj in objects:
            for stroke in obj.strokes:
                self._draw(stroke, obj.current)
                self.drawn.append(stroke)
        self._curves.finish()

    def clear(self) -> None:
        self.drawn = []
        self._curves.finish()
        self.hide_preview()

    def preview_scribble(self, points: list[tuple[float, float]], foreground: bool, width: float) -> None:
        xy = np.asarray(points, float).reshape(-1, 2)
        self.preview.setData(xy[:, 0], xy[:, 1], pen=scribble_pen(foreground, width))
        self.preview.setVisible(True)

    def preview_box(self, x0: float, y0: float, x1: float, y1: float) -> None:
        self.preview.setData(*box_outline(x0, y0, x1, y1), pen=box_pen(True))
        self.preview.setVisible(True)

    def hide_preview(self) -> None:
        self.preview.setVisible(False)

    def _draw(self, stroke: Stroke, current: bool) -> None:
        item = self._curves.take()
        if stroke.kind is StrokeKind.BOX:
            item.setData(*box_outline(*stroke.box_xyxy), pen=box_pen(current))
            return
        xy = np.asarray(stroke.points, float)
        if len(xy) == 1:  # a dot: a zero-length segment, drawn as the pen's round cap
            xy = np.repeat(xy, 2, axis=0)
        item.setData(xy[:, 0], xy[:, 1], pen=scribble_pen(stroke.foreground, stroke.width))
