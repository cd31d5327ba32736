"""Helpers and fixtures shared by the tests. Fixtures (`app_dirs`, `make_window`) are found by pytest; a test
that needs a plain helper imports it: `from tests.conftest import write_frames`. Nothing here reads the data
folders: every input is written under the test's `tmp_path`."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "2")
# no project falls back on the shipped starter click network unless a test asks: clicks must not depend on when
# a model process finishes loading
os.environ.setdefault("SONOCLICK_STARTER_MODELS", "off")

import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from pydicom.dataset import Dataset, FileMetaDataset  # noqa: E402
from pydicom.uid import ExplicitVRLittleEndian, generate_uid  # noqa: E402
from PyQt5 import QtCore, QtGui, QtWidgets  # noqa: E402
from PyQt5.QtTest import QTest  # noqa: E402

from core.annotation.caliper_simulation import calipers_from_label_map  # noqa: E402
from core.annotation.points import Calipers  # noqa: E402
from core.training.synthetic import make_frame  # noqa: E402

US_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.6.1"
US_MULTIFRAME_STORAGE = "1.2.840.10008.5.1.4.1.1.3.1"


class EventLog(list):
    """A list to pass as an `on_event` callback; `first` is set once anything has arrived, so a test waits on
    it with a timeout instead of polling."""

    def __init__(self) -> None:
        super().__init__()
        self.first = threading.Event()

    def __call__(self, event: dict) -> None:
        self.append(event)
        self.first.set()


# --- files written for a test --------------------------------------------------------------------------------

def block_mask(left: int, size: tuple[int, int] = (64, 80)) -> np.ndarray:
    """A 20 x 20 px square object whose left side is at column `left` (store tests' masks)."""
    mask = np.zeros(size, bool)
    mask[10:30, left:left + 20] = True
    return mask


def write_dataset(root: Path, n: int, size: tuple[int, int] = (96, 112), seed0: int = 0) -> Path:
    """A dataset folder of synthetic frames (images/ + masks/)."""
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for k in range(n):
        f = make_frame(seed0 + k, size=size, contrast=0.6)
        cv2.imwrite(str(root / "images" / f"{k}.png"), f.image)
        cv2.imwrite(str(root / "masks" / f"{k}.png"), f.mask.astype(np.uint8) * 255)
    return root


def write_dicom(path: Path, pixels: np.ndarray, photometric: str = "MONOCHROME2", **attrs: object) -> Path:
    """A minimal, valid DICOM file. pixels: (H, W), (H, W, 3), (N, H, W) or (N, H, W, 3), uint8 or uint16."""
    colour = photometric not in ("MONOCHROME1", "MONOCHROME2")
    frames = pixels.shape[0] if pixels.ndim == (4 if colour else 3) else 1
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = US_MULTIFRAME_STORAGE if frames > 1 else US_IMAGE_STORAGE
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.Modality = "US"
    ds.Rows, ds.Columns = pixels.shape[-3:-1] if colour else pixels.shape[-2:]
    ds.SamplesPerPixel = 3 if colour else 1
    ds.PhotometricInterpretation = photometric
    if colour:
        ds.PlanarConfiguration = 0
    bits = pixels.dtype.itemsize * 8
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = bits, bits, bits - 1, 0
    if frames > 1:
        ds.NumberOfFrames = frames
    for key, value in attrs.items():
        setattr(ds, key, value)
    ds.PixelData = np.ascontiguousarray(pixels).tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


# --- the desktop app (tests/test_gui_*.py) -------------------------------------------------------------------

FRAME_SIZE = (220, 300)  # (H, W) of the synthetic test frames


def frame_seed(index: int) -> int:
    return 11 + index


def write_frames(folder: Path, count: int, corrupt: bool = True, size: tuple[int, int] = FRAME_SIZE) -> list[Path]:
    """frame_01.png ... as synthetic frames with one nodule each, plus broken.png (not an image) if `corrupt`."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"frame_{i + 1:02d}.png"
        cv2.imwrite(str(path), make_frame(frame_seed(i), size).image)
        paths.append(path)
    if corrupt:
        (folder / "broken.png").write_bytes(b"this is not a PNG file")
    return paths


def truth(index: int, size: tuple[int, int] = FRAME_SIZE) -> tuple[np.ndarray, Calipers]:
    """The nodule mask of frame `index` (0-based) and its exact calipers."""
    labels = make_frame(frame_seed(index), size).labels
    return labels > 0, calipers_from_label_map(labels)[0]


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


@pytest.fixture
def app_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Recent-projects list and log go to a temporary folder, never the user's home."""
    home = tmp_path / "app-home"
    monkeypatch.setenv("SONOCLICK_CONFIG_DIR", str(home / "config"))
    monkeypatch.setenv("SONOCLICK_DATA_DIR", str(home / "data"))
    return home


class WorkThreads:
    """Which thread ran each piece of heavy work (store writes, engine edits, frame loads) while recording."""

    def __init__(self) -> None:
        self.seen: dict[str, list[str]] = {"store write": [], "engine edit": [], "frame load": []}

    def on_gui_thread(self) -> dict[str, int]:
        gui = threading.main_thread().name
        return {job: names.count(gui) for job, names in self.seen.items() if gui in names}

    def clear(self) -> None:
        for names in self.seen.values():
            names.clear()


@pytest.fixture
def work_threads(monkeypatch: pytest.MonkeyPatch) -> WorkThreads:
    """Records the thread of every store write, engine edit and frame load from now on (tests assert the GUI
    thread did none of them: a behaviour, unlike an event-loop stall time, which depends on the machine)."""
    from contextlib import contextmanager

    from core.project import db as project_db
    from gui import controller, engine_bridge

    record = WorkThreads()

    def recorded(job: str, function: Callable) -> Callable:
        def wrapper(*args: object, **kwargs: object) -> object:
            record.seen[job].append(threading.current_thread().name)
            return function(*args, **kwargs)
        return wrapper

    original_write = project_db.Database.write

    @contextmanager
    def write(self: project_db.Database) -> Iterator[object]:
        record.seen["store write"].append(threading.current_thread().name)
        with original_write(self) as conn:
            yield conn

    monkeypatch.setattr(project_db.Database, "write", write)
    monkeypatch.setattr(engine_bridge, "bring_up_to_date", recorded("engine edit", engine_bridge.bring_up_to_date))
    monkeypatch.setattr(controller, "load_frame", recorded("frame load", controller.load_frame))
    return record


@pytest.fixture
def make_window(qtbot: object, app_dirs: Path) -> Iterator[Callable[[], object]]:
    """Factory of shown 1280 x 800 main windows; fails the test if any of them reported an error."""
    from gui.main_window import MainWindow

    windows: list[tuple[MainWindow, list[str]]] = []

    def make() -> MainWindow:
        window = MainWindow()
        errors: list[str] = []
        window.reporter.shown.connect(errors.append)
        window.resize(1280, 800)
        qtbot.addWidget(window)  # type: ignore[attr-defined]
        window.show()
        windows.append((window, errors))
        return window

    yield make
    for _window, errors in windows:
        assert not errors, f"the window reported errors: {errors}"


def wait_idle(qtbot: object, window: object, timeout_ms: int = 15000) -> None:
    """Until a frame is shown and nothing is scanning, loading, computing or writing."""

    def ready() -> bool:
        c = window.controller  # type: ignore[attr-defined]
        return window.idle and c is not None and c.current is not None  # type: ignore[attr-defined]

    qtbot.waitUntil(ready, timeout=timeout_ms)  # type: ignore[attr-defined]
    QtCore.QCoreApplication.processEvents()


def click_image(qtbot: object, window: object, x: float, y: float,
                button: QtCore.Qt.MouseButton = QtCore.Qt.LeftButton) -> None:
    """A real mouse click on the view's viewport at image point (x, y), mapped through the view's transform."""
    view = window.view  # type: ignore[attr-defined]
    qtbot.mouseClick(view.viewport(), button, pos=view.image_to_widget(x, y))  # type: ignore[attr-defined]


def press_key(qtbot: object, window: object, key: int, modifier: QtCore.Qt.KeyboardModifier = QtCore.Qt.NoModifier
              ) -> None:
    qtbot.keyClick(window.view, key, modifier)  # type: ignore[attr-defined]


def drag_image(qtbot: object, window: object, points: list[tuple[float, float]],
               button: QtCore.Qt.MouseButton = QtCore.Qt.LeftButton) -> None:
    """Press at the first image point, move through the others with the button held, release at the last.
    (QTest.mouseMove does not carry held buttons in Qt 5, so the moves are sent as events.)"""
    view = window.view  # type: ignore[attr-defined]
    viewport = view.viewport()
    QTest.mousePress(viewport, button, QtCore.Qt.NoModifier, view.image_to_widget(*points[0]))
    for x, y in points[1:]:
        pos = QtCore.QPointF(view.image_to_widget(x, y))
        event = QtGui.QMouseEvent(QtCore.QEvent.MouseMove, pos, QtCore.Qt.NoButton, button, QtCore.Qt.NoModifier)
        QtWidgets.QApplication.sendEvent(viewport, event)
        qtbot.wait(5)  # type: ignore[attr-defined]
    QTest.mouseRelease(viewport, button, QtCore.Qt.NoModifier, view.image_to_widget(*points[-1]))


def place_calipers(qtbot: object, window: object, calipers: Calipers) -> None:
    for x, y in calipers.as_array():
        click_image(qtbot, window, x, y)
    wait_idle(qtbot, window)


class StallMeter(QtCore.QObject):
    """A timer firing every `interval_ms`; `worst` is the largest gap between two firings (an event-loop stall)."""

    def __init__(self, interval_ms: int = 5) -> None:
        super().__init__()
        self.worst = 0.0
        self.ticks = 0
        self._last: float | None = None
        self._timer = QtCore.QTimer(self)
        self._timer.setTimerType(QtCore.Qt.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self.worst = max(self.worst, now - self._last)
        self._last = now
        self.ticks += 1

    def start(self) -> None:
        self._last = None
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()


def synthetic_project(tmp_path: Path, seeds: tuple[int, ...] | range, size: tuple[int, int] = (64, 80),
                      nodule_free: tuple[int, ...] = ()):
    """A new project in tmp_path/project with one synthetic frame per seed (files f<seed>.png), in seed order;
    the frames of the seeds in `nodule_free` hold no nodule."""
    from core.project.store import ProjectStore

    images = []
    for seed in seeds:
        images.append(tmp_path / f"f{seed}.png")
        cv2.imwrite(str(images[-1]), make_frame(seed, size, n_nodules=int(seed not in nodule_free)).image)
    store = ProjectStore.create(tmp_path / "project")
    store.add_frames(images)
    return store


def train_project_round(snapshot: Path, out: Path, capsys: pytest.CaptureFixture) -> dict:
    """One background-trainer round (frame network only, 1 epoch, `tiny` at 32 px) on a snapshot; its last event."""
    import argparse
    import json

    from core.commands import train_project

    parser = argparse.ArgumentParser()
    train_project.add_arguments(parser)
    args = parser.parse_args(["--snapshot", str(snapshot), "--out", str(out), "--epochs", "1", "--preset", "tiny",
                              "--resolution", "32", "--threads", "1", "--networks", "frame"])
    train_project.run(args)
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")][-1]


def database_rows(folder: Path) -> dict[str, list[tuple]]:
    """Every row of every table of the project database in `folder`, for comparing a whole project."""
    import sqlite3
    from contextlib import closing

    from core.project.store import DB_NAME

    with closing(sqlite3.connect(folder / DB_NAME)) as conn:
        tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in tables}


def assert_killed_action_changes_nothing(folder: Path, script: str) -> None:
    """Kill `script` (which opens the project in `folder`) half-way through an action; the database must be
    intact and every row as before."""
    import sqlite3
    from contextlib import closing

    from core.project.store import DB_NAME

    before = database_rows(folder)
    kill_half_way(script)
    with closing(sqlite3.connect(folder / DB_NAME)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert database_rows(folder) == before


def kill_half_way(script: str) -> None:
    """Run `script` in a child Python and kill it (SIGKILL) once it prints "half-way" (the kill tests of the store)."""
    import signal
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "half-way", child.stderr.read()
        child.kill()
        assert child.wait(timeout=60) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate(timeout=60)
