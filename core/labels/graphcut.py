"""Binary graph cut (PyMaxflow) of a crop: unary from a logit map, contrast-sensitive 4-neighbour smoothness,
optional hard seeds. Pixels with logit > 0 prefer nodule."""
from __future__ import annotations

import cv2
import maxflow
import numpy as np

HARD = 1e9
_RIGHT = np.array([[0, 0, 0], [0, 0, 1], [0, 0, 0]])
_DOWN = np.array([[0, 0, 0], [0, 0, 0], [0, 1, 0]])


def contrast_weights(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """exp(-beta * dI^2) to the right and downward neighbours, beta from the crop's mean squared step."""
    img = image.astype(np.float32)
    dx = np.zeros_like(img)
    dy = np.zeros_like(img)
    dx[:, :-1] = (img[:, 1:] - img[:, :-1]) ** 2
    dy[:-1, :] = (img[1:, :] - img[:-1, :]) ** 2
    mean_sq = float(dx[:, :-1].mean() + dy[:-1, :].mean()) / 2 if img.size > 1 else 1.0
    beta = 1.0 / (2.0 * max(mean_sq, 1e-6))
    return np.exp(-beta * dx), np.exp(-beta * dy)


def graph_cut(image: np.ndarray, logit: np.ndarray, smoothness: float,
              hard_foreground: np.ndarray | None = None, hard_background: np.ndarray | None = None) -> np.ndarray:
    """Minimum cut of sum(unary) + smoothness * sum(contrast weight over cut edges). Returns bool mask."""
    graph = maxflow.Graph[float]()
    nodes = graph.add_grid_nodes(logit.shape)
    if smoothness > 0:
        wx, wy = contrast_weights(image)
        graph.add_grid_edges(nodes, weights=smoothness * wx, structure=_RIGHT, symmetric=True)
        graph.add_grid_edges(nodes, weights=smoothness * wy, structure=_DOWN, symmetric=True)
    cost_if_background = np.maximum(logit, 0).astype(np.float64)
    cost_if_foreground = np.maximum(-logit, 0).astype(np.float64)
    if hard_foreground is not None:
        cost_if_background[hard_foreground] = HARD
        cost_if_foreground[hard_foreground] = 0
    if hard_background is not None:
        cost_if_foreground[hard_background] = HARD
        cost_if_background[hard_background] = 0
    graph.add_grid_tedges(nodes, cost_if_background, cost_if_foreground)
    graph.maxflow()
    return ~graph.get_grid_segments(nodes)


def graph_cut_bounded(image: np.ndarray, logit: np.ndarray, smoothness: float, hard_foreground: np.ndarray,
                      hard_background: np.ndarray, max_pixels: int = 40_000) -> np.ndarray:
    """graph_cut, solved on a coarser grid when the crop is larger than max_pixels (bounded click latency).
    Hard seeds survive the downscale (any seed pixel in a cell makes the cell a seed)."""
    h, w = logit.shape
    scale = min(1.0, (max_pixels / float(h * w)) ** 0.5)
    if scale >= 1.0:
        return graph_cut(image, logit, smoothness, hard_foreground, hard_background)
    size = (max(int(w * scale), 2), max(int(h * scale), 2))

    def shrink_seeds(seeds: np.ndarray) -> np.ndarray:
        return cv2.resize(np.ascontiguousarray(seeds).view(np.uint8), size, interpolation=cv2.INTER_AREA) > 0

    small_foreground = shrink_seeds(hard_foreground)
    small = graph_cut(cv2.resize(image, size, interpolation=cv2.INTER_AREA),
                      cv2.resize(logit, size, interpolation=cv2.INTER_AREA), smoothness,
                      small_foreground, shrink_seeds(hard_background) & ~small_foreground)
    # Upsampling a yes/no grid gives staircase edges; blurring by about one coarse cell before the threshold
    # puts the boundary back on a smooth curve through the coarse solution.
    soft = cv2.resize(small.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    soft = cv2.GaussianBlur(soft, (0, 0), 0.5 / scale)
    return ((soft > 0.5) | hard_foreground) & ~(hard_background & ~hard_foreground)
