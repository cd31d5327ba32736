"""Video (AVI, MP4, ...) frames through cv2.VideoCapture, as RGB uint8.

Truncated videos: the frames that decode are delivered, and asking for any frame past the damage raises
FrameReadError("truncated video: ..."). `iterate` therefore yields every decodable frame and then raises, so a
caller can keep what was readable; `read_frames` (in core.io.readers) raises. A video whose header is cut off does
not open at all and raises at once. Reading stops at the first frame that fails, so it never spins.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np

from core.errors import FrameReadError
from core.io.frame import Frame
from core.io.limits import check_frame_count, check_frame_size, check_regular_file

# The FFmpeg backend first: CAP_ANY may hand a path to the image-sequence backend, which treats '%' as a pattern.
_BACKENDS = (cv2.CAP_FFMPEG, cv2.CAP_ANY)


@contextmanager
def _capture(path: Path) -> Iterator[cv2.VideoCapture]:
    check_regular_file(path)
    cap = None
    for backend in _BACKENDS:
        try:
            cap = cv2.VideoCapture(str(path), backend)
        except cv2.error:
            cap = None
        if cap is not None and cap.isOpened():
            break
    if cap is None or not cap.isOpened():
        raise FrameReadError(path, "cannot open video (truncated header, damaged file or unsupported codec)")
    try:
        _check_declared(path, cap)
        yield cap
    finally:
        cap.release()


def _check_declared(path: Path, cap: cv2.VideoCapture) -> None:
    """The container's frame size and count, checked before any frame is decoded."""
    width, height = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH) or 0), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0)
    if width or height:
        check_frame_size(path, width, height)
    check_frame_count(path, _declared_count(cap))


def _declared_count(cap: cv2.VideoCapture) -> int:
    value = cap.get(cv2.CAP_PROP_FRAME_COUNT)
    return int(value) if value and 0 < value < 2**62 else 0


def _to_rgb(img: np.ndarray) -> np.ndarray:
    if img.ndim == 2:
        return np.ascontiguousarray(np.repeat(img[..., None], 3, axis=2))
    return np.ascontiguousarray(cv2.cvtColor(img[..., :3], cv2.COLOR_BGR2RGB))


def _truncated(path: Path, decoded: int, declared: int) -> FrameReadError:
    return FrameReadError(path, f"truncated video: only {decoded} of {declared} frames could be decoded")


def count(path: Path) -> int:
    """The frame count the container declares (cheap); counted by decoding when it declares none."""
    with _capture(path) as cap:
        declared = _declared_count(cap)
        if declared:
            return declared
        n = 0
        while cap.grab():
            n += 1
            check_frame_count(path, n)
    if n == 0:
        raise FrameReadError(path, "video has no decodable frames")
    return n


def read(path: Path, index: int) -> Frame:
    with _capture(path) as cap:
        declared = _declared_count(cap)
        if declared and index >= declared:
            raise FrameReadError(path, f"frame index {index} out of range (video has {declared} frames)")
        if index > 0:
            cap.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, img = cap.read()
    if not ok or img is None:
        if declared and index < declared:
            raise FrameReadError(path, f"truncated video: frame {index} of {declared} could not be decoded")
        raise FrameReadError(path, f"frame {index} could not be decoded")
    return Frame(_to_rgb(img), path, index)


def iterate(path: Path) -> Iterator[Frame]:
    with _capture(path) as cap:
        declared = _declared_count(cap)
        index = 0
        while not declared or index < declared:
            check_frame_count(path, index + 1)
            ok, img = cap.read()
            if not ok or img is None:
                break
            yield Frame(_to_rgb(img), path, index)
            index += 1
    if declared and index < declared:
        raise _truncated(path, index, declared)
    if index == 0:
        raise FrameReadError(path, "video has no decodable frames")
