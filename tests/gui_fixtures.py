"""Shared helpers and fixtures for the GUI tests (tests/test_gui_*.py): synthetic frame folders, a window that
is closed after the test, waiting for background work, and mouse clicks at image coordinates."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Callable, Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PyQt5 import QtCore, QtGui, QtWidgets  # noqa: E402
from PyQt5.QtTest import QTest  # noqa: E402

from core.annotation.caliper_simulation import calipers_from_label_map  # noqa: E402
from core.annotation.points import Calipers  # noqa: E402
from core.training.synthetic import make_frame  # noqa: E402

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
