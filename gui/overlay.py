"""Mask overlays as RGBA images: a translucent fill with an opaque outline, so the boundary stays readable at any
opacity; the confident/uncertain view of the HCL-HRL labels."""
from __future__ import annotations

import cv2
import numpy as np

from core.labels import FrameLabels
from gui import style

_KERNEL = np.ones((3, 3), np.uint8)


def outline(mask: np.ndarray, width: int = 2) -> np.ndarray:
    """The inner boundary band of a mask, `width` pixels thick."""
    m = mask.astype(np.uint8)
    return mask & ~cv2.erode(m, _KERNEL, iterations=width).astype(bool)


def mask_overlay(shape: tuple[int, int], layers: list[tuple[np.ndarray, tuple[int, int, int]]],
                 opacity: float) -> np.ndarray:
    """(H, W, 4) uint8: each (mask, rgb) layer filled at `opacity` and outlined opaque; later layers on top."""
    out = np.zeros((*shape, 4), np.uint8)
    fill_alpha = int(round(255 * float(np.clip(opacity, 0.0, 1.0))))
    for mask, rgb in layers:
        if mask is None or not mask.any():
            continue
        out[mask] = (*rgb, fill_alpha)
        out[outline(mask)] = (*rgb, 255)
    return out


def confidence_overlay(labels: FrameLabels, opacity: float) -> np.ndarray:
    """Confident nodule in green, the uncertain band in amber; confident background left clear."""
    shape = labels.mask.shape
    out = np.zeros((*shape, 4), np.uint8)
    alpha = int(round(255 * float(np.clip(opacity + 0.15, 0.0, 1.0))))
    out[labels.uncertain] = (*style.UNCERTAIN, alpha)
    out[labels.foreground] = (*style.CONFIDENT_NODULE, alpha)
    out[outline(labels.foreground, 1)] = (*style.CONFIDENT_NODULE, 255)
    return out
