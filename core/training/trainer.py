"""The one training loop (CLI and the app's background trainer): seeded, augmented, EMA weights, label
refresh, validation Dice with best-checkpoint selection, wall-clock / epoch / external stop, progress events,
mixed precision on CUDA, and DDP when started by torchrun (the same loop on every rank)."""
from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from core.runtime.device import autocast, needs_grad_scaler, select_device, set_cpu_threads
from core.runtime.metrics import dice
from core.runtime.predictor import work_probabilities
from core.training.augment import AugmentConfig, augment
from core.training.data import TrainingFrame, refresh_caliper_targets
from core.training.targets import TARGET_CHANNELS
from models.checkpoint import save_checkpoint
from models.losses import LossWeights, supervised_loss, weak_loss
from models.preprocess import DEFAULT_RESOLUTION, Normalisation, paste_back
from models.unet import ProjectionHeads, UNet, spec_from_preset


@dataclass
class TrainConfig:
    supervision: str = "calipers"  # calipers | clicks | masks
    preset: str = "fast"
    resolution: int = DEFAULT_RESOLUTION
    epochs: int | None = 60
    minutes: float | None = None
    batch_size: int = 8
    lr: float = 3e-3
    weight_decay: float = 1e-4
    warmup_fraction: float = 0.03
    ema_decay: float = 0.995
    seed: int = 0
    threads: int | None = None
    device: str = "auto"
    amp: bool = True
    refresh_every: int = 0  # epochs between label refreshes (caliper supervision); 0 = never
    extra_channels: tuple[str, ...] = ()
    loss_weights: LossWeights = field(default_factory=LossWeights)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    projection_hidden: int = 256
    step_event_every: int = 10

    def to_dict(self) -> dict:
        d = asdict(self)
        d["extra_channels"] = list(self.extra_channels)
        return d


@dataclass
class TrainEvent:
    kind: str  # "start" | "step" | "epoch" | "refresh" | "done"
    epoch: int
    step: int
    elapsed_s: float
    eta_s: float | None
    losses: dict[str, float] = field(default_factory=dict)
    val_dice: float | None = None
    best_val_dice: float | None = None
    monitor_dice: float | None = None
    lr: float = 0.0
    frames_per_s: float = 0.0


@dataclass
class TrainResult:
    epochs: int
    steps: int
    seconds: float
    best_val_dice: float | None
    best_epoch: int | None
    checkpoint: Path
    frames_per_s: float
    history: list[dict]
    stopped_by: str
    final_model: UNet | None = None  # the EMA weights at the end (the checkpoint holds the best ones)


class StopSignal:
    """Ask a running training to stop (it keeps the best checkpoint so far): from another thread with
    request(), or from another process by creating `stop_file`."""

    def __init__(self, stop_file: str | Path | None = None) -> None:
        self._event = threading.Event()
        self.stop_file = Path(stop_file) if stop_file else None

    def request(self) -> None:
        self._event.set()

    @property
    def requested(self) -> bool:
        return self._event.is_set() or (self.stop_file is not None and self.stop_file.exists())


class _TrainingNet(nn.Module):
    """Network + training-only heads; forward returns the loss terms so that DDP sees every parameter."""

    def __init__(self, unet: UNet, heads: ProjectionHeads | None, cfg: TrainConfig, seed: int) -> None:
        super().__init__()
        self.unet, self.heads, self.cfg = unet, heads, cfg
        self.generator = torch.Generator().manual_seed(seed)

    def forward(self, x: torch.Tensor, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        logits, features = self.unet.forward_features(x)
        if self.cfg.supervision == "masks":
            loss = supervised_loss(logits.float(), batch["pseudo"])
            return {"dice_bce": loss, "total": loss}
        return weak_loss(logits, features, batch, self.cfg.loss_weights, self.heads, self.generator)


class _Ema:
    def __init__(self, model: UNet, decay: float) -> None:
        self.model = UNet(model.spec).to(next(model.parameters()).device)
        self.model.load_state_dict(model.state_dict())
        self.model.eval().requires_grad_(False)
        self.decay = decay

    @torch.no_grad()
    def update(self, model: UNet, step: int) -> None:
        d = min(self.decay, (1.0 + step) / (10.0 + step))
        for e, p in zip(self.model.parameters(), model.parameters()):
            e.lerp_(p.detach(), 1.0 - d)
        for e, b in zip(self.model.buffers(), model.buffers()):
            e.copy_(b)


def _init_distributed(device: torch.device) -> tuple[int, int]:
    """(rank, world size). Initialises the process group from torchrun's environment when needed."""
    if dist.is_available() and not dist.is_initialized() and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _any_rank(flag: bool, world: int) -> bool:
    if world == 1:
        return flag
    t = torch.tensor([1.0 if flag else 0.0])
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def _make_batch(frames: list[TrainingFrame], idx: list[int], cfg: TrainConfig, norm: Normalisation,
                rng: np.random.Generator, device: torch.device) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    images, targets = [], []
    for i in idx:
        f = frames[i]
        img, lab, ext = augment(f.image, f.targets, f.extra, rng, cfg.augment)
        planes = [(img - norm.mean) / norm.std]
        if cfg.extra_channels:
            planes.extend(ext)
        images.append(np.stack(planes))
        targets.append(lab)
    x = torch.from_numpy(np.stack(images).astype(np.float32)).to(device).contiguous(memory_format=torch.channels_last)
    t = torch.from_numpy(np.stack(targets).astype(np.float32)).to(device)
    return x, {name: t[:, k:k + 1] for k, name in enumerate(TARGET_CHANNELS)}


def optimiser_step(optimizer: torch.optim.Optimizer, scaler: torch.amp.GradScaler | None,
                   loss: torch.Tensor) -> None:
    """Clear the gradients, back-propagate `loss` and step, through the AMP grad scaler when there is one."""
    optimizer.zero_grad(set_to_none=True)
    if scaler is not None:
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
    else:
        loss.backward()
        optimizer.step()


def _lr_factor(progress: float, warmup: float) -> float:
    if progress < warmup:
        return max(progress / warmup, 0.02)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, (progress - warmup) / max(1e-9, 1.0 - warmup))))


def evaluate_dice(model: UNet, frames: list[TrainingFrame], norm: Normalisation, device: torch.device) -> float:
    """Mean Dice at frame resolution (working resolution when the full mask was not kept)."""
    if not frames:
        return float("nan")
    extra = [f.extra for f in frames] if model.spec.input_channels != ("image",) else None
    probs = work_probabilities(model, [f.image for f in frames], norm, device, extra)
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


def train(frames: list[TrainingFrame], val_frames: list[TrainingFrame], cfg: TrainConfig, out_path: str | Path,
          on_event: Callable[[TrainEvent], None] | None = None, stop: StopSignal | None = None,
          monitor_frames: list[TrainingFrame] | None = None, metadata: dict | None = None,
          init_weights: str | Path | None = None) -> TrainResult:
    """Train on `frames` (targets already built), keep the EMA weights with the best Dice on `val_frames`
    (the last ones when there is no validation) at `out_path`. monitor_frames: report-only Dice, never used
    for selection; its time is not charged to the budget."""
    if not frames:
        raise ValueError("no training frames")
    if cfg.epochs is None and cfg.minutes is None:
        raise ValueError("give epochs, minutes or both")
    set_cpu_threads(cfg.threads)
    device = select_device(cfg.device)
    rank, world = _init_distributed(device)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng([cfg.seed, rank])
    stop = stop or StopSignal()
    emit = on_event if (on_event is not None and rank == 0) else (lambda event: None)
    out_path = Path(out_path)

    unet = UNet(spec_from_preset(cfg.preset, ("image", *cfg.extra_channels)))
    if init_weights is not None:
        _warm_start(unet, init_weights)
    unet = unet.to(device).to(memory_format=torch.channels_last)
    use_heads = cfg.supervision != "masks" and cfg.loss_weights.contrastive > 0
    heads = ProjectionHeads(unet.feature_channels, cfg.projection_hidden).to(device) if use_heads else None
    net: nn.Module = _TrainingNet(unet, heads, cfg, seed=cfg.seed * 1000 + rank)
    if world > 1:
        net = nn.parallel.DistributedDataParallel(net, find_unused_parameters=heads is not None)
    ema = _Ema(unet, cfg.ema_decay)
    optimizer = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    scaler = torch.amp.GradScaler("cuda") if needs_grad_scaler(device, cfg.amp) else None
    norm = Normalisation.fitted([f.image for f in frames])

    per_rank = len(frames) // world
    steps_per_epoch = max(1, per_rank // cfg.batch_size) if per_rank >= cfg.batch_size else 1
    total_steps = steps_per_epoch * cfg.epochs if cfg.epochs else None
    budget_s = cfg.minutes * 60.0 if cfg.minutes else None
    meta_base = dict(metadata or {}, resolution=cfg.resolution, normalisation=norm.to_dict(),
                     preprocess={"crop": "content_box", "resize": "square"}, training=cfg.to_dict())

    start = time.perf_counter()
    excluded = 0.0  # seconds spent on report-only monitoring
    history: list[dict] = []
    best, best_epoch, saved = -1.0, None, False
    step, epoch, frames_seen, stopped_by = 0, 0, 0, "epochs"
    losses_avg: dict[str, float] = {}

    def elapsed() -> float:
        return time.perf_counter() - start - excluded

    def progress() -> float:
        p = [step / total_steps] if total_steps else []
        if budget_s:
            p.append(elapsed() / budget_s)
        return min(1.0, max(p))

    def eta() -> float | None:
        p = progress()
        return elapsed() * (1 - p) / p if p > 0 else None

    emit(TrainEvent("start", 0, 0, 0.0, None))
    net.train()
    done = False
    while not done:
        order = np.random.default_rng([cfg.seed, epoch]).permutation(len(frames))[rank::world][:per_rank]
        for b in range(steps_per_epoch):
            if _any_rank(stop.requested, world):
                done, stopped_by = True, "stop requested"
                break
            if budget_s and _any_rank(elapsed() >= budget_s, world):
                done, stopped_by = True, "time budget"
                break
            idx = [int(i) for i in order[b * cfg.batch_size:(b + 1) * cfg.batch_size]] or [int(order[0])]
            x, batch = _make_batch(frames, idx, cfg, norm, rng, device)
            for g in optimizer.param_groups:
                g["lr"] = cfg.lr * _lr_factor(progress(), cfg.warmup_fraction)
            with autocast(device, cfg.amp):
                terms = net(x, batch)
            optimiser_step(optimizer, scaler, terms["total"])
            ema.update(unet, step)
            step += 1
            frames_seen += len(idx) * world
            for k, v in terms.items():
                value = float(v.detach())
                losses_avg[k] = 0.9 * losses_avg.get(k, value) + 0.1 * value
            if step % cfg.step_event_every == 0:
                emit(TrainEvent("step", epoch, step, elapsed(), eta(), dict(losses_avg),
                                lr=optimizer.param_groups[0]["lr"], frames_per_s=frames_seen / max(elapsed(), 1e-9)))
        else:
            epoch += 1
        if cfg.epochs and epoch >= cfg.epochs:
            done = True
        if rank == 0:
            val = evaluate_dice(ema.model, val_frames, norm, device) if val_frames else None
            t0 = time.perf_counter()
            monitor = evaluate_dice(ema.model, monitor_frames, norm, device) if monitor_frames else None
            excluded += time.perf_counter() - t0
            improved = val is not None and val > best
            if improved or (not val_frames and (done or not saved)):
                best, best_epoch = (val, epoch) if val is not None else (best, epoch)
                save_checkpoint(out_path, ema.model, dict(meta_base, metrics={"val_dice": val, "epoch": epoch,
                                                                            "step": step}))
                saved = True
            record = TrainEvent("epoch", epoch, step, elapsed(), eta(), dict(losses_avg), val,
                                best if best >= 0 else None, monitor, optimizer.param_groups[0]["lr"],
                                frames_seen / max(elapsed(), 1e-9))
            history.append(asdict(record))
            emit(record)
        if (not done and cfg.refresh_every and cfg.supervision == "calipers" and epoch > 0
                and epoch % cfg.refresh_every == 0):
            probs = work_probabilities(ema.model, [f.image for f in frames], norm, device,
                                       [f.extra for f in frames] if cfg.extra_channels else None)
            refresh_caliper_targets(frames, probs)
            emit(TrainEvent("refresh", epoch, step, elapsed(), eta()))
    seconds = elapsed()
    if world > 1:  # BN running statistics are per rank; rank 0's are the ones DDP broadcasts and we save
        for buffer in ema.model.buffers():
            dist.broadcast(buffer, 0)
        dist.barrier()
    result = TrainResult(epoch, step, seconds, best if best >= 0 else None, best_epoch, out_path,
                         frames_seen / max(seconds, 1e-9), history, stopped_by, ema.model)
    emit(TrainEvent("done", epoch, step, seconds, 0.0, dict(losses_avg), None, result.best_val_dice))
    return result
