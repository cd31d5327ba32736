"""Segmentation metrics on boolean masks: Dice, IoU, HD95, precision, recall."""
from __future__ import annotations

import numpy as np
from scipy import ndimage


def _pair(pred: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p, t = np.asarray(pred, bool), np.asarray(truth, bool)
    if p.shape != t.shape:
        raise ValueError(f"mask shapes differ: {p.shape} vs {t.shape}")
    return p, t


def dice(pred: np.ndarray, truth: np.ndarray) -> float:
    """2|P∩T| / (|P|+|T|); 1.0 when both are empty."""
    p, t = _pair(pred, truth)
    total = int(p.sum()) + int(t.sum())
    return 1.0 if total == 0 else 2.0 * int((p & t).sum()) / total


def iou(pred: np.ndarray, truth: np.ndarray) -> float:
    p, t = _pair(pred, truth)
    union = int((p | t).sum())
    return 1.0 if union == 0 else int((p & t).sum()) / union


def precision(pred: np.ndarray, truth: np.ndarray) -> float:
    p, t = _pair(pred, truth)
    n = int(p.sum())
    return 1.0 if n == 0 else int((p & t).sum()) / n


def recall(pred: np.ndarray, truth: np.ndarray) -> float:
    p, t = _pair(pred, truth)
    n = int(t.sum())
    return 1.0 if n == 0 else int((p & t).sum()) / n


def boundary(mask: np.ndarray) -> np.ndarray:
    """Pixels of the mask with a 4-neighbour outside it (image border counts as outside)."""
    m = np.asarray(mask, bool)
    return m & ~ndimage.binary_erosion(m, border_value=0)


def hd95(pred: np.ndarray, truth: np.ndarray, spacing: tuple[float, float] = (1.0, 1.0)) -> float:
    """Symmetric 95th-percentile Hausdorff distance between the two boundaries, in units of `spacing`
    (row, col). 0 when both are empty; inf when exactly one is empty."""
    p, t = _pair(pred, truth)
    if not p.any() and not t.any():
        return 0.0
    if not p.any() or not t.any():
        return float("inf")
    bp, bt = boundary(p), boundary(t)
    to_t = ndimage.distance_transform_edt(~bt, sampling=spacing)
    to_p = ndimage.distance_transform_edt(~bp, sampling=spacing)
    distances = np.concatenate([to_t[bp], to_p[bt]])
    return float(np.percentile(distances, 95))
