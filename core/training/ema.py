"""Exponential moving average of a network's weights: the weights a run validates and saves."""
from __future__ import annotations

import torch

from models.networks import Network


class Ema:
    def __init__(self, model: Network, decay: float) -> None:
        self.model = type(model)(model.spec).to(next(model.parameters()).device)
        self.model.load_state_dict(model.state_dict())
        self.model.eval().requires_grad_(False)
        self.decay = decay

    @torch.no_grad()
    def update(self, model: Network, step: int) -> None:
        # a short warm-up of the decay, so that the average is not dominated by the random initial weights
        d = min(self.decay, (1.0 + step) / (10.0 + step))
        for e, p in zip(self.model.parameters(), model.parameters()):
            e.lerp_(p.detach(), 1.0 - d)
        for e, b in zip(self.model.buffers(), model.buffers()):
            e.copy_(b)
