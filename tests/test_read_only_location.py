"""Issue 15, finding 3 (the location half): an existing project that cannot be written opens read-only beside its
frames (never a second, empty project in the data dir), nothing is written to it on opening, and a copy saved
from it is a complete, writable project that still finds its frames."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from core.errors import ProjectError, ProjectPermissionDenied, ProjectReadOnly
from core.project.location import (
    PROJECT_SUBFOLDER,
    SOURCE_FOLDER_SETTING,
    open_project,
    plan_open,
    save_copy,
)
from core.project.store import ProjectStore
from tests.test_project_faults import NOBODY, NODULE, in_child, make_project

_writable_open = ProjectStore.open


def _refuse_writable_open(folder: str | Path, read_only: bool = False) -> ProjectStore:
    """ProjectStore.open as on a folder the user cannot write (tests run as root, where chmod stops nothing)."""
    if not read_only:
        raise ProjectPermissionDenied(f"{folder}: permission denied (test)")
    return _writable_open(folder, read_only=True)


def _scans_with_project(tmp_path: Path) -> tuple[Path, int]:
    """A folder of frames with its project beside them in `.sonoclick`, one annotated frame."""
    folder = tmp_path / "scans"
    frame_id = make_project(folder)
    (folder / "project").rename(folder / PROJECT_SUBFOLDER)
    return folder, frame_id


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SONOCLICK_DATA_DIR", str(tmp_path / "app-data"))
    return tmp_path / "app-data"


def test_a_project_that_cannot_be_written_opens_read_only_and_nothing_is_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    folder, frame_id = _scans_with_project(tmp_path)
    plan = plan_open(folder)
    assert plan.exists and plan.project_dir == folder / PROJECT_SUBFOLDER
    monkeypatch.setattr(ProjectStore, "open", staticmethod(_refuse_writable_open))
    with open_project(plan) as store:
        assert store.read_only_reason is not None
        assert store.calipers(frame_id) == {0: NODULE}
        assert store.get_setting(SOURCE_FOLDER_SETTING) is None  # the opening wrote nothing
        with pytest.raises(ProjectReadOnly):
            store.set_setting("x", 1)
    assert not data_dir.exists()  # no second project anywhere


@pytest.mark.skipif(not hasattr(os, "fork") or os.name != "posix", reason="needs fork and POSIX permissions")
def test_a_read_only_project_folder_is_planned_and_opened_in_place_as_another_user() -> None:
    # an unprivileged user, for whom the mode bits count (root ignores them); a folder that user can enter
    base = Path(tempfile.mkdtemp(prefix="sonoclick-ro-location-"))
    data = Path(tempfile.mkdtemp(prefix="sonoclick-ro-data-"))
    try:
        frame_id = make_project(base)
        (base / "project").rename(base / PROJECT_SUBFOLDER)
        for p in [base, data, *base.rglob("*")]:
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
        os.chmod(data, 0o777)
        os.chmod(base / PROJECT_SUBFOLDER, 0o555)
        os.chmod(base, 0o555)
        user = NOBODY if os.geteuid() == 0 else None

        def open_as_user() -> str:
            os.environ["SONOCLICK_DATA_DIR"] = str(data)
            plan = plan_open(base)
            with open_project(plan) as store:
                return (f"{plan.project_dir == base / PROJECT_SUBFOLDER} {store.read_only_reason is not None} "
                        f"{store.calipers(frame_id) == {0: NODULE}}")

        assert in_child(open_as_user, drop_to=user) == "True True True"
        assert list(data.iterdir()) == []  # nothing made in the data dir
    finally:
        os.chmod(base, 0o755)
        os.chmod(base / PROJECT_SUBFOLDER, 0o755)
        for root in (base, data):
            for p in sorted(root.rglob("*"), reverse=True):
                p.unlink() if not p.is_dir() else p.rmdir()
            root.rmdir()


def test_a_new_project_still_falls_back_only_when_none_exists(tmp_path: Path) -> None:
    folder, _ = _scans_with_project(tmp_path)
    os.chmod(folder, 0o555)  # the mode bits count for the plan, even for root
    try:
        assert plan_open(folder).project_dir == folder / PROJECT_SUBFOLDER  # the existing one, not a new one
    finally:
        os.chmod(folder, 0o755)


def test_a_saved_copy_is_writable_complete_and_finds_its_frames(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    folder, frame_id = _scans_with_project(tmp_path)
    monkeypatch.setattr(ProjectStore, "open", staticmethod(_refuse_writable_open))
    with open_project(plan_open(folder)) as store:
        copy = save_copy(store, tmp_path / "elsewhere" / "copy")
        with pytest.raises(ProjectError, match="already holds"):
            save_copy(store, copy)
    monkeypatch.undo()
    with ProjectStore.open(copy) as writable:
        assert writable.read_only_reason is None
        assert writable.calipers(frame_id) == {0: NODULE} and writable.mask(frame_id).sum() == 800
        assert writable.load_frame(frame_id).pixels.shape == (64, 80)  # its frames, found from the new place
        writable.set_calipers(frame_id, 1, NODULE)
        assert set(writable.calipers(frame_id)) == {0, 1}
