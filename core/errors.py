"""The one family of errors SonoClick raises for bad input: each names the file and the reason. Its root
(SonoClickError, InputError, CheckpointError) lives in models.errors, the lowest layer."""
from __future__ import annotations

from models.errors import CheckpointError, InputError, SonoClickError

__all__ = [
    "AnnotationFormatError", "CheckpointError", "ClickModelUnavailable", "FrameChanged", "FrameReadError", "InputError",
    "ProjectCorrupt", "ProjectDiskFull", "ProjectError", "ProjectPermissionDenied", "ProjectReadOnly", "SonoClickError",
]


class FrameReadError(InputError):
    """An image, DICOM or video could not be read as frames."""


class AnnotationFormatError(InputError):
    """A point JSON, mask or CSV file is malformed or does not fit its frame."""


class FrameChanged(FrameReadError):
    """A frame's source file is no longer the file that was annotated (other content or size); its annotations are
    kept in the project, untouched, until the user re-attaches or discards them."""


class ProjectError(SonoClickError):
    """The project store is missing, locked or from an incompatible version."""


class ProjectDiskFull(ProjectError):
    """The disk (or the process's file-size limit) is full: nothing was written; free space and retry."""


class ProjectPermissionDenied(ProjectError):
    """The project cannot be written here (permissions, a read-only folder or medium); it can be opened read-only."""


class ProjectCorrupt(ProjectError):
    """The project database is damaged; a backup copy may still save what can be read."""


class ProjectReadOnly(ProjectError):
    """The project was opened read-only (viewing and export only) and an edit was attempted."""


class ClickModelUnavailable(SonoClickError):
    """The click-conditioned network cannot answer now (still loading, or failed); the engine answers without it."""
