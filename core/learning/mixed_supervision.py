"""Mixed supervision from a project snapshot: accepted masks train fully, calipers through the HCL-HRL
high-confidence labels, clicks (and single points) as confident discs, scribbles and boxes as sparse labels
(core.learning.stroke_targets), "no nodule" frames as background everywhere (negatives); validation on accepted
masks, else on held-out calipers, else on held-out calipers and strokes (never on negatives)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from core.annotation.points import Calipers
from core.annotation.strokes import StrokeKind
from core.interactive.click_network import ClickPredictor
from core.interactive.stroke_mask import mask_from_strokes
from core.io.readers import read_frame
from core.labels.high_confidence import high_confidence_labels
from core.learning.better import held_out_count
from core.learning.snapshot import LabelledFrame, snapshot_mask
from core.learning.stroke_targets import add_network_pseudo, add_stroke_targets
from core.training.data import TrainingFrame
from core.training.targets import caliper_targets, click_targets, mask_targets, negative_targets
from models.preprocess import content_box, crop_resize, points_to_work

VALIDATED_ON_MASKS = "accepted masks"
VALIDATED_ON_CALIPERS = "held-out caliper labels"
VALIDATED_ON_SPARSE = "held-out calipers, scribbles or boxes (the mask each gives)"


def _targets(frame: TrainingFrame, has_mask: bool, no_nodule: bool = False) -> np.ndarray:
    shape = frame.image.shape
    if no_nodule:
        return negative_targets(shape)
    if has_mask and frame.truth is not None:
        targets = mask_targets(frame.truth)
    elif frame.calipers:
        targets = caliper_targets(frame.image, frame.calipers)
    else:
        targets = np.zeros((4, *shape), np.uint8)
    positives, negatives = frame.clicks
    if positives or negatives:
        clicks = click_targets(shape, [tuple(map(int, p)) for p in positives], [tuple(map(int, p)) for p in negatives])
        targets[0] = (targets[0] | clicks[0]) & ~clicks[1]
        targets[1] = (targets[1] | clicks[1]) & ~clicks[0]
    return targets


def to_training_frame(snapshot_path: str | Path, entry: LabelledFrame, resolution: int,
                      for_validation: bool = False, click_model: ClickPredictor | None = None) -> TrainingFrame:
    """Crop and resize like the dataset loader. A validation frame keeps its full-resolution truth: the
    accepted mask, or (no mask) the fused mask of its calipers. click_model: a frame with only scribbles, clicks
    or single points gets its mask from them as the pseudo-label (core.learning.stroke_targets)."""
    image = read_frame(entry.source, entry.index).gray_u8()
    box = content_box(image)
    frame = TrainingFrame(f"frame{entry.frame_id}", crop_resize(image, box, resolution), box, image.shape[:2])
    mask = snapshot_mask(snapshot_path, entry)
    if entry.no_nodule:
        mask = np.zeros(image.shape[:2], bool)
    if mask is None and for_validation:
        if entry.calipers:
            mask = high_confidence_labels(image, [Calipers.from_array(np.asarray(c)) for c in entry.calipers]).mask
        else:  # scribbles or boxes: the engine's mask from them, what the app showed the user
            mask = mask_from_strokes(image, entry.drawn_strokes())
    if mask is not None:
        frame.truth = crop_resize(mask.astype(np.uint8), box, resolution, nearest=True) > 0
        if for_validation:
            frame.truth_full = mask
    frame.calipers = [Calipers.from_array(points_to_work(np.asarray(c), box, resolution)) for c in entry.calipers]

    def work(points: list[list[float]]) -> list:
        return points_to_work(np.asarray(points, float).reshape(-1, 2), box, resolution).round().astype(int).tolist()

    frame.clicks = (work(entry.positives), work(entry.negatives))
    frame.no_nodule = entry.no_nodule
    frame.targets = _targets(frame, entry.has_mask, entry.no_nodule)
    if not entry.has_mask:  # an accepted mask says everything the strokes could
        strokes = entry.drawn_strokes()
        # a box gives the network no nodule pixel to click on: boxed frames keep the engine's mask
        by_network = click_model is not None and not any(s.kind is StrokeKind.BOX for s in strokes)
        add_stroke_targets(frame.targets, strokes, image, box, resolution, engine_pseudo=not by_network)
        if by_network:  # scribbles, clicks, points; a caliper frame's channel is full, a negative has no nodule pixel
            drawn_round = any(s.kind is StrokeKind.SCRIBBLE and not s.foreground for s in strokes)
            add_network_pseudo(frame.targets, frame.image, click_model, between_strokes=drawn_round)
    # clicks or single points alone leave the pseudo channel empty: no mask to learn, not an empty one
    frame.pseudo_known = entry.has_mask or entry.no_nodule or bool(frame.targets[3].any())
    return frame


def _outlines_a_nodule(strokes: list[dict]) -> bool:
    """A box or a nodule scribble says where a nodule is; background scribbles alone say nothing to score by."""
    return any(stroke["foreground"] for stroke in strokes)


def split_for_validation(entries: list[LabelledFrame], seed: int
                         ) -> tuple[list[LabelledFrame], list[LabelledFrame], str]:
    """Hold out a seeded share of the accepted-mask frames, enough to judge the new model by
    (core.learning.better.held_out_count); with fewer than 3 masks, hold out caliper frames instead, scored
    against the fused mask of their calipers; with too few of those, frames with calipers, scribbles or boxes,
    a stroke frame scored against the engine's mask from its strokes (else a project labelled with strokes alone
    could never judge, so never use, a model). With too few of any nothing is held out."""
    with_mask = [i for i, e in enumerate(entries) if e.has_mask]
    validated_on, pool = VALIDATED_ON_MASKS, with_mask
    if len(with_mask) < 3:
        validated_on = VALIDATED_ON_CALIPERS
        pool = [i for i, e in enumerate(entries) if e.calipers and not e.has_mask]
        if not held_out_count(len(pool)):
            validated_on = VALIDATED_ON_SPARSE
            pool = [i for i, e in enumerate(entries)
                    if (e.calipers or _outlines_a_nodule(e.strokes)) and not e.has_mask]
    n_val = held_out_count(len(pool))
    picked = set(np.random.default_rng(seed).choice(pool, size=n_val, replace=False).tolist()) if n_val else set()
    train = [e for i, e in enumerate(entries) if i not in picked]
    val = [e for i, e in enumerate(entries) if i in picked]
    return train, val, validated_on
