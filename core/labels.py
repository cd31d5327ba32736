"""High-confidence labels from calipers (HCL-HRL A.2-A.3), one nodule at a time, fused with a segmenter S."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from core.annotations import Calipers


@dataclass
class ObjectLabels:
    """Labels of one nodule. All masks are (H, W) bool."""

    box: np.ndarray  # axis-aligned rectangle of the four points (Bx)
    quad: np.ndarray  # inscribed quadrilateral A1, B1, A2, B2 (Fq)
    segment: np.ndarray  # segmenter S's mask for this nodule
    location: np.ndarray  # L = Bx & S
    foreground: np.ndarray  # F = Fq & S (confident nodule)


@dataclass
class FrameLabels:
    """Fused labels of a frame: confident nodule, confident background, uncertain band, best-guess mask."""

    objects: list[ObjectLabels]
    foreground: np.ndarray
    background: np.ndarray
    mask: np.ndarray

    @property
    def uncertain(self) -> np.ndarray:
        return ~(self.foreground | self.background)

    def as_u8(self) -> np.ndarray:
        """0 = confident background, 128 = uncertain, 255 = confident nodule (the --out PNG encoding)."""
        out = np.full(self.mask.shape, 128, np.uint8)
        out[self.background] = 0
        out[self.foreground] = 255
        return out


def box_mask(shape: tuple[int, int], calipers: Calipers) -> np.ndarray:
    p = calipers.as_array()
    h, w = shape
    x0, y0 = np.floor(p.min(axis=0)).astype(int)
    x1, y1 = np.ceil(p.max(axis=0)).astype(int)
    out = np.zeros(shape, bool)
    out[max(y0, 0) : min(y1, h - 1) + 1, max(x0, 0) : min(x1, w - 1) + 1] = True
    return out


def quad_mask(shape: tuple[int, int], calipers: Calipers) -> np.ndarray:
    p = calipers.as_array()[[0, 2, 1, 3]]  # A1, B1, A2, B2: walk round the diamond
    out = np.zeros(shape, np.uint8)
    cv2.fillPoly(out, [np.rint(p * 16).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=4)
    return out.astype(bool)
