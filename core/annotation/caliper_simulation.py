"""Simulated calipers from a mask, as a sonographer would place them: long axis, then perpendicular short axis."""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from core.annotation.mask_axes import mask_axes
from core.annotation.points import Calipers


def calipers_from_mask(mask: np.ndarray) -> Calipers:
    """Exact calipers of one object: its axes as core.annotation.mask_axes finds them (long axis = largest
    diameter of its contour, short axis = the longest chord perpendicular to it), kept on the frame's pixels (the
    contour of a mask that touches the border runs half a pixel outside it, where a caliper cannot be stored)."""
    m = np.asarray(mask, bool)
    if m.sum() < 3:
        raise ValueError("mask too small to place calipers")
    height, width = m.shape
    return Calipers.from_array(np.clip(mask_axes(m).as_array(), 0, [width - 1, height - 1]))


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
