"""Masks from frame-level tags: the proposal methods on a known map, and a network trained from tags alone on
synthetic frames whose nodule is an obvious dark disc, whose CAM and attention (eraser) proposals find it."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from core.labels.proposal import centred_ellipse, propose_mask
from core.runtime.metrics import dice
from core.training.tag_data import TagFrame
from core.training.tag_task import TagTrainConfig, tag_maps, train_from_tags
from models.tag_losses import NO_NODULE, NODULE

SIZE = 48


def blob_frame(seed: int, nodule: bool) -> TagFrame:
    """Speckle-like noise, with a dark disc (radius 6-9 px) at a seeded place when `nodule`."""
    rng = np.random.default_rng(seed)
    image = rng.normal(150, 25, (SIZE, SIZE))
    truth = np.zeros((SIZE, SIZE), np.uint8)
    if nodule:
        radius = int(rng.integers(6, 10))
        cx, cy = (int(v) for v in rng.integers(radius + 2, SIZE - radius - 2, 2))
        cv2.circle(truth, (cx, cy), radius, 1, -1)
        image[truth > 0] = rng.normal(50, 15, int(truth.sum()))
    return TagFrame(str(seed), np.clip(image, 0, 255).astype(np.uint8), NODULE if nodule else NO_NODULE, None,
                    truth > 0)


def test_threshold_and_graph_cut_proposals_recover_a_blob_from_a_blurred_map() -> None:
    frame = blob_frame(3, True)
    soft = cv2.GaussianBlur(frame.truth.astype(np.float32), (0, 0), 2.0)
    soft[0:4, 0:4] = 0.9  # a small second island: the proposal keeps the largest part only
    for method in ("threshold", "graphcut"):
        proposal = propose_mask(frame.image, soft, method)
        assert dice(proposal, frame.truth) > 0.85, method
        assert not proposal[0:4, 0:4].any(), method


def test_a_map_with_nothing_above_half_still_gives_its_peak_region() -> None:
    frame = blob_frame(4, True)
    weak = 0.3 * frame.truth.astype(np.float32)
    proposal = propose_mask(frame.image, weak, "threshold")
    assert proposal.any() and proposal[frame.truth].mean() > 0.9


def test_ellipse_baseline_is_centred_and_ignores_the_map() -> None:
    ellipse = propose_mask(np.zeros((40, 60), np.uint8), None, "ellipse")
    assert ellipse[20, 30] and not ellipse[0, 0] and not ellipse[20, 5]
    assert np.array_equal(ellipse, centred_ellipse((40, 60)))
    with pytest.raises(ValueError):
        propose_mask(np.zeros((40, 60), np.uint8), None, "threshold")


def test_tags_alone_teach_a_cam_and_an_attention_mask_that_find_the_blob(tmp_path: Path) -> None:
    train = [blob_frame(s, True) for s in range(16)] + [blob_frame(s, False) for s in range(100, 116)]
    test = [blob_frame(s, True) for s in range(200, 210)]
    cfg = TagTrainConfig(epochs=8, batch_size=8, threads=1, resolution=SIZE, seed=0)
    result, net, norm = train_from_tags(train, cfg, tmp_path / "tags.safetensors")
    assert (tmp_path / "tags.safetensors").is_file() and result.steps == 32
    attention, cams = tag_maps(net, [f.image for f in test], norm)
    for name, maps in (("attention", attention), ("cam", cams)):
        scores = [dice(propose_mask(f.image, m, "graphcut"), f.truth) for f, m in zip(test, maps)]
        ellipse = [dice(propose_mask(f.image, None, "ellipse"), f.truth) for f in test]
        assert min(scores) > 0.3, (name, scores)
        assert np.mean(scores) > np.mean(ellipse) + 0.3, (name, scores)
