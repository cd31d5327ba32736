"""The one frame type every reader returns."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class Frame:
    """One 2-D ultrasound frame.

    pixels: (H, W) gray or (H, W, 3) RGB, uint8 or uint16, as stored in the source.
    source: the file it came from; index: frame number inside a cine/video (0 for still images).
    spacing_mm: physical pixel size (row, column) in millimetres when the source states it.
    """

    pixels: np.ndarray
    source: Path
    index: int = 0
    spacing_mm: tuple[float, float] | None = None

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    def gray_u8(self) -> np.ndarray:
        """Gray uint8 view for the algorithms (16-bit data is min-max scaled, RGB averaged)."""
        img = self.pixels
        if img.ndim == 3:
            img = img[..., :3].astype(np.float32).mean(axis=2)
        if img.dtype == np.uint8:
            return img
        img = img.astype(np.float32)
        lo, hi = float(img.min()), float(img.max())
        if hi <= lo:
            return np.zeros(img.shape, np.uint8)
        return np.clip((img - lo) * (255.0 / (hi - lo)) + 0.5, 0, 255).astype(np.uint8)
