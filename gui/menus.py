"""The main window's actions (built from gui/shortcuts.py, so every key has a menu entry and a tooltip), its
menus and its toolbar."""
from __future__ import annotations

from collections.abc import Callable

from PyQt5 import QtCore, QtGui, QtWidgets

from gui.shortcuts import SHORTCUTS, TITLES, keys_text

TOOL_ACTIONS = ("calipers", "clicks", "scribble", "box", "point", "brush", "eraser")


def make_actions(window: QtWidgets.QMainWindow, handlers: dict[str, Callable[[], object]]
                 ) -> dict[str, QtWidgets.QAction]:
    """One QAction per shortcut-table entry, active whenever the window is; the tools are exclusive."""
    actions = {}
    for name, (keys, description) in SHORTCUTS.items():
        action = QtWidgets.QAction(TITLES[name], window)
        action.setShortcuts([QtGui.QKeySequence(k) for k in keys])
        action.setShortcutContext(QtCore.Qt.WindowShortcut)
        action.setToolTip(f"{description} ({keys_text(name)})")
        action.setStatusTip(description)
        action.triggered.connect(handlers[name])
        window.addAction(action)
        actions[name] = action
    group = QtWidgets.QActionGroup(window)
    for name in (*TOOL_ACTIONS, "calibrate"):
        actions[name].setCheckable(True)
        group.addAction(actions[name])
    return actions


def build_menus(window: QtWidgets.QMainWindow, a: dict[str, QtWidgets.QAction]) -> QtWidgets.QMenu:
    """File, Edit, View, Tools and Help menus; returns the (initially empty) Open recent menu."""
    bar = window.menuBar()
    menu = bar.addMenu("&File")
    menu.addActions([a["open_folder"], a["open_file"]])
    recent = menu.addMenu("Open &recent")
    menu.addSeparator()
    menu.addActions([a["export"], a["import"]])
    menu.addSeparator()
    menu.addAction(a["quit"])
    edit = bar.addMenu("&Edit")
    edit.addActions([a["undo"], a["redo"], a["accept"], a["new_object"], a["delete_object"]])
    edit.addSeparator()
    edit.addActions([a["tag_no_nodule"], a["tag_nodule"], a["clear_tag"], a["tag_range"]])
    edit.addSeparator()
    edit.addAction(a["propose"])
    bar.addMenu("&View").addActions([a["toggle_overlay"], a["toggle_confidence"], a["fit"], a["play"], a["next"],
                                     a["previous"], a["next_unlabelled"]])
    tools = bar.addMenu("&Tools")
    tools.addActions([a[name] for name in TOOL_ACTIONS] + [a["brush_smaller"], a["brush_larger"]])
    tools.addSeparator()
    tools.addActions([a["calibrate"], a["click_model"]])
    bar.addMenu("&Cine").addActions([a["propagate"], a["propagate_forward"], a["propagate_backward"],
                                     a["accept_range"], a["cancel_propagation"]])
    bar.addMenu("&Help").addAction(a["help"])
    return recent


def build_toolbar(window: QtWidgets.QMainWindow, a: dict[str, QtWidgets.QAction],
                  object_box: QtWidgets.QComboBox, class_box: QtWidgets.QComboBox) -> list[QtWidgets.QToolBar]:
    """Two rows: the annotation tools with the label class and object choice, then undo/redo/accept,
    navigation, export and help (one row no longer holds them all at 1280 px); their buttons never take the
    keyboard focus (keys belong to the shortcuts)."""
    tools = _toolbar(window, "Tools")
    tools.addActions([a[name] for name in TOOL_ACTIONS])
    tools.addSeparator()
    tools.addWidget(class_box)
    tools.addAction(a["new_object"])
    tools.addWidget(object_box)
    window.addToolBarBreak()
    edits = _toolbar(window, "Edit")
    edits.addActions([a["undo"], a["redo"], a["accept"], a["propose"]])
    edits.addSeparator()
    edits.addActions([a["previous"], a["next"], a["next_unlabelled"]])
    edits.addSeparator()
    edits.addActions([a["export"], a["help"]])
    new_button = tools.widgetForAction(a["new_object"])
    new_button.setText("New")  # beside the class list, "New" says enough
    help_button = edits.widgetForAction(a["help"])
    help_button.setText("?")  # the menu says "Shortcuts (?)"; here the short form is enough
    help_button.setToolTip(a["help"].text().replace("&", "") + " (F1)")
    for bar in (tools, edits):
        for action in bar.actions():
            widget = bar.widgetForAction(action)
            if widget is not None:
                widget.setFocusPolicy(QtCore.Qt.NoFocus)
    return [tools, edits]


def _toolbar(window: QtWidgets.QMainWindow, name: str) -> QtWidgets.QToolBar:
    bar = window.addToolBar(name)
    bar.setObjectName(name)
    bar.setMovable(False)
    bar.setToolButtonStyle(QtCore.Qt.ToolButtonTextOnly)
    return bar
