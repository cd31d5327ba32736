"""Masks and probability maps <-> compact PNG bytes, as the project store keeps them."""
from __future__ import annotations

import cv2
import numpy as np


def _encode_png(img: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", img, [cv2.IMWRITE_PNG_COMPRESSION, 6])
    if not ok:
        raise ValueError("PNG encoding failed")
    return buf.tobytes()


def _decode_png(data: bytes) -> np.ndarray:
    try:
        img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    except (cv2.error, TypeError) as exc:  # an empty or non-bytes value in a damaged row
        raise ValueError("stored PNG is damaged") from exc
    if img is None:
        raise ValueError("stored PNG is damaged")
    return img


def encode_mask(mask: np.ndarray) -> bytes:
    """(H, W) bool (or anything where nonzero = nodule) -> 8-bit PNG with 0 / 255."""
    m = np.asarray(mask)
    if m.ndim != 2:
        raise ValueError(f"mask must be 2-D, got shape {m.shape}")
    return _encode_png(np.where(m != 0, 255, 0).astype(np.uint8))


def decode_mask(data: bytes) -> np.ndarray:
    return _decode_png(data) > 0


def encode_probability(probability: np.ndarray) -> bytes:
    """(H, W) probability in [0, 1] (float) or already quantised uint8 (0..255) -> 8-bit PNG."""
    p = np.asarray(probability)
    if p.ndim != 2:
        raise ValueError(f"probability map must be 2-D, got shape {p.shape}")
    if p.dtype != np.uint8:
        p = np.clip(np.rint(np.nan_to_num(p.astype(np.float32)) * 255.0), 0, 255).astype(np.uint8)
    return _encode_png(p)


def decode_probability(data: bytes) -> np.ndarray:
    """PNG bytes -> float32 probability in [0, 1] (quantised to 1/255)."""
    return _decode_png(data).astype(np.float32) / 255.0
