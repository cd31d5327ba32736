"""The frames table of a project: source files added by path (relative to the project folder when possible), one
record per frame, their lazily computed content hash, and reading a frame's pixels back from its source."""
from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from core.errors import FrameReadError
from core.io.frame import Frame
from core.io.readers import iter_frames, read_frame
from core.project.db import Database
from core.project.records import FrameRecord

FRAME_COLUMNS = "id, path, frame_index, width, height, row_mm, col_mm, content_hash, error"


class FramesTable:
    """The store's frames (a part of ProjectStore); the base of its other parts, holding the folder and database."""

    def __init__(self, folder: Path, db: Database) -> None:
        self.folder = folder
        self._db = db

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
        """The frame's pixels, read from its source; FrameReadError if it is (now) unreadable."""
        record = self.frame(frame_id)
        if record.error is not None:
            raise FrameReadError(record.source, record.error)
        return read_frame(record.source, record.index)

    def content_hash(self, frame_id: int) -> str:
        """sha1 of the frame's source file, computed (streamed) on first request and then kept."""
        record = self.frame(frame_id)
        if record.content_hash:
            return record.content_hash
        digest = hashlib.sha1()
        try:
            with record.source.open("rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    digest.update(chunk)
        except OSError as exc:
            raise FrameReadError(record.source, f"cannot read file ({exc.strerror or exc})") from exc
        with self._db.write() as db:
            db.execute("UPDATE frames SET content_hash = ? WHERE path = ?", (digest.hexdigest(), record.path))
        return digest.hexdigest()

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
