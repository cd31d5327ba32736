"""The long and short axes of a mask, as a sonographer's calipers would measure it.

The mask's boundary is its sub-pixel contour (marching squares at level 0.5: midway between an inside and an
outside pixel centre, so a filled disc of radius r measures 2r, not 2r - 1 between its outermost pixel centres).
Long axis: the farthest pair of contour points (on their convex hull). Short axis: the longest chord of the mask
perpendicular to the long axis (the mask's outer extent across it, holes and gaps between parts included); the
width across the axis is piecewise linear and convex between the contour's vertices, so the longest chord is at
one of them and is found exactly. Pixel steps make that width noisy by about half a pixel, so of the chords within
half a pixel (of the grid, mm when a spacing is given) of the longest, the one nearest the middle of their stretch
is taken: on a smooth nodule the short axis then crosses the long one near its centre, not at a pixel-step bump.

With a pixel spacing (row_mm, col_mm) the axes are found in millimetres: on an anisotropic grid the longest
diameter and the perpendicular are physical notions, and the pixel-longest axis may not be the millimetre-longest.
The result is always four points in pixels (x = column, y = row); their lengths in mm are
core.annotation.measurements.length_mm of the same points.
"""
from __future__ import annotations

import cv2
import numpy as np
from skimage import measure as skmeasure

from core.annotation.points import Calipers

_WIDTH_TOLERANCE = 0.5  # chords this much shorter than the longest still count as longest (units of the grid)


def mask_axes(mask: np.ndarray, spacing_mm: tuple[float, float] | None = None) -> Calipers:
    """The axes of a mask ((H, W), nonzero = inside; all its parts together) as four points [A1, A2, B1, B2]
    in pixels: A1-A2 the largest diameter, B1-B2 the longest chord perpendicular to it (perpendicular in
    millimetres when `spacing_mm` = (row_mm, col_mm) is given). ValueError for an empty mask."""
    m = (np.asarray(mask) != 0).view(np.uint8) if np.asarray(mask).ndim == 2 else np.asarray(mask)
    if m.ndim != 2 or not m.any():
        raise ValueError("empty mask: nothing to measure")
    x, y, w, h = cv2.boundingRect(m)  # a few times faster than np.nonzero on a whole frame (exports measure many)
    top, left = y - 1, x - 1
    crop = np.pad(m[y : y + h, x : x + w], 1)
    polygons = [c[:, ::-1] + (left, top) for c in skmeasure.find_contours(crop, 0.5)]  # (x, y), closed
    scale = np.ones(2) if spacing_mm is None else np.array([spacing_mm[1], spacing_mm[0]], float)
    if not np.all(scale > 0):
        raise ValueError(f"pixel spacing must be positive, got {spacing_mm}")
    scaled = [p * scale for p in polygons]
    a1, a2 = _farthest_pair(np.concatenate(scaled))
    b1, b2 = _longest_perpendicular_chord(scaled, a1, a2)
    return Calipers.from_array(np.array([a1, a2, b1, b2]) / scale)


def _farthest_pair(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    hull = cv2.convexHull(points.astype(np.float32)).reshape(-1, 2).astype(float)
    d = np.linalg.norm(hull[:, None, :] - hull[None, :, :], axis=2)
    i, j = np.unravel_index(int(np.argmax(d)), d.shape)
    first, second = sorted([hull[i], hull[j]], key=lambda p: (p[0], p[1]))  # a stable order: leftmost first
    return first, second


def _longest_perpendicular_chord(
    polygons: list[np.ndarray], a1: np.ndarray, a2: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    axis = a2 - a1
    length = float(np.linalg.norm(axis))
    unit = axis / length if length > 0 else np.array([1.0, 0.0])
    normal = np.array([-unit[1], unit[0]])
    starts = np.concatenate(polygons)
    ends = np.concatenate([np.roll(p, -1, axis=0) for p in polygons])
    u0, u1 = (starts - a1) @ unit, (ends - a1) @ unit
    v0, v1 = (starts - a1) @ normal, (ends - a1) @ normal
    positions = np.unique(u0)  # the vertices' positions along the axis: the longest chord is at one of them
    # every (edge, position) pair where the edge spans the position: few per edge, so this stays linear
    first = np.searchsorted(positions, np.minimum(u0, u1), side="left")
    count = np.searchsorted(positions, np.maximum(u0, u1), side="right") - first
    edge = np.repeat(np.arange(len(u0)), count)
    at = first[edge] + np.arange(len(edge)) - np.repeat(np.cumsum(count) - count, count)
    t = positions[at]
    slanted = u1[edge] != u0[edge]
    v_cross = v0[edge] + (t - u0[edge]) * (v1[edge] - v0[edge]) / np.where(slanted, u1[edge] - u0[edge], 1.0)
    v_high = np.where(slanted, v_cross, np.maximum(v0[edge], v1[edge]))  # an edge along the chord: both ends
    v_low = np.where(slanted, v_cross, np.minimum(v0[edge], v1[edge]))
    vmax = np.full(len(positions), -np.inf)
    vmin = np.full(len(positions), np.inf)
    np.maximum.at(vmax, at, v_high)
    np.minimum.at(vmin, at, v_low)
    width = vmax - vmin
    # pixel steps make the width near its maximum noisy by about half a pixel, and a smooth nodule is about as
    # wide over a stretch of its axis: of the chords that long, take the one nearest their middle
    near = np.flatnonzero(width >= width.max() - _WIDTH_TOLERANCE)
    k = int(near[np.argmin(np.abs(positions[near] - positions[near].mean()))])
    foot = a1 + positions[k] * unit
    return foot + vmin[k] * normal, foot + vmax[k] * normal
