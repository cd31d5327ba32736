"""In-place migration of older project databases, one function per version step (see core.project.schema for
what each version holds). migrate_schema runs inside the caller's (immediate) transaction, so of two processes
opening the same old project at once the second finds it migrated already, and a failed step changes nothing."""
from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Callable

from core.project.classes import migrate_to_classes
from core.project.frame_state import FrameState
from core.project.history import diff, insert_step
from core.project.schema import SCHEMA_VERSION, run_script, schema_version
from core.project.sparse_rows import create_sparse_tables


def migrate_schema(conn: sqlite3.Connection) -> None:
    """Bring a checked database up to SCHEMA_VERSION, step by step."""
    steps: dict[int, Callable[[sqlite3.Connection], None]] = {
        1: _migrate_1_to_2, 2: _migrate_2_to_3, 3: _migrate_3_to_4, 4: migrate_to_classes, 5: create_sparse_tables,
    }
    for version in range(schema_version(conn), SCHEMA_VERSION):
        steps[version](conn)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))


def _settings_under(conn: sqlite3.Connection, prefix: str) -> list[tuple[str, str]]:
    return conn.execute("SELECT key, value FROM settings WHERE substr(key, 1, ?) = ?", (len(prefix), prefix)).fetchall()


def _drop_settings_under(conn: sqlite3.Connection, prefix: str) -> None:
    conn.execute("DELETE FROM settings WHERE substr(key, 1, ?) = ?", (len(prefix), prefix))


def _snapshot(blob: bytes) -> dict | None:
    """A version 1/2 history snapshot ({"points": [...], "masks": [[oid, provenance, created_at, png, ...]]})."""
    try:
        doc = json.loads(bytes(blob).decode("utf-8"))
        doc["masks"] = [list(m) for m in doc["masks"]]
        return doc
    except (ValueError, KeyError, TypeError):
        return None


# the history tables as schema 3 made them (frozen: schema.HISTORY_DDL moves on with later versions)
HISTORY_V3_DDL = """
CREATE TABLE history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    frame_id INTEGER NOT NULL REFERENCES frames(id) ON DELETE CASCADE,
    action TEXT NOT NULL,
    undone_seq INTEGER,
    created_at TEXT NOT NULL
);
CREATE INDEX history_by_frame ON history (frame_id, id);
CREATE TABLE history_points (
    step_id INTEGER NOT NULL REFERENCES history(id) ON DELETE CASCADE,
    point_id INTEGER NOT NULL,
    before TEXT,
    after TEXT,
    PRIMARY KEY (step_id, point_id)
);
CREATE TABLE history_masks (
    step_id INTEGER NOT NULL REFERENCES history(id) ON DELETE CASCADE,
    object_id INTEGER NOT NULL,
    before TEXT,
    before_png BLOB,
    after TEXT,
    after_png BLOB,
    PRIMARY KEY (step_id, object_id)
);
"""


# ----------------------------------------------------------------------------------------------- 1 -> 2
# Version 1 had one kind of mask; the desktop app remembered which ones were drafts in settings named
# LEGACY_DRAFT_SETTING + <frame id> ({object id: [created_at of each mask record it wrote as a draft]}).
LEGACY_DRAFT_SETTING = "gui.draft_masks."

Book = dict[int, set[str]]


def _migrate_1_to_2(conn: sqlite3.Connection) -> None:
    """Add masks.accepted. Stored masks become accepted (as version 1 treated every mask), except those the desktop
    app had marked as drafts, which stay drafts: in the masks table and in the history snapshots of their frame, so
    undo/redo of steps made before the migration still brings drafts back as drafts. The app's draft settings are
    then dropped."""
    conn.execute("ALTER TABLE masks ADD COLUMN accepted INTEGER NOT NULL DEFAULT 1 CHECK (accepted IN (0, 1))")
    for key, value in _settings_under(conn, LEGACY_DRAFT_SETTING):
        try:
            frame_id = int(key[len(LEGACY_DRAFT_SETTING):])
            book = {int(oid): {str(ts) for ts in stamps} for oid, stamps in json.loads(value).items()}
        except (ValueError, TypeError, AttributeError):
            continue  # not ours or damaged: leave the masks accepted
        present = _mark_history_drafts(conn, frame_id, book)
        for oid, provenance, created_at, png in conn.execute(
            "SELECT object_id, provenance, created_at, png FROM masks WHERE frame_id = ?", (frame_id,)
        ).fetchall():
            known = present.get(oid)
            if known is not None and known[0][1:] == [provenance, created_at, base64.b64encode(png).decode("ascii")]:
                draft = known[1] == 0
            else:  # not in the history (trimmed): its stamp decides
                draft = created_at in book.get(oid, ())
            if draft:
                conn.execute("UPDATE masks SET accepted = 0 WHERE frame_id = ? AND object_id = ?", (frame_id, oid))
    _drop_settings_under(conn, LEGACY_DRAFT_SETTING)


class _DraftTracker:
    """Tells drafts from accepted masks by the order they were written in, not by their time alone: the app stamped
    a draft's record and an accept rewrote the mask, and both can carry the same millisecond. So the first write of
    a booked stamp (per object) is the draft and any later write with the same stamp is the accept."""

    def __init__(self, book: Book) -> None:
        self.book = book
        self.used: dict[int, set[str]] = {}
        self.current: dict[int, tuple[list, int]] = {}  # object id -> (mask entry, flag) as last seen

    def written(self, entry: list) -> int:
        oid, stamp = int(entry[0]), str(entry[2])
        used = self.used.setdefault(oid, set())
        if stamp in self.book.get(oid, ()) and stamp not in used:
            used.add(stamp)
            return 0
        return 1

    def seen(self, entry: list) -> int:
        """The flag of a record met as it stands (a step's `before`)."""
        known = self.current.get(int(entry[0]))
        return known[1] if known is not None and known[0] == entry[:4] else self.written(entry)


def _mark_history_drafts(conn: sqlite3.Connection, frame_id: int, book: Book) -> dict[int, tuple[list, int]]:
    """Write the accepted flag into every history snapshot of the frame, walking its steps in the order they were
    made; return object id -> (mask entry, flag) as the masks stand now."""
    tracker = _DraftTracker(book)
    present: dict[int, tuple[list, int]] | None = None
    rows = conn.execute(
        "SELECT id, before, after, undone_seq FROM history WHERE frame_id = ? ORDER BY id", (frame_id,)
    ).fetchall()
    for step, before_blob, after_blob, undone_seq in rows:
        before, after = _snapshot(before_blob), _snapshot(after_blob)
        if before is None or after is None:
            tracker.current = {}
            continue  # damaged: undo of this step fails as it did before
        old = {int(m[0]): m[:4] for m in before["masks"] if len(m) == 4}
        before["masks"] = [[*m[:4], tracker.seen(m)] if len(m) == 4 else m for m in before["masks"]]
        tracker.current = {int(m[0]): (m[:4], m[4]) for m in before["masks"]}
        if undone_seq is not None and present is None:
            present = dict(tracker.current)  # the first undone step starts from the state the masks are in now
        marked = []
        for m in after["masks"]:
            if len(m) == 4:
                prior = tracker.current.get(int(m[0]))
                m = [*m, prior[1] if old.get(int(m[0])) == m and prior else tracker.written(m)]
            marked.append(m)
        after["masks"] = marked
        tracker.current = {int(m[0]): (m[:4], m[4]) for m in marked}
        conn.execute(
            "UPDATE history SET before = ?, after = ? WHERE id = ?",
            (*(json.dumps(doc, separators=(",", ":")).encode("utf-8") for doc in (before, after)), step),
        )
    return tracker.current if present is None else present


# ----------------------------------------------------------------------------------------------- 2 -> 3
# Version 2's desktop app grouped store edits into user actions itself, counting edits per action in settings
# named LEGACY_UNDO_GROUPS + <frame id> ({"undo": [edits per action, oldest first], "redo": [...]}).
LEGACY_UNDO_GROUPS = "gui.undo_groups."


def _migrate_2_to_3(conn: sqlite3.Connection) -> None:
    """History as deltas: each step keeps only the points and masks it changed instead of two full snapshots of
    its frame. The app's action counts first merge the steps of one action into one step (undo stays by action);
    then the counts are dropped. A frame whose history holds a damaged snapshot loses its history (its
    annotations stay), since its steps could not be undone exactly."""
    _merge_app_undo_groups(conn)
    conn.execute("ALTER TABLE history RENAME TO history_v2")
    conn.execute("DROP INDEX IF EXISTS history_by_frame")
    run_script(conn, HISTORY_V3_DDL)
    rows = conn.execute(
        "SELECT frame_id, action, before, after, undone_seq, created_at FROM history_v2 ORDER BY id"
    ).fetchall()
    states: list[tuple[int, str, FrameState, FrameState, int | None, str]] = []
    damaged: set[int] = set()
    for frame_id, action, before, after, undone_seq, created_at in rows:
        try:
            pair = FrameState.from_bytes(bytes(before)), FrameState.from_bytes(bytes(after))
        except (ValueError, KeyError, TypeError):
            damaged.add(frame_id)
            continue
        states.append((frame_id, action, *pair, undone_seq, created_at))
    for frame_id, action, before, after, undone_seq, created_at in states:
        delta = diff(before, after)
        if frame_id not in damaged and delta:
            insert_step(conn, frame_id, action, delta, created_at, undone_seq)
    conn.execute("DROP TABLE history_v2")


def _merge_app_undo_groups(conn: sqlite3.Connection) -> None:
    for key, value in _settings_under(conn, LEGACY_UNDO_GROUPS):
        try:
            frame_id = int(key[len(LEGACY_UNDO_GROUPS):])
            groups = json.loads(value)
            undo, redo = [int(n) for n in groups.get("undo", [])], [int(n) for n in groups.get("redo", [])]
        except (ValueError, TypeError, AttributeError):
            continue  # damaged: its steps stay one edit each
        done = [r[0] for r in conn.execute(
            "SELECT id FROM history WHERE frame_id = ? AND undone_seq IS NULL ORDER BY id DESC", (frame_id,))]
        undone = [r[0] for r in conn.execute(
            "SELECT id FROM history WHERE frame_id = ? AND undone_seq IS NOT NULL ORDER BY undone_seq DESC",
            (frame_id,))]
        for steps, counts in ((done, undo), (undone, redo)):
            for count in reversed(counts):  # the latest action (or the next to redo) is counted last
                members, steps[:] = steps[:count], steps[count:]
                _merge_steps(conn, members)
    _drop_settings_under(conn, LEGACY_UNDO_GROUPS)


def _merge_steps(conn: sqlite3.Connection, members: list[int]) -> None:
    """One version-2 step from consecutive steps of one frame: the oldest one's `before`, the newest one's
    `after`, and (when undone) the place in the redo order of the first of them to be redone."""
    if len(members) < 2:
        return
    oldest, newest = min(members), max(members)
    marks = ",".join("?" * len(members))
    conn.execute(
        f"UPDATE history SET before = (SELECT before FROM history WHERE id = ?),"
        f" undone_seq = (SELECT MAX(undone_seq) FROM history WHERE id IN ({marks})) WHERE id = ?",
        (oldest, *members, newest),
    )
    conn.execute(f"DELETE FROM history WHERE id IN ({marks}) AND id != ?", (*members, newest))


# ----------------------------------------------------------------------------------------------- 3 -> 4
def _migrate_3_to_4(conn: sqlite3.Connection) -> None:
    """history.action_id (an action on several frames); every existing step was on one frame, so all stay NULL."""
    conn.execute("ALTER TABLE history ADD COLUMN action_id INTEGER")
    conn.execute("CREATE INDEX history_by_action ON history (action_id)")
