"""The click network's answer to one positive click, asked carefully: averaged over several first-click window
sizes, then asked once more on RITM's zoom window round that answer with the answer as the previous mask. Used to
make a pseudo-label from a single point, where nothing else tells the object's extent and time is no object.

Why: on DDTI training frames (101 per probe, starter click network, simulated points) the single 0.6 x frame
window's mask scores Dice 0.699 against the truth, the average over the four sizes 0.707, and the zoomed second
ask 0.727 / 0.722 on two disjoint samples against the session's 0.719 / 0.710. Networks trained on them were no
better (seeds 0 / 1, 75 epochs: 0.674 / 0.682 against 0.691 / 0.683; README, issue 17), so it is an option
(`train --zoomed-start`), not the default."""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from core.interactive.click_inputs import zoom_window
from core.interactive.click_network import ClickPredictor
from core.labels.crop import Crop

WINDOW_SCALES = (0.45, 0.6, 0.8, 1.0)  # first-click window sides, as fractions of the frame's shorter side


def zoomed_start_probability(image: np.ndarray, point_xy: tuple[int, int], click_model: ClickPredictor,
                             scales: tuple[float, ...] = WINDOW_SCALES) -> np.ndarray:
    """Frame-sized nodule probability (0 outside the last window) for one positive click at `point_xy`."""
    shape = image.shape[:2]
    point = np.array([point_xy], float)
    no_clicks = np.zeros((0, 2))
    first = np.zeros(shape, np.float32)
    for scale in scales:
        window = Crop.around(point, shape, margin_frac=0.0, min_margin=int(np.ceil(scale * min(shape) / 2)))
        window.take(first)[...] += click_model.predict(image, window, point, no_clicks, None)  # take is a view
    first /= len(scales)
    answer = _part_under(first > 0.5, point_xy)
    if not answer.any():
        return first
    window = zoom_window(shape, answer, point)
    zoomed = click_model.predict(image, window, point, no_clicks, answer)
    return window.paste(np.zeros(shape, np.float32), zoomed.astype(np.float32))


def _part_under(mask: np.ndarray, point_xy: tuple[int, int]) -> np.ndarray:
    parts, _ = ndimage.label(mask, structure=np.ones((3, 3)))
    label = parts[point_xy[1], point_xy[0]]
    return parts == label if label else np.zeros_like(mask)
