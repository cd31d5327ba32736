"""Seeded synthetic ultrasound-like frames with hypoechoic elliptical nodules and their exact masks."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from core.training.augment import rayleigh_speckle


@dataclass
class SyntheticFrame:
    image: np.ndarray  # (H, W) uint8
    labels: np.ndarray  # (H, W) uint8, 0 = background, k = nodule k (1-based)

    @property
    def mask(self) -> np.ndarray:
        return self.labels > 0


def make_frame(
    seed: int,
    size: tuple[int, int] = (256, 320),
    n_nodules: int = 1,
    contrast: float = 0.45,
) -> SyntheticFrame:
    """A frame of `size` (H, W) with `n_nodules` non-overlapping dark ellipses; same seed, same frame."""
    rng = np.random.default_rng(seed)
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    tissue = 0.55 + 0.25 * np.sin(xx / w * rng.uniform(2, 5) + rng.uniform(0, 6)) * np.cos(yy / h * rng.uniform(1, 3))
    tissue *= 1.0 - 0.35 * yy / h  # depth attenuation
    labels = np.zeros((h, w), np.uint8)
    placed = 0
    for _ in range(200):
        if placed == n_nodules:
            break
        a = rng.uniform(0.09, 0.2) * min(h, w) * (1.3 if n_nodules == 1 else 0.8)
        b = a * rng.uniform(0.55, 0.95)
        cx, cy = rng.uniform(a + 8, w - a - 8), rng.uniform(a + 8, h - a - 8)
        angle = rng.uniform(0, np.pi)
        c, s = np.cos(angle), np.sin(angle)
        u = ((xx - cx) * c + (yy - cy) * s) / a
        v = (-(xx - cx) * s + (yy - cy) * c) / b
        wobble = 1.0 + 0.06 * np.sin(3 * np.arctan2(v, u) + rng.uniform(0, 6))
        inside = (u * u + v * v) <= wobble**2
        if (labels[cv2.dilate(inside.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0] > 0).any():
            continue
        placed += 1
        labels[inside] = placed
        rim = cv2.dilate(inside.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool) & ~inside
        tissue = np.where(inside, tissue * (1.0 - contrast), tissue)
        tissue = np.where(rim, tissue * 1.25, tissue)
    tissue = cv2.GaussianBlur(tissue, (0, 0), 1.5)
    img = tissue * rayleigh_speckle(rng, (h, w), grain=1.2) * 150.0
    img[:, : max(2, w // 40)] = 0  # a black scanner margin, as real frames have
    return SyntheticFrame(np.clip(img, 0, 255).astype(np.uint8), labels)
