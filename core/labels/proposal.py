"""A draft mask for a frame known to hold a nodule, from a localisation map (a frame model's nodule
probability, its attention mask, or a class-activation map): *Propose*'s mask, which clicks then refine.

Methods (PROPOSAL_METHODS):
- "threshold": the map above 0.5, its largest connected part;
- "graphcut": the map as the unary term of a contrast-sensitive graph cut (core.labels.graphcut), so the
  boundary snaps to image edges; its largest connected part;
- "ellipse": the baseline that ignores the map, a centred ellipse with semi-axes ELLIPSE_SEMI_AXES x the frame;
- "dark_blob": ignores the map too: the darkest compact blob near the middle (core.labels.dark_blob).
A frame whose map holds nothing above 0.5 gets the map's peak region (the top PEAK_SHARE of its pixels): a
frame tagged "nodule present" should never get an empty draft."""
from __future__ import annotations

import cv2
import numpy as np

from core.labels.dark_blob import dark_blob
from core.labels.graphcut import graph_cut

PROPOSAL_METHODS = ("threshold", "graphcut", "ellipse", "dark_blob")
# measured (README, "Frame-level labels"): on the map of a network trained from BUSI tags, the graph cut beat the
# threshold on the attention map (0.133 vs 0.127 val Dice) and on the CAM; the centred ellipse beat both (0.308)
DEFAULT_METHOD = "graphcut"
ELLIPSE_SEMI_AXES = (0.25, 0.25)  # of the frame's width and height: about a fifth of the frame
GRAPHCUT_SMOOTHNESS = 2.0
LOGIT_LIMIT = 4.0
PEAK_SHARE = 0.02


def largest_component(mask: np.ndarray) -> np.ndarray:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(np.asarray(mask, np.uint8), connectivity=8)
    if count <= 1:
        return np.asarray(mask, bool).copy()
    return labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))


def centred_ellipse(shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    out = np.zeros((h, w), np.uint8)
    axes = (max(1, int(round(ELLIPSE_SEMI_AXES[0] * w))), max(1, int(round(ELLIPSE_SEMI_AXES[1] * h))))
    cv2.ellipse(out, (w // 2, h // 2), axes, 0, 0, 360, 1, -1)
    return out > 0


def _map_logit(localisation: np.ndarray) -> np.ndarray:
    p = np.clip(localisation.astype(np.float32), 1e-3, 1 - 1e-3)
    return np.clip(np.log(p / (1 - p)), -LOGIT_LIMIT, LOGIT_LIMIT)


def propose_mask(image: np.ndarray, localisation: np.ndarray | None, method: str = DEFAULT_METHOD) -> np.ndarray:
    """image (H, W) uint8, localisation (H, W) in [0, 1] (None only for "ellipse" and "dark_blob") -> (H, W) bool
    draft."""
    if method not in PROPOSAL_METHODS:
        raise ValueError(f"unknown proposal method {method!r}; choose one of {list(PROPOSAL_METHODS)}")
    if method == "ellipse":
        return centred_ellipse(image.shape[:2])
    if method == "dark_blob":
        return dark_blob(image)
    if localisation is None or localisation.shape != image.shape[:2]:
        raise ValueError("the localisation map must have the image's shape")
    found = localisation > 0.5
    if method == "graphcut":
        found = graph_cut(image, _map_logit(localisation), GRAPHCUT_SMOOTHNESS)
    if not found.any():
        found = localisation >= np.quantile(localisation, 1.0 - PEAK_SHARE)
    return largest_component(found)
