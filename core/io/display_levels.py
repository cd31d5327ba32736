"""Display window (low, high) of a frame's pixels: the default one, and moving it by a drag."""
from __future__ import annotations

import numpy as np

DOUBLING_PX = 150.0  # a horizontal drag of this many pixels doubles (or halves) the window width
CENTRE_PX = 300.0  # a vertical drag of this many pixels moves the centre by one window width
PERCENTILES = (0.5, 99.5)
SAMPLED_ABOVE = 1_000_000  # pixels; larger frames are windowed from every 4th row and column


def default_levels(pixels: np.ndarray) -> tuple[float, float]:
    """Full range for 8-bit data; for 16-bit (DICOM) a window over the 0.5-99.5 percentiles."""
    if pixels.dtype == np.uint8:
        return 0.0, 255.0
    sample = pixels[::4, ::4] if pixels.size > SAMPLED_ABOVE else pixels
    lo, hi = (float(v) for v in np.percentile(sample, PERCENTILES))
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def dragged_levels(start: tuple[float, float], dx: float, dy: float) -> tuple[float, float]:
    """The window after a drag of (dx, dy) screen pixels from `start`: right widens, up raises the centre."""
    low, high = start
    width = max((high - low) * float(2.0 ** (dx / DOUBLING_PX)), 1.0)
    centre = (high + low) / 2 - dy * (high - low) / CENTRE_PX
    return centre - width / 2, centre + width / 2
