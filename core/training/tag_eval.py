"""Scoring a network trained from frame-level labels: Dice on nodule frames, false-positive frames on
nodule-free ones (a frame counts when the predicted nodule covers at least FP_AREA_SHARE of it), and the Dice of
each way of turning a localisation map into a draft mask (core.labels.proposal)."""
from __future__ import annotations

import numpy as np

from core.labels.proposal import propose_mask
from core.runtime.metrics import dice

FP_AREA_SHARE = 0.01


def false_positive_frames(probabilities: list[np.ndarray], area_share: float = FP_AREA_SHARE) -> int:
    """How many maps of nodule-free frames predict nodule (p > 0.5) on at least `area_share` of the frame."""
    return sum(int(float((p > 0.5).mean()) >= area_share) for p in probabilities)


def mean_dice(probabilities: list[np.ndarray], truths: list[np.ndarray]) -> float:
    """Mean Dice of the maps thresholded at 0.5 against the truths."""
    if not truths:
        return float("nan")
    return float(np.mean([dice(p > 0.5, t) for p, t in zip(probabilities, truths)]))


def proposal_dice(images: list[np.ndarray], maps: list[np.ndarray] | None, truths: list[np.ndarray],
                  method: str) -> float:
    """Mean Dice of propose_mask(image, map, method) against the truths (maps None: the ellipse baseline)."""
    if not truths:
        return float("nan")
    scores = [dice(propose_mask(image, None if maps is None else maps[k], method), truths[k])
              for k, image in enumerate(images)]
    return float(np.mean(scores))


def mean_area_percent(probabilities: list[np.ndarray]) -> float:
    """Mean share of the frame predicted nodule (p > 0.5), in percent: on nodule-free frames, a steadier measure
    of false positives than the count of frames over FP_AREA_SHARE (one frame of 20 is 5 % of that count)."""
    if not probabilities:
        return float("nan")
    return 100.0 * float(np.mean([(p > 0.5).mean() for p in probabilities]))
