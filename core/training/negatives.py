"""Nodule-free training frames made from frames that hold a nodule, the way CLTN made its healthy images: for
a dataset where every frame has a nodule (DDTI), square crops of a frame's ultrasound image (its content box,
scanner margins left out) that stay clear of the nodule by a margin, resized to the working resolution.

How a crop is drawn (seeded by the caller's generator, so the same seed gives the same crops):
- the nodule mask is grown by `margin` = max(MIN_MARGIN_PX, MARGIN_FRACTION x the content box's shorter side);
- a side is drawn uniformly in [MIN_SIDE, MAX_SIDE] x the shorter side, a top-left corner uniformly inside the
  content box; the crop is kept when it holds no pixel of the grown mask (an integral image answers that);
- up to `attempts` draws per crop wanted; a frame whose nodule leaves no room gives fewer crops (or none).
A crop is a frame with no nodule: its training target is background everywhere.

A crop shows the tissue 2-3x larger than a whole frame does, so a network given such crops as its only
nodule-free frames can learn "zoomed in, so no nodule" instead of what a nodule looks like: on DDTI (bench/tags.py,
40 epochs, seed 0) the network trained with them called 0.38 x the true area nodule on val crops that hold a
nodule (Dice 0.46, against 0.70 without the crops) and over-grew the small nodules of whole frames (Dice 0.44 against
0.57 on nodules under 2 % of the frame). `nodule_crops` makes the matching crops that hold a nodule, drawn from the
same sizes, so that the zoom tells nothing."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from models.preprocess import Box, content_box

MARGIN_FRACTION = 0.05
MIN_MARGIN_PX = 8
MIN_SIDE, MAX_SIDE = 0.35, 0.6


@dataclass(frozen=True)
class NoduleFreeCrop:
    image: np.ndarray  # (R, R) uint8, the crop resized to the working resolution
    box: Box  # the crop in frame pixels (x0, y0, x1, y1), exclusive ends


@dataclass(frozen=True)
class NoduleCrop:
    image: np.ndarray  # (R, R) uint8, the crop resized to the working resolution
    mask: np.ndarray  # (R, R) bool, the nodule inside the crop
    box: Box


def grown_nodule(truth: np.ndarray, margin: int) -> np.ndarray:
    """The nodule mask grown by `margin` pixels (a disc), the region a crop must not touch."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * margin + 1, 2 * margin + 1))
    return cv2.dilate(np.asarray(truth, np.uint8), kernel) > 0


def _shorter_side(box: Box) -> int:
    return min(box[2] - box[0], box[3] - box[1])


def _drawn_sides(box: Box, rng: np.random.Generator, tries: int, enough: Callable[[], bool]) -> Iterator[int]:
    """Crop sides drawn in [MIN_SIDE, MAX_SIDE] x the content box's shorter side, those that fit, over `tries`
    draws; `enough` is asked before each draw, so a caller's generator is not drawn from once it has its crops."""
    for _ in range(tries):
        if enough():
            return
        side = int(rng.uniform(MIN_SIDE, MAX_SIDE) * _shorter_side(box))
        if 8 <= side <= box[2] - box[0] and side <= box[3] - box[1]:
            yield side


def _resized(image: np.ndarray, x: int, y: int, side: int, resolution: int, nearest: bool = False) -> np.ndarray:
    return cv2.resize(np.ascontiguousarray(image[y:y + side, x:x + side]), (resolution, resolution),
                      interpolation=cv2.INTER_NEAREST if nearest else cv2.INTER_AREA)


def nodule_free_crops(image: np.ndarray, truth: np.ndarray, count: int, resolution: int, rng: np.random.Generator,
                      attempts: int = 40) -> list[NoduleFreeCrop]:
    """Up to `count` square crops of `image` (H, W uint8) that do not touch `truth` (H, W bool) grown by the
    margin, each resized to `resolution`."""
    x0, y0, x1, y1 = box = content_box(image)
    margin = max(MIN_MARGIN_PX, int(round(MARGIN_FRACTION * _shorter_side(box))))
    forbidden = grown_nodule(truth, margin).astype(np.uint8)
    integral = cv2.integral(forbidden)  # (H + 1, W + 1): sums over any rectangle in four look-ups
    crops: list[NoduleFreeCrop] = []
    for side in _drawn_sides(box, rng, count * attempts, lambda: len(crops) == count):
        cx = int(rng.integers(x0, x1 - side + 1))
        cy = int(rng.integers(y0, y1 - side + 1))
        inside = (integral[cy + side, cx + side] - integral[cy, cx + side] - integral[cy + side, cx]
                  + integral[cy, cx])
        if inside == 0:
            crops.append(NoduleFreeCrop(_resized(image, cx, cy, side, resolution), (cx, cy, cx + side, cy + side)))
    return crops


def nodule_crops(image: np.ndarray, truth: np.ndarray, count: int, resolution: int, rng: np.random.Generator,
                 attempts: int = 40) -> list[NoduleCrop]:
    """`count` square crops of `image` with sides drawn as `nodule_free_crops` draws them, each placed uniformly
    among the positions inside the content box that hold the nodule's centre at least a quarter of the side from
    the crop's edges; the nodule mask is cropped with it (a large nodule may be cut); none when `truth` is empty."""
    ys, xs = np.nonzero(truth)
    if not len(xs):
        return []
    x0, y0, x1, y1 = box = content_box(image)
    mx, my = int(round(xs.mean())), int(round(ys.mean()))
    truth_u8 = np.asarray(truth, np.uint8)
    crops: list[NoduleCrop] = []
    for side in _drawn_sides(box, rng, count * attempts, lambda: len(crops) == count):
        quarter = side // 4
        lo_x, hi_x = max(x0, mx - side + quarter + 1), min(x1 - side, mx - quarter)
        lo_y, hi_y = max(y0, my - side + quarter + 1), min(y1 - side, my - quarter)
        if lo_x > hi_x or lo_y > hi_y:
            continue
        cx, cy = int(rng.integers(lo_x, hi_x + 1)), int(rng.integers(lo_y, hi_y + 1))
        mask = _resized(truth_u8, cx, cy, side, resolution, nearest=True) > 0
        crops.append(NoduleCrop(_resized(image, cx, cy, side, resolution), mask, (cx, cy, cx + side, cy + side)))
    return crops
