"""Where the project for an opened path lives, which files of a folder are frames, and opening it.

Decision: a project belongs to a folder of frames and lives beside them in `<folder>/.sonoclick/` (the store keeps
frame paths relative to it, so the folder can be moved or shared with its annotations). Opening a single file uses
the project of its folder and adds that file. When the folder is not writable (a CD, a read-only share) the project
goes to `<data dir>/projects/<folder name>-<hash of its path>/` instead, found again the same way next time. An
explicit project folder (`--project DIR`) overrides both. Frames are only ever read.

An existing project that cannot be written (a read-only share, another user's files) opens read-only: viewing and
export work, edits are refused, and no second project is ever made for it (the user's accepted masks would look
lost and new work would split in two). Only a NEW project that cannot be made beside its frames goes elsewhere.
"""
from __future__ import annotations

import hashlib
import os
import re
import sqlite3
from dataclasses import dataclass, field, replace
from pathlib import Path

from core.errors import ProjectError, ProjectPermissionDenied
from core.io.readers import is_frame_source
from core.project.app_dirs import data_dir
from core.project.store import DB_NAME, ProjectStore

PROJECT_SUBFOLDER = ".sonoclick"
SOURCE_FOLDER_SETTING = "gui.source_folder"  # the key predates this module; renaming it would orphan old projects


@dataclass(frozen=True)
class OpenPlan:
    """What opening a path means: which project folder, whether it already exists, and which files to add."""

    project_dir: Path
    exists: bool
    source_folder: Path | None = None  # the folder of frames the project belongs to (rescanned on open)
    sources: list[Path] = field(default_factory=list)  # files to add now
    select: Path | None = None  # the file to show first


def is_project(folder: str | Path) -> bool:
    """Whether `folder` holds a project database."""
    return (Path(folder) / DB_NAME).is_file()


def _natural_key(path: Path) -> list[int | str]:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def list_frame_files(folder: str | Path) -> list[Path]:
    """Files of `folder` (not its subfolders) that are frame sources by suffix, or suffix-less DICOM, in natural
    order; hidden files are skipped. Unreadable ones are included: the store records why they fail."""
    found = [entry for entry in Path(folder).iterdir()
             if not entry.name.startswith(".") and entry.is_file() and is_frame_source(entry)]
    return sorted(found, key=_natural_key)


def _writable(folder: Path) -> bool:
    """Writable, and not marked read-only (the mode bits count even for an administrator, who could write)."""
    target = folder / PROJECT_SUBFOLDER
    if target.exists():
        return os.access(target, os.W_OK)
    try:
        marked_writable = bool(folder.stat().st_mode & 0o222)
    except OSError:
        return False
    return marked_writable and os.access(folder, os.W_OK)


def fallback_project_dir(data_folder: str | Path) -> Path:
    """The project of a read-only folder, under the user's data dir, named after the folder and its path."""
    folder = Path(os.path.abspath(data_folder))
    digest = hashlib.sha1(str(folder).encode("utf-8")).hexdigest()[:10]
    return data_dir() / "projects" / f"{folder.name or 'root'}-{digest}"


def default_project_dir(data_folder: str | Path) -> Path:
    """`<folder>/.sonoclick`, or a per-folder project under the user's data dir when the folder is read-only and
    has no project yet (an existing one is used even when it cannot be written: it then opens read-only)."""
    folder = Path(os.path.abspath(data_folder))
    beside = folder / PROJECT_SUBFOLDER
    return beside if is_project(beside) or _writable(folder) else fallback_project_dir(folder)


def plan_open(path: str | Path, project_dir: str | Path | None = None) -> OpenPlan:
    """Decide what opening `path` (project folder, folder of frames, or one frame file) does. FileNotFoundError
    when it does not exist."""
    target = Path(os.path.abspath(path))
    if not target.exists():
        raise FileNotFoundError(f"{target}: no such file or folder")
    if target.is_dir() and is_project(target):
        return OpenPlan(target, exists=True)
    if target.is_dir():
        folder, sources, select = target, list_frame_files(target), None
    else:
        folder, sources, select = target.parent, [target], target
    chosen = Path(os.path.abspath(project_dir)) if project_dir else default_project_dir(folder)
    if not project_dir and not is_project(chosen) and is_project(fallback_project_dir(folder)):
        chosen = fallback_project_dir(folder)  # made while the folder was read-only
    return OpenPlan(chosen, is_project(chosen), folder if target.is_dir() else None, sources, select)


def fallback_plan(plan: OpenPlan) -> OpenPlan | None:
    """When a new project cannot be created beside the frames (a read-only disk), the same plan with the project
    under the user's data dir; None when there is no such alternative."""
    if plan.exists or plan.project_dir.name != PROJECT_SUBFOLDER:
        return None
    folder = plan.project_dir.parent
    alternative = fallback_project_dir(folder)
    return replace(plan, project_dir=alternative, exists=is_project(alternative))


def open_project(plan: OpenPlan) -> ProjectStore:
    """Create or open the plan's project and remember the folder of frames it belongs to (a write: callers with
    a GUI run this off their GUI thread). An existing project that cannot be written is opened read-only
    (`store.read_only_reason` says why) and nothing is written to it."""
    if not plan.exists:
        store = ProjectStore.create(plan.project_dir)
    else:
        try:
            store = ProjectStore.open(plan.project_dir)
        except ProjectPermissionDenied:
            store = ProjectStore.open(plan.project_dir, read_only=True)
    if plan.source_folder is not None and store.read_only_reason is None:
        store.set_setting(SOURCE_FOLDER_SETTING, str(plan.source_folder))
    return store


def save_copy(store: ProjectStore, folder: str | Path) -> Path:
    """A complete, writable copy of the project in `folder` (its database, through SQLite's backup API); the copy
    names its frames by absolute path, so it finds them wherever it lives. Returns the copy's project folder;
    ProjectError when `folder` already holds a project or cannot be written."""
    target = Path(os.path.abspath(folder))
    if is_project(target):
        raise ProjectError(f"{target}: already holds a SonoClick project; choose an empty folder")
    db_path = store.backup_to(target / DB_NAME)
    try:
        with sqlite3.connect(db_path) as conn:
            rows = conn.execute("SELECT id, path FROM frames").fetchall()
            conn.executemany("UPDATE frames SET path = ? WHERE id = ?",
                             [(Path(os.path.normpath(store.folder / p)).as_posix(), fid)
                              for fid, p in rows if not Path(p).is_absolute()])
        conn.close()
    except sqlite3.Error as exc:
        raise ProjectError(f"{db_path}: the copy was made but its frame paths could not be updated ({exc})") from exc
    return target


def files_to_import(sources: list[Path], source_folder: Path | None) -> list[Path]:
    """The files an opened project adds (the store skips those it has): the given sources, then every frame
    file of its folder of frames not among them (new files dropped in since the last time)."""
    found = list(sources)
    if source_folder is not None and source_folder.is_dir():
        known = set(found)
        found += [p for p in list_frame_files(source_folder) if p not in known]
    return found
