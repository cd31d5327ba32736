"""Training frames for frame-level labels: each frame at the working resolution with one kind of label (an
accepted mask, a "no nodule" tag, a "nodule present" tag, points), read from a dataset folder whose
`tags.csv` (`stem,class`) names the frames without a nodule, or made nodule-free by cropping
(core.training.negatives); and the bench's label mixes over the same frames."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import InputError
from core.io.dataset import DatasetItem
from core.training.negatives import nodule_crops, nodule_free_crops
from models.preprocess import content_box, crop_resize
from models.tag_losses import MASK, NO_NODULE, NODULE

NO_NODULE_CLASSES = ("normal", "no_nodule")  # tags.csv classes that mean "no nodule in this frame"


@dataclass
class TagFrame:
    stem: str
    image: np.ndarray  # (R, R) uint8
    kind: int  # models.tag_losses kind: MASK, NO_NODULE, NODULE or POINTS
    label: np.ndarray | None = None  # (R, R) bool: the mask (MASK) or the points' discs (POINTS)
    truth: np.ndarray | None = None  # (R, R) bool ground truth for evaluation (all False on nodule-free frames)
    zoomed: bool = False  # a crop of a frame, shown larger than whole frames show it (core.training.negatives)


def read_frame_classes(path: str | Path) -> dict[str, str]:
    """`stem,class` rows (a header row `stem,class` is skipped) -> {stem: class}."""
    path = Path(path)
    try:
        with path.open(newline="") as f:
            rows = [row for row in csv.reader(f) if row]
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, f"cannot read frame classes ({exc})") from exc
    if rows and [c.strip().lower() for c in rows[0][:2]] == ["stem", "class"]:
        rows = rows[1:]
    bad = [row for row in rows if len(row) < 2]
    if bad:
        raise InputError(path, f"row {bad[0]!r} is not `stem,class`")
    return {row[0].strip(): row[1].strip().lower() for row in rows}


def load_tag_frames(items: list[DatasetItem], resolution: int, classes: dict[str, str] | None = None
                    ) -> list[TagFrame]:
    """Every item cropped to its content box and resized; a frame is nodule-free when `classes` says so or its
    mask is empty. Kinds start as MASK / NO_NODULE (the full labels); `relabel` turns them into weaker ones."""
    frames = []
    for item in items:
        image = item.frame().gray_u8()
        box = content_box(image)
        mask = item.mask()
        truth = (crop_resize(mask.astype(np.uint8), box, resolution, nearest=True) > 0 if mask is not None
                 else np.zeros((resolution, resolution), bool))
        no_nodule = (classes or {}).get(item.stem) in NO_NODULE_CLASSES or not truth.any()
        if no_nodule:
            truth = np.zeros_like(truth)
        frames.append(TagFrame(item.stem, crop_resize(image, box, resolution), NO_NODULE if no_nodule else MASK,
                               None if no_nodule else truth, truth))
    return frames


def crop_negatives(items: list[DatasetItem], resolution: int, per_frame: int, seed: int,
                   with_nodule_crops: bool = False) -> list[TagFrame]:
    """Nodule-free crops (core.training.negatives) of frames with a nodule, as NO_NODULE frames. with_nodule_crops:
    as many crops that hold the frame's nodule (MASK frames, the mask cropped with them), so that being zoomed in
    does not tell a network "no nodule" (for training; the negatives drawn are the same either way)."""
    rng, nodule_rng = np.random.default_rng(seed), np.random.default_rng([seed, 1])
    frames = []
    for item in items:
        mask = item.mask()
        if mask is None or not mask.any():
            continue
        image = item.frame().gray_u8()
        crops = nodule_free_crops(image, mask, per_frame, resolution, rng)
        for k, crop in enumerate(crops):
            frames.append(TagFrame(f"{item.stem}_crop{k}", crop.image, NO_NODULE, None,
                                   np.zeros((resolution, resolution), bool), zoomed=True))
        if with_nodule_crops and crops:
            for k, crop in enumerate(nodule_crops(image, mask > 0, len(crops), resolution, nodule_rng)):
                frames.append(TagFrame(f"{item.stem}_zoom{k}", crop.image, MASK, crop.mask, crop.mask, zoomed=True))
    return frames


def relabel(frames: list[TagFrame], masks_kept: int | None, tags: bool, negatives: bool, seed: int
            ) -> list[TagFrame]:
    """A label mix over the same frames: keep `masks_kept` seeded masks (None: all), tag the other nodule frames
    NODULE when `tags` (else drop them), keep the nodule-free frames when `negatives`."""
    nodule = [f for f in frames if f.kind != NO_NODULE]
    keep = set(range(len(nodule)))
    if masks_kept is not None:
        keep = set(np.random.default_rng(seed).choice(len(nodule), size=min(masks_kept, len(nodule)),
                                                      replace=False).tolist())
    out = []
    for k, f in enumerate(nodule):
        if k in keep:
            out.append(TagFrame(f.stem, f.image, MASK, f.truth, f.truth, f.zoomed))
        elif tags:
            out.append(TagFrame(f.stem, f.image, NODULE, None, f.truth, f.zoomed))
    if negatives:
        out.extend(f for f in frames if f.kind == NO_NODULE)
    return out
