"""Simulated calipers from a mask, as a sonographer would place them: long axis, then perpendicular short axis."""
from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage

from core.annotation.points import Calipers


def _farthest_pair(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    hull = cv2.convexHull(points.astype(np.float32)).reshape(-1, 2)
    d = np.linalg.norm(hull[:, None, :] - hull[None, :, :], axis=2)
    i, j = np.unravel_index(int(np.argmax(d)), d.shape)
    return hull[i].astype(float), hull[j].astype(float)


def calipers_from_mask(mask: np.ndarray) -> Calipers:
    """Exact calipers of one object: long axis = farthest pair of boundary points; short axis = the longest
    chord perpendicular to it (mask extent along the perpendicular, per 1-px step along the long axis).

    Ends on pixel centres, as a sonographer clicks them: this is the benchmarks' protocol (the caliper shape
    prior's exponent was fitted on it, and every published labels/NoC figure uses it). Measuring a mask for a
    report is core.annotation.mask_axes (sub-pixel contour), which reads up to a pixel longer."""
    m = np.asarray(mask, bool)
    if m.sum() < 3:
        raise ValueError("mask too small to place calipers")
    contours, _ = cv2.findContours(m.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    boundary = np.concatenate([c.reshape(-1, 2) for c in contours]).astype(float)
    a1, a2 = _farthest_pair(boundary)
    axis = a2 - a1
    length = float(np.linalg.norm(axis))
    if length == 0:
        raise ValueError("mask has no extent")
    unit = axis / length
    normal = np.array([-unit[1], unit[0]])
    ys, xs = np.nonzero(m)
    rel = np.stack([xs, ys], axis=1).astype(float) - a1
    u = np.rint(rel @ unit).astype(int)
    v = rel @ normal
    u0 = u - u.min()
    vmin = np.full(u0.max() + 1, np.inf)
    vmax = np.full(u0.max() + 1, -np.inf)
    np.minimum.at(vmin, u0, v)
    np.maximum.at(vmax, u0, v)
    best = int(np.argmax(vmax - vmin))
    ub = float(best + u.min())
    b1 = a1 + ub * unit + vmin[best] * normal
    b2 = a1 + ub * unit + vmax[best] * normal
    height, width = m.shape  # the short axis' ends can round a fraction of a pixel past a border the mask touches
    return Calipers.from_array(np.clip(np.array([a1, a2, b1, b2]), 0, [width - 1, height - 1]))


def calipers_from_label_map(mask: np.ndarray, min_area: int = 20) -> list[Calipers]:
    """One set of calipers per connected object (a label map keeps its ids; a binary mask is split into
    connected components), largest object first."""
    m = np.asarray(mask)
    if m.dtype == bool or m.max() <= 1 or len(np.unique(m)) == 2:
        labelled, n = ndimage.label(m > 0)
    else:
        labelled, n = m.astype(np.int32), int(m.max())
    objects = [(labelled == k) for k in range(1, n + 1)]
    objects = [o for o in objects if o.sum() >= min_area]
    objects.sort(key=lambda o: -int(o.sum()))
    return [calipers_from_mask(o) for o in objects]


def jitter_calipers(calipers: Calipers, sigma_px: float, rng: np.random.Generator) -> Calipers:
    """Gaussian jitter of every end point, as a hurried hand would place them."""
    if sigma_px <= 0:
        return calipers
    return Calipers.from_array(calipers.as_array() + rng.normal(0.0, sigma_px, size=(4, 2)))
