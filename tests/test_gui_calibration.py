"""Measurements the headless half adds, in the window: a mask made with clicks only is measured (derived axes in the
panel); the calibration tool (L), two clicks on a PNG frame and a typed distance give millimetres (status bar,
panel), the export's CSV has them for calipers and derived rows, and Ctrl+Z takes the calibration back."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import csv  # noqa: E402
import re  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from PyQt5 import QtCore  # noqa: E402

from gui.tools import Tool  # noqa: E402
from tests.conftest import click_image, place_calipers, press_key, truth, wait_idle, write_frames  # noqa: E402


def test_two_clicks_and_a_distance_give_millimetres_in_the_panel_and_the_csv(qtbot, tmp_path: Path,
                                                                           make_window) -> None:
    asked: list[float] = []

    def answer(length_px: float) -> tuple[float, str]:  # the user types 20 mm, for the whole project
        asked.append(length_px)
        return 20.0, "project"

    folder = tmp_path / "frames"
    write_frames(folder, 2, corrupt=False)
    window = make_window()
    window.calibration.ask = answer
    assert window.open_path(folder)
    wait_idle(qtbot, window)
    _, calipers = truth(0)
    place_calipers(qtbot, window, calipers)
    assert "px" in window.panel.measurements.text() and "no mm" in window.frame_label.text()
    assert "derived" in window.panel.measurements.text()  # the mask's own axes beside the calipers
    press_key(qtbot, window, QtCore.Qt.Key_Return)
    wait_idle(qtbot, window)

    # frame 2: clicks only, then accepted: measured from its mask
    first = window.controller.current_frame_id
    mask1, _ = truth(1)
    ys, xs = np.nonzero(mask1)
    k = int(np.argmin((xs - xs.mean()) ** 2 + (ys - ys.mean()) ** 2))
    press_key(qtbot, window, QtCore.Qt.Key_N)
    wait_idle(qtbot, window)
    press_key(qtbot, window, QtCore.Qt.Key_K)
    click_image(qtbot, window, float(xs[k]), float(ys[k]))
    wait_idle(qtbot, window)
    assert "px</b>" in window.panel.measurements.text() and "(derived)" in window.panel.measurements.text()
    press_key(qtbot, window, QtCore.Qt.Key_Return)
    wait_idle(qtbot, window)
    window.show_frame(first)
    wait_idle(qtbot, window)

    press_key(qtbot, window, QtCore.Qt.Key_L)
    assert window.tools.tool == Tool.CALIBRATE and "two points" in window.statusBar().currentMessage()
    click_image(qtbot, window, 10, 10)
    click_image(qtbot, window, 110, 10)  # 100 px apart: 20 mm -> 0.2 mm per pixel
    wait_idle(qtbot, window)
    assert len(asked) == 1 and abs(asked[0] - 100) < 1.0
    qtbot.waitUntil(lambda: "calibrated: project" in window.frame_label.text(), timeout=10000)
    assert "0.200" in window.frame_label.text()
    long_mm = calipers.long_axis_px * 0.2

    def panel_long_mm() -> float | None:  # the first length in the panel: the calipers' long axis
        found = re.search(r"<b>(\d+\.\d) mm</b>", window.panel.measurements.text())
        return None if found is None else float(found.group(1))

    qtbot.waitUntil(lambda: panel_long_mm() is not None, timeout=10000)
    assert abs(panel_long_mm() - long_mm) < 0.25  # the placed ends land within a pixel of the true ones

    dialog = window.show_export_dialog()
    with qtbot.waitSignal(dialog.finished_work, timeout=10000):
        dialog.export_to(tmp_path / "export")
    rows = list(csv.DictReader((tmp_path / "export" / "measurements.csv").open()))
    by_method = {(r["name"][:8], r["method"]): r for r in rows}
    assert abs(float(by_method[("frame_01", "calipers")]["long_axis_mm"]) - long_mm) < 0.05
    derived = by_method[("frame_02", "derived")]
    assert abs(float(derived["long_axis_mm"]) - 0.2 * float(derived["long_axis_px"])) < 0.1  # (axes found in mm)
    dialog.close()

    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    press_key(qtbot, window, QtCore.Qt.Key_Z, QtCore.Qt.ControlModifier)  # the calibration was the last step
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: "no mm" in window.frame_label.text(), timeout=10000)
