"""A shape prior from a mask: the log-odds of a pixel being the object, by its signed distance to the mask's
boundary, so a mask carried over from a neighbouring frame guides a graph cut without dictating it."""
from __future__ import annotations

import cv2
import numpy as np

PRIOR_LIMIT = 6.0  # logit clip: far inside/outside is certain, but a strong image edge can still move the boundary


def mask_prior_logit(mask: np.ndarray, sharpness: float) -> tuple[np.ndarray, np.ndarray | None]:
    """(logit, deepest point): the signed distance to the mask's boundary (positive inside) in units of
    `sharpness` x the object's thickness (twice its largest inscribed radius), clipped to +-PRIOR_LIMIT; and the
    (x, y) of the mask pixel farthest from its boundary (None for an empty mask). mask: (H, W) bool."""
    m = np.asarray(mask, bool)
    inside = _distance_to_background(m)
    deepest = None
    thickness = 1.0
    if m.any():
        y, x = np.unravel_index(int(np.argmax(inside)), m.shape)
        deepest = np.array([float(x), float(y)])
        thickness = 2.0 * float(inside[y, x])
    signed = inside - _distance_to_background(~m)
    scale = max(sharpness * thickness, 0.5)
    return np.clip(signed / scale, -PRIOR_LIMIT, PRIOR_LIMIT).astype(np.float32), deepest


def _distance_to_background(mask: np.ndarray) -> np.ndarray:
    # the 5x5 chamfer is within 2 % of the exact distance and several times faster on a whole-object region
    return cv2.distanceTransform(np.ascontiguousarray(mask, dtype=np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5)
