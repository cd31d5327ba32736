"""Label classes of a project (id, name, colour; *nodule* id 1 by default) and the class of each object.

Classes live in the `classes` table; an object's class in `object_classes` (frame, object -> class). An object
without a row there is of DEFAULT_CLASS_ID, so projects made before classes existed open with every object as
*nodule* without rewriting anything. Object classes are part of a frame's annotation state (see
core.project.frame_state), so changing one is an undoable edit like any other; the class list itself is project
data like settings (not undoable). Everything here runs inside the caller's transaction.
"""
from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from core.errors import ProjectError

DEFAULT_CLASS_ID = 1
DEFAULT_CLASS_NAME = "nodule"
# Distinct on dark ultrasound; the first is the app's nodule yellow.
PALETTE = ("#f5c400", "#00c8ff", "#ff5cad", "#7cff4f", "#ff8a1f", "#b48cff", "#00e0b0", "#ff4040", "#c0c0c0")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
MAX_NAME = 64
# A class with one of these names (case and spacing aside) is the thyroid gland: its accepted masks train the
# region prior's gland head (core.learning.snapshot). Exact names, not substrings: a "gland cyst" is no gland.
GLAND_CLASS_NAMES = ("thyroid gland", "thyroid", "gland")

CLASS_DDL = (
    "CREATE TABLE IF NOT EXISTS classes (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE,"
    " colour TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS object_classes (frame_id INTEGER NOT NULL REFERENCES frames(id) ON DELETE CASCADE,"
    " object_id INTEGER NOT NULL, class_id INTEGER NOT NULL REFERENCES classes(id), PRIMARY KEY (frame_id, object_id))",
    "CREATE TABLE IF NOT EXISTS history_classes (step_id INTEGER NOT NULL REFERENCES history(id) ON DELETE CASCADE,"
    " object_id INTEGER NOT NULL, before INTEGER, after INTEGER, PRIMARY KEY (step_id, object_id))",
)


@dataclass(frozen=True)
class LabelClass:
    id: int
    name: str
    colour: str  # "#rrggbb"


def create_class_tables(conn: sqlite3.Connection) -> None:
    """The class tables with the default class; the caller holds the transaction."""
    for statement in CLASS_DDL:
        conn.execute(statement)
    conn.execute(
        "INSERT OR IGNORE INTO classes (id, name, colour) VALUES (?, ?, ?)",
        (DEFAULT_CLASS_ID, DEFAULT_CLASS_NAME, PALETTE[0]),
    )


def migrate_to_classes(conn: sqlite3.Connection) -> None:
    """Schema 4 -> 5: add the class tables (and the history of object classes). Existing objects get no row,
    which reads as *nodule*."""
    create_class_tables(conn)


def is_gland_class_name(name: str) -> bool:
    return " ".join(name.split()).lower() in GLAND_CLASS_NAMES


def is_colour(text: object) -> bool:
    return isinstance(text, str) and bool(_COLOUR.match(text))


def list_classes(conn: sqlite3.Connection) -> list[LabelClass]:
    return [LabelClass(*row) for row in conn.execute("SELECT id, name, colour FROM classes ORDER BY id")]


def _checked_name(name: str) -> str:
    clean = " ".join(str(name).split())
    if not clean or len(clean) > MAX_NAME:
        raise ProjectError(f"a class name must be 1 to {MAX_NAME} characters, got {name!r}")
    return clean


def _name_taken(conn: sqlite3.Connection, name: str, other_than: int | None = None) -> bool:
    row = conn.execute("SELECT id FROM classes WHERE name = ? COLLATE NOCASE", (name,)).fetchone()
    return row is not None and row[0] != other_than


def add_class(conn: sqlite3.Connection, name: str, colour: str | None = None) -> LabelClass:
    """Add a class named `name` (unique, case-insensitive) with `colour` or the next palette colour."""
    clean = _checked_name(name)
    if _name_taken(conn, clean):
        raise ProjectError(f"there is already a class named {clean!r}")
    (count,) = conn.execute("SELECT COUNT(*) FROM classes").fetchone()
    chosen = colour if colour is not None else PALETTE[count % len(PALETTE)]
    if not _COLOUR.match(chosen):
        raise ProjectError(f"a class colour must be '#rrggbb', got {chosen!r}")
    (next_id,) = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM classes").fetchone()
    conn.execute("INSERT INTO classes (id, name, colour) VALUES (?, ?, ?)", (next_id, clean, chosen))
    return LabelClass(next_id, clean, chosen)


def rename_class(conn: sqlite3.Connection, class_id: int, name: str) -> LabelClass:
    clean = _checked_name(name)
    require_class(conn, class_id)
    if _name_taken(conn, clean, other_than=class_id):
        raise ProjectError(f"there is already a class named {clean!r}")
    conn.execute("UPDATE classes SET name = ? WHERE id = ?", (clean, class_id))
    return next(c for c in list_classes(conn) if c.id == class_id)


def require_class(conn: sqlite3.Connection, class_id: int) -> None:
    if conn.execute("SELECT 1 FROM classes WHERE id = ?", (int(class_id),)).fetchone() is None:
        raise KeyError(f"no class with id {class_id}")


def load_object_classes(conn: sqlite3.Connection, frame_id: int) -> tuple[tuple[int, int], ...]:
    """(object id, class id) of the frame's objects that have a class row, by object id."""
    rows = conn.execute(
        "SELECT object_id, class_id FROM object_classes WHERE frame_id = ? ORDER BY object_id", (frame_id,)
    ).fetchall()
    return tuple((int(oid), int(cid)) for oid, cid in rows)


def write_object_classes(conn: sqlite3.Connection, frame_id: int, pairs: tuple[tuple[int, int], ...]) -> None:
    conn.execute("DELETE FROM object_classes WHERE frame_id = ?", (frame_id,))
    conn.executemany(
        "INSERT INTO object_classes (frame_id, object_id, class_id) VALUES (?, ?, ?)",
        [(frame_id, oid, cid) for oid, cid in pairs],
    )


def with_object_class(
    pairs: tuple[tuple[int, int], ...], object_id: int, class_id: int
) -> tuple[tuple[int, int], ...]:
    """`pairs` with the object's class set; the default class is stored as no row."""
    kept = {oid: cid for oid, cid in pairs if oid != object_id}
    if class_id != DEFAULT_CLASS_ID:
        kept[object_id] = class_id
    return tuple(sorted(kept.items()))


def class_of(pairs: tuple[tuple[int, int], ...], object_id: int) -> int:
    return dict(pairs).get(object_id, DEFAULT_CLASS_ID)
