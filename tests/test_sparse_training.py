"""`train --supervision scribbles|boxes|points` end to end on synthetic frames, and ProCNS's pseudo-label
refresh inside the task."""
import argparse
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from core.cli import main
from core.commands.train import _loss_weights, _pseudo_click_model, _sparse_pseudo
from core.io.dataset import list_dataset
from core.training.data import load_frames
from core.training.frame_task import FrameTask, TrainConfig
from models.checkpoint import load_checkpoint
from models.losses import LOSS_PRESETS
from tests.click_checkpoints import click_checkpoint
from tests.test_trainer import write_dataset


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_dataset(tmp_path_factory.mktemp("sparse") / "data", 12)
    (root / "train.txt").write_text("\n".join(str(k) for k in range(9)))
    (root / "val.txt").write_text("\n".join(str(k) for k in range(9, 12)))
    return root


def test_train_from_scribbles_with_procns_runs_end_to_end(data: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture) -> None:
    run = tmp_path / "run"
    assert main(["train", "--data", str(data), "--split", str(data / "train.txt"), "--supervision", "scribbles",
                 "--out", str(run), "--epochs", "3", "--device", "cpu", "--threads", "1", "--width", "tiny",
                 "--resolution", "64", "--batch-size", "4", "--val-split", str(data / "val.txt"),
                 "--loss-weights", "procns"]) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out.strip().splitlines()[-1])
    assert summary["epochs"] == 3 and 0 <= summary["best_val_dice"] <= 1
    assert (run / "model.safetensors").exists()
    assert captured.err.count("labels refreshed") == 2  # the EMA pseudo-label after epochs 1 and 2
    history = json.loads((run / "history.json").read_text())
    assert {"partial_ce", "prsa"} <= set(history[-1]["losses"])


def test_sparse_recipes_default_to_prsa_but_boxes_to_partial_ce_with_their_tightness_term() -> None:
    assert _loss_weights("", "scribbles") == LOSS_PRESETS["prsa"]
    assert LOSS_PRESETS["prsa"] == replace(LOSS_PRESETS["procns"], pseudo_ce=0.0, noisy_dice=0.0)
    assert _loss_weights("", "points") == LOSS_PRESETS["prsa"]
    assert _loss_weights("", "boxes") == replace(LOSS_PRESETS["partial-ce"], projection=1.0)
    assert _loss_weights("procns", "boxes").projection == 1.0 and _loss_weights("", "points").projection == 0.0
    assert _loss_weights("procns", "scribbles") == LOSS_PRESETS["procns"]


@pytest.mark.parametrize("supervision", ["boxes", "points"])
def test_each_sparse_label_trains_a_step(data: Path, supervision: str) -> None:
    items = list_dataset(data, data / "train.txt")
    frames = load_frames(items, 64, supervision, seed=0)
    assert all(f.targets[0].any() and f.targets[1].any() for f in frames)
    cfg = TrainConfig(supervision=supervision, preset="tiny", resolution=64, batch_size=4, device="cpu",
                      loss_weights=_loss_weights("", supervision))
    task = FrameTask(frames, [], cfg)
    _, module = task.build(torch.device("cpu"), 0)
    terms = module(*task.batch([0, 1, 2, 3]))
    assert torch.isfinite(terms["total"]) and ("projection" in terms) == (supervision == "boxes")
    terms["total"].backward()


def test_the_pseudo_label_refresh_writes_the_ema_into_the_targets(data: Path) -> None:
    frames = load_frames(list_dataset(data, data / "train.txt"), 64, "scribbles", seed=0)
    cfg = TrainConfig(supervision="scribbles", preset="tiny", resolution=64, device="cpu",
                      loss_weights=LOSS_PRESETS["procns"])
    task = FrameTask(frames, [], cfg)
    network, _ = task.build(torch.device("cpu"), 0)
    assert task.refresh_targets(1, network)
    first = frames[0].targets[3].copy()
    assert first.any() and np.array_equal(np.rint(255 * task.pseudo_labels.soft[0]).astype(np.uint8), first)
    off = FrameTask(frames, [], TrainConfig(supervision="scribbles", loss_weights=LOSS_PRESETS["partial-ce"]))
    assert off.pseudo_labels is None and not off.refresh_targets(1, network)


def test_calipers_confident_pixels_can_feed_prsa(data: Path) -> None:
    frames = load_frames(list_dataset(data, data / "train.txt"), 64, "calipers", seed=0)
    cfg = TrainConfig(supervision="calipers", preset="tiny", resolution=64, batch_size=4, device="cpu",
                      loss_weights=_loss_weights("pseudo-label,prsa=0.1", "calipers"))
    task = FrameTask(frames, [], cfg)
    _, module = task.build(torch.device("cpu"), 0)
    terms = module(*task.batch([0, 1, 2, 3]))
    assert terms["prsa"] > 0 and torch.isfinite(terms["total"])
    assert torch.isclose(terms["total"], sum(v for k, v in terms.items() if k != "total"))


def test_engine_pseudo_labels_from_boxes_and_scribbles_train_towards_them(data: Path, tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture) -> None:
    """--sparse-pseudo engine: the engine's mask from each frame's strokes fills the pseudo channel (it finds the
    boxed nodules), points have none, and the Dice + BCE terms join partial CE; not with ProCNS's phase 2."""
    from core.runtime.metrics import iou

    items = list_dataset(data, data / "train.txt")
    boxed = load_frames(items, 64, "boxes", seed=0, sparse_pseudo=_sparse_pseudo(_engine_args(), None))
    assert all(f.pseudo_known for f in boxed)
    assert np.mean([iou(f.targets[3] > 0, f.truth) for f in boxed]) > 0.6
    pointed = load_frames(items[:3], 64, "points", seed=0, sparse_pseudo=_sparse_pseudo(_engine_args(), None))
    assert not any(f.pseudo_known for f in pointed)
    run = tmp_path / "run"
    common = ["train", "--data", str(data), "--split", str(data / "train.txt"), "--out", str(run), "--epochs", "1",
              "--device", "cpu", "--threads", "1", "--width", "tiny", "--resolution", "64", "--batch-size", "4",
              "--val-split", str(data / "val.txt"), "--sparse-pseudo", "engine"]
    assert main([*common, "--supervision", "scribbles"]) == 0
    capsys.readouterr()
    losses = json.loads((run / "history.json").read_text())[-1]["losses"]
    assert {"partial_ce", "pseudo_dice", "pseudo_bce"} <= set(losses)
    assert main([*common, "--supervision", "points"]) != 0
    assert main([*common, "--supervision", "boxes", "--loss-weights", "procns"]) != 0
    assert "engine needs --supervision" in capsys.readouterr().err


def _engine_args() -> argparse.Namespace:
    return argparse.Namespace(sparse_pseudo="engine")


def test_network_pseudo_labels_come_from_the_click_network_and_honour_the_labels(
        data: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """--sparse-pseudo network: the named click network turns each frame's scribbles or points into a mask that
    keeps every nodule pixel and no background pixel; boxes are refused (no nodule pixel to click on)."""
    from core.annotation.sparse_simulation import SIMULATORS

    click = click_checkpoint(tmp_path / "click.safetensors", seed=0)
    args = argparse.Namespace(sparse_pseudo="network", pseudo_click_model=str(click), threads=1,
                              supervision="scribbles", soft_pseudo=False, pseudo_keep=1.0, zoomed_start=False)
    items = list_dataset(data, data / "train.txt")[:3]
    frames = load_frames(items, 64, "scribbles", seed=0, sparse_pseudo=_sparse_pseudo(args, _pseudo_click_model(args)))
    first = SIMULATORS["scribbles"](frames[0].truth, np.random.default_rng(0))  # load_frames' first draw
    assert all(f.pseudo_known for f in frames)
    assert (frames[0].targets[3] > 0)[first.foreground].all()
    assert not (frames[0].targets[3] > 0)[first.background].any()
    run = tmp_path / "run"
    common = ["train", "--data", str(data), "--split", str(data / "train.txt"), "--out", str(run), "--epochs", "1",
              "--device", "cpu", "--threads", "1", "--width", "tiny", "--resolution", "64", "--batch-size", "4",
              "--val-split", str(data / "val.txt"), "--sparse-pseudo", "network", "--pseudo-click-model", str(click)]
    assert main([*common, "--supervision", "points", "--epochs", "2", "--refresh-every", "1"]) == 0
    assert capsys.readouterr().err.count("labels refreshed") == 1  # after epoch 1: the network remade them
    assert load_checkpoint(run / "model.safetensors")[1]["sparse_pseudo"] == "network"
    losses = json.loads((run / "history.json").read_text())[-1]["losses"]
    assert {"partial_ce", "pseudo_dice", "pseudo_bce"} <= set(losses)
    assert main([*common, "--supervision", "points", "--epochs", "2", "--refresh-every", "1", "--zoomed-start"]) == 0
    assert capsys.readouterr().err.count("labels refreshed") == 1
    assert main([*common, "--supervision", "boxes"]) != 0
    assert "network needs --supervision scribbles or points" in capsys.readouterr().err


def test_soft_network_pseudo_labels_fill_the_pseudo_channel_with_the_networks_doubt(
        data: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """--soft-pseudo: the pseudo channel holds the click network's probability (graded values), thresholding it
    at half gives the hard pseudo-label back, and it trains; without --sparse-pseudo network it is refused."""
    click = click_checkpoint(tmp_path / "click.safetensors", seed=0)
    items = list_dataset(data, data / "train.txt")[:3]
    made = {}
    for soft in (False, True):
        args = argparse.Namespace(sparse_pseudo="network", pseudo_click_model=str(click), threads=1,
                                  supervision="points", soft_pseudo=soft, pseudo_keep=1.0, zoomed_start=False)
        made[soft] = load_frames(items, 64, "points", seed=0,
                                 sparse_pseudo=_sparse_pseudo(args, _pseudo_click_model(args)))
    for hard, graded in zip(made[False], made[True]):
        assert np.array_equal(hard.targets[3] > 0, graded.targets[3] >= 128)
    assert any(len(np.unique(f.targets[3])) > 2 for f in made[True])
    run = tmp_path / "run"
    common = ["train", "--data", str(data), "--split", str(data / "train.txt"), "--out", str(run), "--epochs", "1",
              "--device", "cpu", "--threads", "1", "--width", "tiny", "--resolution", "64", "--batch-size", "4",
              "--val-split", str(data / "val.txt"), "--supervision", "points", "--soft-pseudo"]
    assert main([*common, "--sparse-pseudo", "network", "--pseudo-click-model", str(click)]) == 0
    capsys.readouterr()
    network = ["--sparse-pseudo", "network", "--pseudo-click-model", str(click), "--pseudo-keep", "0.5"]
    assert main([*(c for c in common if c != "--soft-pseudo"), *network]) == 0
    assert "frames train on their drawn labels alone" in capsys.readouterr().err
    assert main([*common, *network]) != 0
    assert "cannot go with --soft-pseudo" in capsys.readouterr().err
    assert main([*common, "--supervision", "scribbles", "--sparse-pseudo", "engine"]) != 0
    assert "--pseudo-keep and --zoomed-start need --sparse-pseudo network" in capsys.readouterr().err
    assert main([*(c for c in common if c != "--soft-pseudo"), "--zoomed-start"]) != 0
    assert "--zoomed-start need --sparse-pseudo network" in capsys.readouterr().err


def test_a_pseudo_refresh_remakes_the_known_pseudo_labels_from_the_networks_prediction(data: Path) -> None:
    items = list_dataset(data, data / "train.txt")[:4]
    frames = load_frames(items, 64, "scribbles", seed=0, sparse_pseudo=_sparse_pseudo(_engine_args(), None))
    frames[3].pseudo_known = False
    seen = []

    def refresh(image: np.ndarray, fg: np.ndarray, bg: np.ndarray, prob: np.ndarray) -> np.ndarray:
        seen.append((image.shape, prob.shape, fg.sum(), bg.sum()))
        return fg | (prob > 2.0)  # the nodule pixels alone: a probability never exceeds 1

    cfg = TrainConfig(supervision="scribbles", preset="tiny", resolution=64, epochs=1, batch_size=2, threads=1,
                      device="cpu", refresh_every=2, loss_weights=LOSS_PRESETS["sparse-pseudo"])
    task = FrameTask(frames, [], cfg, pseudo_refresh=refresh)
    net, _ = task.build(torch.device("cpu"), 0)
    before = frames[3].targets[3].copy()
    assert not task.refresh_targets(1, net) and seen == []  # not due
    assert task.refresh_targets(2, net)
    assert len(seen) == 3 and all(shape == (64, 64) and p == (64, 64) and fg > 0 for shape, p, fg, _ in seen)
    for frame in frames[:3]:
        assert np.array_equal(frame.targets[3] > 0, frame.targets[0] > 0) and frame.targets[3].max() == 255
    assert np.array_equal(frames[3].targets[3], before)  # it had no pseudo-label to remake
