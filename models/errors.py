"""The root of SonoClick's error family, kept here because `models` is the lowest layer: `core` builds on these
(core.errors re-exports them) and `models` must not import `core`."""
from __future__ import annotations

from pathlib import Path


class SonoClickError(Exception):
    """Base class: a user-facing problem with a clear one-line message."""


class InputError(SonoClickError):
    """A file could not be used. The message always names the file and the reason."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class CheckpointError(InputError):
    """A model file is not ours, is truncated, or does not match what was asked for."""
