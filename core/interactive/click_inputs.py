"""Inputs of the click-conditioned network, shared by its trainer and the interactive engine: the zoom-in
window round the object, and the four input planes (image, positive clicks, negative clicks, previous mask)
of that window resized to the network's square working resolution."""
from __future__ import annotations

import cv2
import numpy as np

from core.labels.crop import Crop
from models.preprocess import Normalisation

CLICK_CHANNELS = ("image", "pos_clicks", "neg_clicks", "prev_mask")
CLICK_RADIUS = 4  # disc radius of a click, in working-resolution pixels
ZOOM_MARGIN = 0.4  # the window grows the object's box by this fraction of its longer side on every side
MIN_WINDOW = 48  # px: the smallest window side in frame pixels
FIRST_CLICK_WINDOW = 0.6  # with no mask yet, a lone click opens a window of this fraction of the frame


def zoom_window(shape: tuple[int, int], mask: np.ndarray | None, points_xy: np.ndarray) -> Crop:
    """RITM's zoom-in: the box of the current mask and every click, grown by ZOOM_MARGIN; with no mask, a
    window centred on the clicks sized as a fair share of the frame."""
    pts = np.asarray(points_xy, float).reshape(-1, 2)
    h, w = shape
    box = None if mask is None else cv2.boundingRect(np.ascontiguousarray(mask > 0).view(np.uint8))  # x, y, w, h
    if box is not None and box[2] > 0:
        x, y, bw, bh = box
        pts = np.concatenate([pts, [[x, y], [x + bw - 1, y + bh - 1]]])
        span = float((pts.max(0) - pts.min(0)).max())
        margin = max(ZOOM_MARGIN * span, (MIN_WINDOW - span) / 2)
    else:
        span = float((pts.max(0) - pts.min(0)).max()) if len(pts) else 0.0
        margin = max(FIRST_CLICK_WINDOW * min(h, w) / 2, ZOOM_MARGIN * span)
    return Crop.around(pts, shape, margin_frac=0.0, min_margin=int(np.ceil(margin)))


def click_planes(size: int, clicks_xy: list[tuple[float, float]], radius: int = CLICK_RADIUS) -> np.ndarray:
    """(size, size) float32 map with a disc of 1 at each working-resolution click."""
    plane = np.zeros((size, size), np.uint8)
    for x, y in clicks_xy:
        cv2.circle(plane, (int(round(x)), int(round(y))), radius, 1, -1)
    return plane.astype(np.float32)


def to_window(points_xy: np.ndarray, window: Crop, size: int) -> np.ndarray:
    """Frame (x, y) -> working-resolution (x, y) inside the window."""
    pts = np.asarray(points_xy, float).reshape(-1, 2)
    h, w = window.shape
    return (pts - window.offset_xy) * [size / w, size / h]


def network_input(image_u8: np.ndarray, window: Crop, size: int, norm: Normalisation,
                  positives: np.ndarray, negatives: np.ndarray, prev_mask: np.ndarray | None) -> np.ndarray:
    """(4, size, size) float32 planes for a frame window; clicks are frame (x, y) arrays."""
    image = cv2.resize(window.take(image_u8), (size, size), interpolation=cv2.INTER_AREA)
    prev = np.zeros((size, size), np.float32)
    if prev_mask is not None:
        prev = cv2.resize(window.take(prev_mask).astype(np.float32), (size, size), interpolation=cv2.INTER_LINEAR)
    return np.stack([
        norm.apply(image),
        click_planes(size, [tuple(p) for p in to_window(positives, window, size)]),
        click_planes(size, [tuple(p) for p in to_window(negatives, window, size)]),
        prev,
    ]).astype(np.float32)


def from_window(prob_work: np.ndarray, window: Crop) -> np.ndarray:
    """Working-resolution probability -> window-sized probability (bilinear)."""
    h, w = window.shape
    return cv2.resize(prob_work.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
