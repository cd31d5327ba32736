"""The one training loop, shared by every network (MONAI Label's train-task idea): a TrainingTask supplies the
network, batches, loss and validation; the loop owns the seed, stop signals, epoch / wall-clock budget, the
warm-up + cosine schedule, EMA weights, best-checkpoint selection, progress events, mixed precision on CUDA
and DDP when started by torchrun (the same loop on every rank)."""
from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.runtime.device import autocast, needs_grad_scaler, select_device, set_cpu_threads
from core.training.distributed import any_rank, init_distributed, share_rank0_buffers
from core.training.ema import Ema
from core.training.progress import StopSignal, TrainEvent, TrainResult
from core.training.schedule import Budget, lr_factor
from models.checkpoint import save_checkpoint
from models.networks import Network


@dataclass
class LoopConfig:
    """What the loop itself needs; each task's config adds its own fields."""

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
    step_event_every: int = 10


class TrainingTask(ABC):
    """One kind of network to train. The loop calls build() once (after seeding torch), then per step
    batch() and the training module's forward on it, per epoch validate() / monitor() on the EMA weights
    (rank 0 only) and refresh_targets() between epochs."""

    config: LoopConfig
    metric: str = "val_dice"  # the validation figure's name in the checkpoint's metrics
    find_unused_parameters: bool = False  # DDP: some parameters of the training module get no gradient
    frames_per_item: int = 1  # frames in one training item (a nodule frame + a gland frame: 2), for frames/s

    @property
    @abstractmethod
    def size(self) -> int:
        """Number of training items; an epoch is one seeded permutation of them."""

    @abstractmethod
    def build(self, device: torch.device, rank: int) -> tuple[Network, nn.Module]:
        """(the network whose EMA is validated and saved, the training module around it whose forward takes
        a batch's tensors and returns the loss terms, "total" among them)."""

    @abstractmethod
    def batch(self, indices: list[int]) -> tuple:
        """The training module's arguments for these training items (on the device)."""

    @abstractmethod
    def validate(self, model: Network) -> float | None:
        """The figure that selects the best checkpoint (higher is better); None without validation data."""

    @abstractmethod
    def checkpoint_metadata(self) -> dict:
        """What a checkpoint must record to be used (resolution, normalisation, preprocessing, config)."""

    def monitor(self, model: Network) -> float | None:
        """A report-only figure; its time is not charged to the budget."""
        return None

    def refresh_targets(self, epoch: int, model: Network) -> bool:
        """Between epochs: renew the training targets with the current weights; True when it did."""
        return False


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


def run_training(task: TrainingTask, out_path: str | Path, on_event: Callable[[TrainEvent], None] | None = None,
                 stop: StopSignal | None = None, metadata: dict | None = None,
                 clock: Callable[[], float] = time.perf_counter) -> TrainResult:
    """Train `task`'s network, keep the EMA weights with the best validation figure at `out_path` (without
    validation: those after the first epoch, then the last ones). `clock` measures the minute budget."""
    if task.size == 0:
        raise ValueError("no training frames")
    if task.config.epochs is None and task.config.minutes is None:
        raise ValueError("give epochs, minutes or both")
    return _Run(task, Path(out_path), on_event, stop or StopSignal(), metadata or {}, clock).run()


class _Run:
    """The state of one run; its methods are the loop's parts."""

    def __init__(self, task: TrainingTask, out_path: Path, on_event: Callable[[TrainEvent], None] | None,
                 stop: StopSignal, metadata: dict, clock: Callable[[], float]) -> None:
        cfg = self.cfg = task.config
        self.task, self.out_path, self.stop = task, out_path, stop
        set_cpu_threads(cfg.threads)
        self.device = select_device(cfg.device)
        self.rank, self.world = init_distributed(self.device)
        self.emit = on_event if (on_event is not None and self.rank == 0) else (lambda event: None)
        torch.manual_seed(cfg.seed)
        self.network, module = task.build(self.device, self.rank)
        if self.world > 1:
            module = nn.parallel.DistributedDataParallel(module, find_unused_parameters=task.find_unused_parameters)
        self.module = module
        self.ema = Ema(self.network, cfg.ema_decay)
        self.optimizer = torch.optim.AdamW(module.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.scaler = torch.amp.GradScaler("cuda") if needs_grad_scaler(self.device, cfg.amp) else None
        self.meta = {**metadata, **task.checkpoint_metadata()}
        self.per_rank = task.size // self.world
        self.steps_per_epoch = max(1, self.per_rank // cfg.batch_size)
        self.budget = Budget(self.steps_per_epoch * cfg.epochs if cfg.epochs else None, cfg.minutes, clock)
        self.history: list[dict] = []
        self.best, self.best_epoch, self.saved = -1.0, None, False
        self.step, self.epoch, self.frames_seen, self.stopped_by = 0, 0, 0, "epochs"
        self.losses: dict[str, float] = {}

    def run(self) -> TrainResult:
        self.emit(TrainEvent("start", 0, 0, 0.0, None))
        self.module.train()
        done = False
        while not done:
            done = not self._epoch()
            if self.cfg.epochs and self.epoch >= self.cfg.epochs:
                done = True
            if self.rank == 0:
                self._end_of_epoch(done)
            if not done and self.epoch > 0 and self.task.refresh_targets(self.epoch, self.ema.model):
                self.emit(TrainEvent("refresh", self.epoch, self.step, self.budget.elapsed(),
                                     self.budget.eta(self.step)))
        return self._finish()

    def _epoch(self) -> bool:
        """One pass over this rank's share of a seeded permutation; False when a stop or the clock cut it."""
        cfg, per_rank = self.cfg, self.per_rank
        order = np.random.default_rng([cfg.seed, self.epoch]).permutation(self.task.size)
        order = order[self.rank::self.world][:per_rank]
        for b in range(self.steps_per_epoch):
            if any_rank(self.stop.requested, self.world):
                self.stopped_by = "stop requested"
                return False
            if self.budget.budget_s and any_rank(self.budget.out_of_time(), self.world):
                self.stopped_by = "time budget"
                return False
            # fewer items than a batch: the one step takes them all
            self._step([int(i) for i in order[b * cfg.batch_size:(b + 1) * cfg.batch_size]] or [int(order[0])])
        self.epoch += 1
        return True

    def _step(self, indices: list[int]) -> None:
        cfg = self.cfg
        batch = self.task.batch(indices)
        for group in self.optimizer.param_groups:
            group["lr"] = cfg.lr * lr_factor(self.budget.progress(self.step), cfg.warmup_fraction)
        with autocast(self.device, cfg.amp):
            terms = self.module(*batch)
        optimiser_step(self.optimizer, self.scaler, terms["total"])
        self.ema.update(self.network, self.step)
        self.step += 1
        self.frames_seen += len(indices) * self.world * self.task.frames_per_item
        for name, term in terms.items():
            value = float(term.detach())
            self.losses[name] = 0.9 * self.losses.get(name, value) + 0.1 * value
        if self.step % cfg.step_event_every == 0:
            self.emit(self._event("step"))

    def _event(self, kind: str, val: float | None = None, monitor: float | None = None) -> TrainEvent:
        elapsed = self.budget.elapsed()
        return TrainEvent(kind, self.epoch, self.step, elapsed, self.budget.eta(self.step), dict(self.losses), val,
                          self.best if self.best >= 0 else None, monitor, self.optimizer.param_groups[0]["lr"],
                          self.frames_seen / max(elapsed, 1e-9))

    def _end_of_epoch(self, done: bool) -> None:
        """Validate the EMA weights, keep them when they are the best so far, report the epoch."""
        val = self.task.validate(self.ema.model)
        started = self.budget.clock()
        monitor = self.task.monitor(self.ema.model)
        self.budget.exclude(self.budget.clock() - started)
        if (val is not None and val > self.best) or (val is None and (done or not self.saved)):
            if val is not None:
                self.best = val
            self.best_epoch = self.epoch
            metrics = {self.task.metric: val, "epoch": self.epoch, "step": self.step}
            save_checkpoint(self.out_path, self.ema.model, dict(self.meta, metrics=metrics))
            self.saved = True
        record = self._event("epoch", val, monitor)
        self.history.append(asdict(record))
        self.emit(record)

    def _finish(self) -> TrainResult:
        seconds = self.budget.elapsed()
        if self.world > 1:
            share_rank0_buffers(self.ema.model)
        best = self.best if self.best >= 0 else None
        result = TrainResult(self.epoch, self.step, seconds, best, self.best_epoch, self.out_path,
                             self.frames_seen / max(seconds, 1e-9), self.history, self.stopped_by, self.ema.model)
        self.emit(TrainEvent("done", self.epoch, self.step, seconds, 0.0, dict(self.losses), None, best))
        return result
