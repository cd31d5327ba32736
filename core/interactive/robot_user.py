"""RITM's click simulator (algorithms.md D): the next click goes to the point farthest from the boundary of
the larger error region, image borders counted as boundary."""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from core.annotation.clicks import Click


def _distance_inside(region: np.ndarray) -> np.ndarray:
    """Euclidean distance to the nearest pixel outside the region, with a 1-px zero frame round the image."""
    padded = np.pad(region, 1, constant_values=False)
    return ndimage.distance_transform_edt(padded)[1:-1, 1:-1]


def next_click(truth: np.ndarray, prediction: np.ndarray, clicked: np.ndarray | None = None) -> Click | None:
    """The click a RITM robot user makes next, or None when the prediction is already perfect.
    clicked: bool map of pixels already clicked, which are never chosen again."""
    truth, prediction = np.asarray(truth, bool), np.asarray(prediction, bool)
    fn_dt = _distance_inside(truth & ~prediction)
    fp_dt = _distance_inside(~truth & prediction)
    if clicked is not None:
        fn_dt[clicked] = 0
        fp_dt[clicked] = 0
    fn_max, fp_max = float(fn_dt.max()), float(fp_dt.max())
    if fn_max == 0 and fp_max == 0:
        return None
    positive = fn_max > fp_max
    y, x = np.unravel_index(int(np.argmax(fn_dt if positive else fp_dt)), truth.shape)
    return Click(int(x), int(y), bool(positive))
