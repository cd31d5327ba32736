"""The main window's label-class half: the class switcher in the toolbar, keys 1-9 (select a class) and
Ctrl+1-9 (give the current object a class), and the class legend and colours kept in step with the project's
class list. What a class choice does is the controller's (gui/controller_classes.py)."""
from __future__ import annotations

from collections.abc import Callable

from PyQt5 import QtCore, QtGui, QtWidgets

from core.project.classes import LabelClass
from gui.class_switcher import ClassSwitcher
from gui.controller import AnnotationController
from gui.overlay import RGB, class_colours
from gui.shortcuts import CLASS_SHORTCUTS, class_keys


class ClassControls:
    """Mixin of MainWindow."""

    def _build_class_controls(self) -> None:
        self.class_switcher = ClassSwitcher()
        self.class_colours: dict[int, RGB] = {}
        self.class_names: dict[int, str] = {}
        c = self._with_controller
        self.class_switcher.class_chosen.connect(lambda cid: c(lambda ctl: ctl.select_class(cid)))
        self.class_switcher.add_requested.connect(lambda name: c(lambda ctl: ctl.add_class(name)))
        self.class_switcher.rename_requested.connect(lambda cid, name: c(lambda ctl: ctl.rename_class(cid, name)))
        self.class_actions = {
            "select_class": self._class_key_actions("select_class", lambda ctl, cid: ctl.select_class(cid)),
            "set_class": self._class_key_actions("set_class", lambda ctl, cid: ctl.set_object_class(cid)),
        }

    def _class_key_actions(self, name: str, act: Callable[[AnnotationController, int], None]
                           ) -> list[QtWidgets.QAction]:
        actions = []
        for position, key in enumerate(class_keys(name), start=1):
            action = QtWidgets.QAction(f"{CLASS_SHORTCUTS[name][1]}: class {position}", self)
            action.setShortcut(QtGui.QKeySequence(key))
            action.setShortcutContext(QtCore.Qt.WindowShortcut)
            action.triggered.connect(lambda _=False, p=position: self._with_class_at(p, act))
            self.addAction(action)
            actions.append(action)
        return actions

    def _with_class_at(self, position: int, act: Callable[[AnnotationController, int], None]) -> None:
        controller = self.controller
        if controller is None:
            return
        class_id = controller.class_at(position)
        if class_id is None:
            self.statusBar().showMessage(f"No class {position}: the project has {len(controller.classes)} "
                                         "(Add class… in the toolbar's class list)", 6000)
            return
        act(controller, class_id)

    def _connect_classes(self, controller: AnnotationController) -> None:
        controller.classes_changed.connect(self._on_classes_changed)
        controller.class_changed.connect(self.class_switcher.show_class)

    def _on_classes_changed(self, classes: list[LabelClass]) -> None:
        self.class_colours = class_colours(classes)
        self.class_names = {c.id: c.name for c in classes}
        self.class_switcher.set_classes(classes)
        self.panel.class_legend.set_classes(classes)
        self._schedule_redraw()
