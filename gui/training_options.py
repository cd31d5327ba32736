"""How the app's background training runs (project settings may override them): budget, network, watchdog."""
from __future__ import annotations

from dataclasses import dataclass

from models.preprocess import DEFAULT_RESOLUTION


@dataclass
class TrainingOptions:
    minutes: float | None = 3.0
    epochs: int | None = None
    preset: str = "fast"
    resolution: int = DEFAULT_RESOLUTION
    watchdog_s: float = 300.0
