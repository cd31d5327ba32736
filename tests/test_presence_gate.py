"""The presence gate (models.presence_gate): fitted after training on frozen features when "no nodule" frames
trained the model, stored in the checkpoint as checked numbers, and applied by the predictor, which then predicts
no nodule on a frame the gate calls nodule-free and leaves the other frames' maps untouched."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from core.annotation.tags import FrameTag
from core.learning.snapshot import write_snapshot
from core.runtime.predictor import Predictor
from core.training import tag_task
from core.training.presence_gate_fit import fit_checkpoint_gate, gate_keeps
from core.training.synthetic import make_frame
from core.training.tag_task import TagTrainConfig, train_from_tags
from models.checkpoint import load_checkpoint, read_metadata, save_checkpoint
from models.errors import CheckpointError
from models.preprocess import Normalisation
from models.presence_gate import (
    METADATA_KEY,
    MIN_FRAMES_PER_CLASS,
    NODULE_FRAMES_KEPT,
    PresenceGate,
    fit_presence_gate,
    lowered_to_keep,
)
from models.tag_losses import MASK, NO_NODULE
from models.unet import build_unet
from tests.conftest import synthetic_project, train_project_round
from tests.test_tag_proposals import SIZE, blob_frame

META = {"resolution": 32, "normalisation": {"mean": 0.3, "std": 0.2}}


def features(seed: int, n: int, shift: float) -> np.ndarray:
    x = np.random.default_rng(seed).normal(0.0, 1.0, (n, 6))
    x[:, 0] += shift  # one informative feature among noise ones
    return x


def test_the_fit_separates_the_classes_deterministically_and_round_trips() -> None:
    x = np.concatenate([features(0, 40, 2.0), features(1, 40, -2.0)])
    y = np.array([True] * 40 + [False] * 40)
    gate = fit_presence_gate(x, y)
    assert gate is not None and gate == fit_presence_gate(x, y)
    held_out = np.concatenate([features(2, 30, 2.0), features(3, 30, -2.0)])
    keeps = gate.keeps(torch.from_numpy(held_out).float()).numpy()
    assert keeps[:30].mean() >= 0.9 and keeps[30:].mean() <= 0.1
    assert PresenceGate.from_dict(json.loads(json.dumps(gate.to_dict()))) == gate


def test_too_few_frames_of_either_class_fit_no_gate() -> None:
    few = MIN_FRAMES_PER_CLASS - 1
    x = np.concatenate([features(0, 40, 2.0), features(1, few, -2.0)])
    assert fit_presence_gate(x, np.array([True] * 40 + [False] * few)) is None
    assert fit_presence_gate(x, np.array([False] * 40 + [True] * few)) is None


def test_the_threshold_drops_only_as_far_as_keeping_the_share_of_training_nodule_frames_needs() -> None:
    overlapping = np.concatenate([features(0, 200, 0.5), features(1, 200, -0.5)])
    y = np.array([True] * 200 + [False] * 200)
    plain = fit_presence_gate(overlapping, y, nodule_frames_kept=None)
    cautious = fit_presence_gate(overlapping, y, nodule_frames_kept=0.98)
    assert plain is not None and cautious is not None and plain.threshold == 0.5
    assert cautious.weight == plain.weight and cautious.threshold < 0.5
    kept = cautious.keeps(torch.from_numpy(overlapping[y]).float()).numpy()
    assert kept.mean() >= 0.98 and kept.mean() < 1.0  # no lower than needed: the least sure nodule frames fall out
    assert plain.keeps(torch.from_numpy(overlapping[y]).float()).numpy().mean() < 0.98
    separable = np.concatenate([features(0, 200, 8.0), features(1, 200, -8.0)])
    assert fit_presence_gate(separable, y, nodule_frames_kept=0.98).threshold == 0.5  # never raised


def test_held_out_nodule_frames_the_gate_is_less_sure_of_lower_its_threshold_never_raise_it() -> None:
    x = np.concatenate([features(0, 200, 3.0), features(1, 200, -3.0)])
    y = np.array([True] * 200 + [False] * 200)
    gate = fit_presence_gate(x, y, nodule_frames_kept=0.98)
    unsure = features(5, 20, 0.0)  # new nodule frames, half-way between the classes
    lowered = lowered_to_keep(gate, unsure, 0.98)
    assert lowered.weight == gate.weight and lowered.threshold < gate.threshold
    assert lowered.keeps(torch.from_numpy(unsure).float()).all()  # 98 % of 20 frames: every one
    assert not gate.keeps(torch.from_numpy(unsure).float()).all()
    sure = features(6, 20, 6.0)
    assert lowered_to_keep(gate, sure, 0.98) == gate
    assert lowered_to_keep(gate, np.zeros((0, 6)), 0.98) == gate


def test_a_project_round_keeps_its_held_out_nodule_frames_through_the_gate(tmp_path: Path, capsys,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from core.commands import train_project

    calls = []

    def fit(path, images, has_nodule, nodule_frames_kept=None, held_out_nodule_images=None):
        calls.append((len(images), list(has_nodule), len(held_out_nodule_images or [])))
        return fit_checkpoint_gate(path, images, has_nodule, nodule_frames_kept, held_out_nodule_images)

    monkeypatch.setattr(train_project, "fit_checkpoint_gate", fit)
    n_masks, n_free = 10, MIN_FRAMES_PER_CLASS
    done = train_project_round(masks_and_negatives_snapshot(tmp_path, n_masks, n_free), tmp_path / "run", capsys)
    (n_train, has_nodule, n_held_out), = calls
    assert n_held_out == done["n_val"] == MIN_FRAMES_PER_CLASS  # the held-out masks, none of them trained on
    assert n_train + n_held_out == n_masks + n_free and has_nodule.count(False) == n_free


def masks_and_negatives_snapshot(tmp_path: Path, n_masks: int, n_free: int) -> Path:
    """A synthetic project's snapshot: `n_masks` frames with a painted mask, then `n_free` tagged no nodule."""
    store = synthetic_project(tmp_path, range(1, n_masks + n_free + 1),
                              nodule_free=tuple(range(n_masks + 1, n_masks + n_free + 1)))
    ids = [r.id for r in store.frames()]
    for k in range(n_masks):
        store.set_mask(ids[k], 0, make_frame(k + 1, (64, 80)).mask, "painted")
    store.set_tag(ids[n_masks:], FrameTag.NO_NODULE)
    snapshot = write_snapshot(store, tmp_path / "snap")
    store.close()
    return snapshot


def saved_unet(path: Path, gate: dict | None) -> Path:
    torch.manual_seed(0)
    unet = build_unet("tiny")
    return save_checkpoint(path, unet, {**META, **({METADATA_KEY: gate} if gate else {})})


def gate_dict(bias: float, n_features: int) -> dict:
    return {"features": "deepest_mean_max", "weight": [0.0] * n_features, "bias": bias, "threshold": 0.5}


def test_the_predictor_blanks_a_frame_the_gate_calls_empty_and_leaves_the_others(tmp_path: Path) -> None:
    n = 2 * build_unet("tiny").spec.widths[-1]
    image = make_frame(3, (48, 64)).image
    plain = Predictor.load(saved_unet(tmp_path / "plain.safetensors", None), device="cpu").predict(image)
    kept = Predictor.load(saved_unet(tmp_path / "yes.safetensors", gate_dict(20.0, n)), device="cpu").predict(image)
    empty = Predictor.load(saved_unet(tmp_path / "no.safetensors", gate_dict(-20.0, n)), device="cpu")
    assert plain.max() > 0.0 and np.array_equal(plain, kept)
    assert not empty.predict(image).any()
    assert not empty.predict_batch([image, image[::-1]])[1].any()


def test_the_predictor_says_the_gates_probability_and_keeps_the_map_it_blanked(tmp_path: Path) -> None:
    n = 2 * build_unet("tiny").spec.widths[-1]
    image = make_frame(3, (48, 64)).image
    plain = Predictor.load(saved_unet(tmp_path / "plain.safetensors", None), device="cpu").predict_frame(image)
    assert plain.presence is None and plain.withheld is None and plain.probability.max() > 0.0
    blanked = Predictor.load(saved_unet(tmp_path / "no.safetensors", gate_dict(-3.0, n)),
                             device="cpu").predict_frame(image)
    assert blanked.presence == pytest.approx(1.0 / (1.0 + np.exp(3.0)), abs=1e-6)
    assert not blanked.probability.any()
    assert blanked.withheld is not None and np.array_equal(blanked.withheld, plain.probability)
    kept = Predictor.load(saved_unet(tmp_path / "yes.safetensors", gate_dict(1.0, n)),
                          device="cpu").predict_frame(image)
    assert kept.presence == pytest.approx(1.0 / (1.0 + np.exp(-1.0)), abs=1e-6)
    assert np.array_equal(kept.probability, plain.probability) and kept.withheld is None


@pytest.mark.parametrize(("gate", "message"), [
    ({"weight": [0.0] * 3, "bias": 0.0}, "finite weights"),
    ({"bias": 0.0}, "finite weights"),
    ("gate", "finite weights"),
    ("nan-bias", "finite bias"),
    ("threshold-1", "threshold in"),
])
def test_a_malformed_gate_is_refused(tmp_path: Path, gate, message: str) -> None:
    n = 2 * build_unet("tiny").spec.widths[-1]
    if gate == "nan-bias":
        gate = gate_dict(float("nan"), n)
    elif gate == "threshold-1":
        gate = {**gate_dict(0.0, n), "threshold": 1.0}
    path = saved_unet(tmp_path / "model.safetensors", gate)
    with pytest.raises(CheckpointError, match=message):
        read_metadata(path)


def test_the_tag_trainer_fits_its_gate_by_the_configured_threshold_rule(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    rules: list[float | None] = []

    def fit(path, images, has_nodule, nodule_frames_kept=None):
        rules.append(nodule_frames_kept)
        return fit_checkpoint_gate(path, images, has_nodule, nodule_frames_kept)

    monkeypatch.setattr(tag_task, "fit_checkpoint_gate", fit)
    train = [blob_frame(s, False) for s in range(100, 106)]
    train += [type(f)(f.stem, f.image, MASK, f.truth, f.truth) for f in (blob_frame(s, True) for s in range(6))]
    cfg = TagTrainConfig(epochs=1, batch_size=8, threads=1, resolution=SIZE, seed=0)
    train_from_tags(train, cfg, tmp_path / "default.safetensors")
    train_from_tags(train, replace(cfg, gate_nodule_frames_kept=None), tmp_path / "plain.safetensors")
    assert rules == [NODULE_FRAMES_KEPT, None] and METADATA_KEY in read_metadata(tmp_path / "plain.safetensors")
    assert read_metadata(tmp_path / "default.safetensors")[METADATA_KEY]["threshold"] <= 0.5


def test_training_with_negatives_saves_a_gate_that_tells_held_out_frames_apart(tmp_path: Path) -> None:
    def with_mask(seed: int):
        frame = blob_frame(seed, True)
        return type(frame)(frame.stem, frame.image, MASK, frame.truth, frame.truth)

    train = [with_mask(s) for s in range(12)] + [blob_frame(s, False) for s in range(100, 112)]
    cfg = TagTrainConfig(epochs=3, batch_size=8, threads=1, resolution=SIZE, seed=0)
    out = tmp_path / "model.safetensors"
    train_from_tags(train, cfg, out)
    assert METADATA_KEY in read_metadata(out)
    predictor = Predictor.load(out, device="cpu", threads=1)
    nodules = [blob_frame(s, True) for s in range(200, 210)]
    empties = [blob_frame(s, False) for s in range(300, 310)]
    unet, meta = load_checkpoint(out)
    norm = Normalisation.from_dict(meta["normalisation"])
    assert gate_keeps(unet, predictor.gate, [f.image for f in nodules], norm).sum() >= 9
    empty_keeps = gate_keeps(unet, predictor.gate, [f.image for f in empties], norm)
    assert empty_keeps.sum() <= 1
    assert gate_keeps(unet, predictor.gate, [], norm).shape == (0,)
    assert all(not predictor.predict(f.image).any() for f, keep in zip(empties, empty_keeps) if not keep)

    masks_only = [f for f in train if f.kind != NO_NODULE]
    train_from_tags(masks_only, cfg, tmp_path / "masks_only.safetensors")
    assert METADATA_KEY not in read_metadata(tmp_path / "masks_only.safetensors")



def test_a_project_round_with_enough_no_nodule_frames_fits_the_gate(tmp_path: Path, capsys) -> None:
    n = MIN_FRAMES_PER_CLASS
    done = train_project_round(masks_and_negatives_snapshot(tmp_path, n, n), tmp_path / "run", capsys)
    assert done["event"] == "done"
    assert METADATA_KEY in read_metadata(done["checkpoint"])
