"""Seeded synthetic cine clips from one still frame and its mask: smooth probe translation and rotation, probe
compression, elastic tissue deformation and fresh speckle on every frame. Each frame is the still frame pulled
through one deformation field; the mask goes through the same field, so it is the exact truth of that frame."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class ClipMotion:
    """Peak amplitudes over a clip (each drawn between half and all of it per clip)."""

    translation_px: float = 14.0  # probe slides this far
    rotation_deg: float = 5.0  # probe tilts this much round the frame centre
    compression: float = 0.06  # tissue squeezed towards the probe (top) by this fraction
    elastic_px: float = 3.0  # smooth tissue deformation
    elastic_scale_px: float = 40.0  # its spatial smoothness
    speckle: float = 0.15  # std of the fresh multiplicative speckle (log scale)
    cycles: float = 1.0  # the slowest motion makes about this many back-and-forth cycles per clip


@dataclass
class SyntheticClip:
    frames: list[np.ndarray]  # gray uint8
    masks: list[np.ndarray]  # bool, the truth of each frame


def _smooth_path(rng: np.random.Generator, length: int, amplitude: float, cycles: float) -> np.ndarray:
    """A smooth random signal over the clip, peak |value| = amplitude x U(0.5, 1)."""
    t = np.linspace(0.0, 1.0, length)
    signal = np.zeros(length)
    for _ in range(3):
        frequency = rng.uniform(0.3, 1.0) * cycles
        signal += rng.normal() * np.sin(2 * np.pi * frequency * t + rng.uniform(0, 2 * np.pi))
    peak = float(np.abs(signal).max())
    return signal / peak * amplitude * rng.uniform(0.5, 1.0) if peak > 0 else signal


def _smooth_field(rng: np.random.Generator, shape: tuple[int, int], scale_px: float) -> np.ndarray:
    """(H, W, 2) smooth random displacement, peak |component| = 1."""
    field = np.stack([cv2.GaussianBlur(rng.normal(size=shape).astype(np.float32), (0, 0), scale_px)
                      for _ in range(2)], axis=-1)
    return field / max(float(np.abs(field).max()), 1e-6)


def make_clip(image: np.ndarray, mask: np.ndarray, length: int, seed: int,
              motion: ClipMotion | None = None) -> SyntheticClip:
    """A `length`-frame clip from one gray uint8 frame and its (H, W) mask; the same seed gives the same clip."""
    m = motion or ClipMotion()
    rng = np.random.default_rng(seed)
    h, w = image.shape[:2]
    tx, ty = (_smooth_path(rng, length, m.translation_px, m.cycles) for _ in range(2))
    angle = np.deg2rad(_smooth_path(rng, length, m.rotation_deg, m.cycles))
    squeeze = np.abs(_smooth_path(rng, length, m.compression, m.cycles))
    elastic_a, elastic_b = (_smooth_field(rng, (h, w), m.elastic_scale_px) for _ in range(2))
    phase = rng.uniform(0, 2 * np.pi) + 2 * np.pi * m.cycles * np.linspace(0.0, 1.0, length)
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
    gray = image.astype(np.float32)
    frames, masks = [], []
    for k in range(length):
        # where each output pixel comes from in the still frame: undo the probe's motion, then the squeeze,
        # then the tissue's own deformation
        c, s = np.cos(-angle[k]), np.sin(-angle[k])
        dx, dy = xs - cx - tx[k], ys - cy - ty[k]
        src_x = c * dx - s * dy + cx
        src_y = (s * dx + c * dy + cy) / (1.0 - squeeze[k])
        deform = m.elastic_px * (np.cos(phase[k]) * elastic_a + np.sin(phase[k]) * elastic_b)
        map_x = (src_x + deform[..., 0]).astype(np.float32)
        map_y = (src_y + deform[..., 1]).astype(np.float32)
        moved = cv2.remap(gray, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        speckle = cv2.GaussianBlur(rng.normal(size=(h, w)).astype(np.float32), (0, 0), 0.7)
        speckle /= max(float(speckle.std()), 1e-6)
        frames.append(np.clip(moved * np.exp(m.speckle * speckle), 0, 255).astype(np.uint8))
        masks.append(cv2.remap(np.asarray(mask, np.float32), map_x, map_y, cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=0.0) > 0.5)
    return SyntheticClip(frames, masks)
