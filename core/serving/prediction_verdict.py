"""What the frame model says about a frame whose prediction shows no nodule. Without it the user sees no mask and
cannot tell "the model looked and found nothing" (or its presence gate blanked the frame) from "no model answered"."""
from __future__ import annotations

import numpy as np

MASK_THRESHOLD = 0.5  # as core.project.frame_edits draws the predicted mask


def prediction_verdict(probability: np.ndarray | None, presence: float | None = None,
                       withheld: np.ndarray | None = None, propose: str = "Propose") -> str:
    """"" while there is no prediction or it shows some nodule; else a one-line status, with the presence gate's
    probability of a nodule when the model has a gate and it is known, and, when the gate blanked a nodule its
    segmenter saw (`withheld`, that segmenter's map), that `propose` (the action's name) outlines it."""
    if probability is None or bool((np.asarray(probability) > MASK_THRESHOLD).any()):
        return ""
    if presence is None:
        return "Model: no nodule on this frame"
    verdict = f"Model: no nodule on this frame (presence gate: {presence:.0%} chance of a nodule)"
    if withheld is not None and bool((np.asarray(withheld) > MASK_THRESHOLD).any()):
        verdict += f" · its segmenter saw one: {propose} outlines it"
    return verdict
