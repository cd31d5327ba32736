"""The click-conditioned network's training task (`train --supervision interactive`, RITM-style): batches of
simulated interaction states from frames with masks, part of them given 1-2 extra no-gradient robot rounds on
the network's own answers, Dice + BCE against the window's truth, validation IoU after 3 robot clicks."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.interactive.click_inputs import CLICK_CHANNELS
from core.training.augment import MILD_APPEARANCE, AppearanceConfig
from core.training.click_samples import ClickFrame, evaluate_clicks, make_sample, predict, robot_round
from core.training.loop import LoopConfig, TrainingTask, run_training
from core.training.progress import StopSignal, TrainEvent, TrainResult
from models.checkpoint import load_checkpoint
from models.losses import supervised_loss
from models.preprocess import Normalisation
from models.unet import UNet, spec_from_preset

APPEARANCE_PRESETS = {"mild": MILD_APPEARANCE, "strong": AppearanceConfig(),
                      "strong_speckle": AppearanceConfig(rayleigh_probability=0.25)}
CLICK_RESOLUTION = 96
# tiny runs in 8 ms at 96 px on 2 CPU cores (fast: 16 ms) and, trained 20 min on the CPU, reached a higher
# val IoU after 3 clicks (0.837) than fast did in 8 GPU minutes (0.821)
CLICK_PRESET = "tiny"


@dataclass
class ClickTrainConfig(LoopConfig):
    epochs: int | None = 40
    batch_size: int = 16
    preset: str = CLICK_PRESET
    resolution: int = CLICK_RESOLUTION
    iterate_probability: float = 0.6  # share of batches given extra robot rounds on the network's answers
    max_rounds: int = 2
    init_checkpoint: str | None = None  # fine-tune from this click network (its weights and normalisation)
    repeat_to: int = 0  # an epoch draws at least this many samples (few frames: steps, not passes, count)
    appearance: str = "mild"  # mild: gain and gamma only; strong, strong_speckle: APPEARANCE_PRESETS (other organs)
    freeze_encoder: bool = False  # fine-tuning: the encoder's weights and batch statistics stay as loaded
    lesion_echo: float = 0.0  # share of samples whose object's echogenicity is redrawn (other organs)
    first_window_scale: tuple[float, float] = (0.8, 1.2)  # a first click's window, x FIRST_CLICK_WINDOW

    def to_dict(self) -> dict:
        return asdict(self)


class _ClickLoss(nn.Module):
    """The network and its loss in one forward, so that DDP sees every parameter."""

    def __init__(self, unet: UNet, freeze_encoder: bool = False) -> None:
        super().__init__()
        self.unet, self.freeze_encoder = unet, freeze_encoder

    def forward(self, x: torch.Tensor, truth: torch.Tensor) -> dict[str, torch.Tensor]:
        if self.freeze_encoder:  # the loop puts the whole network in training mode: keep the loaded statistics
            self.unet.encoders.eval()
        logits = self.unet(x)
        with torch.autocast(x.device.type, enabled=False):
            loss = supervised_loss(logits.float(), truth)
        return {"dice_bce": loss, "total": loss}


class ClickTask(TrainingTask):
    metric = "val_iou_3_clicks"

    def __init__(self, frames: list[ClickFrame], val_frames: list[ClickFrame], cfg: ClickTrainConfig) -> None:
        self.frames, self.val_frames, self.config = frames, val_frames, cfg

    @property
    def size(self) -> int:
        return max(len(self.frames), self.config.repeat_to)

    def build(self, device: torch.device, rank: int) -> tuple[UNet, nn.Module]:
        cfg = self.config
        self.device = device
        # rank 0 keeps the single-process stream, so that one process reproduces today's runs
        self.rng = np.random.default_rng(cfg.seed if rank == 0 else [cfg.seed, rank])
        if cfg.init_checkpoint:
            self.network, meta = load_checkpoint(cfg.init_checkpoint, device="cpu", expect_channels=CLICK_CHANNELS)
            self.norm = Normalisation.from_dict(meta["normalisation"])
            self.network = self.network.to(device)
        else:
            self.norm = Normalisation.fitted([f.image for f in self.frames], every=11)
            self.network = UNet(spec_from_preset(cfg.preset, CLICK_CHANNELS)).to(device)
        self.network = self.network.to(memory_format=torch.channels_last)
        if cfg.freeze_encoder:
            self.network.encoders.requires_grad_(False)
        return self.network, _ClickLoss(self.network, cfg.freeze_encoder)

    def batch(self, indices: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        cfg, rng = self.config, self.rng
        appearance = APPEARANCE_PRESETS[cfg.appearance]
        samples = [make_sample(self.frames[i % len(self.frames)], rng, cfg.resolution, self.norm, appearance,
                               cfg.lesion_echo, tuple(cfg.first_window_scale)) for i in indices]
        planes = np.stack([s[0] for s in samples])
        targets = np.stack([s[1] for s in samples])
        if rng.random() < cfg.iterate_probability:
            self.network.eval()
            for _ in range(int(rng.integers(1, cfg.max_rounds + 1))):
                planes = robot_round(planes, targets, predict(self.network, planes, self.device, cfg.amp))
            self.network.train()
        x = torch.from_numpy(planes).to(self.device).contiguous(memory_format=torch.channels_last)
        return x, torch.from_numpy(targets[:, None]).to(self.device)

    def validate(self, model: UNet) -> float | None:
        if not self.val_frames:
            return None
        return evaluate_clicks(model, self.val_frames, self.norm, self.config.resolution, self.device)

    def checkpoint_metadata(self) -> dict:
        return {"task": "interactive", "resolution": self.config.resolution, "normalisation": self.norm.to_dict(),
                "preprocess": {"crop": "zoom_window", "resize": "square"}, "training": self.config.to_dict()}


def train_click_model(frames: list[ClickFrame], val_frames: list[ClickFrame], cfg: ClickTrainConfig,
                      out_path: str | Path, on_event: Callable[[TrainEvent], None] | None = None,
                      stop: StopSignal | None = None, metadata: dict | None = None) -> TrainResult:
    """Train, keep the EMA weights with the best validation IoU (without validation: the last ones)."""
    return run_training(ClickTask(frames, val_frames, cfg), out_path, on_event, stop, metadata)
