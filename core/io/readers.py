"""Read frames from any supported source; the format is recognised from the first bytes, else from the suffix.

Sources: PNG, JPEG, BMP, TIFF (multi-page TIFF = one frame per page), DICOM (single or multi-frame) and video
(AVI, MP4, MOV, MKV, ...). Every failure raises FrameReadError(path, one-line reason); no raw OpenCV, pydicom
or Pillow exception escapes. See core.io.video_reader for how truncated videos behave.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from core.errors import FrameReadError
from core.io import dicom_reader, image_reader, video_reader
from core.io.frame import Frame
from core.io.limits import check_regular_file

IMAGE_MAGICS = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"BM", b"II*\x00", b"MM\x00*")
VIDEO_MAGICS = (b"\x1aE\xdf\xa3", b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3", b"0&\xb2u\x8ef\xcf\x11")
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}
DICOM_SUFFIXES = {".dcm", ".dicom", ".dic", ""}  # DICOM files from scanners often have no suffix at all
VIDEO_SUFFIXES = {".avi", ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".wmv", ".mpg", ".mpeg"}
FRAME_SUFFIXES = IMAGE_SUFFIXES | VIDEO_SUFFIXES | (DICOM_SUFFIXES - {""})
DICOM_MAGIC_AT = 128  # a DICOM file carries b"DICM" after its 128-byte preamble


def _is_dicom_head(head: bytes) -> bool:
    return head[DICOM_MAGIC_AT:DICOM_MAGIC_AT + 4] == b"DICM"


def is_frame_source(path: str | Path) -> bool:
    """Whether a file looks like a frame source without decoding it: a known image, video or DICOM suffix, or
    no suffix and DICOM's magic bytes (scanners often write DICOM without a suffix). A file with a frame suffix
    counts even when it turns out unreadable (reading it says why)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in FRAME_SUFFIXES:
        return True
    if suffix:
        return False
    try:
        with p.open("rb") as f:
            return _is_dicom_head(f.read(DICOM_MAGIC_AT + 4))
    except OSError:
        return False


def _sniff(path: Path) -> ModuleType:
    """The reader module for `path`, decided from its content (suffix only when the content is inconclusive)."""
    check_regular_file(path)  # before opening: a FIFO named x.png would block the open forever
    try:
        with path.open("rb") as f:
            head = f.read(132)
    except FileNotFoundError as exc:
        raise FrameReadError(path, "file not found") from exc
    except OSError as exc:
        raise FrameReadError(path, f"cannot read file ({exc.strerror or exc})") from exc
    if not head:
        raise FrameReadError(path, "empty file")
    if _is_dicom_head(head):
        return dicom_reader
    if head.startswith(IMAGE_MAGICS):
        return image_reader
    if (head[:4] == b"RIFF" and head[8:12] == b"AVI ") or head[4:8] == b"ftyp" or head.startswith(VIDEO_MAGICS):
        return video_reader
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        # The suffix promises an image but the bytes do not start like one.
        raise FrameReadError(path, f"corrupt {suffix.lstrip('.').upper()} image (unrecognised file header)")
    if suffix in VIDEO_SUFFIXES:
        return video_reader
    if suffix in DICOM_SUFFIXES:
        return dicom_reader  # DICOM without the 128-byte preamble
    raise FrameReadError(path, f"unknown format (suffix {suffix!r}, header {head[:8].hex()})")


def _guarded(path: Path, exc: Exception) -> FrameReadError:
    text = str(exc).strip().splitlines()
    return FrameReadError(path, f"unexpected read error ({type(exc).__name__}: {text[0] if text else ''})")


def count_frames(path: str | Path) -> int:
    """Number of frames in the source (1 for still images; the container's declared count for video)."""
    p = Path(path)
    reader = _sniff(p)
    try:
        return reader.count(p)
    except FrameReadError:
        raise
    except Exception as exc:
        raise _guarded(p, exc) from exc


def read_frame(path: str | Path, index: int = 0) -> Frame:
    """Frame `index` of the source (0 for still images)."""
    p = Path(path)
    reader = _sniff(p)
    try:
        if index < 0:
            raise FrameReadError(p, f"frame index {index} out of range (must be 0 or more)")
        return reader.read(p, index)
    except FrameReadError:
        raise
    except Exception as exc:
        raise _guarded(p, exc) from exc


def iter_frames(path: str | Path) -> Iterator[Frame]:
    """Frames one at a time, decoding lazily (for long cine loops and videos). A damaged source yields its
    readable leading frames and then raises FrameReadError."""
    p = Path(path)
    reader = _sniff(p)
    iterator = reader.iterate(p)
    try:
        while True:
            try:
                frame = next(iterator)
            except StopIteration:
                return
            except FrameReadError:
                raise
            except Exception as exc:
                raise _guarded(p, exc) from exc
            yield frame
    finally:
        iterator.close()  # releases an open video capture when the caller stops early


def read_frames(path: str | Path) -> list[Frame]:
    """All frames of the source; raises FrameReadError if any frame cannot be read."""
    return list(iter_frames(path))
