"""Write a file all at once: a reader (or a crash) never sees it half written."""
from __future__ import annotations

import contextlib
import os
from pathlib import Path

from core.errors import InputError


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, then rename it over `path` (parent folders are created)."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):  # e.g. the parent is a file: there is no temporary file to remove
            tmp.unlink(missing_ok=True)
        raise InputError(target, f"cannot write file ({exc.strerror or exc})") from exc
