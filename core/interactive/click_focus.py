"""What a click refines when the shown mask has several parts (a frame model's nodule plus stray blobs): the
object is the parts holding positive evidence, a negative click in a stray part removes that part whole, the
click network's zoom window covers the object and the clicks near it (not every part and every click), and the
clicked discs are hard constraints on its answer."""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from core.annotation.clicks import Click
from core.annotation.points import Calipers
from core.interactive.click_inputs import zoom_window
from core.interactive.crop_seeds import stamp_disc
from core.labels.crop import Crop

NEAR_PART = 0.5  # a positive click this far (x the part's longer side) outside a part's box still refines it


def click_points(clicks: tuple[Click, ...], positive: bool) -> np.ndarray:
    """(n, 2) frame (x, y) of the positive (or negative) clicks."""
    return np.array([[c.x, c.y] for c in clicks if c.positive == positive], float).reshape(-1, 2)


def click_anchors(clicks: tuple[Click, ...], calipers: Calipers | None) -> np.ndarray:
    """Frame (x, y) of the positive evidence: the positive clicks and the calipers' centre."""
    positives = click_points(clicks, True)
    return positives if calipers is None else np.concatenate([positives, calipers.as_array().mean(0)[None]])


def honour_clicks(local: np.ndarray, crop: Crop, clicks: tuple[Click, ...]) -> np.ndarray:
    """`local` (a crop-sized bool mask) with every clicked disc forced to the click's side."""
    hard_fg, hard_bg = np.zeros(crop.shape, bool), np.zeros(crop.shape, bool)
    for click in clicks:
        stamp_disc(hard_fg if click.positive else hard_bg, crop, click)
    return (local | hard_fg) & ~(hard_bg & ~hard_fg)


def _points_in(labelled: np.ndarray, points_xy: np.ndarray) -> set[int]:
    """Labels (0 excluded) under the frame (x, y) points that lie inside the frame."""
    h, w = labelled.shape
    pts = np.rint(np.asarray(points_xy, float).reshape(-1, 2)).astype(int)
    pts = pts[(pts[:, 0] >= 0) & (pts[:, 0] < w) & (pts[:, 1] >= 0) & (pts[:, 1] < h)]
    return set(labelled[pts[:, 1], pts[:, 0]].tolist()) - {0}


def stray_part(shown: np.ndarray, clicks: tuple[Click, ...], anchors: np.ndarray) -> np.ndarray | None:
    """The part of `shown` the latest click removes whole, or None: a negative click landing in a part that the
    anchors (positive clicks, calipers' centre: frame (x, y)) do not refine (refined_object), or with no anchor
    yet in a part smaller than another (the largest is taken for the object and only trimmed)."""
    if not clicks or clicks[-1].positive or not shown[clicks[-1].y, clicks[-1].x]:
        return None
    x, y = clicks[-1].x, clicks[-1].y
    labelled, n = ndimage.label(shown)
    if len(anchors):
        return None if refined_object(shown, anchors, ())[y, x] else labelled == labelled[y, x]
    sizes = np.bincount(labelled.ravel(), minlength=n + 1)[1:]
    return None if sizes[labelled[y, x] - 1] >= sizes.max() else labelled == labelled[y, x]


def refined_object(shown: np.ndarray, anchors: np.ndarray, clicks: tuple[Click, ...]) -> np.ndarray:
    """The parts of `shown` the clicks refine: those holding an anchor, else those whose box grown by NEAR_PART
    of its longer side holds one (a positive click just outside the object adds to it); none when every anchor
    is far from every part (those are then all stray). With no anchor, the part under the latest click (all of
    `shown` when it lies on none)."""
    if not shown.any():
        return shown
    labelled, _ = ndimage.label(shown)
    if not len(anchors):
        hit = _points_in(labelled, np.array([[c.x, c.y] for c in clicks[-1:]], float).reshape(-1, 2))
        return np.isin(labelled, list(hit)) if hit else shown
    hit = _points_in(labelled, anchors)
    if not hit:
        for label, (ys, xs) in enumerate(ndimage.find_objects(labelled), start=1):
            grow = NEAR_PART * max(ys.stop - ys.start, xs.stop - xs.start)
            x, y = anchors[:, 0], anchors[:, 1]
            if np.any((x >= xs.start - grow) & (x < xs.stop + grow) & (y >= ys.start - grow) & (y < ys.stop + grow)):
                hit.add(label)
    return np.isin(labelled, list(hit))


def focus_window(shape: tuple[int, int], obj: np.ndarray, positives: np.ndarray, negatives: np.ndarray) -> Crop:
    """The zoom window round the object and the positive clicks, grown to hold the negative clicks that fall
    inside it (those far away, on parts already removed, do not stretch it)."""
    if not obj.any() and not len(positives):
        return zoom_window(shape, obj, negatives)
    window = zoom_window(shape, obj, positives)
    x, y = negatives.reshape(-1, 2).T
    near = negatives.reshape(-1, 2)[(x >= window.x0) & (x < window.x1) & (y >= window.y0) & (y < window.y1)]
    return zoom_window(shape, obj, np.concatenate([positives, near])) if len(near) else window
