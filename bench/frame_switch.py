"""Frame switching in the real main window: the time from pressing N to the next frame's image on screen, and to
its predicted mask on screen (the frame model answering in its own process), median over --frames frames; and,
once, the time from opening the project to the first frame's image and its predicted mask. As in the app
(gui/app.py), the model process starts with the window and imports torch while the user picks a folder: the
project opens once that is done (its time is `model_process_warm_ms`), so the model's checkpoint is loaded cold
but torch is not; --open-at-once opens the project right after starting the app instead (a folder given on the
command line: torch's import and the project's opening overlap).

    QT_QPA_PLATFORM=offscreen python bench/frame_switch.py [--frames 20] [--size 360x480] [--model PATH]
                                                           [--open-at-once]

Without --model a tiny frame model is trained here on synthetic frames first (a minute on one CPU thread; its
masks are poor, which does not matter for timing). "On screen" = the window has drawn the frame (its
frame_displayed signal after the redraw) and Qt has processed the paint events. Targets: image <= 50 ms,
prediction <= 150 ms with the model warm, <= 2 s for the first frame after opening.
The last stdout line is JSON."""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from child_lifetime import die_with_parent  # noqa: E402
from PyQt5 import QtCore, QtWidgets  # noqa: E402

from core.project.location import open_project, plan_open  # noqa: E402
from core.serving.frame_model import MODEL_SETTING, app_model_process  # noqa: E402
from core.training.synthetic import make_frame  # noqa: E402


def write_frames(folder: Path, count: int, size: tuple[int, int]) -> None:
    folder.mkdir(parents=True)
    for k in range(count):
        cv2.imwrite(str(folder / f"frame_{k:03d}.png"), make_frame(100 + k, size=size).image)


def train_tiny_model(work: Path) -> Path:
    data = work / "train"
    (data / "images").mkdir(parents=True)
    (data / "masks").mkdir()
    for k in range(16):
        frame = make_frame(k, size=(96, 112), contrast=0.6)
        cv2.imwrite(str(data / "images" / f"{k}.png"), frame.image)
        cv2.imwrite(str(data / "masks" / f"{k}.png"), frame.mask.astype(np.uint8) * 255)
    run = work / "run"
    subprocess.run([sys.executable, "-m", "core", "train", "--data", str(data), "--out", str(run),
                    "--supervision", "masks", "--width", "tiny", "--resolution", "64", "--epochs", "2",
                    "--threads", "1", "--device", "cpu"], check=True, cwd=REPO, stdout=subprocess.DEVNULL,
                   preexec_fn=die_with_parent)
    return run / "model.safetensors"


class Screen:
    """Watches the window: when each frame's image and its predicted mask were first drawn."""

    def __init__(self, window: QtWidgets.QMainWindow) -> None:
        self.window = window
        self.image_at: dict[int, float] = {}
        self.prediction_at: dict[int, float] = {}
        window.frame_displayed.connect(self._drawn)

    def _drawn(self, frame_id: int) -> None:
        QtWidgets.QApplication.processEvents(QtCore.QEventLoop.ExcludeUserInputEvents)  # the paint events
        now = time.perf_counter()
        self.image_at.setdefault(frame_id, now)
        controller = self.window.controller
        if controller is not None and any(o.mask_kind == "predicted" for o in controller.display()):
            self.prediction_at.setdefault(frame_id, now)


def wait_for(condition: Callable[[], bool], timeout_s: float = 300.0) -> None:
    deadline = time.perf_counter() + timeout_s
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the window did not get there in time")
        QtWidgets.QApplication.processEvents(QtCore.QEventLoop.AllEvents, 5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--size", default="360x480", help="frame size HxW")
    parser.add_argument("--model", type=Path, help="frame model checkpoint (default: train a tiny one here)")
    parser.add_argument("--open-at-once", action="store_true",
                        help="open the project without waiting for the model process to import torch")
    args = parser.parse_args()
    height, width = (int(v) for v in args.size.split("x"))
    app = QtWidgets.QApplication(sys.argv[:1])
    from gui.main_window import MainWindow

    with tempfile.TemporaryDirectory(prefix="sonoclick-bench-") as tmp:
        work = Path(tmp)
        os.environ["SONOCLICK_CONFIG_DIR"] = str(work / "config")
        os.environ["SONOCLICK_DATA_DIR"] = str(work / "data")
        model = args.model or train_tiny_model(work)
        frames = work / "frames"
        write_frames(frames, args.frames + 1, (height, width))
        store = open_project(plan_open(frames))
        store.set_setting(MODEL_SETTING, str(model.resolve()))
        store.close()

        started = time.perf_counter()
        model_process = app_model_process()
        model_process.start()  # as gui/app.py does, before the window is built
        window = MainWindow(model_process=model_process)
        window.resize(1280, 800)
        window.show()
        screen = Screen(window)
        if not args.open_at_once:
            wait_for(lambda: model_process.warm)  # the user is choosing a folder meanwhile
        warm_ms = (time.perf_counter() - started) * 1000 if model_process.warm else None
        opened = time.perf_counter()
        window.open_path(frames)
        wait_for(lambda: window.controller is not None and window.controller.current_frame_id in screen.prediction_at)
        first = window.controller.current_frame_id
        cold = {"image_ms": (screen.image_at[first] - opened) * 1000,
                "prediction_ms": (screen.prediction_at[first] - opened) * 1000}
        wait_for(lambda: window.idle)
        image_ms, prediction_ms = [], []
        for _ in range(args.frames):
            before = window.controller.current_frame_id
            pressed = time.perf_counter()
            window.actions["next"].trigger()
            wait_for(lambda b=before: window.controller.current_frame_id != b)
            shown = window.controller.current_frame_id
            wait_for(lambda s=shown: s in screen.prediction_at)
            image_ms.append((screen.image_at[shown] - pressed) * 1000)
            prediction_ms.append((screen.prediction_at[shown] - pressed) * 1000)
            wait_for(lambda: window.idle)
        window.close()
    app.processEvents()
    result = {"frames": args.frames, "size": args.size, "model": "given" if args.model else "tiny, trained here",
              "open_at_once": args.open_at_once,
              "model_process_warm_ms": None if warm_ms is None else round(warm_ms, 1),
              "first_after_open": {k: round(v, 1) for k, v in cold.items()},
              "next_image_ms_median": round(statistics.median(image_ms), 1),
              "next_image_ms_max": round(max(image_ms), 1),
              "next_prediction_ms_median": round(statistics.median(prediction_ms), 1),
              "next_prediction_ms_max": round(max(prediction_ms), 1)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
