"""Whether a frame's source file is still the file that was annotated: its sha1 (recorded the first time the frame is
opened) and its size in pixels. A changed file is reported, never silently re-used: the annotations stay in the
project until the user re-attaches them to the new file (same size only) or discards them.

Hashes are cached per (file size, modification time), so a frame is hashed again only when its file was touched.
"""
from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from core.errors import FrameChanged, FrameReadError
from core.io.limits import check_regular_file
from core.project.records import FrameRecord


@dataclass(frozen=True)
class FrameCheck:
    """The outcome of verifying one frame: `changed` with the reason, or not (unreadable frames are not checked:
    their record carries the error already). `recorded_hash` is the sha1 to record when none was yet."""

    frame_id: int
    changed: bool
    reason: str | None = None
    recorded_hash: str | None = None

    def raise_if_changed(self, source: Path) -> None:
        if self.changed:
            raise FrameChanged(source, f"{self.reason}; its annotations are kept: re-attach them to the new file "
                                       f"or discard them")


class HashCache:
    """sha1 of source files, recomputed only when a file's size or modification time changes."""

    def __init__(self) -> None:
        self._known: dict[Path, tuple[int, int, str]] = {}
        self._lock = threading.Lock()

    def sha1(self, path: Path) -> str:
        check_regular_file(path)
        try:
            info = os.stat(path)
            with self._lock:
                known = self._known.get(path)
            if known is not None and known[:2] == (info.st_size, info.st_mtime_ns):
                return known[2]
            digest = hashlib.sha1()
            with path.open("rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    digest.update(chunk)
        except OSError as exc:
            raise FrameReadError(path, f"cannot read file ({exc.strerror or exc})") from exc
        with self._lock:
            self._known[path] = (info.st_size, info.st_mtime_ns, digest.hexdigest())
        return digest.hexdigest()


def check_frame(record: FrameRecord, hashes: HashCache, size: tuple[int, int] | None = None) -> FrameCheck:
    """Compare the file behind `record` with what was recorded. `size` = (height, width) of the frame as just
    read, when the caller has read it (a differing size is reported without hashing)."""
    if record.error is not None:
        return FrameCheck(record.id, False)
    if size is not None and tuple(size) != (record.height, record.width):
        return FrameCheck(record.id, True, f"the file changed: the frame was {record.width}x{record.height}, "
                                           f"it is now {size[1]}x{size[0]}")
    digest = hashes.sha1(record.source)
    if record.content_hash is None:
        return FrameCheck(record.id, False, recorded_hash=digest)
    if digest != record.content_hash:
        return FrameCheck(record.id, True, "the file changed since it was annotated (its content hash differs)")
    return FrameCheck(record.id, False)
