"""Still images (PNG, JPEG, BMP) and TIFF (8/16 bit, gray or RGB, multi-page) through OpenCV's decoders.

The file is read as bytes and decoded from memory, so non-ASCII paths work on every platform.
"""
from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from core.errors import FrameReadError
from core.io.frame import Frame
from core.io.limits import MAX_FRAMES_PER_FILE, MAX_IMAGE_FILE_BYTES, check_frame_size, read_regular_file

TIFF_MAGICS = (b"II*\x00", b"MM\x00*")


def _read_bytes(path: Path) -> bytes:
    data = read_regular_file(path, MAX_IMAGE_FILE_BYTES, "SonoClick accepts for an image")
    if not data:
        raise FrameReadError(path, "empty file")
    return data


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


def check_declared_size(path: Path, data: bytes) -> None:
    """Refuse an image whose header declares too many pixels or pages, reading the header only (Pillow decodes
    nothing until asked). A header Pillow cannot parse is left to OpenCV, whose own pixel limit still applies."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                pages = getattr(img, "n_frames", 1)
                if pages > MAX_FRAMES_PER_FILE:
                    raise FrameReadError(path, f"image has {pages} pages (at most {MAX_FRAMES_PER_FILE})")
                for page in range(pages):
                    img.seek(page)
                    check_frame_size(path, *img.size)
    except Image.DecompressionBombError as exc:
        raise FrameReadError(path, f"image is larger than SonoClick accepts ({exc})") from exc
    except FrameReadError:
        raise
    except Exception:  # noqa: BLE001 - only a pre-check: OpenCV decides whether the file is readable
        return


def _decode_pages(path: Path) -> list[np.ndarray]:
    data = _read_bytes(path)
    check_declared_size(path, data)
    buf = np.frombuffer(data, np.uint8)
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
    for page in pages:  # a header Pillow could not read was not checked before decoding
        check_frame_size(path, page.shape[1], page.shape[0])
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
