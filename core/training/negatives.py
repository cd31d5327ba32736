"""Nodule-free training frames made from frames that hold a nodule, the way CLTN made its healthy images: for
a dataset where every frame has a nodule (DDTI), square crops of a frame's ultrasound image (its content box,
scanner margins left out) that stay clear of the nodule by a margin, resized to the working resolution.

How a crop is drawn (seeded by the caller's generator, so the same seed gives the same crops):
- the nodule mask is grown by `margin` = max(MIN_MARGIN_PX, MARGIN_FRACTION x the content box's shorter side);
- a side is drawn uniformly in [MIN_SIDE, MAX_SIDE] x the shorter side, a top-left corner uniformly inside the
  content box; the crop is kept when it holds no pixel of the grown mask (an integral image answers that);
- up to `attempts` draws per crop wanted; a frame whose nodule leaves no room gives fewer crops (or none).
A crop is a frame with no nodule: its training target is background everywhere."""
from __future__ import annotations

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


def grown_nodule(truth: np.ndarray, margin: int) -> np.ndarray:
    """The nodule mask grown by `margin` pixels (a disc), the region a crop must not touch."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * margin + 1, 2 * margin + 1))
    return cv2.dilate(np.asarray(truth, np.uint8), kernel) > 0


def nodule_free_crops(image: np.ndarray, truth: np.ndarray, count: int, resolution: int, rng: np.random.Generator,
                      attempts: int = 40) -> list[NoduleFreeCrop]:
    """Up to `count` square crops of `image` (H, W uint8) that do not touch `truth` (H, W bool) grown by the
    margin, each resized to `resolution`."""
    x0, y0, x1, y1 = content_box(image)
    short = min(x1 - x0, y1 - y0)
    margin = max(MIN_MARGIN_PX, int(round(MARGIN_FRACTION * short)))
    forbidden = grown_nodule(truth, margin).astype(np.uint8)
    integral = cv2.integral(forbidden)  # (H + 1, W + 1): sums over any rectangle in four look-ups
    crops: list[NoduleFreeCrop] = []
    for _ in range(count * attempts):
        if len(crops) == count:
            break
        side = int(rng.uniform(MIN_SIDE, MAX_SIDE) * short)
        if side < 8 or side > x1 - x0 or side > y1 - y0:
            continue
        cx = int(rng.integers(x0, x1 - side + 1))
        cy = int(rng.integers(y0, y1 - side + 1))
        inside = (integral[cy + side, cx + side] - integral[cy, cx + side] - integral[cy + side, cx]
                  + integral[cy, cx])
        if inside == 0:
            crop = cv2.resize(np.ascontiguousarray(image[cy:cy + side, cx:cx + side]), (resolution, resolution),
                              interpolation=cv2.INTER_AREA)
            crops.append(NoduleFreeCrop(crop, (cx, cy, cx + side, cy + side)))
    return crops
