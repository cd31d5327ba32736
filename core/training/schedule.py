"""The run's budget (epochs and/or wall-clock minutes) as a progress fraction, and the warm-up + cosine
learning-rate factor that follows it."""
from __future__ import annotations

import math
from collections.abc import Callable


def lr_factor(progress: float, warmup: float) -> float:
    """Linear warm-up over the first `warmup` of the run (from 2 %), then cosine decay to zero."""
    if progress < warmup:
        return max(progress / warmup, 0.02)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, (progress - warmup) / max(1e-9, 1.0 - warmup))))


class Budget:
    """Elapsed time on `clock`, less the time excluded (report-only work), against an optional step total
    and an optional number of minutes; progress is the further of the two."""

    def __init__(self, total_steps: int | None, minutes: float | None, clock: Callable[[], float]) -> None:
        if not total_steps and not minutes:
            raise ValueError("give epochs, minutes or both")
        self.total_steps = total_steps
        self.budget_s = minutes * 60.0 if minutes else None
        self.clock = clock
        self.start = clock()
        self.excluded = 0.0

    def elapsed(self) -> float:
        return self.clock() - self.start - self.excluded

    def exclude(self, seconds: float) -> None:
        self.excluded += seconds

    def out_of_time(self) -> bool:
        return bool(self.budget_s) and self.elapsed() >= self.budget_s

    def progress(self, step: int) -> float:
        p = [step / self.total_steps] if self.total_steps else []
        if self.budget_s:
            p.append(self.elapsed() / self.budget_s)
        return min(1.0, max(p))

    def eta(self, step: int) -> float | None:
        p = self.progress(step)
        return self.elapsed() * (1 - p) / p if p > 0 else None
