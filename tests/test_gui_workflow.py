"""The main window driven like a user: open a folder of synthetic PNGs (one corrupt), place four calipers with
real mouse clicks on the view, refine with a right click, undo/redo, accept, close and reopen, export, import."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import csv  # noqa: E402
import json  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from PyQt5 import QtCore  # noqa: E402

from core.annotation.points import CALIPER_ORDER, PointKind  # noqa: E402
from core.project.display_status import DisplayStatus  # noqa: E402
from core.project.location import PROJECT_SUBFOLDER  # noqa: E402
from core.project.store import ProjectStore  # noqa: E402
from tests.conftest import click_image, iou, press_key, truth, wait_idle, write_frames  # noqa: E402


def _overlay_alpha(window: object, x: float, y: float) -> int:
    image = window.view.mask_item.image  # type: ignore[attr-defined]
    assert image is not None, "no mask overlay drawn"
    return int(image[int(round(y)), int(round(x)), 3])


def test_annotate_refine_undo_accept_reopen_export(qtbot, tmp_path: Path, make_window) -> None:
    folder = tmp_path / "frames"
    write_frames(folder, 3)
    window = make_window()
    assert window.open_path(folder)
    wait_idle(qtbot, window)

    # the folder is listed, the corrupt file with its reason, and the first readable frame is shown
    frames = window.frame_list
    assert len(frames.frame_ids()) == 4
    broken = next(f for f in frames.frame_ids() if frames.record(f).source.name == "broken.png")
    assert frames.status(broken) == DisplayStatus.UNREADABLE
    assert frames._items[broken].text(1) == "unreadable"  # the reason is in the tooltip: the column is narrow
    assert "unreadable: corrupt PNG image" in frames._items[broken].toolTip(1)
    frame_id = window.controller.current_frame_id
    assert frames.record(frame_id).source.name == "frame_01.png"
    assert (folder / PROJECT_SUBFOLDER / "sonoclick.sqlite").is_file()

    # four caliper clicks (long axis, then short axis) -> a mask in the overlay and in the store
    nodule, calipers = truth(0)
    for x, y in calipers.as_array():
        click_image(qtbot, window, x, y)
    wait_idle(qtbot, window)
    store = window.session.store
    points = store.points(frame_id)
    assert [p.kind for p in points.values()] == list(CALIPER_ORDER)
    placed = store.calipers(frame_id)[0].as_array()
    assert np.abs(placed - calipers.as_array()).max() < 1.0  # the click landed where the image point is
    stored = store.mask(frame_id)
    assert stored is not None and iou(stored, nodule) > 0.8
    cx, cy = calipers.as_array().mean(axis=0)
    assert _overlay_alpha(window, cx, cy) > 0
    assert frames.status(frame_id) == DisplayStatus.CALIPERS  # a draft mask is not yet accepted
    assert not store.masks(frame_id)[0].accepted and store.accepted_frames() == []
    assert window.timing_label.text().startswith("click → mask")
    after_calipers = stored.copy()

    # a right click inside the mask (click tool, chosen with K) removes that region
    press_key(qtbot, window, QtCore.Qt.Key_K)
    assert window.tools.tool.value == "clicks"
    assert stored[int(round(cy)), int(round(cx))]
    click_image(qtbot, window, cx, cy, QtCore.Qt.RightButton)
    wait_idle(qtbot, window)
    refined = store.mask(frame_id)
    assert not refined[int(round(cy)), int(round(cx))] and refined.sum() < after_calipers.sum()
    assert _overlay_alpha(window, cx, cy) == 0
    assert [p.kind for p in store.points(frame_id).values()][-1] == PointKind.BACKGROUND

    # undo (Ctrl+Z) takes back the click and its mask together; redo (Ctrl+Shift+Z) restores both
    press_key(qtbot, window, QtCore.Qt.Key_Z, QtCore.Qt.ControlModifier)
    wait_idle(qtbot, window)
    assert len(store.points(frame_id)) == 4
    assert np.array_equal(store.mask(frame_id), after_calipers)
    assert _overlay_alpha(window, cx, cy) > 0
    press_key(qtbot, window, QtCore.Qt.Key_Z, QtCore.Qt.ControlModifier | QtCore.Qt.ShiftModifier)
    wait_idle(qtbot, window)
    assert len(store.points(frame_id)) == 5
    assert np.array_equal(store.mask(frame_id), refined)

    # accept (Enter): the stored draft is flagged accepted as it is
    draft = store.masks(frame_id)[0]
    press_key(qtbot, window, QtCore.Qt.Key_Return)
    wait_idle(qtbot, window)
    assert frames.status(frame_id) == DisplayStatus.ACCEPTED
    assert window.controller.display()[0].mask_kind == "accepted"
    accepted = store.masks(frame_id)[0]
    assert accepted.accepted and accepted.created_at == draft.created_at
    assert [r.id for r in store.accepted_frames()] == [frame_id]

    # undo of the accept brings the draft back; redo accepts it again
    press_key(qtbot, window, QtCore.Qt.Key_Z, QtCore.Qt.ControlModifier)
    wait_idle(qtbot, window)
    assert store.masks(frame_id)[0] == draft and window.controller.display()[0].mask_kind == "draft"
    press_key(qtbot, window, QtCore.Qt.Key_Z, QtCore.Qt.ControlModifier | QtCore.Qt.ShiftModifier)
    wait_idle(qtbot, window)
    assert store.masks(frame_id)[0] == accepted and window.controller.display()[0].mask_kind == "accepted"

    # close and reopen: everything is still there, the same frame is shown
    window.close()
    reopened = make_window()
    assert reopened.open_path(folder)
    wait_idle(qtbot, reopened)
    assert reopened.controller.current_frame_id == frame_id
    assert reopened.frame_list.status(frame_id) == DisplayStatus.ACCEPTED
    assert reopened.frame_list.status(broken) == DisplayStatus.UNREADABLE
    shown = reopened.controller.display()
    assert len(shown) == 1 and shown[0].mask_kind == "accepted" and shown[0].calipers is not None
    assert np.array_equal(shown[0].mask, refined) and len(shown[0].clicks) == 1
    assert _overlay_alpha(reopened, cx, cy) == 0 and reopened.view.mask_item.image[..., 3].any()

    # export writes PNG masks, point JSON and the measurements CSV
    dialog = reopened.show_export_dialog()
    out = tmp_path / "export"
    with qtbot.waitSignal(dialog.finished_work, timeout=10000):
        dialog.export_to(out)
    assert (out / "masks" / "frame_01.png").is_file()
    doc = json.loads((out / "labels" / "frame_01.json").read_text())
    caliper_labels = ["long1", "long2", "short1", "short2"]
    clicks = ["background"]  # the correction click, after the caliper and derived sets (core.io.point_json)
    assert [s["label"] for s in doc["shapes"]] == caliper_labels + [f"derived_{k}" for k in caliper_labels] + clicks
    rows = list(csv.DictReader((out / "measurements.csv").open()))
    assert [r["method"] for r in rows] == ["calipers", "derived"]
    assert abs(float(rows[0]["long_axis_px"]) - calipers.long_axis_px) < 1.5

    # import: the exported point JSON into frame 2 gives it calipers (the dialog is non-modal: back to the window)
    reopened.activateWindow()
    qtbot.waitUntil(reopened.isActiveWindow)
    press_key(qtbot, reopened, QtCore.Qt.Key_N)
    wait_idle(qtbot, reopened)
    second = reopened.controller.current_frame_id
    assert second != frame_id
    with qtbot.waitSignal(dialog.finished_work, timeout=10000):
        dialog.import_file(out / "labels" / "frame_01.json", "json")
    wait_idle(qtbot, reopened)
    assert reopened.frame_list.status(second) == DisplayStatus.CALIPERS
    assert reopened.controller.display()[0].calipers is not None
    dialog.close()
    reopened.close()

    # the project stays a plain, consistent store
    with ProjectStore.open(folder / PROJECT_SUBFOLDER) as check:
        assert check.mask(frame_id) is not None and len(check.calipers(second)) == 1


def test_closing_right_after_the_last_click_loses_nothing(qtbot, tmp_path: Path, make_window) -> None:
    folder = tmp_path / "frames"
    write_frames(folder, 1, corrupt=False)
    window = make_window()
    assert window.open_path(folder)
    wait_idle(qtbot, window)
    frame_id = window.controller.current_frame_id
    _, calipers = truth(0)
    for x, y in calipers.as_array():
        click_image(qtbot, window, x, y)
    window.close()  # no waiting: the engine's mask is still being computed
    with ProjectStore.open(folder / PROJECT_SUBFOLDER) as store:
        assert len(store.calipers(frame_id)) == 1 and store.mask(frame_id) is not None
