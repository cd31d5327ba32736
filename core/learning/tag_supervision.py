"""A project snapshot as frames of the mixed-supervision task (core.training.tag_task), used when some frames
carry only a "nodule present" tag: accepted masks and the fused mask of calipers (the `pseudo-label` recipe's
target) as MASK, foreground clicks' discs and scribbles' pixels as POINTS, "no nodule" frames as NO_NODULE,
tags alone as NODULE; each kind then weighs what it tells (models.tag_losses.KindWeights)."""
from __future__ import annotations

from core.learning.snapshot import LabelledFrame
from core.training.data import TrainingFrame
from core.training.tag_data import TagFrame
from core.training.targets import TARGET_CHANNELS
from models.tag_losses import MASK, NO_NODULE, NODULE, POINTS

_FOREGROUND, _PSEUDO = TARGET_CHANNELS.index("fg"), TARGET_CHANNELS.index("pseudo")


def needs_tag_training(entries: list[LabelledFrame]) -> bool:
    """Some frame says only "nodule present": the frame task cannot use it, the mixed-supervision task can."""
    return any(entry.nodule_tag for entry in entries)


def tag_frames(entries: list[LabelledFrame], training_frames: list[TrainingFrame]) -> list[TagFrame]:
    """The snapshot's entries with their frames as mixed_supervision.to_training_frame made them."""
    frames = []
    for entry, frame in zip(entries, training_frames, strict=True):
        if entry.no_nodule:
            kind, label = NO_NODULE, None
        elif entry.has_mask:
            kind, label = MASK, frame.truth
        elif entry.calipers:
            kind, label = MASK, frame.targets[_PSEUDO] > 0
        elif entry.positives or entry.strokes:
            kind, label = POINTS, frame.targets[_FOREGROUND] > 0
        else:
            kind, label = NODULE, None
        frames.append(TagFrame(frame.stem, frame.image, kind, label, frame.truth))
    return frames
