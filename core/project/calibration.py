"""Calibration: millimetres for frames whose file gives no pixel spacing (PNG, JPEG, video).

The user clicks two points a known distance apart (two ticks of the depth ruler, say) and types the distance; the
Calibration keeps both points, the distance and its scope, and gives an isotropic spacing (mm per pixel = distance
/ length of the line in pixels). Scopes: "frame" (that frame only), "folder" (every frame whose file is in the
same folder as the clicked frame's file) or "project" (every frame).

Effective spacing of a frame, first that applies:
  1. the frame's own spacing from its file (DICOM Pixel Spacing and the like: FrameRecord.spacing_mm),
  2. a frame calibration of that frame,
  3. a folder calibration of its file's folder,
  4. the project calibration,
  else none (lengths in pixels only). A file's own spacing is measured by the scanner and wins; when a
calibration also applies to such a frame and gives a different spacing, EffectiveSpacing.disagreement says by how
much (relative, largest over the two axes) so the app can warn: the calibration was probably drawn on a wrong
ruler, or the DICOM spacing is for another region of the image.

Stored in the settings table (key "calibrations": the log of changes, JSON) and undoable: every change (set or
clear) is also a history step of the frame it was made on (core.project.history.record_marker, a step with no
point or mask rows), so undo and redo on that frame (or project-wide) take it back and forth in order with the
frame's annotation edits, and a new edit drops it from the redo tail like any step. Why there and not a
project-level undo stack: the app's undo is per frame (the frame on screen), the calibration is drawn on a frame,
and the per-frame history already has the ordering, the redo tail and the persistence across reopening; a second
stack would have to be interleaved with it by hand. A change is in effect while its step is done; each log entry
keeps a `done` flag, refreshed after every undo and redo (sync_calibrations), which decides once the step is gone
from the history (trimmed after HISTORY_PER_FRAME later steps: done; dropped with a redo tail: undone, and the
entry is removed). The latest change in effect per scope and target wins; a clear is a change with no distance.

ProjectStore inherits Calibrations (a part of the store); the app's API:
  store.set_calibration(frame_id, point_1, point_2, distance_mm, scope) -> Calibration
  store.clear_calibration(frame_id, scope) -> bool (False: nothing to clear, no undo step)
  store.calibration(frame_id, scope) -> Calibration | None (the one in effect at that scope for that frame)
  store.effective_spacing(frame_id) -> EffectiveSpacing (.spacing_mm, .source, .calibration, .disagreement)
"""
from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from core.annotation.bounds import check_inside
from core.errors import AnnotationFormatError
from core.project.damage import StoreMisuse
from core.project.history import record_marker

if TYPE_CHECKING:
    from core.project.db import Database
    from core.project.records import FrameRecord

SETTING_KEY = "calibrations"


class CalibrationScope(StrEnum):
    FRAME = "frame"
    FOLDER = "folder"
    PROJECT = "project"


@dataclass(frozen=True)
class Calibration:
    """Two points (x = column, y = row, pixels) `distance_mm` apart, clicked on frame `frame_id`."""

    point_1: tuple[float, float]
    point_2: tuple[float, float]
    distance_mm: float
    scope: CalibrationScope
    frame_id: int

    def __post_init__(self) -> None:
        if not (math.isfinite(self.distance_mm) and self.distance_mm > 0):
            raise ValueError(f"the distance must be a positive number of millimetres, got {self.distance_mm}")
        if not self.length_px > 0:
            raise ValueError("the two calibration points must differ")

    @property
    def length_px(self) -> float:
        return math.hypot(self.point_2[0] - self.point_1[0], self.point_2[1] - self.point_1[1])

    @property
    def mm_per_px(self) -> float:
        return self.distance_mm / self.length_px

    @property
    def spacing_mm(self) -> tuple[float, float]:
        """(row_mm, col_mm), isotropic."""
        return self.mm_per_px, self.mm_per_px


@dataclass(frozen=True)
class EffectiveSpacing:
    """The spacing a frame is measured with and where it comes from: "file" (its own, e.g. DICOM), "frame",
    "folder" or "project" (a calibration), or "none". `calibration` is the one in use, or, when the file's
    spacing wins, the one it overrides; `disagreement` is then max |calibration / file - 1| over the two axes."""

    spacing_mm: tuple[float, float] | None
    source: str
    calibration: Calibration | None = None
    disagreement: float | None = None


def folder_of(stored_path: str) -> str:
    """The folder a frame's file is in, as the project stores paths (POSIX, relative to the project folder)."""
    return PurePosixPath(stored_path).parent.as_posix()


def _target(scope: CalibrationScope, record: FrameRecord) -> str:
    if scope is CalibrationScope.FRAME:
        return str(record.id)
    return folder_of(record.path) if scope is CalibrationScope.FOLDER else ""


def _entry_calibration(entry: dict[str, Any]) -> Calibration | None:
    if entry["mm"] is None:
        return None
    (x1, y1), (x2, y2) = entry["p1"], entry["p2"]
    return Calibration((float(x1), float(y1)), (float(x2), float(y2)), float(entry["mm"]),
                       CalibrationScope(entry["scope"]), int(entry["frame"]))


def _log(db: sqlite3.Connection) -> list[dict[str, Any]]:
    row = db.execute("SELECT value FROM settings WHERE key = ?", (SETTING_KEY,)).fetchone()
    return [] if row is None else list(json.loads(row[0]))


def _write_log(db: sqlite3.Connection, log: list[dict[str, Any]]) -> None:
    db.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", (SETTING_KEY, json.dumps(log)))


def in_effect(log: list[dict[str, Any]], scope: CalibrationScope, target: str) -> Calibration | None:
    """The latest done change of (scope, target), as a Calibration; None when there is none or it is a clear."""
    done = [e for e in log if e["done"] and e["scope"] == scope.value and e["target"] == target]
    return _entry_calibration(max(done, key=lambda e: e["step"])) if done else None


def sync_calibrations(db: sqlite3.Connection) -> None:
    """Refresh every log entry's done flag from its history step (run after undo and redo, in their
    transaction); an entry whose step is gone keeps its flag, and is dropped when it was undone."""
    log = _log(db)
    if not log:
        return
    steps = {sid: undone for sid, undone in db.execute(
        f"SELECT id, undone_seq FROM history WHERE id IN ({', '.join('?' * len(log))})", [e["step"] for e in log]
    )}
    kept = []
    for entry in log:
        if entry["step"] in steps:
            entry["done"] = steps[entry["step"]] is None
        if entry["done"] or entry["step"] in steps:
            kept.append(entry)
    _write_log(db, kept)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Calibrations:
    """Calibrations (a part of ProjectStore)."""

    _db: Database
    _action: Any

    if TYPE_CHECKING:  # provided by ProjectStore

        def _frame_in(self, db: sqlite3.Connection, frame_id: int) -> FrameRecord: ...

    def set_calibration(
        self,
        frame_id: int,
        point_1: tuple[float, float],
        point_2: tuple[float, float],
        distance_mm: float,
        scope: CalibrationScope | str = CalibrationScope.FRAME,
    ) -> Calibration:
        """Calibrate from two points clicked on the frame `distance_mm` apart, for that frame, its folder or the
        project (replacing the one in effect there), as one undoable step of this frame. ValueError for a
        distance that is not positive or two equal points; AnnotationFormatError for a point off the frame."""
        calibration = Calibration(
            (float(point_1[0]), float(point_1[1])), (float(point_2[0]), float(point_2[1])), float(distance_mm),
            CalibrationScope(scope), frame_id,
        )
        with self._db.write() as db:
            record = self._frame_in(db, frame_id)
            if record.width is None or record.height is None:
                raise AnnotationFormatError(record.source, f"frame cannot be calibrated ({record.error})")
            check_inside(record.source, [calibration.point_1, calibration.point_2], record.width, record.height)
            mm = f"{calibration.distance_mm:g} mm"
            self._record_change(db, record, calibration.scope, calibration, f"calibrate {calibration.scope} ({mm})")
        return calibration

    def clear_calibration(self, frame_id: int, scope: CalibrationScope | str = CalibrationScope.FRAME) -> bool:
        """Remove the calibration in effect at `scope` for this frame, as one undoable step of this frame; False
        (and no step) when there is none."""
        scope = CalibrationScope(scope)
        with self._db.write() as db:
            record = self._frame_in(db, frame_id)
            if in_effect(_log(db), scope, _target(scope, record)) is None:
                return False
            self._record_change(db, record, scope, None, f"clear {scope} calibration")
        return True

    def calibration(self, frame_id: int, scope: CalibrationScope | str) -> Calibration | None:
        """The calibration in effect at `scope` for this frame (of the frame, its folder or the project)."""
        scope = CalibrationScope(scope)
        with self._db.read() as db:
            record = self._frame_in(db, frame_id)
            return in_effect(_log(db), scope, _target(scope, record))

    def effective_spacing(self, frame_id: int) -> EffectiveSpacing:
        """The spacing to measure this frame with (precedence in this module's docstring)."""
        with self._db.read() as db:
            record = self._frame_in(db, frame_id)
            log = _log(db)
        for scope in CalibrationScope:
            calibration = in_effect(log, scope, _target(scope, record))
            if calibration is None:
                continue
            if record.spacing_mm is None:
                return EffectiveSpacing(calibration.spacing_mm, scope.value, calibration)
            off = max(abs(calibration.mm_per_px / s - 1) for s in record.spacing_mm)
            return EffectiveSpacing(record.spacing_mm, "file", calibration, off)
        return EffectiveSpacing(record.spacing_mm, "none" if record.spacing_mm is None else "file")

    def _record_change(
        self, db: sqlite3.Connection, record: FrameRecord, scope: CalibrationScope, calibration: Calibration | None,
        action: str,
    ) -> None:
        if self._action is not None:
            raise StoreMisuse(f"cannot calibrate inside action {self._action.name!r}: it is an action of its own")
        step = record_marker(db, record.id, action, _now())
        log = _log(db)
        log.append({
            "step": step, "frame": record.id, "scope": scope.value, "target": _target(scope, record),
            "p1": None if calibration is None else list(calibration.point_1),
            "p2": None if calibration is None else list(calibration.point_2),
            "mm": None if calibration is None else calibration.distance_mm, "done": True,
        })
        _write_log(db, log)
        sync_calibrations(db)  # forget the changes the new step dropped from the frame's redo tail
