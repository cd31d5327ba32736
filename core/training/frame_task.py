"""The frame network's training task (calipers, clicks, masks or sparse labels; the CLI's and the background
trainer's `train`): augmented batches of preloaded frames, the weak, sparse (ProCNS) or supervised loss with
its projection heads, validation Dice at frame resolution, a report-only monitor split and the label refresh
between epochs (calipers: new high-confidence labels; sparse labels: ProCNS's EMA pseudo-labels and ANPM, or a
new mask made from each frame's labels starting from the network's prediction)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.runtime.metrics import dice
from core.runtime.predictor import work_probabilities
from core.training.augment import AugmentConfig, augment
from core.training.data import TrainingFrame, refresh_caliper_targets
from core.training.loop import LoopConfig, TrainingTask, run_training
from core.training.negative_slots import NegativeSlots
from core.training.progress import StopSignal, TrainEvent, TrainResult
from core.training.pseudo_labels import PseudoLabelState
from core.training.targets import SPARSE_SUPERVISIONS, TARGET_CHANNELS, pseudo_channel
from models.losses import LossWeights, supervised_loss, weak_loss
from models.networks import Network
from models.preprocess import DEFAULT_RESOLUTION, Normalisation, paste_back
from models.procns import prsa_term, sparse_loss
from models.unet import ProjectionHeads, UNet, spec_from_preset


@dataclass
class TrainConfig(LoopConfig):
    supervision: str = "calipers"  # calipers | clicks | masks | scribbles | boxes | points
    preset: str = "fast"
    resolution: int = DEFAULT_RESOLUTION
    refresh_every: int = 0  # epochs between label refreshes (calipers, or sparse labels with a PseudoRefresh)
    extra_channels: tuple[str, ...] = ()
    loss_weights: LossWeights = field(default_factory=LossWeights)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    projection_hidden: int = 256
    # frames tagged "no nodule" fill at most this share of an epoch (None: their natural share), each drawn once
    # before any twice across epochs; see NegativeSlots
    negative_share: float | None = 0.1

    def to_dict(self) -> dict:
        d = asdict(self)
        d["extra_channels"] = list(self.extra_channels)
        return d


# (working-resolution image, confident nodule pixels, confident background pixels, the network's probability)
# -> a new pseudo-label mask for a sparse-label frame (core.interactive.sparse_pseudo.mask_from_labels)
PseudoRefresh = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]


class _TrainingNet(nn.Module):
    """Network + training-only heads; forward returns the loss terms so that DDP sees every parameter."""

    def __init__(self, unet: UNet, heads: ProjectionHeads | None, cfg: TrainConfig, seed: int) -> None:
        super().__init__()
        self.unet, self.heads, self.cfg = unet, heads, cfg
        self.generator = torch.Generator().manual_seed(seed)
        self.anpm_enabled = (False, False)  # (background, nodule), set between epochs by the task

    def forward(self, x: torch.Tensor, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        if self.cfg.supervision in SPARSE_SUPERVISIONS:
            logits, encoded, decoded = self.unet.forward_levels(x)
            # ProCNS's levels: the encoder's second-to-last and the decoder's one below full resolution
            return sparse_loss(logits, encoded[-2], decoded[-2], batch, self.cfg.loss_weights, self.anpm_enabled)
        weights = self.cfg.loss_weights
        if self.cfg.supervision != "masks" and weights.prsa:  # calipers' or clicks' confident pixels feed PRSA
            logits, encoded, decoded = self.unet.forward_levels(x)
            terms = weak_loss(logits, decoded[-1], batch, weights, self.heads, self.generator)
            terms["prsa"] = weights.prsa * prsa_term(logits, encoded[-2], decoded[-2], batch)
            terms["total"] = terms["total"] + terms["prsa"]
            return terms
        logits, features = self.unet.forward_features(x)
        if self.cfg.supervision == "masks":
            loss = supervised_loss(logits.float(), batch["pseudo"])
            return {"dice_bce": loss, "total": loss}
        return weak_loss(logits, features, batch, weights, self.heads, self.generator)


def evaluate_dice(model: Network, frames: list[TrainingFrame], norm: Normalisation, device: torch.device,
                  head: int = 0) -> float:
    """Mean Dice of one head's map (the first: the nodule) at frame resolution (working resolution when the full
    mask was not kept)."""
    if not frames:
        return float("nan")
    extra = [f.extra for f in frames] if model.spec.input_channels != ("image",) else None
    probs = work_probabilities(model, [f.image for f in frames], norm, device, extra, head=head)
    scores = []
    for f, p in zip(frames, probs):
        if f.truth_full is not None:
            scores.append(dice(paste_back(p, f.box, f.frame_shape) > 0.5, f.truth_full))
        else:
            scores.append(dice(p > 0.5, f.truth))
    return float(np.mean(scores))


def _warm_start(unet: UNet, init_weights: str | Path) -> None:
    """Fine-tune from an earlier model of the same architecture (the background trainer's case)."""
    from models.checkpoint import load_checkpoint

    initial, _ = load_checkpoint(init_weights, device="cpu")
    if initial.spec != unet.spec:
        raise ValueError(f"{init_weights}: architecture {initial.spec.preset!r} differs from {unet.spec.preset!r}")
    unet.load_state_dict(initial.state_dict())


class FrameTask(TrainingTask):
    """Frames with their targets already built (core.training.data.load_frames)."""

    def __init__(self, frames: list[TrainingFrame], val_frames: list[TrainingFrame], cfg: TrainConfig,
                 monitor_frames: list[TrainingFrame] | None = None, init_weights: str | Path | None = None,
                 pseudo_refresh: PseudoRefresh | None = None) -> None:
        self.frames, self.val_frames, self.config = frames, val_frames, cfg
        self.monitor_frames, self.init_weights, self.pseudo_refresh = monitor_frames, init_weights, pseudo_refresh
        # the projection heads serve the contrastive term only, which is a constant when a batch has too few
        # confident pixels: then they get no gradient, and DDP must be told to expect that
        self.with_heads = cfg.supervision in ("calipers", "clicks") and cfg.loss_weights.contrastive > 0
        self.sparse = cfg.supervision in SPARSE_SUPERVISIONS
        weights = cfg.loss_weights
        self.pseudo_labels = PseudoLabelState() if self.sparse and (weights.pseudo_ce or weights.noisy_dice) else None
        self.find_unused_parameters = self.with_heads
        self.slots = NegativeSlots([f.no_nodule for f in frames], cfg.negative_share)

    @property
    def size(self) -> int:
        return self.slots.size

    def build(self, device: torch.device, rank: int) -> tuple[UNet, nn.Module]:
        cfg = self.config
        self.device = device
        self.rng = np.random.default_rng([cfg.seed, rank])
        self.slots.start(np.random.default_rng([cfg.seed, rank, 1]))  # each rank's own draw of the negatives
        unet = UNet(spec_from_preset(cfg.preset, ("image", *cfg.extra_channels)))
        if self.init_weights is not None:
            _warm_start(unet, self.init_weights)
        unet = unet.to(device).to(memory_format=torch.channels_last)
        heads = ProjectionHeads(unet.feature_channels, cfg.projection_hidden).to(device) if self.with_heads else None
        self.norm = Normalisation.fitted([f.image for f in self.frames])
        self.training_net = _TrainingNet(unet, heads, cfg, seed=cfg.seed * 1000 + rank)
        return unet, self.training_net

    def batch(self, items: list[int]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        cfg, norm = self.config, self.norm
        images, targets, intensities = [], [], []
        indices = [self.slots.frame(item) for item in items]
        for i in indices:
            f = self.frames[i]
            img, lab, ext = augment(f.image, f.targets, f.extra, self.rng, cfg.augment)
            intensities.append(img[None])
            planes = [(img - norm.mean) / norm.std]
            if cfg.extra_channels:
                planes.extend(ext)
            images.append(np.stack(planes))
            targets.append(lab)
        x = torch.from_numpy(np.stack(images).astype(np.float32)).to(self.device)
        t = torch.from_numpy(np.stack(targets).astype(np.float32)).to(self.device)
        x = x.contiguous(memory_format=torch.channels_last)
        batch = {name: t[:, k:k + 1] for k, name in enumerate(TARGET_CHANNELS)}
        if self.sparse:
            batch["pseudo"] = batch["pseudo"] / 255.0
        if not all(self.frames[i].pseudo_known for i in indices):
            batch["pseudo_known"] = torch.tensor([self.frames[i].pseudo_known for i in indices], device=self.device)
        if self.sparse or cfg.loss_weights.prsa:
            batch["intensity"] = torch.from_numpy(np.stack(intensities)).to(self.device)
        return x, batch

    def validate(self, model: UNet) -> float | None:
        return evaluate_dice(model, self.val_frames, self.norm, self.device) if self.val_frames else None

    def monitor(self, model: UNet) -> float | None:
        return evaluate_dice(model, self.monitor_frames, self.norm, self.device) if self.monitor_frames else None

    def refresh_targets(self, epoch: int, model: UNet) -> bool:
        cfg = self.config
        if self.pseudo_labels is not None:
            return self._refresh_pseudo_labels(model)
        due = cfg.refresh_every and epoch % cfg.refresh_every == 0
        if not due or not (cfg.supervision == "calipers" or (self.sparse and self.pseudo_refresh is not None)):
            return False
        probs = work_probabilities(model, [f.image for f in self.frames], self.norm, self.device,
                                   [f.extra for f in self.frames] if cfg.extra_channels else None)
        if cfg.supervision == "calipers":
            refresh_caliper_targets(self.frames, probs)
            return True
        assert self.pseudo_refresh is not None
        for frame, prob in zip(self.frames, probs):
            if frame.pseudo_known:  # a frame the pseudo-label maker had nothing to start from stays without
                pseudo = self.pseudo_refresh(frame.image, frame.targets[0] > 0, frame.targets[1] > 0, prob)
                frame.targets[3] = pseudo_channel(pseudo)
        return True

    def _refresh_pseudo_labels(self, model: UNet) -> bool:
        """ProCNS between epochs: every frame's EMA soft pseudo-label from the (EMA) network, ANPM's decision."""
        cfg = self.config
        probs = work_probabilities(model, [f.image for f in self.frames], self.norm, self.device,
                                   [f.extra for f in self.frames] if cfg.extra_channels else None)
        self.training_net.anpm_enabled = self.pseudo_labels.update(probs)
        for frame, soft in zip(self.frames, self.pseudo_labels.soft):
            frame.targets[3] = np.rint(255.0 * soft).astype(np.uint8)
        return True

    def checkpoint_metadata(self) -> dict:
        return {"resolution": self.config.resolution, "normalisation": self.norm.to_dict(),
                "preprocess": {"crop": "content_box", "resize": "square"}, "training": self.config.to_dict()}


def train(frames: list[TrainingFrame], val_frames: list[TrainingFrame], cfg: TrainConfig, out_path: str | Path,
          on_event: Callable[[TrainEvent], None] | None = None, stop: StopSignal | None = None,
          monitor_frames: list[TrainingFrame] | None = None, metadata: dict | None = None,
          init_weights: str | Path | None = None, pseudo_refresh: PseudoRefresh | None = None) -> TrainResult:
    """Train the frame network on `frames` (targets already built), keep the EMA weights with the best Dice on
    `val_frames` (without validation: the last ones) at `out_path`. monitor_frames: report-only Dice, never
    used for selection; its time is not charged to the budget. pseudo_refresh: sparse-label frames' new
    pseudo-labels every cfg.refresh_every epochs."""
    task = FrameTask(frames, val_frames, cfg, monitor_frames, init_weights, pseudo_refresh)
    return run_training(task, out_path, on_event, stop, metadata)
