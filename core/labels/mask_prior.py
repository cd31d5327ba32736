"""A shape prior from a mask: the log-odds of a pixel being the object, by its signed distance to the mask's
boundary, so a mask carried over from a neighbouring frame guides a graph cut without dictating it."""
from __future__ import annotations

import numpy as np

from core.labels.morphology import distance_to_background

PRIOR_LIMIT = 6.0  # logit clip: far inside/outside is certain, but a strong image edge can still move the boundary


def mask_prior_logit(mask: np.ndarray, sharpness: float) -> np.ndarray:
    """Signed distance to the mask's boundary (positive inside) in units of `sharpness` x the object's
    thickness (twice its largest inscribed radius), clipped to +-PRIOR_LIMIT. mask: (H, W) bool."""
    m = np.asarray(mask, bool)
    inside = distance_to_background(m)
    thickness = 2.0 * float(inside.max()) if m.any() else 1.0
    signed = inside - distance_to_background(~m)
    scale = max(sharpness * thickness, 0.5)
    return np.clip(signed / scale, -PRIOR_LIMIT, PRIOR_LIMIT).astype(np.float32)


def deepest_point(mask: np.ndarray) -> np.ndarray | None:
    """(x, y) of the mask pixel farthest from its boundary; None for an empty mask."""
    m = np.asarray(mask, bool)
    if not m.any():
        return None
    y, x = np.unravel_index(int(np.argmax(distance_to_background(m))), m.shape)
    return np.array([float(x), float(y)])
