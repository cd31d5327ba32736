"""The frame view: the image (pan with a left or middle drag, zoom with the wheel), the mask overlay, the
confident/uncertain overlay, calipers, clicks, scribbles and boxes. Coordinates in the view are image pixels
with pixel centres on integers (x = column, y = row), the convention of core's points; the ImageItems are offset
by half a pixel.

Mouse input is handed to a MouseHandler (gui/tools.py) in image coordinates; it decides what a click or a
drag means for the active tool. A drag the handler declines pans the image."""
from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Protocol

import numpy as np
import pyqtgraph as pg
from PyQt5 import QtCore, QtGui, QtWidgets

from core.labels.high_confidence import FrameLabels
from core.serving.frame_loading import LoadedFrame
from gui.caliper_items import AnnotationLayer, Pool
from gui.editor_frame import ObjectDisplay
from gui.overlay import RGB, confidence_overlay, contour_polyline, mask_look, mask_overlay
from gui.stroke_items import StrokeLayer


class MouseHandler(Protocol):
    def on_click(self, x: float, y: float, button: QtCore.Qt.MouseButton) -> None: ...

    def on_drag(self, phase: str, x: float, y: float, button: QtCore.Qt.MouseButton,
                scene_pos: QtCore.QPointF) -> bool: ...


def _report_to_excepthook(call: Callable[[], object]) -> object:
    """pyqtgraph prints and swallows exceptions raised in mouse handlers; hand them to sys.excepthook instead,
    so they are logged and shown like every other unexpected error."""
    try:
        return call()
    except Exception:
        sys.excepthook(*sys.exc_info())
        return None


class _ImageViewBox(pg.ViewBox):
    def __init__(self, view: FrameView) -> None:
        super().__init__(invertY=True, lockAspect=True, enableMenu=False)
        self._view = view
        self._dragging_for_handler = False

    def mouseClickEvent(self, ev: object) -> None:  # noqa: N802 (Qt naming)
        handler = self._view.handler
        if handler is not None and ev.button() in (QtCore.Qt.LeftButton, QtCore.Qt.RightButton):
            ev.accept()
            p = self.mapSceneToView(ev.scenePos())
            _report_to_excepthook(lambda: handler.on_click(p.x(), p.y(), ev.button()))
            return
        super().mouseClickEvent(ev)

    def mouseDragEvent(self, ev: object, axis: int | None = None) -> None:  # noqa: N802
        handler = self._view.handler
        if handler is not None:
            if ev.isStart():
                press = self.mapSceneToView(ev.buttonDownScenePos())
                self._dragging_for_handler = bool(_report_to_excepthook(
                    lambda: handler.on_drag("start", press.x(), press.y(), ev.button(), ev.buttonDownScenePos())))
            if self._dragging_for_handler:
                ev.accept()
                p = self.mapSceneToView(ev.scenePos())
                phase = "finish" if ev.isFinish() else "move"
                _report_to_excepthook(lambda: handler.on_drag(phase, p.x(), p.y(), ev.button(), ev.scenePos()))
                if ev.isFinish():
                    self._dragging_for_handler = False
                return
        if ev.button() in (QtCore.Qt.LeftButton, QtCore.Qt.MiddleButton):
            super().mouseDragEvent(ev, axis)  # pan
        else:
            ev.ignore()


class FrameView(pg.GraphicsView):
    hovered = QtCore.pyqtSignal(float, float)  # image coordinates under the mouse

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        pg.setConfigOptions(imageAxisOrder="row-major")  # arrays are (row, column) everywhere in SonoClick
        super().__init__(parent, background=(16, 16, 16))
        self.handler: MouseHandler | None = None
        self.box = _ImageViewBox(self)
        self.setCentralItem(self.box)
        self.image_item = pg.ImageItem()
        self.confidence_item = pg.ImageItem()
        self.mask_item = pg.ImageItem()
        for z, item in enumerate((self.image_item, self.confidence_item, self.mask_item)):
            item.setZValue(z)
            self.box.addItem(item)
        self.annotations = AnnotationLayer(self.box)
        self.strokes = StrokeLayer(self.box)
        self._contours = Pool(self.box, pg.PlotCurveItem, 3)
        self.message_item = pg.TextItem("", color=(230, 230, 230), anchor=(0.5, 0.5))
        font = QtGui.QFont()
        font.setPointSize(13)
        self.message_item.setFont(font)
        self.message_item.setZValue(50)
        self.box.addItem(self.message_item)
        self.brush_cursor = QtWidgets.QGraphicsEllipseItem()
        cursor_pen = pg.mkPen(255, 255, 255, 200, width=1.5)
        cursor_pen.setCosmetic(True)
        self.brush_cursor.setPen(cursor_pen)
        self.brush_cursor.setZValue(40)
        self.brush_cursor.setVisible(False)
        self.box.addItem(self.brush_cursor)
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self._shape: tuple[int, int] | None = None
        self._pixels: np.ndarray | None = None
        self._drawn: tuple[list[ObjectDisplay], tuple[float, float] | None] = ([], None)
        self._overlay_key: tuple | None = None
        self._overlay_refs: object = None
        self._relabel_timer = QtCore.QTimer(self)
        self._relabel_timer.setSingleShot(True)
        self._relabel_timer.setInterval(0)
        self._relabel_timer.timeout.connect(lambda: self.annotations.draw(*self._drawn))
        self.box.sigRangeChanged.connect(lambda *_: self._relabel_timer.start())  # labels sit in screen pixels
        self.show_message("Open a folder of frames, an image, a DICOM or a video (Ctrl+O)")

    # ----- the image -----------------------------------------------------------------------------------
    @property
    def image_shape(self) -> tuple[int, int] | None:
        return self._shape

    def set_frame(self, loaded: LoadedFrame | None) -> None:
        """Show a loaded frame; the zoom is kept while consecutive frames have the same size."""
        self._drawn = ([], None)
        self._overlay_key = None
        self.annotations.clear()
        self.strokes.clear()
        self._contours.finish()
        self.mask_item.clear()
        self.confidence_item.clear()
        if loaded is None or not loaded.readable:
            self.image_item.clear()
            self._pixels = None
            self._shape = None
            reason = "" if loaded is None else f"Cannot read this frame:\n{loaded.error}"
            self.show_message(reason)
            self.box.setRange(QtCore.QRectF(-50, -50, 100, 100), padding=0)
            return
        pixels = loaded.pixels
        assert pixels is not None
        h, w = pixels.shape[:2]
        self._pixels = pixels
        self.image_item.setImage(pixels, autoLevels=False, levels=loaded.levels)
        rect = QtCore.QRectF(-0.5, -0.5, w, h)
        for item in (self.image_item, self.confidence_item, self.mask_item):
            item.setRect(rect)
        self.show_message("")
        if self._shape != (h, w):
            self._shape = (h, w)
            self.fit()

    def fit(self) -> None:
        if self._shape is not None:
            h, w = self._shape
            self.box.setRange(QtCore.QRectF(-0.5, -0.5, w, h), padding=0.01)

    def set_levels(self, low: float, high: float) -> None:
        if self._pixels is not None:
            self.image_item.setLevels((low, high))

    def pixel_value(self, x: float, y: float) -> object | None:
        if self._pixels is None:
            return None
        col, row = int(round(x)), int(round(y))
        h, w = self._pixels.shape[:2]
        if 0 <= row < h and 0 <= col < w:
            value = self._pixels[row, col]
            return value.tolist() if np.ndim(value) else int(value)
        return None

    def show_message(self, text: str) -> None:
        self.message_item.setText(text)
        self.message_item.setPos(0, 0)
        self.message_item.setVisible(bool(text))

    # ----- overlays ------------------------------------------------------------------------------------
    def draw(self, objects: list[ObjectDisplay], spacing_mm: tuple[float, float] | None, opacity: float,
             show_masks: bool, confidence: FrameLabels | None, colours: Mapping[int, RGB] | None = None) -> None:
        """Masks in their class's colour (`colours`: class id -> RGB), calipers, clicks, and the certainty map."""
        if self._shape is None:
            self._drawn = ([], None)
            self.annotations.clear()
            self.strokes.clear()
            return
        layers = []
        if confidence is not None:
            opacity_masks = 0.0  # outlines only, so the certainty colours underneath stay readable
        else:
            opacity_masks = opacity
        if show_masks:
            # drafts drawn last so the one being edited is on top; among the others the larger first, so an object
            # inside another (a nodule in the gland) is never hidden by it
            order = {"predicted": 0, "accepted": 1, "draft": 2}
            area = {id(o): 0 if o.mask is None else int(np.count_nonzero(o.mask)) for o in objects}
            for obj in sorted(objects, key=lambda o: (order.get(o.mask_kind, 0), -area[id(o)], o.current)):
                if obj.mask is not None:
                    layers.append((obj.mask, *mask_look(obj.mask_kind, obj.class_id, colours or {})))
        key = (opacity, opacity_masks, [(id(mask), rgb, dashed) for mask, rgb, dashed in layers], id(confidence))
        if key != self._overlay_key:  # the overlays are rebuilt only when a mask or the opacity changed
            self._overlay_key = key
            self._overlay_refs = (layers, confidence)  # keeps the ids in `key` from being reused
            if layers:
                fills = [(mask, rgb) for mask, rgb, _ in layers]
                self.mask_item.setImage(mask_overlay(self._shape, fills, opacity_masks), autoLevels=False,
                                        levels=None)
            else:
                self.mask_item.clear()
            for mask, rgb, dashed in layers:
                xs, ys = contour_polyline(mask)
                pen = pg.mkPen(rgb, width=1.6, style=QtCore.Qt.DashLine if dashed else QtCore.Qt.SolidLine)
                pen.setCosmetic(True)
                self._contours.take().setData(xs, ys, pen=pen, connect="finite")
            self._contours.finish()
            if confidence is not None and confidence.mask.shape == self._shape:
                self.confidence_item.setImage(confidence_overlay(confidence, opacity), autoLevels=False,
                                              levels=None)
            else:
                self.confidence_item.clear()
            for item in (self.mask_item, self.confidence_item):
                item.setRect(QtCore.QRectF(-0.5, -0.5, self._shape[1], self._shape[0]))
        self._drawn = (objects, spacing_mm)
        self.annotations.draw(objects, spacing_mm)
        self.strokes.draw(objects)

    def show_brush(self, x: float | None, y: float | None, radius: float) -> None:
        if x is None or y is None:
            self.brush_cursor.setVisible(False)
            return
        self.brush_cursor.setRect(x - radius, y - radius, 2 * radius, 2 * radius)
        self.brush_cursor.setVisible(True)

    # ----- coordinates ---------------------------------------------------------------------------------
    def image_to_widget(self, x: float, y: float) -> QtCore.QPoint:
        """Widget (viewport) pixel of image point (x, y), e.g. for simulated clicks."""
        scene = self.box.mapViewToScene(QtCore.QPointF(x, y))
        return self.mapFromScene(scene)

    def screen_distance(self, x: float, y: float, scene_pos: QtCore.QPointF) -> float:
        """Distance in screen pixels between image point (x, y) and a scene position."""
        p = self.box.mapViewToScene(QtCore.QPointF(x, y))
        return float(np.hypot(p.x() - scene_pos.x(), p.y() - scene_pos.y()))

    def _on_mouse_moved(self, scene_pos: QtCore.QPointF) -> None:
        if self._shape is None:
            return
        p = self.box.mapSceneToView(scene_pos)
        self.hovered.emit(p.x(), p.y())
