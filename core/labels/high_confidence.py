"""High-confidence labels from calipers (HCL-HRL A.2-A.3), one nodule at a time, fused with a segmenter S."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from core.annotation.points import Calipers
from core.labels.segmenter import segment_nodule


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


def distance_similarity_prior(image: np.ndarray, points_xy: np.ndarray) -> np.ndarray:
    """PAplusNet's Distance-Similarity prior (algorithms.md A.4), vectorised, intensity sampled at I[y, x].

    image: (H, W) gray uint8 (or float in [0, 1]); points_xy: (N, 2) annotated points in pixels.
    Distances are normalised by the image diagonal, which equals the paper's 256*sqrt(2) at 256 x 256."""
    img = image.astype(np.float32) / 255.0 if image.dtype == np.uint8 else image.astype(np.float32)
    h, w = img.shape
    pts = np.asarray(points_xy, dtype=np.float32).reshape(-1, 2)
    out = np.zeros((h, w), np.float32)
    if len(pts) == 0:
        return out
    ys = np.arange(h, dtype=np.float32)[:, None]
    xs = np.arange(w, dtype=np.float32)[None, :]
    diag2 = float(h * h + w * w)
    for x, y in pts:
        xi, yi = int(np.clip(round(float(x)), 0, w - 1)), int(np.clip(round(float(y)), 0, h - 1))
        d2 = ((xs - x) ** 2 + (ys - y) ** 2) / diag2
        spatial = np.exp(-d2 / (2 * 0.025))
        similarity = np.exp(-np.abs(img - img[yi, xi]) / (2 * 0.15))
        out += spatial * similarity
    return np.clip(out, 0.0, 1.0)


def fuse_labels(shape: tuple[int, int], calipers: list[Calipers], segments: list[np.ndarray],
                background_margin_px: int = 3) -> FrameLabels:
    """HCL-HRL fusion per nodule: L = Bx & S, F = Fq & S; background = outside every box and every
    (dilated) S, so a tilted nodule poking out of its axis-aligned box is never called background."""
    objects = []
    claimed = np.zeros(shape, bool)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * background_margin_px + 1,) * 2)
    for cal, seg in zip(calipers, segments, strict=True):
        bx, fq = box_mask(shape, cal), quad_mask(shape, cal)
        objects.append(ObjectLabels(box=bx, quad=fq, segment=seg, location=bx & seg, foreground=fq & seg))
        claimed |= bx | cv2.dilate(seg.astype(np.uint8), kernel).astype(bool)
    foreground = np.zeros(shape, bool)
    mask = np.zeros(shape, bool)
    for o in objects:
        foreground |= o.foreground
        mask |= o.segment
    return FrameLabels(objects=objects, foreground=foreground, background=~claimed, mask=mask)


def high_confidence_labels(image: np.ndarray, calipers: list[Calipers],
                           probability: np.ndarray | None = None) -> FrameLabels:
    """Confident nodule / confident background / uncertain band plus the fused best-guess mask.

    image: (H, W) gray uint8. calipers: one set per nodule (each labelled separately).
    probability: optional (H, W) float nodule probability from a trained model; without it a classical
    segmenter seeded by the caliper geometry and the image plays the part of S."""
    shape = image.shape[:2]
    segments = [segment_nodule(image, cal, probability) for cal in calipers]
    return fuse_labels(shape, calipers, segments)
