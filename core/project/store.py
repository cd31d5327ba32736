"""The project store: one embedded SQLite database per project folder (<folder>/sonoclick.sqlite).

The folder holds the database only. Frames stay where they are and are referenced by path relative to the project
folder (absolute when that is impossible, e.g. another drive); they are never copied or modified.

Every edit is its own transaction, committed before the call returns: a process killed between two edits loses
nothing that was committed, and one killed inside an edit loses only that edit. A user action made of several
edits is grouped with `with store.action("Accept 2 masks", frame_id):` - one transaction and one history step,
all or nothing; an action may span several frames (`with store.action("Accept range"):`), and is then undone and
redone as a whole on all of them (core.project.history has the rules when actions interleave). Annotation edits
(points, strokes, masks, object classes and frame tags) are recorded in a persisted history as deltas (the rows
each action changed, before and after), so undo and redo restore exact states and survive reopening. Predictions,
settings and frame records are not undoable; calibrations are (core.project.calibration).

A mask is accepted or a draft (MaskRecord.accepted): the desktop app saves the interactive engine's mask after
every edit as a draft and the user accepts it (accept_mask). Statuses, accepted_frames, export and training
snapshots count accepted masks only; mask() and masks() return drafts too unless asked otherwise.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from core.errors import ProjectError
from core.project.annotations import AnnotationEdits
from core.project.calibration import Calibrations
from core.project.class_edits import ClassEdits
from core.project.damage import damaged_rows_raise_project_corrupt
from core.project.db import Database, configure, connect, connect_read_only, damaged_text, probe, reclassified
from core.project.migrations import migrate_schema
from core.project.schema import SCHEMA_VERSION, check_schema, create_schema
from core.project.settings_table import SettingsAndPredictions
from core.project.stroke_edits import StrokeEdits
from core.project.tag_edits import TagEdits

DB_NAME = "sonoclick.sqlite"


@damaged_rows_raise_project_corrupt
class ProjectStore(AnnotationEdits, StrokeEdits, TagEdits, ClassEdits, Calibrations, SettingsAndPredictions):
    """A SonoClick project. Create with ProjectStore.create(folder), open with ProjectStore.open(folder).

    Its parts by role: frames and their integrity (core.project.frames_table), annotation edits and queries
    (core.project.annotations), strokes (core.project.stroke_edits), frame tags (core.project.tag_edits), label
    classes (core.project.class_edits), actions and undo/redo
    (core.project.actions), calibrations (core.project.calibration), settings and predictions
    (core.project.settings_table).
    Safe to share between threads. Unknown frame or point ids raise KeyError; bad annotations raise
    AnnotationFormatError and write nothing; database problems raise ProjectError.
    """

    # ----------------------------------------------------------------------------------------- lifecycle
    @classmethod
    def create(cls, folder: str | Path) -> ProjectStore:
        """Make a new, empty project in `folder` (created if needed); ProjectError if it already holds one."""
        root = Path(os.path.abspath(folder))
        db_path = root / DB_NAME
        if db_path.exists():
            raise ProjectError(f"{root}: already holds a SonoClick project")
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ProjectError(f"{root}: cannot create the project folder ({exc.strerror or exc})") from exc
        conn = connect(db_path, create=True)
        try:
            configure(conn, db_path)
            store = cls(root, Database(conn, db_path))
            with store._db.write() as db:
                create_schema(db)
        except BaseException:
            conn.close()
            for leftover in (db_path, db_path.with_name(DB_NAME + "-wal"), db_path.with_name(DB_NAME + "-shm")):
                leftover.unlink(missing_ok=True)
            raise
        return store

    @classmethod
    def open(cls, folder: str | Path, read_only: bool = False) -> ProjectStore:
        """Open an existing project; ProjectError if there is none, it is not ours, or it is from a newer version.
        A project from an older version is migrated in place (see core.project.schema). A project that cannot be
        written raises ProjectPermissionDenied: open it with read_only=True to view and export (every edit then
        raises ProjectReadOnly; `read_only_reason` says why). Disk full and damage raise their own subclasses."""
        root = Path(os.path.abspath(folder))
        db_path = root / DB_NAME
        if not db_path.is_file():
            raise ProjectError(f"{root}: no SonoClick project here ({DB_NAME} not found)")
        if read_only:
            return cls._open_read_only(root, db_path)
        conn = connect(db_path, create=False)
        with _closed_on_failure(db_path, conn.close):
            probe(conn, db_path)
            version = check_schema(conn, db_path)
            configure(conn, db_path)
            store = cls(root, Database(conn, db_path))
            if version < SCHEMA_VERSION:
                with store._db.write() as db:
                    migrate_schema(db)
        return store

    @classmethod
    def _open_read_only(cls, root: Path, db_path: Path) -> ProjectStore:
        conn, scratch = connect_read_only(db_path)
        db = Database(conn, db_path, read_only="opened read-only", scratch=scratch)
        with _closed_on_failure(db_path, db.close):
            version = check_schema(conn, db_path)
            if version < SCHEMA_VERSION:
                raise ProjectError(f"{db_path}: saved by an older SonoClick (schema {version}): it must be opened "
                                   f"writable once to be updated")
        return cls(root, db)

    @property
    def read_only_reason(self) -> str | None:
        """Why edits are off (the project was opened read-only), or None when it can be edited."""
        return self._db.read_only

    def backup_to(self, path: str | Path) -> Path:
        """A consistent, self-contained copy of the project database at `path` (SQLite backup API; safe while
        the project is open, also read-only). ProjectError (classified) if it cannot be written."""
        return self._db.backup_to(Path(path))

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ProjectStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def _closed_on_failure(db_path: Path, close: Callable[[], None]) -> Iterator[None]:
    """Opening a project: on any failure close what was opened; a ProjectError is classified (disk full,
    permission, damage) and undecodable text is damage."""
    try:
        yield
    except ProjectError as exc:
        close()
        raise reclassified(exc, db_path, "opening the project") from exc
    except UnicodeDecodeError as exc:
        close()
        raise damaged_text(db_path, exc) from exc
    except BaseException:
        close()
        raise
