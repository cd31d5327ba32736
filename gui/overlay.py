"""Mask overlays: a translucent RGBA fill, and the mask's contour as a polyline (drawn with a thin pen whose width
is in screen pixels, so the nodule's own edge stays visible at any zoom); the confident/uncertain view of the
HCL-HRL labels. A mask is drawn in its class's colour, its contour solid once accepted and dashed while a draft
(shape, not hue, tells the state); the model's prediction, which no one has given a class yet, in magenta."""
from __future__ import annotations

from collections.abc import Iterable, Mapping

import cv2
import numpy as np

from core.labels.high_confidence import FrameLabels
from gui import style

_KERNEL = np.ones((3, 3), np.uint8)
RGB = tuple[int, int, int]


def hex_rgb(colour: str) -> RGB:
    """'#rrggbb' -> (r, g, b)."""
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def class_colours(classes: Iterable[object]) -> dict[int, RGB]:
    """Class id -> RGB of LabelClass-like objects (with `id` and `colour`)."""
    return {c.id: hex_rgb(c.colour) for c in classes}  # type: ignore[attr-defined]


def mask_look(mask_kind: str, class_id: int, colours: Mapping[int, RGB]) -> tuple[RGB, bool]:
    """The colour of a mask and whether its contour is dashed: the class colour (dashed while a draft), or the
    prediction's magenta."""
    if mask_kind == "predicted":
        return style.MASK_PREDICTED, False
    return colours.get(class_id, style.MASK_ACCEPTED), mask_kind == "draft"


def outline(mask: np.ndarray, width: int = 2) -> np.ndarray:
    """The inner boundary band of a mask, `width` pixels thick."""
    m = mask.astype(np.uint8)
    return mask & ~cv2.erode(m, _KERNEL, iterations=width).astype(bool)


def mask_overlay(shape: tuple[int, int], layers: list[tuple[np.ndarray, tuple[int, int, int]]],
                 opacity: float) -> np.ndarray:
    """(H, W, 4) uint8: each (mask, rgb) layer filled at `opacity`; later layers on top."""
    out = np.zeros((*shape, 4), np.uint8)
    fill_alpha = int(round(255 * float(np.clip(opacity, 0.0, 1.0))))
    for mask, rgb in layers:
        if mask is not None and mask.any():
            out[mask] = (*rgb, fill_alpha)
    return out


def contour_polyline(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x, y of every outer and hole contour of the mask (pixel centres), closed, separated by NaN."""
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    parts = []
    for contour in contours:
        pts = contour.reshape(-1, 2).astype(float)
        parts.append(np.vstack([pts, pts[:1], [[np.nan, np.nan]]]))
    if not parts:
        return np.zeros(0), np.zeros(0)
    joined = np.concatenate(parts)
    return joined[:, 0], joined[:, 1]


def confidence_overlay(labels: FrameLabels, opacity: float) -> np.ndarray:
    """Confident nodule in green, the uncertain band in amber; confident background left clear."""
    shape = labels.mask.shape
    out = np.zeros((*shape, 4), np.uint8)
    alpha = int(round(255 * float(np.clip(opacity + 0.15, 0.0, 1.0))))
    out[labels.uncertain] = (*style.UNCERTAIN, alpha)
    out[labels.foreground] = (*style.CONFIDENT_NODULE, alpha)
    out[outline(labels.foreground, 1)] = (*style.CONFIDENT_NODULE, 255)
    return out
