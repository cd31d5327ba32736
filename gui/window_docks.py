"""The main window's docks: the frame list on the left; on the right the nodules' measurements (always visible)
above the display controls and model training as tabs. Every dock can be closed (View > Panels brings it back)
or floated, so the image can take the whole window; default widths leave the image most of it."""
from __future__ import annotations

from collections.abc import Callable

from PyQt5 import QtCore, QtWidgets

FRAMES, NODULES, DISPLAY, TRAINING = "Frames", "Nodules", "Display", "Model training"
# pixels; at 1280 x 800 the image gets 768 px of the width, and the frame list the room for names like us_0001.png
LEFT_WIDTH, RIGHT_WIDTH = 265, 235


def scrolled(widget: QtWidgets.QWidget) -> QtWidgets.QScrollArea:
    """`widget` in a vertical scroll area as wide as the dock (no horizontal scrolling, no cut-off text)."""
    scroll = QtWidgets.QScrollArea()
    scroll.setWidget(widget)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QtWidgets.QFrame.NoFrame)
    scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarAlwaysOff)
    return scroll


def _dock(window: QtWidgets.QMainWindow, title: str, widget: QtWidgets.QWidget,
          area: QtCore.Qt.DockWidgetArea) -> QtWidgets.QDockWidget:
    dock = QtWidgets.QDockWidget(title, window)
    dock.setObjectName(title)
    dock.setWidget(widget)
    dock.setFeatures(QtWidgets.QDockWidget.DockWidgetClosable | QtWidgets.QDockWidget.DockWidgetMovable
                     | QtWidgets.QDockWidget.DockWidgetFloatable)
    window.addDockWidget(area, dock)
    return dock


def add_docks(window: QtWidgets.QMainWindow, frame_list: QtWidgets.QWidget, nodules: QtWidgets.QWidget,
              display: QtWidgets.QWidget, training: QtWidgets.QWidget) -> dict[str, QtWidgets.QDockWidget]:
    """The four docks, laid out and sized; by title."""
    right = QtCore.Qt.RightDockWidgetArea
    docks = {FRAMES: _dock(window, FRAMES, frame_list, QtCore.Qt.LeftDockWidgetArea),
             NODULES: _dock(window, NODULES, scrolled(nodules), right),
             DISPLAY: _dock(window, DISPLAY, scrolled(display), right),
             TRAINING: _dock(window, TRAINING, scrolled(training), right)}
    window.splitDockWidget(docks[NODULES], docks[DISPLAY], QtCore.Qt.Vertical)
    window.tabifyDockWidget(docks[DISPLAY], docks[TRAINING])
    window.setTabPosition(right, QtWidgets.QTabWidget.North)
    docks[DISPLAY].raise_()
    return docks


def size_docks(window: QtWidgets.QMainWindow, docks: dict[str, QtWidgets.QDockWidget],
               nodules_height: Callable[[int], int]) -> None:
    """The default sizes (once the window has its size: before, the docks' size hints win); the Nodules dock as
    tall as `nodules_height(width)` says its content needs at the dock's width, the tabs below it the rest."""
    window.layout().activate()  # the docks at their real sizes: the split below is computed from them
    window.resizeDocks([docks[FRAMES], docks[NODULES]], [LEFT_WIDTH, RIGHT_WIDTH], QtCore.Qt.Horizontal)
    nodules = docks[NODULES]
    title_bar = nodules.height() - nodules.widget().height()
    nodules_px = nodules_height(RIGHT_WIDTH) + title_bar
    column = docks[FRAMES].height()  # the right-hand column spans the same height as the frame list
    separator = window.style().pixelMetric(QtWidgets.QStyle.PM_DockWidgetSeparatorExtent, None, window)
    # both heights given, summing to the column's: Qt scales the sizes asked for to fill it
    window.resizeDocks([nodules, docks[DISPLAY]], [nodules_px, column - nodules_px - separator], QtCore.Qt.Vertical)


def add_panels_menu(menu: QtWidgets.QMenu, docks: dict[str, QtWidgets.QDockWidget]) -> None:
    """View > Panels: show or hide each dock."""
    panels = menu.addMenu("Panels")
    for dock in docks.values():
        panels.addAction(dock.toggleViewAction())
