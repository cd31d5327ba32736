"""Ultrasound-appropriate augmentation of one working-resolution sample: horizontal flip, small affine,
gain / contrast / gamma, multiplicative speckle. Label maps follow the geometry (nearest neighbour)."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class AugmentConfig:
    flip_probability: float = 0.5
    rotate_deg: float = 12.0
    scale_range: tuple[float, float] = (0.85, 1.2)
    shift_fraction: float = 0.08
    gain_range: tuple[float, float] = (0.75, 1.3)
    gamma_range: tuple[float, float] = (0.75, 1.35)
    speckle_sigma: float = 0.12
    speckle_probability: float = 0.5


# For data shipped already augmented (TG3K: 483 of its 842 training frames were flipped, rotated, re-contrasted
# and noised by the packager): a second round of the same changes only slowed the fit (flips only: 0.904 gland
# Dice after 6 minutes against 0.874 with the standard augmentation, bench figures in the README).
FLIPS_ONLY = AugmentConfig(rotate_deg=0.0, scale_range=(1.0, 1.0), shift_fraction=0.0, gain_range=(1.0, 1.0),
                           gamma_range=(1.0, 1.0), speckle_probability=0.0)
AUGMENTATIONS = {"standard": AugmentConfig(), "flips": FLIPS_ONLY}


def augment(image: np.ndarray, labels: np.ndarray, extra: np.ndarray | None, rng: np.random.Generator,
            cfg: AugmentConfig = AugmentConfig()) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """image (H, W) uint8, labels (K, H, W) uint8, extra (E, H, W) float32 or None -> augmented copies
    (image as float32 in [0, 1])."""
    h, w = image.shape
    flip = rng.random() < cfg.flip_probability
    angle = rng.uniform(-cfg.rotate_deg, cfg.rotate_deg)
    scale = rng.uniform(*cfg.scale_range)
    shift = rng.uniform(-cfg.shift_fraction, cfg.shift_fraction, size=2) * (w, h)
    m = cv2.getRotationMatrix2D((w / 2 - 0.5, h / 2 - 0.5), angle, scale)
    m[:, 2] += shift

    def warp(a: np.ndarray, interp: int) -> np.ndarray:
        a = a[:, ::-1] if flip else a
        return cv2.warpAffine(np.ascontiguousarray(a), m, (w, h), flags=interp, borderMode=cv2.BORDER_CONSTANT,
                              borderValue=0)

    img = warp(image, cv2.INTER_LINEAR).astype(np.float32) / 255.0
    # labels outside the warped frame become "unlabelled" (0 in every channel), never "background"
    lab = np.stack([warp(c, cv2.INTER_NEAREST) for c in labels]) if len(labels) else labels
    ext = None if extra is None else np.stack([warp(c, cv2.INTER_LINEAR) for c in extra])

    gamma = rng.uniform(*cfg.gamma_range)
    img = np.power(np.clip(img, 0, 1), gamma) * rng.uniform(*cfg.gain_range)
    if rng.random() < cfg.speckle_probability:
        noise = rng.normal(1.0, cfg.speckle_sigma, size=(h // 2, w // 2)).astype(np.float32)
        img = img * cv2.resize(noise, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.clip(img, 0.0, 1.0).astype(np.float32), lab, ext


@dataclass(frozen=True)
class AppearanceConfig:
    """Intensity-only changes of a whole frame, for networks whose inputs are cropped afterwards (the click
    network): scanners and organs differ in gain, contrast, gamma, speckle and sharpness, so a network
    trained on one organ's frames must not lean on any of them."""

    probability: float = 0.8
    gamma_range: tuple[float, float] = (0.6, 1.6)
    gain_range: tuple[float, float] = (0.7, 1.35)
    contrast_range: tuple[float, float] = (0.6, 1.3)
    blur_probability: float = 0.3
    blur_sigma: tuple[float, float] = (0.5, 1.5)
    speckle_probability: float = 0.4
    speckle_sigma: tuple[float, float] = (0.08, 0.25)
    rescale_probability: float = 0.25
    rescale_range: tuple[float, float] = (0.5, 0.9)
    # fully developed speckle over the whole frame, as coarse- or fine-grained scanners and high gain show it:
    # without it a network that may not lean on darkness floods frames whose speckle is harsher than its data's
    rayleigh_probability: float = 0.0
    rayleigh_grain_px: tuple[float, float] = (0.8, 2.5)
    rayleigh_strength: tuple[float, float] = (0.4, 1.0)  # 1: the frame times pure Rayleigh speckle


def rayleigh_speckle(rng: np.random.Generator, shape: tuple[int, int], grain: float) -> np.ndarray:
    """Fully developed speckle: Rayleigh amplitude of blurred complex Gaussian noise, mean about 1."""
    re = cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0), grain)
    im = cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0), grain)
    amp = np.sqrt(re * re + im * im)
    return amp / max(float(amp.mean()), 1e-6)


MILD_APPEARANCE = AppearanceConfig(probability=0.5, gamma_range=(0.8, 1.25), gain_range=(0.8, 1.2),
                                   contrast_range=(1.0, 1.0), blur_probability=0.0, speckle_probability=0.0,
                                   rescale_probability=0.0)


def vary_appearance(image: np.ndarray, rng: np.random.Generator, cfg: AppearanceConfig) -> np.ndarray:
    """image (H, W) uint8 -> a copy with randomly changed intensity, speckle, sharpness and resolution."""
    if rng.random() >= cfg.probability:
        return image
    img = image.astype(np.float32) / 255.0
    h, w = img.shape
    if rng.random() < cfg.rescale_probability:
        factor = rng.uniform(*cfg.rescale_range)
        small = cv2.resize(img, (max(8, int(w * factor)), max(8, int(h * factor))), interpolation=cv2.INTER_AREA)
        img = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    if rng.random() < cfg.blur_probability:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(*cfg.blur_sigma))
    if rng.random() < cfg.speckle_probability:
        noise = rng.normal(1.0, rng.uniform(*cfg.speckle_sigma), size=(max(h // 2, 1), max(w // 2, 1)))
        img = img * cv2.resize(noise.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    if cfg.rayleigh_probability and rng.random() < cfg.rayleigh_probability:
        strength = rng.uniform(*cfg.rayleigh_strength)
        img = img * (1.0 - strength + strength * rayleigh_speckle(rng, (h, w), rng.uniform(*cfg.rayleigh_grain_px)))
    img = np.power(np.clip(img, 0, 1), rng.uniform(*cfg.gamma_range)) * rng.uniform(*cfg.gain_range)
    mean = float(img.mean())
    img = mean + (img - mean) * rng.uniform(*cfg.contrast_range)
    return np.clip(255.0 * img, 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class LesionEchoConfig:
    """Redraws how bright an object is against its surroundings. Breast lesions are nearly all darker than the
    tissue round them, thyroid nodules are as often as bright or brighter (DDTI val: the brightest quarter of
    nodules cost the starter click network 8.4 clicks to IoU 0.85, the darkest 4.4), so a network trained on
    breast frames must learn the object from its edges and the clicks, not from its darkness."""

    contrast_range: tuple[float, float] = (-1.2, 0.9)  # object mean - surround mean, in surround std
    texture_range: tuple[float, float] = (0.6, 1.4)  # gain of the object's own texture
    speckle_range: tuple[float, float] = (0.2, 0.7)  # added grain, in surround std (a cyst has no texture)
    # the grain is the frame's own speckle from elsewhere: drawn noise differs from it, so a network learns
    # "drawn grain = lesion" and floods frames whose speckle is all fine-grained (the synthetic demo frames)
    borrowed_grain: bool = True
    feather_px: tuple[float, float] = (0.8, 2.0)  # width of the blend at the edge (real edges are not steps)
    halo_probability: float = 0.3  # a dark rim round the object, as many thyroid nodules have
    halo_gain: tuple[float, float] = (0.45, 0.8)


def vary_lesion_echo(image: np.ndarray, truth: np.ndarray, rng: np.random.Generator,
                     cfg: LesionEchoConfig = LesionEchoConfig()) -> np.ndarray:
    """image (H, W) uint8 with the object `truth` (H, W) bool -> a copy whose object has a random echogenicity
    (darker, as bright as, or brighter than its surroundings) and keeps its own texture."""
    if not truth.any():
        return image
    obj = truth.astype(np.uint8)
    radius = max(float(np.sqrt(obj.sum() / np.pi)), 2.0)
    ring_px = int(max(3, 0.3 * radius))
    ring = cv2.dilate(obj, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * ring_px + 1,) * 2)) > 0
    ring &= ~truth
    if not ring.any():
        return image
    img = image.astype(np.float32)
    surround_mean, surround_std = float(img[ring].mean()), float(img[ring].std()) + 4.0
    object_mean = float(img[truth].mean())
    target = surround_mean + rng.uniform(*cfg.contrast_range) * surround_std
    grain = borrowed_speckle(img, truth, surround_std, rng) if cfg.borrowed_grain else None
    if grain is None:
        grain_px = max(1.0, min(img.shape) / 250)  # speckle's grain, about as coarse as the tissue's
        grain = cv2.GaussianBlur(rng.normal(0.0, 1.0, img.shape).astype(np.float32), (0, 0), grain_px)
    grain *= rng.uniform(*cfg.speckle_range) * surround_std / (float(grain[truth].std()) + 1e-6)
    redrawn = target + rng.uniform(*cfg.texture_range) * (img - object_mean) + grain
    alpha = cv2.GaussianBlur(obj.astype(np.float32), (0, 0), rng.uniform(*cfg.feather_px))
    out = img * (1.0 - alpha) + redrawn * alpha
    if rng.random() < cfg.halo_probability:
        width = int(rng.integers(2, max(3, int(0.12 * radius)) + 1))
        grown = cv2.dilate(obj, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * width + 1,) * 2))
        rim = cv2.GaussianBlur((grown - obj).astype(np.float32), (0, 0), 1.0)
        out = out * (1.0 - rim * (1.0 - rng.uniform(*cfg.halo_gain)))
    return np.clip(out, 0, 255).astype(np.uint8)


def borrowed_speckle(img: np.ndarray, truth: np.ndarray, surround_std: float,
                      rng: np.random.Generator, tries: int = 20) -> np.ndarray | None:
    """The frame's fine texture (image minus its blur) shifted so that the object receives the speckle of a
    textured, object-free place of the same frame; None when no such place is found."""
    h, w = truth.shape
    ys, xs = np.nonzero(truth)
    y0, y1, x0, x1 = int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1
    texture = img - cv2.GaussianBlur(img, (0, 0), max(1.5, min(h, w) / 100))
    for _ in range(tries):
        sy, sx = int(rng.integers(0, h - (y1 - y0) + 1)), int(rng.integers(0, w - (x1 - x0) + 1))
        if sy < y1 and sy + (y1 - y0) > y0 and sx < x1 and sx + (x1 - x0) > x0:
            continue  # the source overlaps the object's box
        source = texture[sy:sy + y1 - y0, sx:sx + x1 - x0]
        if float(source.std()) < 0.3 * surround_std:
            continue  # a flat place (scanner margin, anechoic area) has no speckle to lend
        grain = np.zeros_like(img)
        grain[y0:y1, x0:x1] = source
        return grain
    return None
