"""Training frames preloaded once at the working resolution (scanner margins cropped), with their calipers,
clicks, masks or sparse labels (scribbles, boxes, points simulated from masks at the working resolution), and
the deterministic hold-out of a validation subset."""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from core.annotation.caliper_simulation import calipers_from_label_map, jitter_calipers
from core.annotation.points import Calipers
from core.annotation.sparse_simulation import SIMULATORS, SparseLabels
from core.errors import InputError
from core.io.dataset import DatasetItem
from core.training.targets import (
    SPARSE_SUPERVISIONS,
    SUPERVISIONS,
    caliper_targets,
    click_targets,
    ds_prior_channel,
    mask_targets,
    pseudo_channel,
    simulate_clicks,
    sparse_targets,
)
from models.preprocess import Box, content_box, crop_resize, points_to_work

EXTRA_CHANNELS = ("ds_prior",)  # extra inputs the trainer can compute from the annotations
# a mask made from a frame's (working-resolution image, sparse labels), trained on as its pseudo-label
SparsePseudo = Callable[[np.ndarray, SparseLabels], np.ndarray]


@dataclass
class TrainingFrame:
    stem: str
    image: np.ndarray  # (R, R) uint8, the content box resized to the working resolution
    box: Box  # content box in frame pixels
    frame_shape: tuple[int, int]
    truth: np.ndarray | None = None  # (R, R) bool ground truth, when the dataset has a mask
    truth_full: np.ndarray | None = None  # (H, W) bool, kept only for validation frames
    calipers: list[Calipers] = field(default_factory=list)  # working-resolution coordinates
    clicks: tuple[list, list] = ((), ())  # (positive, negative) working-resolution (x, y)
    targets: np.ndarray | None = None  # (4, R, R) uint8, see core.training.targets.TARGET_CHANNELS
    extra: np.ndarray | None = None  # (E, R, R) float32 extra input channels
    gland_truth: np.ndarray | None = None  # (R, R) bool thyroid gland of a nodule frame (region prior), if known
    pseudo_known: bool = True  # False: the pseudo channel is empty for want of a label (clicks only), not a label
    no_nodule: bool = False  # tagged "no nodule": a negative, background everywhere


def _frame_calipers(item: DatasetItem, image: np.ndarray, truth: np.ndarray | None, jitter: float,
                    rng: np.random.Generator) -> list[Calipers]:
    if item.labels_path is not None:
        from core.io.point_json import read_point_json

        return read_point_json(item.labels_path, image_size=(image.shape[1], image.shape[0]))
    if truth is None:
        raise InputError(item.image_path, "neither labels/<stem>.json nor masks/<stem>.png to take calipers from")
    return [jitter_calipers(c, jitter, rng) for c in calipers_from_label_map(truth)]


def load_frames(items: list[DatasetItem], resolution: int, supervision: str | None, jitter: float = 0.0,
                seed: int = 0, keep_full_truth: bool = False, extra_channels: tuple[str, ...] = (),
                crop: bool = True, sparse_pseudo: SparsePseudo | None = None) -> list[TrainingFrame]:
    """Read, crop (the scanner margins; crop=False: frames already cropped to the image, e.g. TG3K's) and
    resize every frame once. supervision None loads images and masks only (validation). sparse_pseudo: sparse
    labels get the mask it makes from them (core.interactive.stroke_mask, .sparse_pseudo) as their pseudo-label
    channel."""
    if supervision is not None and supervision not in SUPERVISIONS:
        raise ValueError(f"unknown supervision {supervision!r}")
    unknown = [c for c in extra_channels if c not in EXTRA_CHANNELS]
    if unknown:
        raise ValueError(f"the trainer cannot compute input channel(s) {unknown}; it knows {list(EXTRA_CHANNELS)}")
    rng = np.random.default_rng(seed)
    frames = []
    for item in items:
        image = item.frame().gray_u8()
        full_truth = item.mask()
        if full_truth is not None and full_truth.shape != image.shape:
            raise InputError(item.mask_path, f"mask is {full_truth.shape}, image is {image.shape}")
        box = content_box(image) if crop else (0, 0, image.shape[1], image.shape[0])
        frame = TrainingFrame(item.stem, crop_resize(image, box, resolution), box, image.shape[:2])
        if full_truth is not None:
            frame.truth = crop_resize(full_truth.astype(np.uint8), box, resolution, nearest=True) > 0
            if keep_full_truth:
                frame.truth_full = full_truth
        if supervision == "masks":
            if frame.truth is None:
                raise InputError(item.image_path, "--supervision masks needs masks/<stem>.png")
            frame.targets = mask_targets(frame.truth)
        elif supervision == "calipers":
            calipers = _frame_calipers(item, image, full_truth, jitter, rng)
            frame.calipers = [Calipers.from_array(points_to_work(c.as_array(), box, resolution)) for c in calipers]
            frame.targets = caliper_targets(frame.image, frame.calipers)
        elif supervision == "clicks":
            if frame.truth is None:
                raise InputError(item.image_path, "--supervision clicks simulates clicks from masks/<stem>.png")
            frame.clicks = simulate_clicks(frame.truth)
            frame.targets = click_targets(frame.image.shape, *frame.clicks)
        elif supervision in SPARSE_SUPERVISIONS:
            if frame.truth is None:
                raise InputError(item.image_path, f"--supervision {supervision} simulates them from masks/<stem>.png")
            labels = SIMULATORS[supervision](frame.truth, rng)
            frame.targets = sparse_targets(labels)
            if sparse_pseudo is not None:
                pseudo = sparse_pseudo(frame.image, labels)
                frame.targets[3] = pseudo_channel(pseudo)  # the sparse trainer reads this channel / 255
                frame.pseudo_known = bool((pseudo >= 0.5).any())  # e.g. points to the engine (no strokes): none
        if "ds_prior" in extra_channels:
            frame.extra = ds_prior_channel(frame.image, annotation_points(frame))[None]
        frames.append(frame)
    return frames


def annotation_points(frame: TrainingFrame) -> np.ndarray:
    """All annotated points of a frame (caliper ends, else positive clicks), working-resolution (x, y)."""
    if frame.calipers:
        return np.concatenate([c.as_array() for c in frame.calipers])
    return np.asarray(frame.clicks[0], float).reshape(-1, 2)


def refresh_caliper_targets(frames: list[TrainingFrame], probabilities: list[np.ndarray]) -> None:
    """Regenerate the high-confidence labels with the current model's probability maps as segmenter S."""
    for frame, prob in zip(frames, probabilities):
        if frame.calipers:
            frame.targets = caliper_targets(frame.image, frame.calipers, probability=prob)


def hold_out(items: list[DatasetItem], fraction: float, seed: int) -> tuple[list[DatasetItem], list[DatasetItem]]:
    """Seeded split of `items` into (train, validation); validation is drawn from items that have masks."""
    with_mask = [i for i, item in enumerate(items) if item.mask_path is not None]
    n_val = int(round(fraction * len(with_mask))) if len(with_mask) >= 2 else 0
    if n_val == 0 and with_mask and fraction > 0 and len(with_mask) >= 2:
        n_val = 1
    picked = set(np.random.default_rng(seed).choice(with_mask, size=n_val, replace=False).tolist()) if n_val else set()
    return [it for i, it in enumerate(items) if i not in picked], [it for i, it in enumerate(items) if i in picked]


def data_hash(items: list[DatasetItem], supervision: str, jitter: float, seed: int) -> str:
    """sha256 over the training files' bytes and the label settings: which data a model was trained on."""
    h = hashlib.sha256(f"{supervision}|{jitter}|{seed}".encode())
    for item in items:
        h.update(item.stem.encode())
        for path in (item.image_path, item.mask_path, item.labels_path):
            if path is not None:
                h.update(path.read_bytes())
    return h.hexdigest()
