"""The app stays responsive while it propagates: a multi-frame DICOM (made here from a synthetic frame) opened in
the main window, calipers on the middle frame, propagated both ways (Ctrl+P), two drafts corrected with one click
each and re-propagated, the range accepted (Ctrl+Shift+Enter). A 10 ms timer records the longest gap of the
event loop while propagation runs.

    QT_QPA_PLATFORM=offscreen python bench/cine_gui.py [--frames 100] [--size 360x560]

The last stdout line is JSON with max_stall_ms (target < 100), the frames and the seconds each propagation took."""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PyQt5 import QtCore, QtWidgets  # noqa: E402
from PyQt5.QtTest import QTest  # noqa: E402

from core.annotation.caliper_simulation import calipers_from_mask  # noqa: E402
from core.cine.synthetic_clips import make_clip  # noqa: E402
from core.interactive.robot_user import next_click  # noqa: E402
from core.runtime.metrics import dice  # noqa: E402
from core.training.synthetic import make_frame  # noqa: E402
from tests.test_frames import write_dicom  # noqa: E402


class StallMeter(QtCore.QObject):
    def __init__(self) -> None:
        super().__init__()
        self.worst, self.ticks, self._last = 0.0, 0, None
        self._timer = QtCore.QTimer(self)
        self._timer.setTimerType(QtCore.Qt.PreciseTimer)
        self._timer.setInterval(10)
        self._timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self.worst = max(self.worst, now - self._last)
        self._last, self.ticks = now, self.ticks + 1

    def start(self) -> None:
        self._last = None
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()


def _wait(condition: Callable[[], bool], timeout_s: float = 120.0) -> None:
    deadline = time.perf_counter() + timeout_s
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the app did not get there in time")
        QtWidgets.QApplication.processEvents(QtCore.QEventLoop.AllEvents, 20)
        QTest.qWait(5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--size", default="360x560", help="HxW of the clip")
    args = parser.parse_args()
    height, width = (int(v) for v in args.size.split("x"))
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SONOCLICK_CONFIG_DIR"] = str(Path(tmp) / "config")
        os.environ["SONOCLICK_DATA_DIR"] = str(Path(tmp) / "data")
        from gui.main_window import MainWindow
        from gui.tools import Tool

        still = make_frame(8, size=(height, width))
        clip = make_clip(still.image, still.mask, args.frames, seed=2)
        folder = Path(tmp) / "exam"
        folder.mkdir()
        write_dicom(folder / "sweep.dcm", np.stack(clip.frames))
        window = MainWindow()
        window.resize(1280, 800)
        window.show()
        assert window.open_path(folder)
        _wait(lambda: window.idle and window.controller is not None and window.controller.current is not None)
        frames = window.frame_list.source_frames(window.controller.current_frame_id)
        store = window.session.store

        def show(index: int) -> None:
            window.show_frame(frames[index])
            _wait(lambda: window.idle and window.controller.current is not None
                  and window.controller.current_frame_id == frames[index])

        def click(x: float, y: float, button: QtCore.Qt.MouseButton = QtCore.Qt.LeftButton) -> None:
            QTest.mouseClick(window.view.viewport(), button, pos=window.view.image_to_widget(x, y))
            _wait(lambda: window.idle)

        meter, timings, messages = StallMeter(), [], []

        def propagate() -> None:
            meter.start()
            started = time.perf_counter()
            QTest.keyClick(window.view, QtCore.Qt.Key_P, QtCore.Qt.ControlModifier)
            _wait(lambda: window.idle and window.propagation.idle, timeout_s=600)
            timings.append(round(time.perf_counter() - started, 2))
            meter.stop()
            messages.append(window.statusBar().currentMessage())

        key = args.frames // 2
        show(key)
        for x, y in calipers_from_mask(clip.masks[key]).as_array():
            click(x, y)
        propagate()
        window.set_tool(Tool.CLICKS)
        for index in (key + args.frames // 4, key - args.frames // 4):  # two corrections, one click each
            show(index)
            c = next_click(clip.masks[index], store.mask(frames[index]))
            click(c.x, c.y, QtCore.Qt.LeftButton if c.positive else QtCore.Qt.RightButton)
            propagate()
        QTest.keyClick(window.view, QtCore.Qt.Key_Return, QtCore.Qt.ControlModifier | QtCore.Qt.ShiftModifier)
        _wait(lambda: window.idle and window.propagation.idle)
        accepted = sum(bool(store.masks(f).get(0) and store.masks(f)[0].accepted) for f in frames)
        masks = [store.mask(f) for f in frames]
        mean_dice = float(np.mean([0.0 if m is None else dice(m, clip.masks[i]) for i, m in enumerate(masks)]))
        window.close()
        app.processEvents()
    print(json.dumps({"frames": args.frames, "size": args.size, "max_stall_ms": round(meter.worst * 1000, 1),
                      "ticks": meter.ticks, "propagation_s": timings, "runs": messages, "accepted_frames": accepted,
                      "mean_dice_after_corrections": round(mean_dice, 4), "load_1min": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
