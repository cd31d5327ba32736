"""The demo's temporary folder goes on every way out of the app (one user action of the app, a Commit, is tested
in tests/test_frame_edits.py)."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from core.project.location import PROJECT_SUBFOLDER
from core.project.store import ProjectStore
from gui import demo
from gui.demo import demo_project

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def temp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Python's temporary folders are made here, so leftovers can be seen."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


def test_demo_project_is_one_undo_step_and_its_folder_goes_when_the_block_ends(temp_root: Path) -> None:
    with demo_project() as frames:
        assert frames.is_dir() and frames.parent.parent == temp_root
        with ProjectStore.open(frames / PROJECT_SUBFOLDER) as store:
            assert store.calipers(1) and not store.masks(1)[0].accepted
            store.undo(1)
            assert store.calipers(1) == {} and store.masks(1) == {} and not store.can_undo(1)
    assert list(temp_root.iterdir()) == []


def test_demo_folder_goes_when_the_app_fails_or_writing_the_demo_fails(
    temp_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(RuntimeError, match="window broke"):
        with demo_project():
            raise RuntimeError("window broke")
    assert list(temp_root.iterdir()) == []

    def half_written(folder: Path) -> list[Path]:
        folder.mkdir(parents=True)
        (folder / "us_0001.png").write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(demo, "write_demo_frames", half_written)
    with pytest.raises(OSError, match="disk full"):
        with demo_project():
            pass
    assert list(temp_root.iterdir()) == []


def test_demo_folder_goes_when_the_app_raises_while_opening_it(
    temp_root: Path, monkeypatch: pytest.MonkeyPatch, app_dirs: Path
) -> None:
    from gui import app
    from gui.main_window import MainWindow

    def broken_open(self: MainWindow, *args: object) -> bool:
        raise RuntimeError("cannot open")

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # the app's error hook is put back afterwards
    monkeypatch.setattr(MainWindow, "open_path", broken_open)
    with pytest.raises(RuntimeError, match="cannot open"):
        app.run(["--demo"])
    assert list(temp_root.iterdir()) == []


def test_demo_folder_goes_after_the_screenshot_exit(tmp_path: Path) -> None:
    temp_root = tmp_path / "tmp"
    temp_root.mkdir()
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", SONOCLICK_CONFIG_DIR=str(tmp_path / "config"),
               SONOCLICK_DATA_DIR=str(tmp_path / "data"), TMPDIR=str(temp_root))
    done = subprocess.run([sys.executable, "-m", "gui", "--demo", "--screenshot", str(tmp_path / "shot.png")],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "shot.png").is_file()
    assert [p.name for p in temp_root.iterdir() if p.name.startswith("sonoclick-demo-")] == []
