"""How far one click reaches: an edge-aware geodesic neighbourhood, computed once per click on a window."""
from __future__ import annotations

import cv2
import numpy as np
from skimage.graph import MCP_Geometric

from core.labels.crop import Crop

EDGE_COST = 6.0  # how much an intensity edge (normalised gradient 1) lengthens a path through it
WINDOW_REACHES = 1.6  # window half-size in reaches: beyond it the influence is below exp(-1.6^2) = 0.08
MAX_WINDOW_SIDE = 96  # larger windows are solved at a coarser grid and upsampled


def gradient_cost(smoothed: np.ndarray) -> np.ndarray:
    """Per-pixel travel cost 1 + EDGE_COST * |grad I| / mean |grad I| (computed once per frame)."""
    gy, gx = np.gradient(smoothed.astype(np.float32))
    magnitude = np.hypot(gx, gy)
    return (1.0 + EDGE_COST * magnitude / max(float(magnitude.mean()), 1e-6)).astype(np.float32)


def click_influence(cost: np.ndarray, x: float, y: float, reach: float) -> tuple[Crop, np.ndarray]:
    """exp(-(geodesic distance / reach)^2) on a window round the click."""
    window = Crop.around(np.array([[x, y]]), cost.shape, margin_frac=0.0,
                         min_margin=int(np.ceil(WINDOW_REACHES * reach)))
    local = window.take(cost)
    scale = min(1.0, MAX_WINDOW_SIDE / max(local.shape))
    if scale < 1.0:
        small_shape = (max(int(local.shape[1] * scale), 2), max(int(local.shape[0] * scale), 2))
        local = cv2.resize(local, small_shape, interpolation=cv2.INTER_AREA)
    fy, fx = local.shape[0] / window.shape[0], local.shape[1] / window.shape[1]
    seed = (int(np.clip((y - window.y0 + 0.5) * fy - 0.5, 0, local.shape[0] - 1)),
            int(np.clip((x - window.x0 + 0.5) * fx - 0.5, 0, local.shape[1] - 1)))
    distances, _ = MCP_Geometric(local).find_costs([seed])
    influence = np.exp(-((distances / (max(reach, 1.0) * fx)) ** 2)).astype(np.float32)
    if scale < 1.0:
        influence = cv2.resize(influence, (window.shape[1], window.shape[0]), interpolation=cv2.INTER_LINEAR)
    return window, influence
