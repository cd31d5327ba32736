"""Placing the session's evidence on a crop of the frame: a box's inside and the evidence it gives (and the
calipers it stands for), a click's influence window, a clicked disc as a hard seed, and the clean-up that keeps
only the parts of a cut holding positive evidence."""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from core.annotation.clicks import Click
from core.annotation.points import Calipers
from core.labels.crop import Crop
from core.labels.morphology import fill_holes

SEED_RADIUS = 2  # clicked discs are hard constraints

BoxXYXY = tuple[int, int, int, int]  # x0, y0, x1, y1 inclusive, frame pixels
BOX_OUTSIDE_LOGIT = 4.0  # background evidence added just outside a box
BOX_SLACK = 0.1  # beyond this fraction of the box's longer side (at least BOX_SLACK_MIN_PX) outside is hard background
BOX_SLACK_MIN_PX = 3


def clip_box(corners: tuple[float, float, float, float], shape: tuple[int, int]) -> BoxXYXY:
    """A box dragged between two corners (any order) as (x0, y0, x1, y1) frame pixels, clipped to the frame;
    ValueError if under 2 px a side there."""
    h, w = shape
    x0, y0, x1, y1 = corners
    xs = sorted(int(round(np.clip(v, 0, w - 1))) for v in (x0, x1))
    ys = sorted(int(round(np.clip(v, 0, h - 1))) for v in (y0, y1))
    if xs[1] - xs[0] < 2 or ys[1] - ys[0] < 2:
        raise ValueError(f"box ({x0:.1f}, {y0:.1f}) - ({x1:.1f}, {y1:.1f}) is too small (< 2 px a side) in frame")
    return xs[0], ys[0], xs[1], ys[1]


def inside_box(box: BoxXYXY, crop: Crop) -> np.ndarray:
    """The crop's pixels inside `box` (which may reach beyond the crop)."""
    x0, y0, x1, y1 = box
    inside = np.zeros(crop.shape, bool)
    inside[max(y0 - crop.y0, 0):max(y1 + 1 - crop.y0, 0), max(x0 - crop.x0, 0):max(x1 + 1 - crop.x0, 0)] = True
    return inside


def add_window(logit: np.ndarray, crop: Crop, window: Crop, values: np.ndarray, weight: float) -> None:
    """logit += weight * values where `window` (the extent of `values`) overlaps the crop."""
    common = window.intersection(crop)
    if common is not None:
        logit[common.within(crop)] += weight * values[common.within(window)]


def stamp_disc(target: np.ndarray, crop: Crop, click: Click) -> None:
    """Mark the SEED_RADIUS disc round the click in `target` (a crop-sized bool array)."""
    cy, cx = click.y - crop.y0, click.x - crop.x0
    h, w = target.shape
    ys, xs = np.ogrid[max(cy - SEED_RADIUS, 0) : min(cy + SEED_RADIUS + 1, h),
                      max(cx - SEED_RADIUS, 0) : min(cx + SEED_RADIUS + 1, w)]
    target[ys, xs] |= (ys - cy) ** 2 + (xs - cx) ** 2 <= SEED_RADIUS**2


def keep_anchored(local: np.ndarray, crop: Crop, anchors: np.ndarray, negatives: np.ndarray) -> np.ndarray:
    """Keep the components of `local` holding an anchor (frame (x, y) points of positive evidence); fill the
    holes that no negative point (frame (x, y)) asked for."""
    if len(anchors):
        labelled, n = ndimage.label(local)
        if n > 1:
            pts = np.rint(anchors - crop.offset_xy).astype(int)
            h, w = local.shape
            pts = pts[(pts[:, 0] >= 0) & (pts[:, 0] < w) & (pts[:, 1] >= 0) & (pts[:, 1] < h)]
            keep = set(labelled[pts[:, 1], pts[:, 0]].tolist()) - {0}
            if keep:
                local = np.isin(labelled, list(keep))
    holes = fill_holes(local) & ~local
    if holes.any():
        hole_labels, _ = ndimage.label(holes)
        h, w = local.shape
        inside = [(int(x), int(y)) for x, y in np.rint(negatives - crop.offset_xy).astype(int)
                  if 0 <= y < h and 0 <= x < w]
        wanted = {int(hole_labels[y, x]) for x, y in inside}
        local = local | (holes & ~np.isin(hole_labels, list(wanted - {0})))
    return local


def box_calipers(box: BoxXYXY) -> Calipers:
    """The axis-aligned calipers a box stands for: its two mid-lines, the longer one as the long axis (their
    superellipse is the shape prior inscribed in the box)."""
    x0, y0, x1, y1 = (float(v) for v in box)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    horizontal, vertical = [(x0, cy), (x1, cy)], [(cx, y0), (cx, y1)]
    long_axis, short_axis = (horizontal, vertical) if x1 - x0 >= y1 - y0 else (vertical, horizontal)
    return Calipers.from_array(np.array([*long_axis, *short_axis]))


def add_box_evidence(logit: np.ndarray, hard_bg: np.ndarray, crop: Crop, box: BoxXYXY) -> None:
    """A hand-drawn box may clip the nodule: just outside it the background is strong evidence that positive
    clicks can overrule (taken off `logit`), farther out it is a hard constraint (added to `hard_bg`)."""
    x0, y0, x1, y1 = box
    slack = max(BOX_SLACK_MIN_PX, int(round(BOX_SLACK * max(x1 - x0, y1 - y0))))
    logit[~inside_box(box, crop)] -= BOX_OUTSIDE_LOGIT
    hard_bg |= ~inside_box((x0 - slack, y0 - slack, x1 + slack, y1 + slack), crop)
