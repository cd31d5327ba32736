"""The background trainer's region-prior round: a project with accepted thyroid-gland masks besides nodule masks
trains TRFE-Net with partial labels. A frame with only a nodule mask supervises the nodule head, one with only a
gland mask the gland head, one with both both heads. Its nodule validation is the plain round's (same frames,
same figure, last epoch kept), so the two kinds of version compare; the gland Dice of validation frames that have
a gland mask is reported alongside. It always starts from scratch: the model in use may be the plain network."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from core.io.readers import read_frame
from core.learning.snapshot import LabelledFrame, snapshot_gland_mask
from core.training.data import TrainingFrame
from core.training.progress import StopSignal, TrainEvent, TrainResult
from core.training.region_prior_task import RegionPriorConfig, train_region_prior
from models.preprocess import content_box, crop_resize


def gland_only_frame(snapshot_path: str | Path, entry: LabelledFrame, resolution: int) -> TrainingFrame:
    """A frame that has a gland mask and no nodule label, cropped and resized like a nodule frame; its truth is
    the gland."""
    image = read_frame(entry.source, entry.index).gray_u8()
    box = content_box(image)
    frame = TrainingFrame(f"frame{entry.frame_id}", crop_resize(image, box, resolution), box, image.shape[:2])
    frame.truth = _working_mask(snapshot_path, entry, frame)
    return frame


def add_gland_truth(snapshot_path: str | Path, entry: LabelledFrame, frame: TrainingFrame) -> TrainingFrame:
    """The nodule frame with its gland mask at the working resolution, when the entry has one."""
    if entry.gland_mask_file is not None:
        frame.gland_truth = _working_mask(snapshot_path, entry, frame)
    return frame


def _working_mask(snapshot_path: str | Path, entry: LabelledFrame, frame: TrainingFrame) -> np.ndarray:
    mask = snapshot_gland_mask(snapshot_path, entry)
    return crop_resize(mask.astype(np.uint8), frame.box, frame.image.shape[0], nearest=True) > 0


def train_region_prior_round(snapshot_path: str | Path, entries: list[LabelledFrame],
                             train_pairs: list[tuple[LabelledFrame, TrainingFrame]],
                             val_pairs: list[tuple[LabelledFrame, TrainingFrame]], cfg: RegionPriorConfig,
                             out_path: Path, on_event: Callable[[TrainEvent], None], stop: StopSignal,
                             metadata: dict) -> TrainResult:
    """TRFE-Net on the nodule training frames (with their gland masks where known) and every gland-only frame.
    The validation frames judge the version against the model in use, so, as in the plain round, they do not pick
    its epoch too (the last EMA weights are kept); their gland Dice is reported per epoch."""
    nodule_frames = [add_gland_truth(snapshot_path, e, f) for e, f in train_pairs]
    gland_frames = [gland_only_frame(snapshot_path, e, cfg.resolution) for e in entries
                    if e.gland_mask_file is not None and not e.has_nodule_labels]
    gland_val = [_gland_validation_frame(snapshot_path, e, f) for e, f in val_pairs if e.gland_mask_file]
    return train_region_prior(nodule_frames, gland_frames, [], gland_val, cfg, out_path,
                              on_event, stop, metadata)


def _gland_validation_frame(snapshot_path: str | Path, entry: LabelledFrame, frame: TrainingFrame) -> TrainingFrame:
    gland = TrainingFrame(frame.stem, frame.image, frame.box, frame.frame_shape)
    gland.truth = _working_mask(snapshot_path, entry, frame)
    gland.truth_full = snapshot_gland_mask(snapshot_path, entry)
    return gland
