"""Starting the app: a read-only folder's project, recent projects, the error hook, and
`python -m gui --demo --screenshot` end to end (where projects live and which files are frames: see
tests/test_project_location.py)."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import subprocess  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PyQt5 import QtCore, QtWidgets  # noqa: E402

from core.project.location import PROJECT_SUBFOLDER, plan_open  # noqa: E402
from core.project.recent import RecentProjects  # noqa: E402
from gui.errors import ErrorReporter  # noqa: E402
from tests.conftest import wait_idle, write_frames  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def test_a_read_only_folder_gets_its_project_in_the_data_dir(qtbot, tmp_path: Path, make_window, app_dirs) -> None:
    folder = tmp_path / "cd"
    write_frames(folder, 1, corrupt=False)
    folder.chmod(0o555)  # marked read-only (respected even when running as an administrator)
    try:
        plan = plan_open(folder)
        assert plan.project_dir.parent == app_dirs / "data" / "projects" and plan.project_dir.name.startswith("cd-")
        window = make_window()
        assert window.open_path(folder)
        wait_idle(qtbot, window)
        assert not (folder / PROJECT_SUBFOLDER).exists() and (plan.project_dir / "sonoclick.sqlite").is_file()
        window.close()
        folder.chmod(0o755)
        assert plan_open(folder).project_dir == plan.project_dir  # found again, even once writable
    finally:
        folder.chmod(0o755)


def test_opened_projects_are_remembered_as_recent(qtbot, tmp_path: Path, make_window, app_dirs) -> None:
    write_frames(tmp_path / "one", 1, corrupt=False)
    write_frames(tmp_path / "two", 1, corrupt=False)
    window = make_window()
    for name in ("one", "two"):
        assert window.open_path(tmp_path / name)
        wait_idle(qtbot, window)
    recent = RecentProjects().load()
    assert recent[:2] == [tmp_path / "two" / PROJECT_SUBFOLDER, tmp_path / "one" / PROJECT_SUBFOLDER]
    assert (app_dirs / "config" / "recent.json").is_file()
    window._fill_recent_menu()
    assert [a.text() for a in window.recent_menu.actions()][:2] == [str(tmp_path / "two"), str(tmp_path / "one")]


def test_unexpected_exceptions_are_logged_and_shown_without_blocking(qtbot, tmp_path: Path, make_window,
                                                                      monkeypatch) -> None:
    write_frames(tmp_path / "frames", 1, corrupt=False)
    window = make_window()
    assert window.open_path(tmp_path / "frames")
    wait_idle(qtbot, window)
    log_path = tmp_path / "sonoclick.log"
    from gui.errors import setup_logging

    reporter = ErrorReporter(setup_logging(log_path), window)
    reporter.install()
    try:
        def broken() -> None:
            raise RuntimeError("simulated bug in accept")

        monkeypatch.setattr(window.controller, "accept", broken)
        with qtbot.waitSignal(reporter.shown, timeout=3000):
            window.actions["accept"].trigger()  # the slot raises: PyQt hands it to sys.excepthook
        with qtbot.waitSignal(reporter.shown, timeout=3000):
            threading.Thread(target=lambda: 1 / 0).start()  # and from a background thread
    finally:
        reporter.uninstall()
    box = reporter._box
    assert box is not None and box.isVisible() and box.windowModality() == QtCore.Qt.NonModal
    assert "2 problems" in box.text()
    text = log_path.read_text()
    assert "simulated bug in accept" in text and "ZeroDivisionError" in text and "Traceback" in text
    monkeypatch.undo()
    window.controller.add_click(50, 50, True)  # the app goes on, the project intact
    wait_idle(qtbot, window)
    assert window.session.store.mask(window.controller.current_frame_id) is not None
    box.close()


def test_opening_a_missing_path_warns_without_a_modal_dialog(qtbot, tmp_path: Path, app_dirs) -> None:
    from gui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    shown: list[str] = []
    window.reporter.shown.connect(shown.append)
    assert not window.open_path(tmp_path / "nothing-here")
    qtbot.waitUntil(lambda: bool(shown))
    assert "nothing-here" in shown[0] and QtWidgets.QApplication.activeModalWidget() is None


def test_demo_screenshot_from_the_command_line(tmp_path: Path) -> None:
    shot = tmp_path / "demo.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", SONOCLICK_CONFIG_DIR=str(tmp_path / "config"),
               SONOCLICK_DATA_DIR=str(tmp_path / "data"))
    done = subprocess.run([sys.executable, "-m", "gui", "--demo", "--screenshot", str(shot)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    image = cv2.imread(str(shot))
    assert image is not None and image.shape[:2] == (800, 1280)
    # the mask's outline in its class's colour (nodule yellow #f5c400, BGR) is in the image view (the centre of
    # the window; the frame list and the class swatches, which share the colour, are outside it)
    view = image[70:770, 260:1010].astype(int)
    outline = (np.abs(view - (0, 196, 245)).sum(axis=2) < 20).sum()
    assert outline > 200
