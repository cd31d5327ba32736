"""Per-frame training targets at the working resolution, for each kind of supervision.

Targets are a (4, H, W) uint8 stack in the order of TARGET_CHANNELS: confident foreground, confident
background, location label (box & S, HCL-HRL's location level) and the fused best-guess mask (pseudo-label).
A pixel that is neither fg nor bg is unlabelled. For sparse labels (scribbles, boxes, points) the pseudo channel
holds ProCNS's soft pseudo-label as 0..255 once training has made one."""
from __future__ import annotations

import cv2
import numpy as np

from core.annotation.points import Calipers
from core.annotation.sparse_simulation import SparseLabels
from core.interactive.robot_user import next_click
from core.labels.high_confidence import distance_similarity_prior, high_confidence_labels

TARGET_CHANNELS = ("fg", "bg", "location", "pseudo")
SPARSE_SUPERVISIONS = ("scribbles", "boxes", "points")
SUPERVISIONS = ("calipers", "clicks", "masks", *SPARSE_SUPERVISIONS)
BOX_CORE = 0.5  # a box's confident core: the centred ellipse of this fraction of the box's half-extents


def mask_targets(mask: np.ndarray) -> np.ndarray:
    m = np.asarray(mask, bool)
    return np.stack([m, ~m, m, m]).astype(np.uint8)


def negative_targets(shape: tuple[int, int]) -> np.ndarray:
    """A frame with no nodule ("no nodule" tag, nodule-free crop): confident background everywhere, nothing in
    the location channel, an empty pseudo-label; every loss then asks for background on every pixel."""
    empty = np.zeros(shape, bool)
    return np.stack([empty, ~empty, empty, empty]).astype(np.uint8)


def in_view(calipers: Calipers, shape: tuple[int, int]) -> bool:
    """Whether any caliper end lies on the image (working resolution): a frame's content crop can leave out an
    object the calipers measure (a scanner layout the crop misreads), and then there is nothing to segment."""
    xy = calipers.as_array()
    h, w = shape
    return bool(((xy[:, 0] >= 0) & (xy[:, 0] <= w - 1) & (xy[:, 1] >= 0) & (xy[:, 1] <= h - 1)).any())


def caliper_targets(image: np.ndarray, calipers: list[Calipers], probability: np.ndarray | None = None) -> np.ndarray:
    """HCL-HRL high-confidence labels; `probability` (the current model's map) plays segmenter S's part. Calipers
    wholly off the image are left out (what they measure is not in the picture)."""
    calipers = [c for c in calipers if in_view(c, image.shape[:2])]
    labels = high_confidence_labels(image, calipers, probability=probability)
    location = np.zeros(image.shape, bool)
    for obj in labels.objects:
        location |= obj.location
    return np.stack([labels.foreground, labels.background, location, labels.mask]).astype(np.uint8)


def _disc(shape: tuple[int, int], x: int, y: int, radius: int) -> np.ndarray:
    out = np.zeros(shape, np.uint8)
    cv2.circle(out, (int(x), int(y)), int(radius), 1, -1)
    return out.astype(bool)


def simulate_clicks(mask: np.ndarray, n_positive: int = 3, n_negative: int = 3,
                    radius: int = 3) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """RITM-style robot clicks from a mask, without a model: positive clicks go to the centre of the largest
    still-unclicked part of the nodule; negative clicks to the middle of a ring around it (the usual
    over-segmentation), each time the point farthest from the error region's boundary."""
    truth = np.asarray(mask, bool)
    positives: list[tuple[int, int]] = []
    negatives: list[tuple[int, int]] = []
    if not truth.any():
        return positives, negatives
    covered = np.zeros(truth.shape, bool)
    for _ in range(n_positive):
        click = next_click(truth, covered)
        if click is None or not click.positive:
            break
        positives.append((click.x, click.y))
        covered |= _disc(truth.shape, click.x, click.y, max(radius * 4, 1))
    equivalent_radius = max(int(np.sqrt(truth.sum() / np.pi)), 2)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * equivalent_radius + 1,) * 2)
    guess = cv2.dilate(truth.astype(np.uint8), kernel).astype(bool)
    for _ in range(n_negative):
        click = next_click(truth, guess)
        if click is None or click.positive:
            break
        negatives.append((click.x, click.y))
        guess &= ~_disc(truth.shape, click.x, click.y, max(radius * 4, 1))
    return positives, negatives


def click_targets(shape: tuple[int, int], positives: list[tuple[int, int]], negatives: list[tuple[int, int]],
                  radius: int = 3) -> np.ndarray:
    """Positive discs = confident nodule, negative discs = confident background, the rest unlabelled."""
    fg = np.zeros(shape, bool)
    bg = np.zeros(shape, bool)
    for x, y in positives:
        fg |= _disc(shape, x, y, radius)
    for x, y in negatives:
        bg |= _disc(shape, x, y, radius)
    bg &= ~fg
    empty = np.zeros(shape, bool)
    return np.stack([fg, bg, empty, empty]).astype(np.uint8)


def ds_prior_channel(image: np.ndarray, points_xy: np.ndarray) -> np.ndarray:
    """The Distance-Similarity prior (algorithms.md A.4) of the annotated points, as an input channel."""
    return distance_similarity_prior(image, np.asarray(points_xy, float).reshape(-1, 2))


def sparse_targets(labels: SparseLabels) -> np.ndarray:
    """Scribbles and points: their pixels are the confident labels, the rest unlabelled. Boxes: outside every
    box is confident background; inside, the centred ellipse of BOX_CORE x the box's half-extents is confident
    nodule (a nodule filling its box is convex enough to hold it) and the box itself goes to the location
    channel, where the projection term asks every row and column of the box to hold some nodule (the
    multiple-instance tightness of BoxInst), the shape left to the image via PRSA."""
    fg, bg = labels.foreground.copy(), labels.background.copy()
    location = np.zeros(fg.shape, bool)
    for x0, y0, x1, y1 in labels.boxes:
        location[y0:y1 + 1, x0:x1 + 1] = True
        core = np.zeros(fg.shape, np.uint8)
        centre = (int(round((x0 + x1) / 2)), int(round((y0 + y1) / 2)))
        axes = (max(int(BOX_CORE * (x1 - x0) / 2), 1), max(int(BOX_CORE * (y1 - y0) / 2), 1))
        cv2.ellipse(core, centre, axes, 0, 0, 360, 1, -1)
        fg |= core.astype(bool)
    bg &= ~fg
    return np.stack([fg, bg, location, np.zeros(fg.shape, bool)]).astype(np.uint8)


def pseudo_channel(pseudo: np.ndarray) -> np.ndarray:
    """A pseudo-label as the targets' pseudo channel (uint8, 255 = nodule): a bool mask, or a float map of
    nodule probability in [0, 1] (a soft pseudo-label)."""
    if pseudo.dtype == bool:
        return pseudo.astype(np.uint8) * 255
    return np.rint(np.clip(pseudo, 0.0, 1.0) * 255).astype(np.uint8)
