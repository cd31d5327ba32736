"""The scribble, box and point tools in the real window, driven by mouse events: each finished stroke reaches the
store (written on the store worker, never on the GUI thread) and the engine's mask, is drawn, undoes as one step
(gone from the store, the view and the engine), and is there again when the project is reopened."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PyQt5 import QtCore, QtWidgets  # noqa: E402

from core.annotation.points import PointKind  # noqa: E402
from core.annotation.sparse_simulation import object_boxes  # noqa: E402
from core.annotation.strokes import StrokeKind, scribble_pixels  # noqa: E402
from core.project.records import MaskProvenance  # noqa: E402
from gui.shortcuts import SHORTCUTS, ShortcutsDialog  # noqa: E402
from gui.tools import Tool  # noqa: E402
from tests.conftest import (  # noqa: E402
    WorkThreads,
    click_image,
    drag_image,
    iou,
    press_key,
    truth,
    wait_idle,
    write_frames,
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write_frames(tmp_path / "frames", 2, corrupt=False)
    return tmp_path / "frames"


@pytest.fixture
def opened(qtbot, folder: Path, make_window):
    window = make_window()
    assert window.open_path(folder)
    wait_idle(qtbot, window)
    return window


def _along(mask: np.ndarray, steps: int = 8) -> list[tuple[float, float]]:
    """A freehand path through the nodule's centre along its long axis, 60 % of the way to each end."""
    ys, xs = np.nonzero(mask)
    cx, cy = xs.mean(), ys.mean()
    values, vectors = np.linalg.eigh(np.cov(np.stack([xs - cx, ys - cy])))
    dx, dy = vectors[:, -1] * 1.2 * np.sqrt(values[-1])
    return [(float(cx + t * dx), float(cy + t * dy)) for t in np.linspace(-1, 1, steps)]


def test_a_scribble_drawn_with_the_mouse_reaches_the_store_and_the_engine(qtbot, opened,
                                                                        work_threads: WorkThreads) -> None:
    window = opened
    store, frame_id = window.session.store, window.controller.current_frame_id
    mask, _ = truth(0)
    press_key(qtbot, window, QtCore.Qt.Key_S)
    assert window.tools.tool == Tool.SCRIBBLE and window.actions["scribble"].isChecked()
    # while the button is held the mask follows the scribble so far, and nothing is saved
    window.controller.preview_scribble(_along(mask)[:4], True, 5)
    wait_idle(qtbot, window)
    assert window.controller.display()[0].mask.any() and not store.strokes(frame_id) and not store.masks(frame_id)
    drag_image(qtbot, window, _along(mask))
    wait_idle(qtbot, window)

    strokes = list(store.strokes(frame_id).values())
    assert len(strokes) == 1 and strokes[0].kind is StrokeKind.SCRIBBLE and strokes[0].foreground
    assert strokes[0].width == window.panel.scribble.value() and strokes[0].object_id == 0
    stored = store.mask(frame_id, 0)
    assert stored is not None and iou(stored, mask) > 0.6
    assert stored[scribble_pixels(strokes[0], mask.shape)].all()  # its pixels are nodule seeds
    assert store.masks(frame_id)[0].provenance == MaskProvenance.REFINED and store.masks(frame_id)[0].accepted is False
    assert window.view.strokes.drawn == strokes
    assert work_threads.seen["store write"] and not work_threads.on_gui_thread()

    # a right drag is a background scribble: across the nodule's middle, its pixels leave the mask
    ys, xs = np.nonzero(mask)
    across = [(float(xs.mean()), float(ys.min() - 3)), (float(xs.mean()), float(ys.max() + 3))]
    drag_image(qtbot, window, across, QtCore.Qt.RightButton)
    wait_idle(qtbot, window)
    second = list(store.strokes(frame_id).values())[-1]
    assert len(store.strokes(frame_id)) == 2 and not second.foreground
    cut = store.mask(frame_id, 0)
    assert not (cut & scribble_pixels(second, mask.shape) & ~scribble_pixels(strokes[0], mask.shape)).any()


def test_undo_removes_a_scribble_from_the_store_the_view_and_the_engine(qtbot, opened) -> None:
    window = opened
    store, frame_id = window.session.store, window.controller.current_frame_id
    mask, _ = truth(0)
    press_key(qtbot, window, QtCore.Qt.Key_S)
    drag_image(qtbot, window, _along(mask))
    wait_idle(qtbot, window)
    first = store.mask(frame_id, 0).copy()
    ys, xs = np.nonzero(mask)
    drag_image(qtbot, window, [(float(xs.mean()), float(ys.min() - 3)), (float(xs.mean()), float(ys.max() + 3))],
               QtCore.Qt.RightButton)
    wait_idle(qtbot, window)
    assert len(store.strokes(frame_id)) == 2

    press_key(qtbot, window, QtCore.Qt.Key_Z, QtCore.Qt.ControlModifier)
    wait_idle(qtbot, window)
    assert len(store.strokes(frame_id)) == 1 and np.array_equal(store.mask(frame_id, 0), first)
    assert len(window.view.strokes.drawn) == 1
    frame = window.controller.current
    assert len(frame.engine_state(0).scribbles) == 1
    # the next edit starts from the undone state: the engine no longer holds the background scribble
    click_image(qtbot, window, 5, 5, QtCore.Qt.RightButton)  # a background dot far from the nodule
    wait_idle(qtbot, window)
    session = frame.session(0)
    assert [s.foreground for s in session.scribbles] == [True, False]
    assert session.scribbles[1] == list(store.strokes(frame_id).values())[1]
    assert np.allclose(session.scribbles[1].points, [(5, 5)], atol=1.0)  # the dot, not the undone scribble


def test_a_box_dragged_round_a_nodule_gives_its_mask_and_a_second_box_a_second_nodule(qtbot, opened) -> None:
    window = opened
    store, frame_id = window.session.store, window.controller.current_frame_id
    mask, _ = truth(0)
    x0, y0, x1, y1 = object_boxes(mask)[0]
    press_key(qtbot, window, QtCore.Qt.Key_R)
    assert window.tools.tool == Tool.BOX
    window.controller.preview_box(x0 - 4, y0 - 4, x1 + 4, y1 + 4)  # while dragging: the mask, nothing saved
    wait_idle(qtbot, window)
    assert iou(window.controller.display()[0].mask, mask) > 0.6 and not store.strokes(frame_id)
    drag_image(qtbot, window, [(x0 - 4, y0 - 4), ((x0 + x1) / 2, (y0 + y1) / 2), (x1 + 4, y1 + 4)])
    wait_idle(qtbot, window)
    (box,) = store.strokes(frame_id).values()
    assert box.kind is StrokeKind.BOX and box.box_xyxy == pytest.approx((x0 - 4, y0 - 4, x1 + 4, y1 + 4), abs=1.0)
    stored = store.mask(frame_id, 0)
    assert iou(stored, mask) > 0.6 and not stored[: y0 - 6].any() and not stored[:, x1 + 6:].any()
    assert store.masks(frame_id)[0].provenance == MaskProvenance.GENERATED
    assert window.view.strokes.drawn == [box]

    drag_image(qtbot, window, [(5, 5), (20, 20), (40, 30)])  # another box: another nodule
    wait_idle(qtbot, window)
    assert sorted(s.object_id for s in store.strokes(frame_id).values()) == [0, 1]
    press_key(qtbot, window, QtCore.Qt.Key_Z, QtCore.Qt.ControlModifier)
    wait_idle(qtbot, window)
    assert [s.object_id for s in store.strokes(frame_id).values()] == [0] and 1 not in store.masks(frame_id)


def test_the_point_tool_marks_one_nodule_per_click(qtbot, opened) -> None:
    window = opened
    store, frame_id = window.session.store, window.controller.current_frame_id
    mask, _ = truth(0)
    ys, xs = np.nonzero(mask)
    press_key(qtbot, window, QtCore.Qt.Key_D)
    assert window.tools.tool == Tool.POINT
    click_image(qtbot, window, float(np.median(xs)), float(np.median(ys)))
    wait_idle(qtbot, window)
    click_image(qtbot, window, 10, 10)
    wait_idle(qtbot, window)
    points = list(store.points(frame_id).values())
    assert [(p.kind, p.object_id) for p in points] == [(PointKind.FOREGROUND, 0), (PointKind.FOREGROUND, 1)]
    assert (store.mask(frame_id, 0) & mask).sum() > 0.5 * mask.sum()


def test_strokes_are_there_when_the_project_is_reopened(qtbot, folder: Path, make_window) -> None:
    window = make_window()
    assert window.open_path(folder)
    wait_idle(qtbot, window)
    mask, _ = truth(0)
    x0, y0, x1, y1 = object_boxes(mask)[0]
    press_key(qtbot, window, QtCore.Qt.Key_R)
    drag_image(qtbot, window, [(x0 - 3, y0 - 3), (x1 + 3, y1 + 3)])
    wait_idle(qtbot, window)
    press_key(qtbot, window, QtCore.Qt.Key_S)
    drag_image(qtbot, window, _along(mask, 5))
    wait_idle(qtbot, window)
    before = dict(window.session.store.strokes(window.controller.current_frame_id))
    shown = window.session.store.mask(window.controller.current_frame_id, 0).copy()
    window.close()

    reopened = make_window()
    assert reopened.open_path(folder)
    wait_idle(qtbot, reopened)
    frame_id = reopened.controller.current_frame_id
    assert reopened.session.store.strokes(frame_id) == before
    assert reopened.view.strokes.drawn == list(before.values())
    state = reopened.controller.current.engine_state(0)
    assert state.box is not None and len(state.scribbles) == 1
    np.testing.assert_array_equal(reopened.session.store.mask(frame_id, 0), shown)
    reopened.close()


def test_the_tools_have_their_own_keys_listed_in_the_help(qtbot, opened) -> None:
    keys = [k for ks, _ in SHORTCUTS.values() for k in ks]
    assert len(keys) == len(set(keys))
    dialog = ShortcutsDialog()
    table = dialog.findChild(QtWidgets.QTableWidget)
    texts = [table.item(r, 0).text() for r in range(table.rowCount())]
    for name in ("scribble", "box", "point"):
        assert SHORTCUTS[name][0][0] in texts
    dialog.close()
    window = opened
    press_key(qtbot, window, QtCore.Qt.Key_S)
    before = window.panel.scribble.value()
    press_key(qtbot, window, QtCore.Qt.Key_BracketRight)
    assert window.panel.scribble.value() == before + 1 and window.tools.scribble_width == before + 1
    assert window.panel.brush.value() == 6  # [ and ] size the scribble while it is the tool


def test_deleting_a_nodule_removes_its_strokes(qtbot, opened) -> None:
    window = opened
    store, frame_id = window.session.store, window.controller.current_frame_id
    mask, _ = truth(0)
    press_key(qtbot, window, QtCore.Qt.Key_S)
    drag_image(qtbot, window, _along(mask))
    wait_idle(qtbot, window)
    assert store.strokes(frame_id) and window.view.strokes.drawn
    press_key(qtbot, window, QtCore.Qt.Key_Delete)
    wait_idle(qtbot, window)
    assert store.strokes(frame_id) == {} and store.masks(frame_id) == {} and window.view.strokes.drawn == []
    press_key(qtbot, window, QtCore.Qt.Key_Z, QtCore.Qt.ControlModifier)  # and undo brings them back
    wait_idle(qtbot, window)
    assert len(store.strokes(frame_id)) == 1 and len(window.view.strokes.drawn) == 1


def test_a_box_drawn_with_another_class_selected_makes_an_object_of_that_class(qtbot, opened) -> None:
    window = opened
    store, frame_id = window.session.store, window.controller.current_frame_id
    window.controller.add_class("thyroid gland")
    wait_idle(qtbot, window)
    gland = next(c.id for c in store.classes() if c.name == "thyroid gland")
    window.controller.select_class(gland)
    press_key(qtbot, window, QtCore.Qt.Key_R)
    drag_image(qtbot, window, [(20, 20), (60, 50), (120, 110)])
    wait_idle(qtbot, window)
    (box,) = store.strokes(frame_id).values()
    assert store.object_classes(frame_id) == {box.object_id: gland}
