"""Still images (PNG, JPEG, BMP) and TIFF (8/16 bit, gray or RGB, multi-page) through OpenCV's decoders.

The file is read as bytes and decoded from memory, so non-ASCII paths work on every platform.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from core.errors import FrameReadError
from core.io.frame import Frame

TIFF_MAGICS = (b"II*\x00", b"MM\x00*")


def _read_bytes(path: Path) -> np.ndarray:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FrameReadError(path, f"cannot read file ({exc.strerror or exc})") from exc
    if not data:
        raise FrameReadError(path, "empty file")
    return np.frombuffer(data, np.uint8)


def _is_tiff(buf: np.ndarray) -> bool:
    return bytes(buf[:4]) in TIFF_MAGICS


def normalise_pixels(path: Path, img: np.ndarray, bgr: bool = True) -> np.ndarray:
    """OpenCV's decoded array -> (H, W) or (H, W, 3) RGB, uint8 or uint16; alpha is dropped."""
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    elif img.ndim == 3:
        if img.shape[2] not in (3, 4):
            raise FrameReadError(path, f"unsupported number of channels ({img.shape[2]})")
        img = img[..., :3]
        if bgr:
            img = img[..., ::-1]
    elif img.ndim != 2:
        raise FrameReadError(path, f"unsupported image shape {img.shape}")
    if img.dtype not in (np.uint8, np.uint16):
        raise FrameReadError(path, f"unsupported pixel type {img.dtype} (only 8- and 16-bit unsigned images)")
    return np.ascontiguousarray(img)


def _decode_pages(path: Path) -> list[np.ndarray]:
    buf = _read_bytes(path)
    kind = "TIFF" if _is_tiff(buf) else (path.suffix.lstrip(".").upper() or "image")
    try:
        if _is_tiff(buf):
            ok, pages = cv2.imdecodemulti(buf, cv2.IMREAD_UNCHANGED)
            pages = list(pages) if ok else []
        else:
            img = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
            pages = [] if img is None else [img]
    except cv2.error as exc:
        detail = str(exc).strip().splitlines()[-1]
        raise FrameReadError(path, f"corrupt or unsupported {kind} image ({detail})") from exc
    if not pages:
        raise FrameReadError(path, f"corrupt or truncated {kind} image")
    return [normalise_pixels(path, p) for p in pages]


def count(path: Path) -> int:
    return len(_decode_pages(path))


def read(path: Path, index: int) -> Frame:
    pages = _decode_pages(path)
    if not 0 <= index < len(pages):
        raise FrameReadError(path, f"frame index {index} out of range (file has {len(pages)} frame(s))")
    return Frame(pages[index], path, index)


def iterate(path: Path) -> Iterator[Frame]:
    for i, pixels in enumerate(_decode_pages(path)):
        yield Frame(pixels, path, i)
