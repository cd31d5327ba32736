"""What a training run reports (progress events, the result) and how to ask it to stop."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from models.unet import UNet


@dataclass
class TrainEvent:
    kind: str  # "start" | "step" | "epoch" | "refresh" | "done"
    epoch: int
    step: int
    elapsed_s: float
    eta_s: float | None
    losses: dict[str, float] = field(default_factory=dict)
    val_dice: float | None = None  # the task's validation figure (the click network's: IoU after 3 clicks)
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
