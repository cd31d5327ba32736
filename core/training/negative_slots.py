"""How many of an epoch's items the frames tagged "no nodule" fill in the frame network's training."""
from __future__ import annotations

import numpy as np


class NegativeSlots:
    """An epoch's items: every frame showing a nodule once, and `share` of the epoch (at most their natural share)
    for the "no nodule" frames, filled from a seeded reshuffled stream of them (each drawn once before any twice).
    Negatives at their natural share cost nodule Dice in the tag trainer (bench/tags.py: a project tagged mostly
    "no nodule" would train mostly on empty frames). The stream is drawn with the generator given to `start`
    (each training process its own)."""

    def __init__(self, negative: list[bool], share: float | None) -> None:
        self.rng: np.random.Generator | None = None
        self.queue: list[int] = []
        kept = [i for i, n in enumerate(negative) if not n]
        negatives = [i for i, n in enumerate(negative) if n]
        natural = len(negatives) / max(len(negative), 1)
        if share is None or not kept or not negatives or share >= natural:
            self.kept, self.negatives, self.slots = list(range(len(negative))), [], 0  # the loop's own order
            return
        self.kept, self.negatives = kept, negatives
        wanted = round(share / (1.0 - share) * len(kept))
        self.slots = min(len(negatives), max(wanted, 1 if share > 0 else 0))

    def start(self, rng: np.random.Generator) -> None:
        """Draw the negatives' stream with `rng` from now on, from a fresh shuffle."""
        self.rng, self.queue = rng, []

    @property
    def size(self) -> int:
        return len(self.kept) + self.slots

    def frame(self, item: int) -> int:
        """The frame of epoch item `item` (a "no nodule" slot takes the stream's next negative)."""
        if item < len(self.kept):
            return self.kept[item]
        if self.rng is None:
            raise RuntimeError("NegativeSlots.start(rng) must come before the first negative is drawn")
        if not self.queue:
            self.queue = list(self.rng.permutation(self.negatives))
        return int(self.queue.pop())
