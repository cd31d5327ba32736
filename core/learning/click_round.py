"""One background run of the click network: fine-tune it (from the click network in use, else from scratch)
on the project's accepted masks, and score it and the model in use with the simulated user (RITM robot clicks
through the interactive engine, NoC@85) on the same held-out accepted masks, frame by frame."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.interactive.clicks_benchmark import run_frame
from core.io.readers import read_frame
from core.learning.better import held_out_count
from core.learning.snapshot import LabelledFrame, snapshot_mask
from core.training.click_samples import ClickFrame
from core.training.click_task import ClickTrainConfig, train_click_model
from core.training.progress import StopSignal, TrainEvent
from models.checkpoint_header import read_metadata

NOC_THRESHOLD = 0.85
MAX_CLICKS = 20
STEPS_PER_EPOCH = 10
# from a trained network, a tenth of the from-scratch rate with the encoder frozen: on the session's first 10 / 30
# DDTI val frames, the starter's NoC@90 on the next 10 went 7.8 / 8.4 -> 7.9 / 7.5 (100 steps, 40 s), against
# 7.4 / 8.7 without freezing and 8.4 / 8.7 with the old 200 steps at 1e-3 (bench/session_diagnostic.py)
FINE_TUNE_LR = 3e-4
FINE_TUNE_FROZEN_ENCODER = True


@dataclass(frozen=True)
class ClickRoundConfig:
    minutes: float | None = 1.0
    steps: int = 100  # an upper bound on optimiser steps, whatever the clock allows
    threads: int = 1
    seed: int = 0
    device: str = "cpu"


def click_frames(snapshot_path: str | Path, entries: list[LabelledFrame]) -> list[ClickFrame]:
    """The accepted masks of the snapshot as click-training frames, and its "no nodule" frames with an empty
    truth (negatives: core.training.click_samples erases false blobs on them); other frames are left out."""
    frames = []
    for entry in entries:
        mask = snapshot_mask(snapshot_path, entry)
        if entry.no_nodule or (mask is not None and mask.any()):
            image = read_frame(entry.source, entry.index).gray_u8()
            frames.append(ClickFrame(f"frame{entry.frame_id}", image,
                                     np.zeros(image.shape[:2], bool) if entry.no_nodule else mask))
    return frames


def with_nodule(frames: list[ClickFrame]) -> list[ClickFrame]:
    return [f for f in frames if f.truth.any()]


def split_held_out(frames: list[ClickFrame], seed: int) -> tuple[list[ClickFrame], list[ClickFrame]]:
    """A seeded share of the frames with a nodule held out for the comparison (core.learning.better.
    held_out_count); negatives always train (clicks to a nodule cannot be counted on them)."""
    nodules = [i for i, f in enumerate(frames) if f.truth.any()]
    n_held = held_out_count(len(nodules))
    if n_held == 0:
        return frames, []
    picked = set(np.random.default_rng(seed).choice(nodules, size=n_held, replace=False).tolist())
    return ([f for i, f in enumerate(frames) if i not in picked], [f for i, f in enumerate(frames) if i in picked])


def noc_per_frame(model_path: Path | None, frames: list[ClickFrame], threads: int = 1,
                  probabilities: list[np.ndarray | None] | None = None) -> list[float]:
    """Clicks the simulated user needs for IoU >= 0.85 on each frame (MAX_CLICKS if never), with the click
    network `model_path` (None: the engine without one), from nothing or from a frame model's probabilities."""
    predictor = None
    if model_path is not None:
        from core.interactive.click_network import ClickPredictor

        predictor = ClickPredictor.load(model_path, threads=threads)
    scores = []
    for k, frame in enumerate(frames):
        probability = None if probabilities is None else probabilities[k]
        run = run_frame(frame.image, frame.truth, "none", MAX_CLICKS, 0.0, np.random.default_rng(0), probability,
                        click_model=predictor)
        scores.append(float(run.noc(NOC_THRESHOLD, MAX_CLICKS)))
    return scores


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def round_training_config(cfg: ClickRoundConfig, init: Path | None) -> ClickTrainConfig:
    """The click network's training settings for one round of at most cfg.steps steps: fine-tuned from `init` at
    a low rate with the encoder frozen, else from scratch; strong appearance changes (other organs)."""
    train_cfg = ClickTrainConfig(epochs=max(1, cfg.steps // STEPS_PER_EPOCH), minutes=cfg.minutes, seed=cfg.seed,
                                 threads=cfg.threads, device=cfg.device, appearance="strong")
    train_cfg.repeat_to = STEPS_PER_EPOCH * train_cfg.batch_size
    if init is not None:
        train_cfg.init_checkpoint, train_cfg.lr = str(init), FINE_TUNE_LR
        train_cfg.freeze_encoder = FINE_TUNE_FROZEN_ENCODER
        train_cfg.resolution = int(read_metadata(init)["resolution"])
    return train_cfg


def train_click_round(frames: list[ClickFrame], out_path: Path, init: Path | None, baseline: Path | None,
                      cfg: ClickRoundConfig, on_event: Callable[[TrainEvent], None] | None = None,
                      stop: StopSignal | None = None) -> dict:
    """Train one click-network version and score it against `baseline` (the click network in use, None: the
    engine without one) on the held-out frames. Returns the version's report (see train-project's done event)."""
    train_frames, held_out = split_held_out(frames, cfg.seed)
    train_cfg = round_training_config(cfg, init)
    result = train_click_model(train_frames, [], train_cfg, out_path, on_event, stop,
                               {"trained_on": "project accepted masks", "n_train": len(train_frames),
                                "fine_tuned_from": str(init) if init else None})
    scores = noc_per_frame(out_path, held_out, cfg.threads)
    baseline_scores = noc_per_frame(baseline, held_out, cfg.threads)
    return {"checkpoint": str(out_path), "val_dice": _mean(scores), "baseline_val_dice": _mean(baseline_scores),
            "frame_scores": scores, "baseline_frame_scores": baseline_scores, "lower_is_better": True,
            "validated_on": "held-out accepted masks (NoC@85)", "n_val": len(held_out),
            "n_train": len(train_frames), "epochs": result.epochs, "steps": result.steps,
            "seconds": round(result.seconds, 1), "stopped_by": result.stopped_by}
