"""Room for the image and no cut-off text at 1280 x 800: every visible label, button, combo box, group, dock
title, tab and table header shows its whole text (its text's width in its font fits the widget's width) with each
right-hand tab shown, and a frame-list row or status-bar label elided for lack of room has its whole text in its
tooltip; the toolbar shows every button; the image gets most of the window; docks can be closed and brought back
from View > Panels. With the demo's frames: their names show whole in the frame list, the Nodules panel shows a
nodule's sizes and state and the Display tab its controls without scrolling, and a status message is read whole."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from PyQt5 import QtCore, QtWidgets  # noqa: E402

from core.annotation.tags import FrameTag  # noqa: E402
from core.interactive.starter_models import STARTER_CLICK_LABEL  # noqa: E402
from core.project.display_status import DisplayStatus  # noqa: E402
from gui.demo import create_demo_project, write_demo_frames  # noqa: E402
from gui.menus import TOOL_ACTIONS  # noqa: E402
from gui.window_docks import DISPLAY, FRAMES, NODULES, TRAINING  # noqa: E402
from tests.conftest import place_calipers, truth, wait_idle, write_frames  # noqa: E402

BUTTON_PADDING_PX = 8  # a button's frame and margins around its text
TAB_PADDING_PX = 8


def _shown_width(widget: QtWidgets.QWidget) -> int:
    """The widget's width as far as its ancestors (a scroll area's viewport, say) let it be seen."""
    top = widget.window()
    rect = QtCore.QRect(widget.mapTo(top, QtCore.QPoint(0, 0)), widget.size())
    rect = rect.intersected(top.rect())
    parent = widget.parentWidget()
    while parent is not None and parent is not top:
        rect = rect.intersected(QtCore.QRect(parent.mapTo(top, QtCore.QPoint(0, 0)), parent.size()))
        parent = parent.parentWidget()
    return rect.width()


def _fits(widget: QtWidgets.QWidget, text: str, room: int) -> bool:
    """The text fits `room` (the widget's width less its padding), less what an ancestor clips off."""
    clipped = widget.width() - _shown_width(widget)
    return widget.fontMetrics().horizontalAdvance(text) <= room - clipped


def _plain(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def cut_texts(root: QtWidgets.QWidget) -> list[str]:
    """'Class: text' for each visible widget under `root` whose single-line text is wider than the widget."""
    cut = []
    for w in root.findChildren(QtWidgets.QWidget):
        if not w.isVisible() or w.width() <= 1 or w.visibleRegion().isEmpty():  # hidden, or a tab behind another
            continue
        if isinstance(w, QtWidgets.QLabel) and not w.wordWrap() and w.text() and w.textFormat() != QtCore.Qt.RichText \
                and "<" not in w.text():
            text = w.text() if "\n" not in w.text() else max(w.text().split("\n"), key=len)
            if not _fits(w, text, w.contentsRect().width()) and text not in w.toolTip():
                cut.append(f"QLabel: {text}")
        elif isinstance(w, QtWidgets.QAbstractButton) and w.text():
            indicator = 22 if isinstance(w, (QtWidgets.QCheckBox, QtWidgets.QRadioButton)) else BUTTON_PADDING_PX
            if not _fits(w, _plain(w.text()), w.width() - indicator):
                cut.append(f"{type(w).__name__}: {w.text()}")
        elif isinstance(w, QtWidgets.QComboBox) and w.currentText():
            option = QtWidgets.QStyleOptionComboBox()
            w.initStyleOption(option)
            field = w.style().subControlRect(QtWidgets.QStyle.CC_ComboBox, option,
                                             QtWidgets.QStyle.SC_ComboBoxEditField, w)
            if not _fits(w, w.currentText(), field.width()):
                cut.append(f"QComboBox: {w.currentText()}")
        elif isinstance(w, QtWidgets.QGroupBox) and w.title():
            if not _fits(w, _plain(w.title()), w.width() - 10):
                cut.append(f"QGroupBox: {w.title()}")
        elif isinstance(w, QtWidgets.QTabBar):
            cut += [f"tab: {w.tabText(i)}" for i in range(w.count())
                    if not _fits(w, _plain(w.tabText(i)), w.tabRect(i).width() - TAB_PADDING_PX)]
        elif isinstance(w, QtWidgets.QHeaderView) and w.orientation() == QtCore.Qt.Horizontal:
            model = w.model()
            for i in range(w.count()):
                label = str(model.headerData(i, QtCore.Qt.Horizontal) or "")
                if label and not w.isSectionHidden(i) and not _fits(w, label, w.sectionSize(i) - TAB_PADDING_PX):
                    cut.append(f"header: {label}")
        elif isinstance(w, QtWidgets.QTreeWidget):  # a row's text may be elided only if its tooltip has it all
            for row in range(w.topLevelItemCount()):
                item = w.topLevelItem(row)
                if item.isHidden() or w.visualItemRect(item).isEmpty():
                    continue
                for col in range(w.columnCount()):
                    icon = 0 if item.icon(col).isNull() else 20
                    if not _fits(w, item.text(col), w.columnWidth(col) - icon - TAB_PADDING_PX) \
                            and item.text(col) not in item.toolTip(col):
                        cut.append(f"row: {item.text(col)}")
        elif isinstance(w, QtWidgets.QDockWidget) and not w.isFloating():
            if not _fits(w, w.windowTitle(), w.width() - 40):  # minus the float and close buttons
                cut.append(f"dock: {w.windowTitle()}")
    return cut


def test_the_check_finds_cut_text(qtbot) -> None:
    box = QtWidgets.QWidget()
    qtbot.addWidget(box)
    layout = QtWidgets.QVBoxLayout(box)
    label = QtWidgets.QLabel("A label much wider than forty pixels")
    label.setFixedWidth(40)
    button = QtWidgets.QPushButton("A button much wider than forty pixels")
    button.setFixedWidth(40)
    fine = QtWidgets.QLabel("ok")
    for w in (label, button, fine):
        layout.addWidget(w)
    box.show()
    assert cut_texts(box) == ["QLabel: A label much wider than forty pixels",
                              "QPushButton: A button much wider than forty pixels"]


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_no_text_is_cut_with_either_tab(qtbot, tmp_path: Path, make_window, size: tuple[int, int]) -> None:
    folder = tmp_path / "frames"
    write_frames(folder, 2, corrupt=False)
    (folder / "frame_01.png").rename(folder / "us_0001_cine.png")  # as long as the demo's "us_cine.tif [12]"
    window = make_window()
    window.resize(*size)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == size, timeout=5000)
    assert window.open_path(folder)
    wait_idle(qtbot, window)
    place_calipers(qtbot, window, truth(0)[1])
    for tab in (DISPLAY, TRAINING):
        window.docks[tab].raise_()
        qtbot.waitUntil(lambda t=tab: not window.docks[t].visibleRegion().isEmpty(), timeout=5000)
        QtWidgets.QApplication.processEvents()
        assert cut_texts(window) == [], f"with the {tab} tab shown"
        assert window.docks[NODULES].isVisible() and not window.docks[NODULES].visibleRegion().isEmpty()
    assert _nodules_scroll(window) == 0, "one nodule with calipers, a derived size and no pixel size"
    extension = window.findChild(QtWidgets.QToolButton, "qt_toolbar_ext_button")
    assert extension is None or not extension.isVisible(), "toolbar buttons hidden behind the overflow arrow"
    assert window.view.width() >= 0.6 * window.width()


def test_docks_close_and_come_back_from_the_view_menu(qtbot, make_window) -> None:
    window = make_window()
    view_width = window.view.width()
    frames = window.docks[FRAMES]
    frames.close()
    qtbot.waitUntil(lambda: window.view.width() > view_width, timeout=5000)
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    panels = next(a.menu() for a in view_menu.actions() if a.text() == "Panels")
    toggle = next(a for a in panels.actions() if a.text() == FRAMES)
    assert not toggle.isChecked()
    toggle.trigger()
    qtbot.waitUntil(frames.isVisible, timeout=5000)


def _open_demo(qtbot, make_window, tmp_path: Path, size: tuple[int, int]) -> QtWidgets.QMainWindow:
    """The demo's frames (us_0001.dcm ... us_cine.tif [12]), the first with calipers and a draft mask, shown."""
    window = make_window()
    window.resize(*size)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == size, timeout=5000)
    assert window.open_path(create_demo_project(tmp_path))
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: "derived" in window.panel.measurements.text(), timeout=15000)
    QtWidgets.QApplication.processEvents()
    return window


def _nodules_scroll(window: QtWidgets.QMainWindow) -> int:
    """How many pixels of the Nodules panel's text lie below what its dock shows (0: nothing to scroll to)."""
    QtWidgets.QApplication.processEvents()
    label = window.panel.measurements
    scroll = window.docks[NODULES].widget()
    hidden = label.heightForWidth(label.width()) - label.height()
    bottom = label.mapTo(scroll.viewport(), QtCore.QPoint(0, label.height())).y()
    return max(hidden, bottom - scroll.viewport().height(), 1 if scroll.verticalScrollBar().isVisible() else 0)


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_frame_names_show_whole_beside_their_status_and_tag(qtbot, tmp_path: Path, make_window,
                                                            size: tuple[int, int]) -> None:
    folder = tmp_path / "frames"
    write_demo_frames(folder, n_frames=40)  # us_0001.dcm, us_0002.png ... us_0040.png, us_cine.tif [1] ... [12]
    window = make_window()
    window.resize(*size)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == size, timeout=5000)
    assert window.open_path(folder)
    wait_idle(qtbot, window)
    frames = window.frame_list
    ids = frames.frame_ids()
    frames.set_status(ids[1], DisplayStatus.PREDICTED)  # the widest status words in the column beside the names
    frames.set_status(ids[2], DisplayStatus.ACCEPTED)
    frames.set_tags({ids[2]: FrameTag.NODULE, ids[3]: FrameTag.NO_NODULE})
    QtWidgets.QApplication.processEvents()
    tree, metrics = frames.tree, frames.tree.fontMetrics()
    assert tree.verticalScrollBar().isVisible(), "the list scrolls, as a real project's does: its bar takes room"
    shown = {}
    for fid in ids:
        item = frames._items[fid]
        room = tree.columnWidth(0) - (0 if item.icon(0).isNull() else 20) - TAB_PADDING_PX
        shown[item.text(0)] = metrics.elidedText(item.text(0), tree.textElideMode(), room)
    single = [name for name in shown if not name.endswith("]")]
    assert single == ["us_0001.dcm"] + [f"us_{k:04d}.png" for k in range(2, 41)]
    assert [shown[name] for name in single] == single, "us_0001.png-style names shown whole"
    for name, text in shown.items():  # a cine loop's frames: the number stays in sight
        assert text.endswith(name[name.rfind(" "):]), (name, text)


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_nodule_sizes_and_display_controls_need_no_scrolling(qtbot, tmp_path: Path, make_window,
                                                            size: tuple[int, int]) -> None:
    window = _open_demo(qtbot, make_window, tmp_path, size)
    text = window.panel.measurements.text()
    assert "Nodule 1" in text and "mm</b>" in text and "draft" in text and "derived" in text
    assert _nodules_scroll(window) == 0
    window.docks[DISPLAY].raise_()
    qtbot.waitUntil(lambda: not window.docks[DISPLAY].visibleRegion().isEmpty(), timeout=5000)
    display = window.docks[DISPLAY].widget()
    assert not display.verticalScrollBar().isVisible(), "the Display tab (overlay, levels, sizes, legend) scrolls"
    assert cut_texts(window) == []


def test_status_messages_are_read_whole_beside_the_permanent_labels(qtbot, tmp_path: Path, make_window) -> None:
    window = _open_demo(qtbot, make_window, tmp_path, (1280, 800))
    bar = window.statusBar()
    window.view.hovered.emit(499.0, 359.0)  # each permanent label with its longest usual text
    window.model_menu.status.emit("frame model model_v0003.safetensors: ready · click network "
                                  "click_starter.safetensors: ready")
    window.timing_label.setText("click → mask 999 ms")
    labels = [window.cursor_label, window.model_label, window.frame_label, window.timing_label]

    def message_room() -> int:  # QStatusBar draws the message from x = 6 to 2 px before its first shown label
        QtWidgets.QApplication.processEvents()
        return min(label.x() for label in labels if label.isVisible()) - 2 - 6

    messages = []
    for name in TOOL_ACTIONS:
        window.actions[name].trigger()
        messages.append(bar.currentMessage())
    messages.append(f"Clicks are answered by the {STARTER_CLICK_LABEL}")
    for message in messages:
        bar.showMessage(message, 8000)
        assert bar.fontMetrics().horizontalAdvance(message) <= message_room(), message
        assert window.cursor_label.isVisible() and window.timing_label.isVisible()  # numbers are never elided
    bar.clearMessage()
    QtWidgets.QApplication.processEvents()
    for label in labels:  # without a message each label is back, whole or elided with its text in the tooltip
        assert label.isVisible() and label.width() > 40, label.text()
    assert cut_texts(bar) == []
