"""The one family of errors SonoClick raises for bad input: each names the file and the reason."""
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


class FrameReadError(InputError):
    """An image, DICOM or video could not be read as frames."""


class AnnotationFormatError(InputError):
    """A point JSON, mask or CSV file is malformed or does not fit its frame."""


class CheckpointError(InputError):
    """A model file is not ours, is truncated, or does not match what was asked for."""


class ProjectError(SonoClickError):
    """The project store is missing, locked or from an incompatible version."""


class ClickModelUnavailable(SonoClickError):
    """The click-conditioned network cannot answer now (still loading, or failed); the engine answers without it."""
