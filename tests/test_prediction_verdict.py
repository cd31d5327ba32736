"""The status line about a shown prediction without a nodule (core.serving.prediction_verdict): silent while the
model shows some nodule or has not answered, and naming the presence gate's probability when it is known."""
from __future__ import annotations

import numpy as np

from core.serving.prediction_verdict import prediction_verdict


def test_silent_without_a_prediction_or_with_a_nodule_in_it() -> None:
    found = np.zeros((20, 30), np.float32)
    found[5:8, 5:8] = 0.9
    assert prediction_verdict(None) == ""
    assert prediction_verdict(found) == ""
    assert prediction_verdict(found, presence=0.9) == ""


def test_says_no_nodule_and_the_gates_probability() -> None:
    faint = np.full((20, 30), 0.4, np.float32)  # nothing above the mask threshold
    assert prediction_verdict(faint) == "Model: no nodule on this frame"
    assert prediction_verdict(np.zeros((20, 30), np.float32), presence=0.07) == (
        "Model: no nodule on this frame (presence gate: 7% chance of a nodule)")


def test_points_to_propose_only_where_the_gate_blanked_a_nodule_its_segmenter_saw() -> None:
    blank = np.zeros((20, 30), np.float32)
    seen = blank.copy()
    seen[5:9, 5:9] = 0.8
    gated = "Model: no nodule on this frame (presence gate: 7% chance of a nodule)"
    assert prediction_verdict(blank, 0.07, seen, "Propose (G)") == (
        f"{gated} · its segmenter saw one: Propose (G) outlines it")
    assert prediction_verdict(blank, 0.07, np.full((20, 30), 0.3, np.float32), "Propose (G)") == gated
    assert prediction_verdict(blank, 0.07, None, "Propose (G)") == gated
