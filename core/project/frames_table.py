"""The frames table of a project: source files added by path (relative to the project folder when possible), one
record per frame, their lazily computed content hash, and reading a frame's pixels back from its source."""
from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from core.errors import FrameChanged, FrameReadError
from core.io.frame import Frame
from core.io.readers import iter_frames, read_frame
from core.project.db import Database
from core.project.integrity import FrameCheck, HashCache, check_frame
from core.project.records import FrameRecord

FRAME_COLUMNS = "id, path, frame_index, width, height, row_mm, col_mm, content_hash, error"


class FramesTable:
    """The store's frames (a part of ProjectStore); the base of its other parts, holding the folder and database."""

    def __init__(self, folder: Path, db: Database) -> None:
        self.folder = folder
        self._db = db
        self._hashes = HashCache()

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
            rows = db.execute(f"SELECT {FRAME_COLUMNS} FROM frames ORDER BY id").fetchall()
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
                f"SELECT {FRAME_COLUMNS} FROM frames WHERE path = ? ORDER BY frame_index", (stored,)
            ).fetchall()
        return [self._record(row) for row in rows]

    def _frame_in(self, db: sqlite3.Connection, frame_id: int) -> FrameRecord:
        row = db.execute(f"SELECT {FRAME_COLUMNS} FROM frames WHERE id = ?", (frame_id,)).fetchone()
        if row is None:
            raise KeyError(f"no frame with id {frame_id}")
        return self._record(row)


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


def size_text(shape: tuple[int, ...]) -> str:
    return f"{shape[1]}x{shape[0]}" if len(shape) == 2 else f"shape {shape}"
