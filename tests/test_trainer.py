"""The frame network's training (core.training.frame_task) end to end on synthetic dataset folders. The loop's
own behaviour (stop signals, budgets, determinism, best checkpoint, events) is in test_trainer_loop.py."""
from pathlib import Path

import pytest
import torch

from core.io.dataset import list_dataset
from core.training.data import hold_out, load_frames
from core.training.frame_task import TrainConfig, train
from core.training.progress import TrainEvent
from models.checkpoint import read_metadata
from tests.conftest import write_dataset

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("synthetic"), 30)


def _frames(dataset: Path, supervision: str) -> tuple[list, list]:
    train_items, val_items = hold_out(list_dataset(dataset), 0.2, seed=0)
    return (load_frames(train_items, 64, supervision, jitter=1.0),
            load_frames(val_items, 64, None, keep_full_truth=True))


def _cfg(**kw) -> TrainConfig:
    base = dict(preset="tiny", resolution=64, epochs=8, batch_size=4, lr=1e-2, threads=1, device="cpu",
                ema_decay=0.9, step_event_every=2)
    return TrainConfig(**{**base, **kw})


@pytest.mark.parametrize("supervision, floor", [("masks", 0.6), ("calipers", 0.55)])
def test_tiny_training_learns(dataset: Path, tmp_path: Path, supervision: str, floor: float) -> None:
    frames, val = _frames(dataset, supervision)
    events: list[TrainEvent] = []
    result = train(frames, val, _cfg(supervision=supervision), tmp_path / "m.safetensors", events.append)
    kinds = [e.kind for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done" and "step" in kinds
    epochs = [e for e in events if e.kind == "epoch"]
    assert len(epochs) == 8 and all(e.val_dice is not None and e.eta_s is not None for e in epochs)
    assert "total" in epochs[-1].losses
    # chance (predict everything) is about 2 * 0.1 / 1.1 = 0.2 Dice on these frames
    assert result.best_val_dice > floor
    meta = read_metadata(result.checkpoint)
    assert meta["metrics"]["val_dice"] == pytest.approx(result.best_val_dice)
    assert meta["resolution"] == 64 and meta["training"]["supervision"] == supervision


def test_label_refresh_and_ds_prior_channel(dataset: Path, tmp_path: Path) -> None:
    train_items, val_items = hold_out(list_dataset(dataset), 0.2, seed=0)
    frames = load_frames(train_items, 64, "calipers", extra_channels=("ds_prior",))
    val = load_frames(val_items, 64, "calipers", keep_full_truth=True, extra_channels=("ds_prior",))
    assert frames[0].extra.shape == (1, 64, 64)
    events: list[TrainEvent] = []
    cfg = _cfg(epochs=2, refresh_every=1, extra_channels=("ds_prior",))
    result = train(frames, val, cfg, tmp_path / "m.safetensors", events.append)
    assert [e.epoch for e in events if e.kind == "refresh"] == [1]
    assert read_metadata(result.checkpoint)["architecture"]["input_channels"] == ["image", "ds_prior"]


def test_click_supervision_builds_sparse_labels(dataset: Path) -> None:
    frames, _ = _frames(dataset, "clicks")
    f = frames[0]
    fg, bg = f.targets[0] > 0, f.targets[1] > 0
    assert f.clicks[0] and f.clicks[1]
    assert fg.any() and bg.any() and not (fg & bg).any()
    assert (fg & ~f.truth).sum() <= 2 and (bg & f.truth).sum() == 0  # discs sit on the right side
    assert (fg | bg).mean() < 0.2  # everything else stays unlabelled
