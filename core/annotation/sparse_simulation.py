"""Sparse labels simulated from a mask, for benchmarks only: scribbles, boxes and single points.

Every simulator is seeded through the `rng` it is given (same mask, same seed, same labels) and returns a
`SparseLabels`: confident nodule pixels, confident background pixels (the rest is unlabelled) and, for boxes,
the boxes themselves.
- scribbles (as WSL4MIS simulates them): per object a stroke along the skeleton of the eroded object; for the
  background a stroke through the ring between two dilations of the mask, an arc of a random part of it.
- boxes: the tight box of each object, each side moved by Gaussian jitter (a fraction of the box size).
- points: per object one point at the distance-transform maximum (the object's most interior pixel), plus a
  few background points drawn at random outside the dilated mask; each point is stamped as a small disc."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import cv2
import numpy as np
from scipy import ndimage
from skimage.morphology import skeletonize

from core.annotation.strokes import Stroke, StrokeKind

BoxXYXY = tuple[int, int, int, int]  # x0, y0, x1, y1 inclusive, pixels


@dataclass
class SparseLabels:
    foreground: np.ndarray  # (H, W) bool, confident nodule
    background: np.ndarray  # (H, W) bool, confident background
    boxes: list[BoxXYXY] = field(default_factory=list)
    strokes: list[Stroke] = field(default_factory=list)  # the same labels as the app stores them (scribbles, boxes)


def _objects(mask: np.ndarray, min_area: int = 20) -> list[np.ndarray]:
    """Connected objects, largest first; specks under min_area are left out unless nothing else is there."""
    labelled, n = ndimage.label(np.asarray(mask, bool))
    objects = sorted((labelled == k for k in range(1, n + 1)), key=lambda o: -int(o.sum()))
    return [o for o in objects if o.sum() >= min_area] or objects


def _ellipse(radius: int) -> np.ndarray:
    radius = max(int(radius), 0)
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def _equivalent_radius(obj: np.ndarray) -> float:
    return float(np.sqrt(obj.sum() / np.pi))


def _thicken(stroke: np.ndarray, width: int) -> np.ndarray:
    return cv2.dilate(stroke.astype(np.uint8), _ellipse(width // 2)).astype(bool)


def _arc(ring_skeleton: np.ndarray, centre: np.ndarray, fraction: float, rng: np.random.Generator
         ) -> tuple[np.ndarray, np.ndarray]:
    """The part of a closed skeleton round `centre` within a random angular sector of `fraction` x 360 deg, as
    a mask and as its pixels' (x, y) in angular order (the stroke's path)."""
    ys, xs = np.nonzero(ring_skeleton)
    angles = np.arctan2(ys - centre[1], xs - centre[0])
    start = rng.uniform(-np.pi, np.pi)
    turned = np.mod(angles - start, 2 * np.pi)
    inside = turned <= fraction * 2 * np.pi
    out = np.zeros(ring_skeleton.shape, bool)
    out[ys[inside], xs[inside]] = True
    order = np.argsort(turned[inside], kind="stable")
    return out, np.stack([xs[inside][order], ys[inside][order]], axis=1)


def _longest_path(skeleton: np.ndarray) -> np.ndarray:
    """(x, y) of the longest 8-connected path through a skeleton (its largest part): a stroke along it."""
    labelled, n = ndimage.label(skeleton, structure=np.ones((3, 3)))
    if n == 0:
        return np.zeros((0, 2), int)
    largest = 1 + int(np.argmax(ndimage.sum(np.ones_like(labelled), labelled, range(1, n + 1))))
    ys, xs = np.nonzero(labelled == largest)
    index = {(int(y), int(x)): k for k, (y, x) in enumerate(zip(ys, xs))}
    steps = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx]
    neighbours = [[index[q] for dy, dx in steps if (q := (int(y) + dy, int(x) + dx)) in index]
                  for y, x in zip(ys, xs)]

    def farthest(start: int) -> tuple[int, list[int]]:
        parent = {start: -1}
        queue = deque([start])
        last = start
        while queue:
            last = queue.popleft()
            for k in neighbours[last]:
                if k not in parent:
                    parent[k] = last
                    queue.append(k)
        path, k = [], last
        while k != -1:
            path.append(k)
            k = parent[k]
        return last, path

    end, _ = farthest(0)
    _, path = farthest(end)
    return np.stack([xs[path], ys[path]], axis=1)


def _polyline(path_xy: np.ndarray, foreground: bool, width: int, step: int = 3) -> list[Stroke]:
    """A scribble through every `step`-th pixel of the path (its ends kept); none for an empty path."""
    if len(path_xy) == 0:
        return []
    keep = sorted({*range(0, len(path_xy), step), len(path_xy) - 1})
    vertices = tuple((float(x), float(y)) for x, y in path_xy[keep])
    return [Stroke(StrokeKind.SCRIBBLE, vertices, foreground, float(width))]


def simulate_scribbles(mask: np.ndarray, rng: np.random.Generator, width: int = 3, erode_fraction: float = 0.3,
                       ring: tuple[float, float] = (0.25, 0.5), arc_fraction: tuple[float, float] = (0.5, 0.9),
                       ) -> SparseLabels:
    """Object strokes: skeleton of each object eroded by `erode_fraction` x its equivalent radius. Background
    stroke: skeleton of the ring between dilations by ring[0] and ring[1] x the equivalent radius (at least
    3 px apart), kept over a random arc of arc_fraction of the way round. Strokes are `width` px wide."""
    truth = np.asarray(mask, bool)
    fg = np.zeros(truth.shape, bool)
    bg = np.zeros(truth.shape, bool)
    strokes: list[Stroke] = []
    for obj in _objects(truth):
        radius = _equivalent_radius(obj)
        eroded = cv2.erode(obj.astype(np.uint8), _ellipse(round(erode_fraction * radius))).astype(bool)
        if not eroded.any():
            eroded = obj
        skeleton = skeletonize(eroded)
        fg |= _thicken(skeleton, width) & obj
        strokes += _polyline(_longest_path(skeleton), True, width)
        inner = max(round(ring[0] * radius), 2)
        outer = max(round(ring[1] * radius), inner + 3)
        near = cv2.dilate(obj.astype(np.uint8), _ellipse(inner)).astype(bool)
        far = cv2.dilate(obj.astype(np.uint8), _ellipse(outer)).astype(bool)
        ring_skeleton = skeletonize(far & ~near)
        centre = np.argwhere(obj).mean(axis=0)[::-1]
        arc, arc_path = _arc(ring_skeleton, centre, rng.uniform(*arc_fraction), rng)
        bg |= _thicken(arc, width)
        strokes += _polyline(arc_path, False, width)
    if not truth.any():  # a frame without a nodule: one background stroke through the middle
        h, w = truth.shape
        cv2.line(bg.view(np.uint8), (w // 4, h // 2), (3 * w // 4, h // 2), 1, width)
        strokes.append(Stroke(StrokeKind.SCRIBBLE, ((w // 4, h // 2), (3 * w // 4, h // 2)), False, float(width)))
    bg &= ~cv2.dilate(truth.astype(np.uint8), _ellipse(1)).astype(bool)
    return SparseLabels(fg, bg, strokes=strokes)


def tight_box(obj: np.ndarray) -> BoxXYXY:
    ys, xs = np.nonzero(obj)
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


def object_boxes(mask: np.ndarray) -> list[BoxXYXY]:
    """The tight box of each connected object, largest object first."""
    return [tight_box(obj) for obj in _objects(mask)]


def jitter_box(box: BoxXYXY, shape: tuple[int, int], sigma_fraction: float,
               rng: np.random.Generator) -> BoxXYXY:
    """Each side moved by N(0, sigma_fraction x the box's extent along it), kept inside the frame and >= 2 px."""
    x0, y0, x1, y1 = box
    h, w = shape
    dx, dy = sigma_fraction * (x1 - x0 + 1), sigma_fraction * (y1 - y0 + 1)
    j = rng.normal(0.0, 1.0, size=4) * (dx, dy, dx, dy)
    nx0, ny0 = int(np.clip(round(x0 + j[0]), 0, w - 2)), int(np.clip(round(y0 + j[1]), 0, h - 2))
    nx1, ny1 = int(np.clip(round(x1 + j[2]), nx0 + 1, w - 1)), int(np.clip(round(y1 + j[3]), ny0 + 1, h - 1))
    return nx0, ny0, nx1, ny1


def box_mask(shape: tuple[int, int], box: BoxXYXY) -> np.ndarray:
    x0, y0, x1, y1 = box
    out = np.zeros(shape, bool)
    out[max(y0, 0):y1 + 1, max(x0, 0):x1 + 1] = True
    return out


def simulate_boxes(mask: np.ndarray, rng: np.random.Generator, jitter: float = 0.05) -> SparseLabels:
    """Tight box per object, jittered; outside every box is confident background, inside is unlabelled (the
    box's own prior, see core.training.targets.box_targets, is the trainer's business)."""
    truth = np.asarray(mask, bool)
    boxes = [jitter_box(tight_box(obj), truth.shape, jitter, rng) for obj in _objects(truth)]
    inside = np.zeros(truth.shape, bool)
    for box in boxes:
        inside |= box_mask(truth.shape, box)
    strokes = [Stroke(StrokeKind.BOX, ((float(x0), float(y0)), (float(x1), float(y1)))) for x0, y0, x1, y1 in boxes]
    return SparseLabels(np.zeros(truth.shape, bool), ~inside, boxes, strokes)


def simulate_points(mask: np.ndarray, rng: np.random.Generator, n_background: int = 3, radius: int = 3,
                    margin_fraction: float = 0.3) -> SparseLabels:
    """One disc per object at its distance-transform maximum; `n_background` discs at random pixels farther
    than margin_fraction x the equivalent radius (at least radius + 2 px) from every object."""
    truth = np.asarray(mask, bool)
    h, w = truth.shape
    fg = np.zeros((h, w), np.uint8)
    bg = np.zeros((h, w), np.uint8)
    radii = [1.0]
    for obj in _objects(truth):
        depth = cv2.distanceTransform(np.pad(obj, 1).astype(np.uint8), cv2.DIST_L2, 5)[1:-1, 1:-1]
        y, x = np.unravel_index(int(np.argmax(depth)), depth.shape)
        cv2.circle(fg, (int(x), int(y)), radius, 1, -1)
        radii.append(_equivalent_radius(obj))
    margin = max(round(margin_fraction * max(radii)), radius + 2)
    allowed = ~cv2.dilate(truth.astype(np.uint8), _ellipse(margin)).astype(bool)
    candidates = np.argwhere(allowed)
    if len(candidates):
        for y, x in candidates[rng.choice(len(candidates), size=min(n_background, len(candidates)), replace=False)]:
            cv2.circle(bg, (int(x), int(y)), radius, 1, -1)
    fg_mask = fg.astype(bool) & truth
    return SparseLabels(fg_mask, bg.astype(bool) & ~truth)


SIMULATORS = {"scribbles": simulate_scribbles, "boxes": simulate_boxes, "points": simulate_points}
