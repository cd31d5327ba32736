"""Write a file all at once: a reader (or a crash) never sees it half written.

The temporary file is created by tempfile.mkstemp in the target's folder: an unpredictable name opened with
O_CREAT | O_EXCL, so a file or symbolic link planted there in advance is never opened or followed (the call
picks another name instead). Its data is fsynced before the rename and the folder after it, so a power cut
leaves either the old file or the new one.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from core.errors import InputError

COPY_CHUNK = 1 << 20


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Write `data` to a fresh temporary file beside `path`, then rename it over `path` (parent folders are
    created). A symbolic link at `path` itself is replaced by the file, never written through."""
    _write_atomic(Path(path), lambda f: f.write(data))


def copy_file_atomic(source: str | Path, path: str | Path) -> None:
    """Copy `source` to `path` the same way (streamed, not read into memory: checkpoints can be large)."""
    try:
        reader = open(source, "rb")
    except OSError as exc:
        raise InputError(source, f"cannot read file ({exc.strerror or exc})") from exc
    with reader:
        _write_atomic(Path(path), lambda f: shutil.copyfileobj(reader, f, COPY_CHUNK))


def _write_atomic(target: Path, write: Callable[[BinaryIO], object]) -> None:
    tmp: str | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
        tmp = None
        fsync_folder(target.parent)
    except OSError as exc:
        raise InputError(target, f"cannot write file ({exc.strerror or exc})") from exc
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def fsync_folder(folder: Path) -> None:
    """Make a rename inside `folder` durable (a no-op where folders cannot be opened, as on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
