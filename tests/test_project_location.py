"""Where a project lives (beside its frames, or in the data dir when that folder is read-only), which files of a
folder are frames (core.io.readers' recognition), opening a plan, the files an opened project adds, and the
recent-projects list. Headless."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.io.readers import is_frame_source
from core.project.location import (
    PROJECT_SUBFOLDER,
    SOURCE_FOLDER_SETTING,
    default_project_dir,
    fallback_plan,
    fallback_project_dir,
    files_to_import,
    list_frame_files,
    open_project,
    plan_open,
)
from core.project.recent import MAX_RECENT, RecentProjects
from core.project.store import ProjectStore


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SONOCLICK_DATA_DIR", str(tmp_path / "app-data"))
    return tmp_path / "app-data"


def _frames(folder: Path, names: list[str]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    image = np.random.default_rng(0).integers(0, 255, (16, 20), dtype=np.uint8)
    paths = [folder / name for name in names]
    for path in paths:
        cv2.imwrite(str(path), image)
    return paths


def test_a_folder_gets_its_project_beside_the_frames(tmp_path: Path, data_dir: Path) -> None:
    paths = _frames(tmp_path / "scans", ["frame_2.png", "frame_10.png", "frame_1.png"])
    plan = plan_open(tmp_path / "scans")
    assert plan.project_dir == tmp_path / "scans" / PROJECT_SUBFOLDER and not plan.exists
    assert [p.name for p in plan.sources] == ["frame_1.png", "frame_2.png", "frame_10.png"]  # natural order
    assert plan.source_folder == tmp_path / "scans" and plan.select is None
    single = plan_open(paths[0])
    assert single.project_dir == plan.project_dir and single.sources == [paths[0]] and single.select == paths[0]
    assert single.source_folder is None
    ProjectStore.create(plan.project_dir).close()
    assert plan_open(tmp_path / "scans").exists
    assert plan_open(plan.project_dir).exists and plan_open(plan.project_dir).project_dir == plan.project_dir
    assert plan_open(tmp_path / "scans", tmp_path / "elsewhere").project_dir == tmp_path / "elsewhere"
    with pytest.raises(FileNotFoundError):
        plan_open(tmp_path / "missing")


def test_a_read_only_folder_gets_a_project_in_the_data_dir_found_again_later(tmp_path: Path, data_dir: Path) -> None:
    folder = tmp_path / "cd"
    _frames(folder, ["a.png"])
    folder.chmod(0o555)
    try:
        chosen = default_project_dir(folder)
        assert chosen == fallback_project_dir(folder) and chosen.parent == data_dir / "projects"
        assert chosen.name.startswith("cd-")
        assert fallback_project_dir(tmp_path / "other" / "cd") != chosen  # same name, other path
        ProjectStore.create(chosen).close()
    finally:
        folder.chmod(0o755)
    assert plan_open(folder).project_dir == chosen  # made while read-only: found again once writable


def test_a_project_that_cannot_be_created_beside_the_frames_goes_to_the_data_dir(tmp_path: Path,
                                                                                  data_dir: Path) -> None:
    _frames(tmp_path / "scans", ["a.png"])
    plan = plan_open(tmp_path / "scans")
    fallback = fallback_plan(plan)
    assert fallback is not None and fallback.project_dir.parent == data_dir / "projects"
    assert fallback.sources == plan.sources and not fallback.exists
    assert fallback_plan(plan_open(tmp_path / "scans", tmp_path / "chosen")) is None


def test_frame_files_are_chosen_by_suffix_or_dicom_magic(tmp_path: Path) -> None:
    for name in ("a.png", "b.JPG", "c.dcm", "d.avi", "notes.txt", "labels.json", ".hidden.png"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "IM0001").write_bytes(b"\0" * 128 + b"DICM" + b"\0" * 16)
    (tmp_path / "README").write_bytes(b"hello")
    (tmp_path / "sub").mkdir()
    assert [p.name for p in list_frame_files(tmp_path)] == ["a.png", "b.JPG", "c.dcm", "d.avi", "IM0001"]
    assert is_frame_source(tmp_path / "IM0001") and not is_frame_source(tmp_path / "README")
    assert not is_frame_source(tmp_path / "no-such-file")


def test_opening_a_plan_creates_the_project_once_and_remembers_its_folder(tmp_path: Path, data_dir: Path) -> None:
    _frames(tmp_path / "scans", ["a.png"])
    plan = plan_open(tmp_path / "scans")
    with open_project(plan) as store:
        assert store.get_setting(SOURCE_FOLDER_SETTING) == str(tmp_path / "scans")
    again = plan_open(tmp_path / "scans")
    assert again.exists
    with open_project(again) as store:  # opens, does not create a second project
        assert store.folder == plan.project_dir


def test_an_opened_project_adds_its_sources_then_new_files_of_its_folder(tmp_path: Path) -> None:
    paths = _frames(tmp_path / "scans", ["b.png", "a.png"])
    assert files_to_import([paths[0]], None) == [paths[0]]
    assert files_to_import([paths[0]], tmp_path / "scans") == [paths[0], paths[1]]  # no file twice
    assert files_to_import([], tmp_path / "gone") == []


def test_recent_projects_are_newest_first_without_repeats_or_missing_folders(tmp_path: Path) -> None:
    recent = RecentProjects(tmp_path / "config" / "recent.json")
    assert recent.load() == []
    folders = [tmp_path / f"p{i}" for i in range(MAX_RECENT + 2)]
    for folder in folders:
        folder.mkdir()
        recent.add(folder)
    recent.add(folders[3])
    loaded = recent.load()
    assert loaded[0] == folders[3] and len(loaded) == MAX_RECENT and len(set(loaded)) == MAX_RECENT
    folders[-1].rmdir()
    assert folders[-1] not in recent.load()
    recent.path.write_text(json.dumps({"not": "a list"}))
    assert recent.load() == []


def test_an_unwritable_recent_list_does_not_stop_the_app(tmp_path: Path) -> None:
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("x")
    (tmp_path / "p").mkdir()
    assert RecentProjects(blocked / "recent.json").add(tmp_path / "p") == [tmp_path / "p"]
