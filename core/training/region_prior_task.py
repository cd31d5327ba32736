"""The region-prior network's training task (TRFE-Net: `train --glands DIR`): frames with nodule masks and
frames with gland masks, each supervising only its own head, interleaved in every batch; a nodule frame that
also has its gland mask (`gland_truth`, a project frame with both outlined) supervises both heads. Gland frames
get their own augmentation (`gland_augment`: a dataset shipped already augmented, as TG3K is, wants flips only).
An epoch is
one pass over the nodule frames (as for the single-map network, so the two compare at equal epochs); each
nodule frame is paired with the next gland frame of a seeded order that is reshuffled whenever it runs out
(no pairing when every gland mask is on a nodule frame). The best
checkpoint is chosen on the mean of the two heads' held-out Dice (on nodule Dice alone without held-out gland
frames); the gland Dice is also reported on its own."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.training.augment import AugmentConfig, augment
from core.training.data import TrainingFrame
from core.training.frame_task import evaluate_dice
from core.training.loop import LoopConfig, TrainingTask, run_training
from core.training.progress import StopSignal, TrainEvent, TrainResult
from models.losses import containment_loss, head_masked_loss
from models.preprocess import DEFAULT_RESOLUTION, Normalisation
from models.trfe import DEFAULT_HEADS, TRFENet, trfe_spec_from_preset

NODULE, GLAND = 0, 1  # the heads' channels


@dataclass
class RegionPriorConfig(LoopConfig):
    """batch_size counts nodule frames: a batch holds batch_size of them and glands_per_nodule times as many
    gland frames."""

    preset: str = "fast"
    resolution: int = DEFAULT_RESOLUTION
    heads: tuple[str, str] = DEFAULT_HEADS
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    gland_augment: AugmentConfig = field(default_factory=AugmentConfig)  # frames that supervise the gland only
    # weight of "a nodule lies inside the gland": a nodule frame without a gland mask labels the gland head
    # positive on its nodule pixels (gland data from another source, e.g. TG3K for DDTI, leave the nodule
    # frames' glands unknown otherwise)
    nodule_in_gland: float = 0.0
    glands_per_nodule: int = 1  # gland frames paired with each nodule frame in a batch

    def to_dict(self) -> dict:
        d = asdict(self)
        d["heads"] = list(self.heads)
        return d


class _PartialLabelNet(nn.Module):
    """TRFE-Net + its loss: forward returns the per-head loss terms and their sum ("total")."""

    def __init__(self, net: TRFENet, nodule_in_gland: float) -> None:
        super().__init__()
        self.net, self.nodule_in_gland = net, nodule_in_gland

    def forward(self, x: torch.Tensor, targets: torch.Tensor, supervised: torch.Tensor) -> dict[str, torch.Tensor]:
        logits = self.net.forward_partial(x, supervised[:, NODULE])
        nodule, gland = head_masked_loss(logits, targets, supervised)
        terms = {"nodule": nodule, "gland": gland, "total": nodule + gland}
        if self.nodule_in_gland:
            rows = supervised[:, NODULE] & ~supervised[:, GLAND]
            terms["nodule_in_gland"] = containment_loss(logits[:, GLAND:GLAND + 1], targets[:, NODULE:NODULE + 1], rows)
            terms["total"] = terms["total"] + self.nodule_in_gland * terms["nodule_in_gland"]
        return terms


class RegionPriorTask(TrainingTask):
    """Nodule frames and gland frames (core.training.data.load_frames with masks: `truth` set on each)."""

    metric = "val_head_dice"  # mean of the nodule and gland held-out Dice

    def __init__(self, nodule_frames: list[TrainingFrame], gland_frames: list[TrainingFrame],
                 nodule_val: list[TrainingFrame], gland_val: list[TrainingFrame], cfg: RegionPriorConfig) -> None:
        missing = [f.stem for f in (*nodule_frames, *gland_frames) if f.truth is None]
        if missing:
            raise ValueError(f"{len(missing)} training frames have no mask, e.g. {missing[0]!r}")
        if not gland_frames and all(f.gland_truth is None for f in nodule_frames):
            raise ValueError("no gland masks: the gland head would never be trained")
        self.nodule_frames, self.gland_frames = nodule_frames, gland_frames
        self.frames_per_item = 1 + cfg.glands_per_nodule if gland_frames else 1
        self.nodule_val, self.gland_val, self.config = nodule_val, gland_val, cfg
        self.validated_gland_dice: float | None = None  # validate()'s gland figure, handed on to monitor()

    @property
    def size(self) -> int:
        return len(self.nodule_frames)

    def build(self, device: torch.device, rank: int) -> tuple[TRFENet, nn.Module]:
        cfg = self.config
        self.device = device
        self.rng = np.random.default_rng([cfg.seed, rank])
        self.gland_order: list[int] = []
        net = TRFENet(trfe_spec_from_preset(cfg.preset, cfg.heads)).to(device).to(memory_format=torch.channels_last)
        self.norm = Normalisation.fitted([f.image for f in (*self.nodule_frames, *self.gland_frames)])
        return net, _PartialLabelNet(net, cfg.nodule_in_gland)

    def next_gland_frames(self, n: int) -> list[TrainingFrame]:
        """The gland frames for the next n pairs: rounds of a seeded permutation, each round every frame once."""
        picked = []
        for _ in range(n):
            if not self.gland_order:
                self.gland_order = self.rng.permutation(len(self.gland_frames)).tolist()
            picked.append(self.gland_frames[self.gland_order.pop()])
        return picked

    def batch(self, indices: list[int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        per = self.config.glands_per_nodule
        glands = self.next_gland_frames(per * len(indices)) if self.gland_frames else []
        samples = []
        for k, i in enumerate(indices):
            nodule = self.nodule_frames[i]
            samples.append((nodule, {NODULE: nodule.truth, GLAND: nodule.gland_truth}, self.config.augment))
            if glands:
                samples.extend((g, {GLAND: g.truth}, self.config.gland_augment) for g in glands[per * k:per * (k + 1)])
        images, targets, supervised = [], [], []
        for frame, masks, how in samples:
            heads = [h for h in (NODULE, GLAND) if masks.get(h) is not None]
            img, lab, _ = augment(frame.image, np.stack([masks[h] for h in heads]).astype(np.uint8), None,
                                  self.rng, how)
            planes = np.zeros((2, *lab.shape[1:]), np.float32)
            planes[heads] = lab
            images.append(((img - self.norm.mean) / self.norm.std)[None])
            targets.append(planes)
            supervised.append([NODULE in heads, GLAND in heads])
        x = torch.from_numpy(np.stack(images).astype(np.float32)).to(self.device)
        t = torch.from_numpy(np.stack(targets)).to(self.device)
        return x.contiguous(memory_format=torch.channels_last), t, torch.tensor(supervised, device=self.device)

    def validate(self, model: TRFENet) -> float | None:
        if not self.nodule_val:
            return None
        nodule = evaluate_dice(model, self.nodule_val, self.norm, self.device)
        if not self.gland_val:
            return nodule
        self.validated_gland_dice = evaluate_dice(model, self.gland_val, self.norm, self.device, head=GLAND)
        return 0.5 * (nodule + self.validated_gland_dice)

    def monitor(self, model: TRFENet) -> float | None:
        """The gland Dice of these weights (the loop calls it right after validate(), which already has it)."""
        known, self.validated_gland_dice = self.validated_gland_dice, None
        if known is not None:
            return known
        return evaluate_dice(model, self.gland_val, self.norm, self.device, head=GLAND) if self.gland_val else None

    def checkpoint_metadata(self) -> dict:
        return {"resolution": self.config.resolution, "normalisation": self.norm.to_dict(),
                "preprocess": {"crop": "content_box", "resize": "square"}, "task": "region_prior",
                "training": self.config.to_dict()}


def train_region_prior(nodule_frames: list[TrainingFrame], gland_frames: list[TrainingFrame],
                       nodule_val: list[TrainingFrame], gland_val: list[TrainingFrame], cfg: RegionPriorConfig,
                       out_path: str | Path, on_event: Callable[[TrainEvent], None] | None = None,
                       stop: StopSignal | None = None, metadata: dict | None = None) -> TrainResult:
    """Train TRFE-Net, keep the EMA weights with the best mean of the nodule Dice on `nodule_val` and the gland
    Dice on `gland_val` at `out_path` (nodule Dice alone without `gland_val`, the last weights without
    `nodule_val`); the gland Dice is also the per-epoch monitor figure."""
    task = RegionPriorTask(nodule_frames, gland_frames, nodule_val, gland_val, cfg)
    return run_training(task, out_path, on_event, stop, metadata)
