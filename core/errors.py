"""The one family of errors SonoClick raises for bad input: each names the file and the reason. Its root
(SonoClickError, InputError, CheckpointError) lives in models.errors, the lowest layer."""
from __future__ import annotations

from models.errors import CheckpointError, InputError, SonoClickError

__all__ = [
    "AnnotationFormatError", "CheckpointError", "ClickModelUnavailable", "FrameReadError", "InputError", "ProjectError",
    "SonoClickError",
]


class FrameReadError(InputError):
    """An image, DICOM or video could not be read as frames."""


class AnnotationFormatError(InputError):
    """A point JSON, mask or CSV file is malformed or does not fit its frame."""


class ProjectError(SonoClickError):
    """The project store is missing, locked or from an incompatible version."""


class ClickModelUnavailable(SonoClickError):
    """The click-conditioned network cannot answer now (still loading, or failed); the engine answers without it."""
