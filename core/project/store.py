"""The project store: one embedded SQLite database per project folder (<folder>/sonoclick.sqlite).

The folder holds the database only. Frames stay where they are and are referenced by path relative to the project
folder (absolute when that is impossible, e.g. another drive); they are never copied or modified.

Every edit is its own transaction, committed before the call returns: a process killed between two edits loses
nothing that was committed, and one killed inside an edit loses only that edit. A user action made of several
edits is grouped with `with store.action("Accept 2 masks", frame_id):` - one transaction and one history step,
all or nothing. Annotation edits (points and masks) are recorded in a persisted history as deltas (the rows each
action changed, before and after), so undo and redo restore exact states and survive reopening. Predictions,
settings and frame records are not undoable; calibrations are (core.project.calibration).

A mask is accepted or a draft (MaskRecord.accepted): the desktop app saves the interactive engine's mask after
every edit as a draft and the user accepts it (accept_mask). Statuses, accepted_frames, export and training
snapshots count accepted masks only; mask() and masks() return drafts too unless asked otherwise.
"""
from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from core.annotation.bounds import check_inside
from core.annotation.points import Calipers, Point, PointKind, calipers_from_points
from core.errors import AnnotationFormatError, FrameChanged, FrameReadError, ProjectError
from core.io.frame import Frame
from core.io.mask_codec import decode_mask, decode_probability, encode_mask, encode_probability
from core.io.readers import iter_frames, read_frame
from core.project import status as store_status
from core.project.calibration import Calibrations, sync_calibrations
from core.project.damage import StoreMisuse, damaged_rows_raise_project_corrupt
from core.project.db import Database, configure, connect, connect_read_only, damaged_text, probe, reclassified
from core.project.frame_state import FrameState, StoredMask
from core.project.history import has_step, load_state, record_step, redo_step, undo_step, write_state
from core.project.integrity import FrameCheck, HashCache, check_frame
from core.project.migrations import migrate_schema
from core.project.records import FrameRecord, FrameStatus, MaskProvenance, MaskRecord, Prediction
from core.project.schema import SCHEMA_VERSION, check_schema, create_schema

DB_NAME = "sonoclick.sqlite"

_FRAME_COLUMNS = "id, path, frame_index, width, height, row_mm, col_mm, content_hash, error"

Edit = Callable[[FrameRecord, FrameState], FrameState]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _stamp_after(previous: str | None) -> str:
    """Now, or a millisecond after `previous` when the clock has not passed it: two writes of one mask never share
    a stamp, so a rewrite within one clock tick is still a change (and an undo step) like any other."""
    now = datetime.now(UTC)
    try:
        last = datetime.fromisoformat(previous) if previous else None
    except ValueError:
        last = None
    if last is not None:
        last = last if last.tzinfo else last.replace(tzinfo=UTC)
        now = max(now, last + timedelta(milliseconds=1))
    return now.isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class _Action:
    name: str
    frame_id: int
    before: FrameState


@damaged_rows_raise_project_corrupt
class ProjectStore(Calibrations):
    """A SonoClick project. Create with ProjectStore.create(folder), open with ProjectStore.open(folder).

    Safe to share between threads. Unknown frame or point ids raise KeyError; bad annotations raise
    AnnotationFormatError and write nothing; database problems raise ProjectError.
    """

    def __init__(self, folder: Path, db: Database) -> None:
        self.folder = folder
        self._db = db
        self._action: _Action | None = None  # the open action; only its thread can see it (it holds the lock)
        self._hashes = HashCache()

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
        try:
            probe(conn, db_path)
            version = check_schema(conn, db_path)
            configure(conn, db_path)
            store = cls(root, Database(conn, db_path))
            if version < SCHEMA_VERSION:
                with store._db.write() as db:
                    migrate_schema(db)
        except ProjectError as exc:
            conn.close()
            raise reclassified(exc, db_path, "opening the project") from exc
        except UnicodeDecodeError as exc:
            conn.close()
            raise damaged_text(db_path, exc) from exc
        except BaseException:
            conn.close()
            raise
        return store

    @classmethod
    def _open_read_only(cls, root: Path, db_path: Path) -> ProjectStore:
        conn, scratch = connect_read_only(db_path)
        db = Database(conn, db_path, read_only="opened read-only", scratch=scratch)
        try:
            version = check_schema(conn, db_path)
            if version < SCHEMA_VERSION:
                raise ProjectError(f"{db_path}: saved by an older SonoClick (schema {version}): it must be opened "
                                   f"writable once to be updated")
        except ProjectError as exc:
            db.close()
            raise reclassified(exc, db_path, "opening the project") from exc
        except UnicodeDecodeError as exc:
            db.close()
            raise damaged_text(db_path, exc) from exc
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

    # -------------------------------------------------------------------------------------------- frames
    def add_frames(self, paths: Iterable[str | Path]) -> list[FrameRecord]:
        """Add source files, one record per frame (multi-frame DICOM, TIFF and video are expanded), and return
        the records of every given path in order. Files already in the project are not added twice. Unreadable
        files are recorded with their error instead of raising; a damaged video keeps its readable frames plus
        one record carrying the error. Each file is committed on its own."""
        records: list[FrameRecord] = []
        for path in paths:
            source = Path(os.path.abspath(path))
            stored = self._stored_path(source)
            existing = self._records_for(stored)
            if not existing:
                rows = _scan(source)
                with self._db.write() as db:
                    db.executemany(
                        "INSERT OR IGNORE INTO frames (path, frame_index, width, height, row_mm, col_mm, error)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [(stored, *row) for row in rows],
                    )
                existing = self._records_for(stored)
            records.extend(existing)
        return records

    def frames(self) -> list[FrameRecord]:
        with self._db.read() as db:
            rows = db.execute(f"SELECT {_FRAME_COLUMNS} FROM frames ORDER BY id").fetchall()
        return [self._record(row) for row in rows]

    def frame(self, frame_id: int) -> FrameRecord:
        with self._db.read() as db:
            return self._frame_in(db, frame_id)

    def load_frame(self, frame_id: int) -> Frame:
        """The frame's pixels, read from its source; FrameReadError if it is (now) unreadable, FrameChanged (a
        FrameReadError) if the file is no longer the one annotated (see verify_frame)."""
        record = self.frame(frame_id)
        if record.error is not None:
            raise FrameReadError(record.source, record.error)
        frame = read_frame(record.source, record.index)
        self._verified(record, (frame.height, frame.width)).raise_if_changed(record.source)
        return frame

    def verify_frame(self, frame_id: int) -> FrameCheck:
        """Whether the frame's source is still the file that was annotated (content hash and size; the hash is
        recorded the first time a frame is opened). A file that cannot be read now is reported as not checked."""
        record = self.frame(frame_id)
        size = None
        try:
            if record.error is None and record.content_hash is None:
                frame = read_frame(record.source, record.index)
                size = (frame.height, frame.width)
            check = self._verified(record, size)
            if check.changed and size is None:  # say whether its size changed too
                frame = read_frame(record.source, record.index)
                check = self._verified(record, (frame.height, frame.width))
            return check
        except FrameReadError as exc:
            return FrameCheck(frame_id, False, f"not checked: {exc.reason}")

    def _verified(self, record: FrameRecord, size: tuple[int, int] | None) -> FrameCheck:
        check = check_frame(record, self._hashes, size)
        if check.recorded_hash is not None and self._db.read_only is None:
            with self._db.write() as db:
                db.execute("UPDATE frames SET content_hash = ? WHERE path = ? AND content_hash IS NULL",
                           (check.recorded_hash, record.path))
        return check

    def reattach_frame(self, frame_id: int) -> None:
        """Accept the frame's changed file as the annotated one (same size only: annotations stay in pixels)."""
        record = self.frame(frame_id)
        frame = read_frame(record.source, record.index)
        if (frame.height, frame.width) != (record.height, record.width):
            raise FrameChanged(record.source, f"is now {frame.width}x{frame.height}, the annotations are for "
                                              f"{record.width}x{record.height}: they cannot be re-attached")
        with self._db.write() as db:
            db.execute("UPDATE frames SET content_hash = ? WHERE path = ?",
                       (self._hashes.sha1(record.source), record.path))

    def content_hash(self, frame_id: int) -> str:
        """sha1 of the frame's source file, computed (streamed) on first request and then kept."""
        record = self.frame(frame_id)
        if record.content_hash:
            return record.content_hash
        digest = self._hashes.sha1(record.source)  # a regular file only: a pipe would block the read
        with self._db.write() as db:
            db.execute("UPDATE frames SET content_hash = ? WHERE path = ?", (digest, record.path))
        return digest

    def _stored_path(self, source: Path) -> str:
        try:
            return Path(os.path.relpath(source, self.folder)).as_posix()
        except ValueError:  # another drive on Windows
            return source.as_posix()

    def _source(self, stored: str) -> Path:
        p = Path(stored)
        return p if p.is_absolute() else Path(os.path.normpath(self.folder / p))

    def _record(self, row: tuple) -> FrameRecord:
        fid, path, index, width, height, row_mm, col_mm, content_hash, error = row
        spacing = (row_mm, col_mm) if row_mm is not None and col_mm is not None else None
        return FrameRecord(fid, path, self._source(path), index, width, height, spacing, content_hash, error)

    def _records_for(self, stored: str) -> list[FrameRecord]:
        with self._db.read() as db:
            rows = db.execute(
                f"SELECT {_FRAME_COLUMNS} FROM frames WHERE path = ? ORDER BY frame_index", (stored,)
            ).fetchall()
        return [self._record(row) for row in rows]

    def _frame_in(self, db: sqlite3.Connection, frame_id: int) -> FrameRecord:
        row = db.execute(f"SELECT {_FRAME_COLUMNS} FROM frames WHERE id = ?", (frame_id,)).fetchone()
        if row is None:
            raise KeyError(f"no frame with id {frame_id}")
        return self._record(row)

    # --------------------------------------------------------------------------------------- annotations
    def points(self, frame_id: int) -> dict[int, Point]:
        """Point id -> Point, in the order they were added."""
        with self._db.read() as db:
            self._frame_in(db, frame_id)
            return {pid: p for pid, p in load_state(db, frame_id).points if pid is not None}

    def calipers(self, frame_id: int) -> dict[int, Calipers]:
        """Object id -> its complete set of caliper points (incomplete sets are left out)."""
        return calipers_from_points(list(self.points(frame_id).values()))

    def add_point(self, frame_id: int, point: Point) -> int:
        """Add a point and return its id."""

        def add(rec: FrameRecord, s: FrameState) -> FrameState:
            return s.with_points([*s.points, (None, _checked(rec, point))])

        state = self._edit(frame_id, "add point", add)
        return max(pid for pid, _ in state.points if pid is not None)

    def move_point(self, point_id: int, x: float, y: float) -> None:
        """Move a point to (x, y); its kind and object stay."""
        frame_id = self._frame_of_point(point_id)

        def move(rec: FrameRecord, s: FrameState) -> FrameState:
            moved = Point(x, y, *_kind_and_object(s, point_id))
            return s.with_points([(pid, _checked(rec, moved) if pid == point_id else p) for pid, p in s.points])

        self._edit(frame_id, "move point", move)

    def delete_point(self, point_id: int) -> None:
        frame_id = self._frame_of_point(point_id)
        self._edit(frame_id, "delete point", lambda rec, s: s.with_points([q for q in s.points if q[0] != point_id]))

    def set_calipers(self, frame_id: int, object_id: int, calipers: Calipers) -> None:
        """Replace the caliper points of one object (its foreground/background clicks and mask stay)."""
        self.replace_calipers(frame_id, {object_id: calipers}, only_these=True)

    def replace_calipers(self, frame_id: int, calipers: Mapping[int, Calipers], only_these: bool = False) -> None:
        """Set the calipers of several objects in one edit. Caliper points of objects not in `calipers` are
        removed too, unless only_these=True. Clicks and masks are kept."""

        def replace(rec: FrameRecord, s: FrameState) -> FrameState:
            kept = [
                (pid, p)
                for pid, p in s.points
                if not p.kind.is_caliper or (only_these and p.object_id not in calipers)
            ]
            new = [(None, _checked(rec, p)) for oid, c in sorted(calipers.items()) for p in c.to_points(oid)]
            return s.with_points(kept + new)

        self._edit(frame_id, "set calipers", replace)

    def clear_object(self, frame_id: int, object_id: int) -> None:
        """Remove every point and the mask of one object."""

        def clear(rec: FrameRecord, s: FrameState) -> FrameState:
            points = [(pid, p) for pid, p in s.points if p.object_id != object_id]
            return s.with_points(points).with_masks([m for m in s.masks if m.object_id != object_id])

        self._edit(frame_id, "clear object", clear)

    def set_mask(
        self,
        frame_id: int,
        object_id: int,
        mask: np.ndarray,
        provenance: MaskProvenance | str,
        accepted: bool = True,
    ) -> None:
        """Store `mask` ((H, W), nonzero = nodule) as the object's mask, replacing any previous one: accepted, or
        with accepted=False as a draft (saved as the user edits; accept it later with accept_mask)."""
        origin = MaskProvenance(provenance)
        m = np.asarray(mask)

        def put(rec: FrameRecord, s: FrameState) -> FrameState:
            if rec.error is not None:
                raise AnnotationFormatError(rec.source, f"frame cannot be annotated ({rec.error})")
            if m.shape != (rec.height, rec.width):
                raise AnnotationFormatError(
                    rec.source, f"mask is {_size(m.shape)} but the frame is {rec.width}x{rec.height}"
                )
            previous = next((x.created_at for x in s.masks if x.object_id == object_id), None)
            stored = StoredMask(object_id, encode_mask(m), origin.value, _stamp_after(previous), bool(accepted))
            return s.with_masks([*(x for x in s.masks if x.object_id != object_id), stored])

        self._edit(frame_id, "set mask", put)

    def accept_mask(self, frame_id: int, object_id: int) -> None:
        """Accept the object's draft mask as it is (pixels, provenance and time stay), as one undoable edit;
        nothing is written when it is accepted already. KeyError if the object has no mask."""

        def accept(rec: FrameRecord, s: FrameState) -> FrameState:
            if not any(m.object_id == object_id for m in s.masks):
                raise KeyError(f"frame {frame_id} has no mask for object {object_id}")
            return s.with_masks([replace(m, accepted=True) if m.object_id == object_id else m for m in s.masks])

        self._edit(frame_id, "accept mask", accept)

    def delete_mask(self, frame_id: int, object_id: int) -> None:
        """Remove the object's mask, accepted or draft (its points stay)."""

        def delete(rec: FrameRecord, s: FrameState) -> FrameState:
            return s.with_masks([m for m in s.masks if m.object_id != object_id])

        self._edit(frame_id, "delete mask", delete)

    def mask(self, frame_id: int, object_id: int | None = None, accepted_only: bool = False) -> np.ndarray | None:
        """The mask of one object, or the union of all objects (object_id=None), drafts included unless
        accepted_only=True; None when there is none."""
        sql, args = "SELECT png FROM masks WHERE frame_id = ?", [frame_id]
        if object_id is not None:
            sql, args = sql + " AND object_id = ?", [*args, object_id]
        if accepted_only:
            sql += " AND accepted = 1"
        with self._db.read() as db:
            self._frame_in(db, frame_id)
            blobs = db.execute(sql, args).fetchall()
        if not blobs:
            return None
        return np.logical_or.reduce([decode_mask(b) for (b,) in blobs])

    def masks(self, frame_id: int) -> dict[int, MaskRecord]:
        """Object id -> provenance, time and accepted flag of its mask (drafts included)."""
        with self._db.read() as db:
            self._frame_in(db, frame_id)
            rows = db.execute(
                "SELECT object_id, provenance, created_at, accepted FROM masks WHERE frame_id = ? ORDER BY object_id",
                (frame_id,),
            ).fetchall()
        return {oid: MaskRecord(oid, MaskProvenance(prov), ts, bool(acc)) for oid, prov, ts, acc in rows}

    def accepted_frames(self) -> list[FrameRecord]:
        """Frames with at least one accepted mask."""
        return self._frames_with_masks(accepted=True)

    def draft_frames(self) -> list[FrameRecord]:
        """Frames with at least one draft mask (they may have accepted masks too)."""
        return self._frames_with_masks(accepted=False)

    def _frames_with_masks(self, accepted: bool) -> list[FrameRecord]:
        with self._db.read() as db:
            rows = db.execute(
                f"SELECT {_FRAME_COLUMNS} FROM frames WHERE id IN (SELECT frame_id FROM masks WHERE accepted = ?)"
                " ORDER BY id",
                (int(accepted),),
            ).fetchall()
        return [self._record(row) for row in rows]

    def frame_status(self, frame_id: int) -> FrameStatus:
        with self._db.read() as db:
            self._frame_in(db, frame_id)
            return store_status.frame_statuses(db, frame_id)[frame_id]

    def frame_statuses(self) -> dict[int, FrameStatus]:
        """Frame id -> status for every frame (see core.project.status for the precedence)."""
        with self._db.read() as db:
            return store_status.frame_statuses(db)

    # --------------------------------------------------------------------------------------- predictions
    def set_prediction(self, frame_id: int, probability: np.ndarray, model_version: str) -> None:
        """Keep the model's probability map ((H, W) float in [0, 1] or uint8) for the frame (not undoable)."""
        p = np.asarray(probability)
        with self._db.write() as db:
            rec = self._frame_in(db, frame_id)
            if p.shape != (rec.height, rec.width):
                raise ValueError(f"prediction is {_size(p.shape)} but frame {frame_id} is {rec.width}x{rec.height}")
            db.execute(
                "INSERT OR REPLACE INTO predictions (frame_id, png, model_version, created_at) VALUES (?, ?, ?, ?)",
                (frame_id, encode_probability(p), str(model_version), _now()),
            )

    def prediction(self, frame_id: int) -> Prediction | None:
        with self._db.read() as db:
            self._frame_in(db, frame_id)
            row = db.execute(
                "SELECT png, model_version, created_at FROM predictions WHERE frame_id = ?", (frame_id,)
            ).fetchone()
        return None if row is None else Prediction(decode_probability(row[0]), row[1], row[2])

    # ------------------------------------------------------------------------------------------- history
    @contextmanager
    def action(self, name: str, frame_id: int) -> Iterator[None]:
        """Group the edits made inside the block into one user action on one frame: one transaction and one
        history step named `name`, which undo and redo treat as a unit. If the block raises, none of its edits
        are kept. An action opened inside another joins it. Edits of another frame inside it raise ValueError."""
        with self._db.write() as db:
            if self._action is not None:
                self._check_in_action(frame_id)
                yield
                return
            self._frame_in(db, frame_id)
            self._action = _Action(name, frame_id, load_state(db, frame_id))
            try:
                yield
            finally:
                opened, self._action = self._action, None
            record_step(db, frame_id, name, opened.before, load_state(db, frame_id), _now())

    def undo(self, frame_id: int | None = None) -> int | None:
        """Undo the latest action (of `frame_id`, or of any frame); return the frame it changed, or None."""
        with self._db.write() as db:
            self._refuse_in_action("undo")
            changed = undo_step(db, frame_id)
            sync_calibrations(db)
            return changed

    def redo(self, frame_id: int | None = None) -> int | None:
        """Redo the most recently undone action (of `frame_id`, or of any frame); return the frame it changed."""
        with self._db.write() as db:
            self._refuse_in_action("redo")
            changed = redo_step(db, frame_id)
            sync_calibrations(db)
            return changed

    def can_undo(self, frame_id: int | None = None) -> bool:
        with self._db.read() as db:
            return has_step(db, undone=False, frame_id=frame_id)

    def can_redo(self, frame_id: int | None = None) -> bool:
        with self._db.read() as db:
            return has_step(db, undone=True, frame_id=frame_id)

    def _check_in_action(self, frame_id: int) -> None:
        if self._action is not None and self._action.frame_id != frame_id:
            raise StoreMisuse(
                f"action {self._action.name!r} is on frame {self._action.frame_id}; frame {frame_id} needs its own"
            )

    def _refuse_in_action(self, what: str) -> None:
        if self._action is not None:
            raise StoreMisuse(f"cannot {what} inside action {self._action.name!r}")

    def _edit(self, frame_id: int, action: str, change: Edit) -> FrameState:
        """Apply `change` to the frame's annotation state in one transaction: its own history step, or part of the
        open action's."""
        with self._db.write() as db:
            self._check_in_action(frame_id)
            record = self._frame_in(db, frame_id)
            before = load_state(db, frame_id)
            after = change(record, before)
            if after == before:
                return before
            after = write_state(db, frame_id, before, after)
            if self._action is None:
                record_step(db, frame_id, action, before, after, _now())
            return after

    def _frame_of_point(self, point_id: int) -> int:
        with self._db.read() as db:
            row = db.execute("SELECT frame_id FROM points WHERE id = ?", (point_id,)).fetchone()
        if row is None:
            raise KeyError(f"no point with id {point_id}")
        return int(row[0])

    # ------------------------------------------------------------------------------------------ settings
    def get_setting(self, key: str, default: Any = None) -> Any:
        """A setting's value (any JSON value), or `default` when unset."""
        with self._db.read() as db:
            row = db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def path_setting(self, key: str) -> Path | None:
        """A setting that names a file, absolute or relative to the project folder; None when unset."""
        value = self.get_setting(key)
        return self._source(str(value)) if value else None

    def set_setting(self, key: str, value: Any) -> None:
        """Store a JSON-serialisable value under `key`."""
        text = json.dumps(value)
        with self._db.write() as db:
            db.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", (key, text))


# ---------------------------------------------------------------------------------------------- helpers
def _scan(source: Path) -> list[tuple]:
    """(frame index, width, height, row_mm, col_mm, error) per frame of `source`; an unreadable file (or the
    damaged tail of one) becomes one row carrying the error."""
    rows: list[tuple] = []
    try:
        for frame in iter_frames(source):
            row_mm, col_mm = frame.spacing_mm or (None, None)
            rows.append((frame.index, frame.width, frame.height, row_mm, col_mm, None))
    except FrameReadError as exc:
        rows.append((len(rows), None, None, None, None, exc.reason))
    return rows


def _checked(record: FrameRecord, point: Point) -> Point:
    if record.error is not None or record.width is None or record.height is None:
        raise AnnotationFormatError(record.source, f"frame cannot be annotated ({record.error})")
    check_inside(record.source, [(point.x, point.y)], record.width, record.height)
    return Point(float(point.x), float(point.y), PointKind(point.kind), int(point.object_id))


def _kind_and_object(state: FrameState, point_id: int) -> tuple[PointKind, int]:
    point = dict(state.points)[point_id]
    return point.kind, point.object_id


def _size(shape: tuple[int, ...]) -> str:
    return f"{shape[1]}x{shape[0]}" if len(shape) == 2 else f"shape {shape}"
