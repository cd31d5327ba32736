"""Segmenter S of HCL-HRL, without foundation weights: one nodule's mask from its calipers and the image.

The caliper geometry gives a shape prior (signed distance to the superellipse through the four ends); an
intensity model (nodule vs surround histograms) and, when a trained model exists, its probability map add
evidence; a contrast-sensitive graph cut on a crop around the nodule makes the decision."""
from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage

from core.annotation.points import Calipers
from core.labels.caliper_shapes import kite_ellipse
from core.labels.crop import Crop
from core.labels.graphcut import graph_cut
from core.labels.morphology import distance_to_background, fill_holes

PRIOR_SHARPNESS = 0.05  # logit slope of the shape prior: 1 per 5 % of the short axis
INTENSITY_WEIGHT = 0.15
MODEL_WEIGHT = 0.3  # a model at 0.7 Dice must not override the caliper geometry (tuned on train)
MODEL_LOGIT_LIMIT = 3.0
SMOOTHNESS = 1.0
_BINS = 32


def shape_prior_logit(shape: tuple[int, int], calipers: Calipers) -> np.ndarray:
    """Signed distance to the caliper superellipse, in units of PRIOR_SHARPNESS x short axis, clipped."""
    kite = kite_ellipse(shape, calipers)
    signed = distance_to_background(kite) - distance_to_background(~kite)
    scale = max(PRIOR_SHARPNESS * max(calipers.short_axis_px, 1.0), 0.5)
    return np.clip(signed / scale, -8.0, 8.0).astype(np.float32)


def intensity_ratio(image: np.ndarray, prior_logit: np.ndarray) -> np.ndarray | None:
    """Per-bin log p(I | nodule) / p(I | surround) from smoothed histograms of the prior's core and its outer
    ring; None when either is too small to say."""
    quantised = _quantise(image)
    core, ring = prior_logit > 4.0, prior_logit < -3.0
    if core.sum() < 10 or ring.sum() < 10:
        return None
    hist_in = ndimage.gaussian_filter1d(np.bincount(quantised[core], minlength=_BINS) + 1.0, 1.5)
    hist_out = ndimage.gaussian_filter1d(np.bincount(quantised[ring], minlength=_BINS) + 1.0, 1.5)
    return np.log((hist_in / hist_in.sum()) / (hist_out / hist_out.sum())).astype(np.float32)


def apply_intensity_ratio(image: np.ndarray, ratio: np.ndarray | None) -> np.ndarray:
    if ratio is None:
        return np.zeros(image.shape, np.float32)
    return ratio[_quantise(image)]


def intensity_logit(image: np.ndarray, prior_logit: np.ndarray) -> np.ndarray:
    """log p(I | nodule) / p(I | surround) per pixel, the histograms taken from the prior's core and ring."""
    return apply_intensity_ratio(image, intensity_ratio(image, prior_logit))


def _quantise(image: np.ndarray) -> np.ndarray:
    return np.minimum(image.astype(np.int32) * _BINS // 256, _BINS - 1)


def probability_logit(probability: np.ndarray) -> np.ndarray:
    p = np.clip(probability.astype(np.float32), 1e-3, 1 - 1e-3)
    return np.clip(np.log(p / (1 - p)), -MODEL_LOGIT_LIMIT, MODEL_LOGIT_LIMIT)


def keep_component_at(mask: np.ndarray, seed_xy: np.ndarray) -> np.ndarray:
    """The connected component under the seed (else the largest), holes filled."""
    labelled, n = ndimage.label(mask)
    if n == 0:
        return mask
    x, y = int(round(seed_xy[0])), int(round(seed_xy[1]))
    inside = 0 <= y < mask.shape[0] and 0 <= x < mask.shape[1]
    if inside and labelled[y, x] > 0:
        keep = labelled[y, x]
    else:
        keep = 1 + int(np.argmax(ndimage.sum(mask, labelled, range(1, n + 1))))
    return fill_holes(labelled == keep)


def segment_nodule(image: np.ndarray, calipers: Calipers, probability: np.ndarray | None = None) -> np.ndarray:
    """(H, W) bool mask of the nodule the calipers measure. image: (H, W) gray uint8."""
    crop = Crop.around(calipers.as_array(), image.shape[:2])
    local = Calipers.from_array(calipers.as_array() - crop.offset_xy)
    region = crop.take(image)
    prior = shape_prior_logit(crop.shape, local)
    smoothed = cv2.GaussianBlur(region, (0, 0), 1.0)
    logit = prior + INTENSITY_WEIGHT * intensity_logit(smoothed, prior)
    if probability is not None:
        logit = logit + MODEL_WEIGHT * probability_logit(crop.take(probability))
    border = crop.touches_border_of(image.shape[:2])
    mask = graph_cut(smoothed.astype(np.float32), logit, SMOOTHNESS, hard_background=border)
    mask = keep_component_at(mask, local.as_array().mean(axis=0))
    return crop.paste(np.zeros(image.shape[:2], bool), mask)
