"""Drawing of calipers (two lines with end crosses and their lengths) and of foreground/background clicks."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PyQt5 import QtCore, QtGui, QtWidgets

from core.annotation.measurements import length_mm
from core.annotation.points import CALIPER_ORDER, PointKind
from gui import style
from gui.editor_frame import ObjectDisplay


def format_length(a: tuple[float, float], b: tuple[float, float], spacing_mm: tuple[float, float] | None) -> str:
    """'23.4 mm' when the pixel spacing is known, else '154 px'."""
    if spacing_mm is not None:
        return f"{length_mm(a, b, spacing_mm):.1f} mm"
    return f"{float(np.hypot(b[0] - a[0], b[1] - a[1])):.0f} px"


def _pen(rgb: tuple[int, int, int], width: float, style_: QtCore.Qt.PenStyle = QtCore.Qt.SolidLine) -> QtGui.QPen:
    pen = pg.mkPen(color=rgb, width=width, style=style_)
    pen.setCosmetic(True)  # width in screen pixels at any zoom
    return pen


class Pool:
    """Graphics items of one kind, reused from one redraw to the next (creating items is the slow part)."""

    def __init__(self, box: pg.ViewBox, make: Callable[[], QtWidgets.QGraphicsItem], z: float) -> None:
        self._box, self._make, self._z = box, make, z
        self._items: list[QtWidgets.QGraphicsItem] = []
        self._used = 0

    def take(self) -> QtWidgets.QGraphicsItem:
        if self._used == len(self._items):
            item = self._make()
            item.setZValue(self._z)
            self._box.addItem(item)
            self._items.append(item)
        item = self._items[self._used]
        self._used += 1
        item.setVisible(True)
        return item

    def finish(self) -> None:
        """Hide the items not taken since the last finish."""
        for item in self._items[self._used:]:
            item.setVisible(False)
        self._used = 0


class AnnotationLayer:
    """Draws calipers, clicks and length labels inside a ViewBox; redrawn as a whole, items reused."""

    def __init__(self, view_box: pg.ViewBox) -> None:
        self._box = view_box
        self._font = QtGui.QFont()
        self._font.setPointSize(style.LABEL_POINT_SIZE)
        self._font.setBold(True)
        self._curves = Pool(view_box, pg.PlotCurveItem, 20)
        self._labels = Pool(view_box, self._make_label, 30)
        self._markers = Pool(view_box, pg.ScatterPlotItem, 35)  # above the labels: a label never hides a point
        self._spots: list[dict] = []

    def _make_label(self) -> pg.TextItem:
        item = pg.TextItem("", fill=pg.mkBrush(0, 0, 0, 200), anchor=(0.5, 0.5))
        item.setFont(self._font)
        return item

    def clear(self) -> None:
        for pool in (self._curves, self._labels, self._markers):
            pool.finish()

    def draw(self, objects: list[ObjectDisplay], spacing_mm: tuple[float, float] | None) -> None:
        self._spots = []
        numbered = len([o for o in objects if o.caliper_ends]) > 1
        for obj in objects:
            self._draw_calipers(obj, spacing_mm, numbered)
            self._draw_clicks(obj)
        if self._spots:
            self._markers.take().setData(spots=self._spots)
        self.clear()

    def _line(self, a: tuple[float, float], b: tuple[float, float], rgb: tuple[int, int, int], width: float) -> None:
        xs, ys = [a[0], b[0]], [a[1], b[1]]
        under = self._curves.take()
        under.setData(xs, ys, pen=_pen(style.CALIPER_OUTLINE, width + 2.5))
        under.setZValue(20)
        over = self._curves.take()
        over.setData(xs, ys, pen=_pen(rgb, width))
        over.setZValue(21)

    def _label(self, text: str, end: tuple[float, float], other: tuple[float, float],
               rgb: tuple[int, int, int]) -> None:
        """The length just beyond `end`, on the far side from `other`, so it never covers the nodule."""
        item = self._labels.take()
        item.setText(text, color=rgb)
        pixel = self._box.viewPixelSize()  # image units per screen pixel, (x, y)
        outward = np.subtract(end, other) / np.maximum(np.asarray(pixel, float), 1e-9)  # in screen pixels
        length = float(np.hypot(*outward)) or 1.0
        ux, uy = outward / length
        anchor = np.array([0.5 - 0.5 * ux, 0.5 - 0.5 * uy])
        item.setAnchor(tuple(anchor))
        gap = style.LABEL_GAP_PX
        pos = np.array([end[0] + ux * gap * pixel[0], end[1] + uy * gap * pixel[1]])
        # keep the whole label inside the visible area (a nodule at the frame's edge)
        size = np.array([item.textItem.boundingRect().width(), item.textItem.boundingRect().height()]) * pixel
        visible = self._box.viewRect()
        low = np.array([visible.left(), visible.top()]) + anchor * size
        high = np.array([visible.right(), visible.bottom()]) - (1 - anchor) * size
        pos = np.clip(pos, low, np.maximum(low, high))
        item.setPos(float(pos[0]), float(pos[1]))

    def _draw_calipers(self, obj: ObjectDisplay, spacing_mm: tuple[float, float] | None, numbered: bool) -> None:
        ends = obj.caliper_ends
        if not ends:
            return
        width = 1.6 if obj.current else 1.2
        prefix = f"#{obj.object_id + 1} " if numbered else ""
        long_ends = [ends[k] for k in CALIPER_ORDER[:2] if k in ends]
        short_ends = [ends[k] for k in CALIPER_ORDER[2:] if k in ends]
        if len(long_ends) == 2:
            self._line(long_ends[0], long_ends[1], style.CALIPER_LONG, width)
            right, left = sorted(long_ends, key=lambda p: -p[0])  # label beyond the right-hand end
            self._label(f"{prefix}L {format_length(*long_ends, spacing_mm)}", right, left, style.CALIPER_LONG)
        if len(short_ends) == 2:
            self._line(short_ends[0], short_ends[1], style.CALIPER_SHORT, width)
            lower, upper = sorted(short_ends, key=lambda p: -p[1])  # label below the lower end
            self._label(f"{prefix}S {format_length(*short_ends, spacing_mm)}", lower, upper, style.CALIPER_SHORT)
        for kind, (x, y) in ends.items():
            rgb = style.CALIPER_LONG if kind in (PointKind.LONG_1, PointKind.LONG_2) else style.CALIPER_SHORT
            self._spots.append({"pos": (x, y), "symbol": "+", "size": 14 if obj.current else 11,
                                "pen": pg.mkPen(style.CALIPER_OUTLINE, width=1.2), "brush": pg.mkBrush(*rgb)})

    def _draw_clicks(self, obj: ObjectDisplay) -> None:
        for x, y, positive in obj.clicks:
            rgb = style.CLICK_POSITIVE if positive else style.CLICK_NEGATIVE
            self._spots.append({"pos": (x, y), "symbol": "o" if positive else "x", "size": 12,
                                "pen": pg.mkPen(style.CALIPER_OUTLINE, width=1.5), "brush": pg.mkBrush(*rgb)})
