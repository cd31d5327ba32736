"""Mask files: PNG with 0 = background and 255 = nodule. Reading accepts any image the frame readers accept
and treats every nonzero pixel (in any channel) as nodule."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from core.errors import AnnotationFormatError, FrameReadError
from core.io.atomic_write import write_bytes_atomic
from core.io.readers import read_frame


def read_mask(path: str | Path, shape: tuple[int, int] | None = None) -> np.ndarray:
    """(H, W) bool mask. `shape` = (height, width) of the frame it belongs to; a different size raises
    AnnotationFormatError, as does an unreadable file."""
    p = Path(path)
    try:
        pixels = read_frame(p).pixels
    except FrameReadError as exc:
        raise AnnotationFormatError(p, f"unreadable mask ({exc.reason})") from exc
    mask = pixels.any(axis=2) if pixels.ndim == 3 else pixels > 0
    if shape is not None and mask.shape != tuple(shape):
        raise AnnotationFormatError(
            p, f"mask is {mask.shape[1]}x{mask.shape[0]} but the frame is {shape[1]}x{shape[0]}"
        )
    return mask


def write_mask(path: str | Path, mask: np.ndarray) -> None:
    """Write a 2-D mask (nonzero = nodule) as an 8-bit 0/255 PNG, atomically."""
    m = np.asarray(mask)
    if m.ndim != 2:
        raise ValueError(f"mask must be 2-D, got shape {m.shape}")
    ok, buf = cv2.imencode(".png", np.where(m != 0, 255, 0).astype(np.uint8))
    if not ok:
        raise ValueError("PNG encoding failed")
    write_bytes_atomic(path, buf.tobytes())


def write_mask_for_frame(path: str | Path, mask: np.ndarray, frame_shape: tuple[int, int]) -> None:
    """write_mask, refusing (AnnotationFormatError, nothing written) a mask whose size differs from its frame's
    `frame_shape` = (height, width): an exported mask must always overlay the frame it names."""
    m = np.asarray(mask)
    if m.shape != tuple(frame_shape):
        raise AnnotationFormatError(
            path, f"mask is {m.shape[1] if m.ndim > 1 else '?'}x{m.shape[0] if m.ndim else '?'} but its frame is "
                  f"{frame_shape[1]}x{frame_shape[0]}: not written"
        )
    write_mask(path, m)
