"""A clinician's session in the real window on synthetic frames, checking the state after each step: open (the
frame model predicts), calipers, a correction click, undo/redo, accept, adjusting an accepted nodule (it stays
accepted, one undo step), the next frame with its prediction (no stale message), clicks only, export, and
reopening on the frame shown last."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import csv  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PyQt5 import QtCore  # noqa: E402

from core.annotation.points import PointKind  # noqa: E402
from core.project.display_status import DisplayStatus  # noqa: E402
from core.project.location import PROJECT_SUBFOLDER  # noqa: E402
from core.project.store import ProjectStore  # noqa: E402
from core.serving import frame_model, model_process  # noqa: E402
from tests.conftest import click_image, drag_image, place_calipers, press_key, truth, wait_idle, write_frames  # noqa: E402,E501


def _ellipse_probability(shape: tuple[int, int]) -> np.ndarray:
    """The stand-in model's answer: a centred ellipse (what it says does not matter, only that it answers)."""
    h, w = shape
    yy, xx = np.mgrid[:h, :w]
    return (((yy - h / 2) / (h / 5)) ** 2 + ((xx - w / 2) / (w / 6)) ** 2 <= 1).astype(np.float32)


@pytest.fixture
def quick_model(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The frame model answers at once from a thread of this process; yields the sizes it was asked about."""
    asked: list[int] = []

    def predict(model_path: str, image_u8: np.ndarray) -> tuple[np.ndarray, str, float | None, np.ndarray | None]:
        asked.append(image_u8.size)
        return _ellipse_probability(image_u8.shape), "epoch 1", None, None

    monkeypatch.setattr(frame_model, "spawn_pool", lambda: ThreadPoolExecutor(max_workers=1))
    monkeypatch.setattr(model_process, "predict", predict)
    yield asked


def _message(window: object) -> str:
    return window.statusBar().currentMessage()  # type: ignore[attr-defined]


def test_a_clinicians_session_from_opening_to_reopening(qtbot, tmp_path: Path, make_window,
                                                        quick_model: list[int]) -> None:
    folder = tmp_path / "frames"
    write_frames(folder, 3, corrupt=False)
    model = tmp_path / "model.safetensors"
    model.write_bytes(b"never read: the stand-in answers")
    with ProjectStore.create(folder / PROJECT_SUBFOLDER) as store:
        store.set_setting(frame_model.MODEL_SETTING, str(model))

    # open: the first frame, with the model's prediction on it
    window = make_window()
    assert window.open_path(folder)
    c = window.controller
    qtbot.waitUntil(lambda: c.current is not None and any(o.mask_kind == "predicted" for o in c.display()),
                    timeout=15000)
    wait_idle(qtbot, window)
    first = c.current_frame_id
    store = window.session.store
    assert window.frame_list.status(first) == DisplayStatus.PREDICTED

    # calipers: four clicks give a draft mask and the lengths in the panel
    mask0, calipers = truth(0)
    place_calipers(qtbot, window, calipers)
    assert len(store.calipers(first)) == 1 and not store.masks(first)[0].accepted
    assert window.frame_list.status(first) == DisplayStatus.CALIPERS
    assert "measured" in _message(window)
    assert "px" in window.panel.measurements.text()
    after_calipers = store.mask(first).copy()

    # a correction click (background, inside the mask) takes a region away
    cx, cy = calipers.as_array().mean(axis=0)
    press_key(qtbot, window, QtCore.Qt.Key_K)
    click_image(qtbot, window, cx, cy, QtCore.Qt.RightButton)
    wait_idle(qtbot, window)
    refined = store.mask(first).copy()
    assert not refined[int(round(cy)), int(round(cx))] and refined.sum() < after_calipers.sum()

    # undo / redo: the click and its mask together; the status bar says what happened
    press_key(qtbot, window, QtCore.Qt.Key_Z, QtCore.Qt.ControlModifier)
    wait_idle(qtbot, window)
    assert len(store.points(first)) == 4 and np.array_equal(store.mask(first), after_calipers)
    assert _message(window) == "Undone"
    press_key(qtbot, window, QtCore.Qt.Key_Z, QtCore.Qt.ControlModifier | QtCore.Qt.ShiftModifier)
    wait_idle(qtbot, window)
    assert len(store.points(first)) == 5 and np.array_equal(store.mask(first), refined)
    assert _message(window) == "Redone"

    # accept
    press_key(qtbot, window, QtCore.Qt.Key_Return)
    wait_idle(qtbot, window)
    assert store.masks(first)[0].accepted and window.frame_list.status(first) == DisplayStatus.ACCEPTED
    assert _message(window).startswith("Accepted 1 mask")

    # dragging a caliper end of the accepted nodule keeps it accepted, says so, and is one undo step
    press_key(qtbot, window, QtCore.Qt.Key_C)
    (lx, ly) = calipers.long_1
    drag_image(qtbot, window, [(lx, ly), (lx - 3, ly), (lx - 6, ly)])
    wait_idle(qtbot, window)
    moved = {p.kind: p for p in store.points(first).values()}[PointKind.LONG_1]
    assert abs(moved.x - (lx - 6)) < 1.5
    assert store.masks(first)[0].accepted and window.frame_list.status(first) == DisplayStatus.ACCEPTED
    assert "still accepted" in _message(window)
    press_key(qtbot, window, QtCore.Qt.Key_Z, QtCore.Qt.ControlModifier)
    wait_idle(qtbot, window)
    back = {p.kind: p for p in store.points(first).values()}[PointKind.LONG_1]
    assert abs(back.x - lx) < 0.5 and store.masks(first)[0].accepted
    assert np.array_equal(store.mask(first), refined)

    # the next frame: its prediction shows, and nothing said about the previous frame stays
    press_key(qtbot, window, QtCore.Qt.Key_Return)  # (already accepted: says so)
    press_key(qtbot, window, QtCore.Qt.Key_N)
    qtbot.waitUntil(lambda: c.current is not None and c.current_frame_id != first
                    and any(o.mask_kind == "predicted" for o in c.display()), timeout=15000)
    wait_idle(qtbot, window)
    second = c.current_frame_id
    assert "ccepted" not in _message(window)
    assert window.frame_list.status(second) == DisplayStatus.PREDICTED

    # clicks only: one click on the nodule gives a refined draft, no calipers
    mask1, calipers1 = truth(1)
    ys, xs = np.nonzero(mask1)
    k = int(np.argmin((xs - xs.mean()) ** 2 + (ys - ys.mean()) ** 2))
    press_key(qtbot, window, QtCore.Qt.Key_K)
    click_image(qtbot, window, float(xs[k]), float(ys[k]))
    wait_idle(qtbot, window)
    assert store.calipers(second) == {} and store.mask(second) is not None
    assert store.mask(second)[ys[k], xs[k]] and window.frame_list.status(second) == DisplayStatus.DRAFT
    press_key(qtbot, window, QtCore.Qt.Key_Return)
    wait_idle(qtbot, window)
    assert store.masks(second)[0].accepted

    # export: both accepted masks, the caliper measurements of the first frame
    dialog = window.show_export_dialog()
    out = tmp_path / "export"
    with qtbot.waitSignal(dialog.finished_work, timeout=10000):
        dialog.export_to(out)
    assert sorted(p.name for p in (out / "masks").iterdir()) == ["frame_01.png", "frame_02.png"]
    rows = [r for r in csv.DictReader((out / "measurements.csv").open()) if r.get("method", "calipers") == "calipers"]
    assert len(rows) == 1 and rows[0]["name"].startswith("frame_01")  # (derived rows: tests/test_gui_calibration.py)
    assert abs(float(rows[0]["long_axis_px"]) - float(np.hypot(*np.subtract(calipers.long_2, (lx, ly))))) < 1.5
    assert dialog.focusWidget() is dialog.export_button  # not an import button, which Enter would open
    dialog.close()

    # reopen: the frame shown last (the second), not the first
    window.close()
    reopened = make_window()
    assert reopened.open_path(folder)
    wait_idle(qtbot, reopened)
    assert reopened.controller.current_frame_id == second
    assert reopened.controller.display()[0].mask_kind == "accepted"
    reopened.close()
