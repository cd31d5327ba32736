"""When a new model version is better than the model in use: judged frame by frame on the same held-out frames,
never on fewer than MIN_DECIDING_FRAMES, so that one or two lucky frames cannot decide. The new model must win
on more frames than it loses, still come out ahead once the single frame that favours it most is left out, and
its paired gains must pass a one-sided Wilcoxon signed-rank test (frames where both score the same are left
out of the test, so a tie never counts for the new model)."""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

MIN_DECIDING_FRAMES = 5
SIGNIFICANCE = 0.05  # one-sided: 5 wins out of 5 frames (p = 1/32) is the least that can pass
MIN_TRAINING_FRAMES = 5  # frames a run keeps to learn from before any is held out to judge it
HELD_OUT_SHARE = 0.3


@dataclass(frozen=True)
class Judgement:
    better: bool
    reason: str  # for the user: why the new model is (not) used
    wins: int = 0
    losses: int = 0
    p_value: float | None = None


def held_out_count(n_frames: int, share: float = HELD_OUT_SHARE) -> int:
    """How many of a run's labelled frames to hold out for judging it: a share, never fewer than can decide; none
    (the run learns from all, and its version is kept but never used by itself) while too few to spare them."""
    if n_frames < MIN_DECIDING_FRAMES + MIN_TRAINING_FRAMES:
        return 0
    return max(MIN_DECIDING_FRAMES, math.ceil(share * n_frames))


def gains(new: Sequence[float], old: Sequence[float], lower_is_better: bool) -> list[float]:
    """Per frame: how much better the new model scored (positive: better)."""
    if len(new) != len(old):
        raise ValueError(f"scores on different frames ({len(new)} vs {len(old)})")
    sign = -1.0 if lower_is_better else 1.0
    return [sign * (float(a) - float(b)) for a, b in zip(new, old)]


def judge(new: Sequence[float], old: Sequence[float], lower_is_better: bool = False) -> Judgement:
    """Whether `new` beats `old` on the same frames, robustly (see the module docstring), and why."""
    diffs = gains(new, old, lower_is_better)
    if len(diffs) < MIN_DECIDING_FRAMES:
        return Judgement(False, f"judged on {len(diffs)} held-out frames; at least {MIN_DECIDING_FRAMES} decide")
    wins, losses = sum(d > 0 for d in diffs), sum(d < 0 for d in diffs)
    if wins <= losses:
        return Judgement(False, f"better on {wins} frames, worse on {losses}", wins, losses)
    if sum(diffs) - max(diffs) <= 0:
        return Judgement(False, "ahead only thanks to its single best frame", wins, losses)
    from scipy.stats import wilcoxon  # here: the GUI reads versions at start-up and never needs the test

    p_value = float(wilcoxon(diffs, alternative="greater", zero_method="wilcox").pvalue)
    verdict = f"better on {wins} of {len(diffs)} frames, worse on {losses} (one-sided Wilcoxon p = {p_value:.3f})"
    return Judgement(p_value <= SIGNIFICANCE, verdict, wins, losses, p_value)


def clearly_better(new: Sequence[float], old: Sequence[float], lower_is_better: bool = False) -> bool:
    """True when `new` beats `old` on the same frames, robustly (see the module docstring)."""
    return judge(new, old, lower_is_better).better
