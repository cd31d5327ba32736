"""When a new model version is better than the model in use: judged frame by frame on the same held-out frames,
so that one lucky frame cannot decide. The new model must win on more frames than it loses, and still come out
ahead once the single frame that favours it most is left out."""
from __future__ import annotations

from collections.abc import Sequence

MIN_DECIDING_FRAMES = 2  # with one frame, leaving out the most favourable frame leaves nothing to judge by


def gains(new: Sequence[float], old: Sequence[float], lower_is_better: bool) -> list[float]:
    """Per frame: how much better the new model scored (positive: better)."""
    if len(new) != len(old):
        raise ValueError(f"scores on different frames ({len(new)} vs {len(old)})")
    sign = -1.0 if lower_is_better else 1.0
    return [sign * (float(a) - float(b)) for a, b in zip(new, old)]


def clearly_better(new: Sequence[float], old: Sequence[float], lower_is_better: bool = False) -> bool:
    """True when `new` beats `old` on the same frames, robustly (see the module docstring)."""
    diffs = gains(new, old, lower_is_better)
    if len(diffs) < MIN_DECIDING_FRAMES:
        return False
    wins = sum(d > 0 for d in diffs)
    losses = sum(d < 0 for d in diffs)
    return wins > losses and sum(diffs) - max(diffs) > 0
