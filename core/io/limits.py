"""The bounds every input is held to, and the checks that apply them before anything large is allocated.

The pixel bound is set from memory: one frame is decoded (up to 3 x 16-bit channels), converted to gray and
float32 for the algorithms and cached by the app, roughly 20 bytes per pixel in all, so 80 MP stays under 2 GB.
The largest ultrasound frames are under 2 MP and the largest whole-slide-like stills users drop in are ~50 MP.
Checkpoint bounds live in models.checkpoint_schema (models never import core).
"""
from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import AnnotationFormatError, FrameReadError

MAX_PIXELS_PER_FRAME = 80_000_000
MAX_FRAME_SIDE = 65_535  # beyond 16 bits neither OpenCV nor Qt can hold one side
MAX_FRAMES_PER_FILE = 100_000  # a 55-minute cine loop at 30 frames per second
MAX_IMAGE_FILE_BYTES = 1_000_000_000  # an uncompressed 16-bit RGB TIFF at the pixel bound is ~480 MB
MAX_JSON_BYTES = 16_000_000  # a labelme file with 1,000 nodules is ~0.5 MB
MAX_JSON_DEPTH = 32  # labelme nests 4 levels; anything far deeper is not a point file
MAX_JSON_SHAPES = 4 * 1_000  # shapes per point file
MAX_NODULES_PER_FRAME = 1_000  # 4 calipers each; real frames have a handful

_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')  # a JSON string literal, escapes included


def check_regular_file(path: Path, error: type[FrameReadError] | type[AnnotationFormatError] = FrameReadError) -> int:
    """The size of `path` in bytes; `error` unless it is a regular file (a FIFO, socket or device would block a
    reader forever or never end). Symbolic links are followed: a link to a regular file is fine."""
    try:
        info = os.stat(path)
    except FileNotFoundError as exc:
        raise error(path, "cannot read file (file not found)") from exc
    except OSError as exc:
        raise error(path, f"cannot read file ({exc.strerror or exc})") from exc
    if stat.S_ISDIR(info.st_mode):
        raise error(path, "is a folder, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise error(path, "is not a regular file (a pipe, socket or device cannot be read as a frame)")
    return info.st_size


def check_frame_size(path: Path, width: int, height: int) -> None:
    """FrameReadError when a declared width x height is impossible or exceeds the pixel bound."""
    if width <= 0 or height <= 0:
        raise FrameReadError(path, f"invalid image size {width}x{height}")
    if width > MAX_FRAME_SIDE or height > MAX_FRAME_SIDE or width * height > MAX_PIXELS_PER_FRAME:
        raise FrameReadError(
            path, f"image of {width}x{height} pixels is larger than SonoClick accepts "
                  f"({MAX_PIXELS_PER_FRAME // 1_000_000} megapixels, {MAX_FRAME_SIDE} per side)"
        )


def check_frame_count(path: Path, count: int) -> None:
    if count > MAX_FRAMES_PER_FILE:
        raise FrameReadError(path, f"{count} frames is more than SonoClick accepts ({MAX_FRAMES_PER_FILE} per file)")


def read_regular_file(path: Path, max_bytes: int, too_large: str,
                      error: type[FrameReadError] | type[AnnotationFormatError] = FrameReadError) -> bytes:
    """The bytes of a regular file of at most `max_bytes` (checked before reading); `error` otherwise, its reason
    "<kind of file> of N bytes is larger than <too_large> (M bytes)" for one too large."""
    size = check_regular_file(path, error)
    if size > max_bytes:
        raise error(path, f"file of {size:,} bytes is larger than {too_large} ({max_bytes:,} bytes)")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise error(path, f"cannot read file ({exc.strerror or exc})") from exc


def load_json_bounded(path: Path, max_bytes: int = MAX_JSON_BYTES, kind: str = "a point file can be") -> Any:
    """Parse a JSON file within the size and nesting bounds; AnnotationFormatError names the file and the reason
    (never RecursionError or MemoryError)."""
    data = read_regular_file(path, max_bytes, kind, AnnotationFormatError)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AnnotationFormatError(path, "not a text file (invalid UTF-8)") from exc
    depth = json_nesting_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise AnnotationFormatError(path, f"JSON nested {depth} levels deep (at most {MAX_JSON_DEPTH})")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise AnnotationFormatError(path, f"malformed JSON ({exc.msg} at {where})") from exc


def json_nesting_depth(text: str) -> int:
    """The deepest bracket nesting of a JSON text, counted without parsing (brackets inside strings skipped), so
    that a hostile depth is refused before the recursive parser sees it."""
    brackets = np.frombuffer(_JSON_STRING.sub("", text).encode("utf-8"), np.uint8)
    steps = (brackets == ord("[")).astype(np.int32) + (brackets == ord("{")) - (brackets == ord("]")) - (
        brackets == ord("}"))
    return int(np.cumsum(steps).max(initial=0))
