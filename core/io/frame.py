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
            # the channels' sum in integers, then one float plane: the same values as a float32 mean over a
            # (H, W, 3) float copy, at a quarter of its memory (an 80 MP RGB frame: 0.6 GB less at the peak)
            channels = img[..., :3]
            if np.issubdtype(channels.dtype, np.integer):
                img = channels.sum(axis=2, dtype=np.uint32).astype(np.float32)
                img /= np.float32(channels.shape[2])
            else:
                img = channels.astype(np.float32).mean(axis=2)
        if img.dtype == np.uint8:
            return img
        work = img.astype(np.float32, copy=img is self.pixels)  # never scale the frame's own pixels in place
        lo, hi = float(work.min()), float(work.max())
        if hi <= lo:
            return np.zeros(work.shape, np.uint8)
        work -= lo
        work *= 255.0 / (hi - lo)
        work += 0.5
        np.clip(work, 0, 255, out=work)
        return work.astype(np.uint8)
