"""Damaged rows in a project database (a value of the wrong type, a snapshot or PNG that no longer decodes) are a
ProjectCorrupt naming the database, never a raw ValueError or TypeError from deep inside the decoding.

SQLite errors are classified where they happen (core.project.db); this guards what the store makes of the rows
it read, around every method that reads and decodes them (undo and redo decode history snapshots). A KeyError
stays one (an unknown id) unless SQLite's own check finds the file damaged."""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from core.errors import ProjectCorrupt, SonoClickError

DAMAGE = (ValueError, TypeError, IndexError, AttributeError, OverflowError)  # UnicodeDecodeError, JSONDecodeError too
READ_METHODS = (
    "frames", "frame", "load_frame", "verify_frame", "points", "calipers", "mask", "masks", "accepted_frames",
    "draft_frames", "frame_status", "frame_statuses", "prediction", "undo", "redo", "can_undo", "can_redo",
    "get_setting", "path_setting", "strokes", "tag", "tags", "effective_tags", "frames_with_nodules",
)

Store = TypeVar("Store", bound=type)


class StoreMisuse(ValueError):
    """The caller broke the store's rules (an edit of another frame inside an action, undo inside one): a bug in
    the calling code, never damage in the database."""


def damaged_rows_raise_project_corrupt(cls: Store) -> Store:
    """Class decorator for the store: its READ_METHODS turn decoding failures into ProjectCorrupt."""
    for name in READ_METHODS:
        setattr(cls, name, _guarded(getattr(cls, name)))
    return cls


def _guarded(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except (SonoClickError, StoreMisuse):
            raise
        except KeyError as exc:  # an unknown id; or a damaged file contradicting itself (an id it just listed)
            if self._db.intact():
                raise
            raise ProjectCorrupt(f"{self.folder}: the project database is damaged (SQLite's check fails; lookup of "
                                 f"{exc} failed); make a backup copy before anything else") from exc
        except DAMAGE as exc:
            raise ProjectCorrupt(
                f"{self.folder}: damaged data in the project database ({type(exc).__name__}: "
                f"{str(exc).splitlines()[0][:120] if str(exc) else ''}); make a backup copy before anything else"
            ) from exc

    return guarded
