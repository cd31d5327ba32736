"""The region a nodule scribble claims from the background scribble drawn round it: the pixels geodesically nearer
the nodule labels than the background labels (geodesic segmentation from scribbles, as in Bai & Sapiro's
geodesic matting), no farther from the nodule labels than half the way to the background stroke.

Why: a click network answering clicks on a scribble outlines a blob round the stroke and leaves large nodules
under-segmented; a background stroke drawn round the nodule says how far the nodule reaches. On 160 DDTI
training frames with simulated scribbles (two sets of 80) the starter click network's mask had Dice 0.799 / 0.825
against the truth, its union with this region 0.844 / 0.881 (README, issue 17).

It assumes background strokes drawn round the nodule (the callers ask for it with scribbles only): a few background
points far away (single-point labels) bound nothing, and there it would claim half the frame."""
from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage.graph import MCP_Geometric

EDGE_WEIGHT = 2.0  # a step across the strongest edges costs 1 + EDGE_WEIGHT (probe: 0, 2 and 5 within 0.003 Dice)
REACH = 0.5  # the region ends half-way from the nodule labels to the background labels round them


def geodesic_cost(image: np.ndarray, edge_weight: float = EDGE_WEIGHT) -> np.ndarray:
    """Per-pixel step cost: 1 on flat ground, up to 1 + edge_weight on the frame's strongest edges."""
    smooth = ndimage.gaussian_filter(np.asarray(image, np.float32) / 255.0, 1.5)
    edges = np.hypot(ndimage.sobel(smooth, 0), ndimage.sobel(smooth, 1))
    edges /= float(np.percentile(edges, 99)) + 1e-6
    return 1.0 + edge_weight * np.clip(edges, 0.0, 1.0)


def geodesic_distance(cost: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Least accumulated cost from any seed pixel to every pixel (inf where no seed)."""
    if not seeds.any():
        return np.full(cost.shape, np.inf)
    distance, _ = MCP_Geometric(cost).find_costs(np.argwhere(seeds))
    return distance


def region_between_strokes(image: np.ndarray, foreground: np.ndarray, background: np.ndarray,
                           edge_weight: float = EDGE_WEIGHT, reach: float = REACH) -> np.ndarray:
    """(H, W) bool: the pixels geodesically nearer the nodule labels than the background labels and within `reach`
    x the median geodesic distance from the nodule labels to the background labels (empty without either)."""
    foreground, background = np.asarray(foreground, bool), np.asarray(background, bool)
    if not foreground.any() or not background.any():
        return np.zeros(foreground.shape, bool)
    cost = geodesic_cost(image, edge_weight)
    to_nodule, to_background = geodesic_distance(cost, foreground), geodesic_distance(cost, background)
    limit = reach * float(np.median(to_nodule[background]))
    return (to_nodule < to_background) & (to_nodule <= limit) & ~background
