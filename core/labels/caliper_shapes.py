"""Shapes drawn through four caliper ends: where the axes cross and the superellipse ("kite") through the ends."""
from __future__ import annotations

import cv2
import numpy as np

from core.annotation.points import Calipers

KITE_EXPONENT = 1.8


def axes_crossing(calipers: Calipers) -> np.ndarray:
    """Where the long-axis line meets the short-axis line (falls back to the mean of the 4 points)."""
    a1, a2, b1, b2 = calipers.as_array()
    da, db = a2 - a1, b2 - b1
    det = da[0] * (-db[1]) - da[1] * (-db[0])
    if abs(det) < 1e-9:
        return calipers.as_array().mean(axis=0)
    t = ((b1 - a1)[0] * (-db[1]) - (b1 - a1)[1] * (-db[0])) / det
    return a1 + t * da


def kite_ellipse(shape: tuple[int, int], calipers: Calipers, exponent: float = KITE_EXPONENT,
                 n_per_quarter: int = 24) -> np.ndarray:
    """Smooth closed curve through the four caliper ends: four quarter-superellipses centred where the axes
    cross. exponent 2 is an ellipse (exact for an ellipse measured along its principal axes); nodules drawn
    by radiologists are a little leaner than that, and 1.8 fits DDTI's training split best."""
    a1, a2, b1, b2 = calipers.as_array()
    c = axes_crossing(calipers)
    t = np.linspace(0.0, np.pi / 2, n_per_quarter, endpoint=False)
    along, across = np.cos(t) ** (2.0 / exponent), np.sin(t) ** (2.0 / exponent)
    pts = []
    for p, q in ((a1, b1), (b1, a2), (a2, b2), (b2, a1)):
        pts.append(c + along[:, None] * (p - c) + across[:, None] * (q - c))
    poly = np.concatenate(pts)
    out = np.zeros(shape, np.uint8)
    cv2.fillPoly(out, [np.rint(poly * 16).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=4)
    return out.astype(bool)
