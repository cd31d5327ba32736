"""A frame-level "is there a nodule here?" gate on a trained segmenter: a logistic regression on its deepest encoder
level (each channel's spatial mean and maximum), fitted after training on the training frames' "no nodule" /
"nodule" labels, with the segmenter frozen. A frame the gate calls nodule-free gets no predicted nodule.

Why apart from the segmenter: a classifier trained through the shared encoder cost the nodule frames' masks (DDTI
Dice 0.639 against 0.701, README "Frame-level labels"), and the segmenter's own output told nodule-free crops from
nodule frames poorly (a gate on its top pixels, area and peak called 3 to 8 DDTI nodule frames empty). Fitted on the
frozen features, the gate cannot change a mask it lets through.

The fit is an L2-regularised logistic regression (scikit-learn's parametrisation: `inverse_l2`, the intercept not
penalised) by L-BFGS in float64 on standardised features, folded back into one weight per feature: deterministic,
about a second for a thousand frames. Torch does it in twenty lines; scikit-learn would be a new dependency for them.
The gate lives in the checkpoint's metadata as plain numbers (checked by models.checkpoint_schema), never as code."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

# strong: 0.1-1 removed a few more false positives but cost more lesion Dice on BUSI (up to 0.03 on one seed) and
# blanked twice as many of DDTI's val nodule crops (/tmp probe on the networks of README "The presence gate")
INVERSE_L2 = 0.01
THRESHOLD = 0.5
MIN_THRESHOLD = 1e-3  # the checkpoint schema wants a threshold inside (0, 1)
# the product's rule (the tag trainer's and the background trainer's gates): the threshold lowered until it keeps
# 98 % of the training nodule frames. With negatives at a tenth of the batches it met the Dice allowance on BUSI
# where 0.5 did not (README "Negatives at a tenth of the batches"); fit_presence_gate's default stays the plain 0.5
NODULE_FRAMES_KEPT = 0.98
METADATA_KEY = "presence_gate"
MIN_FRAMES_PER_CLASS = 5  # fewer "no nodule" (or nodule) frames than this: no gate


def pooled_features(deepest: torch.Tensor) -> torch.Tensor:
    """(B, C, h, w) deepest encoder output -> (B, 2C): each channel's spatial mean, then each one's maximum."""
    return torch.cat([deepest.float().mean(dim=(2, 3)), deepest.float().amax(dim=(2, 3))], dim=1)


@dataclass(frozen=True)
class PresenceGate:
    weight: tuple[float, ...]  # one per pooled feature (2 x the deepest level's channels)
    bias: float
    threshold: float = THRESHOLD

    def probability(self, features: torch.Tensor) -> torch.Tensor:
        """(B, 2C) pooled features -> (B,) probability that each frame holds a nodule."""
        w = torch.tensor(self.weight, dtype=torch.float32, device=features.device)
        return torch.sigmoid(features.float() @ w + self.bias)

    def keeps(self, features: torch.Tensor) -> torch.Tensor:
        """(B,) bool: the frames whose prediction is kept (the gate says nodule)."""
        return self.probability(features) >= self.threshold

    def to_dict(self) -> dict:
        return {"features": "deepest_mean_max", "weight": list(self.weight), "bias": self.bias,
                "threshold": self.threshold}

    @classmethod
    def from_dict(cls, d: dict) -> PresenceGate:
        return cls(tuple(float(v) for v in d["weight"]), float(d["bias"]), float(d.get("threshold", THRESHOLD)))


def enough_of_each(has_nodule: np.ndarray) -> bool:
    """Whether both classes have at least MIN_FRAMES_PER_CLASS frames."""
    y = np.asarray(has_nodule, bool)
    return min(int(y.sum()), int((~y).sum())) >= MIN_FRAMES_PER_CLASS


def fit_presence_gate(features: np.ndarray, has_nodule: np.ndarray, inverse_l2: float = INVERSE_L2,
                      nodule_frames_kept: float | None = None) -> PresenceGate | None:
    """Fit the gate on (N, F) pooled features and (N,) bool labels; None when either class has fewer than
    MIN_FRAMES_PER_CLASS frames. The threshold is THRESHOLD, or lower where needed for the gate to keep the share
    `nodule_frames_kept` of the training frames with a nodule (None: THRESHOLD)."""
    y = np.asarray(has_nodule, bool)
    if not enough_of_each(y):
        return None
    x = np.asarray(features, np.float64)
    mean, std = x.mean(0), x.std(0) + 1e-6
    a = torch.from_numpy((x - mean) / std)
    b = torch.from_numpy(y.astype(np.float64))
    w = torch.zeros(a.shape[1], dtype=torch.float64, requires_grad=True)
    c = torch.zeros((), dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.LBFGS([w, c], max_iter=500, line_search_fn="strong_wolfe")

    def loss() -> torch.Tensor:
        optimiser.zero_grad()
        value = F.binary_cross_entropy_with_logits(a @ w + c, b) + (w ** 2).sum() / (2 * inverse_l2 * len(b))
        value.backward()
        return value

    optimiser.step(loss)
    scaled = w.detach().numpy() / std
    bias = float(c.detach()) - float(scaled @ mean)
    if not (np.isfinite(scaled).all() and math.isfinite(bias)):
        return None
    gate = PresenceGate(tuple(float(v) for v in scaled), bias)
    if nodule_frames_kept is None:
        return gate
    return lowered_to_keep(gate, x[y], nodule_frames_kept)


def lowered_to_keep(gate: PresenceGate, nodule_features: np.ndarray, nodule_frames_kept: float) -> PresenceGate:
    """The gate with its threshold lowered, where needed, until it keeps the share `nodule_frames_kept` of the
    frames with a nodule whose (N, F) pooled features are given; never raised."""
    if len(nodule_features) == 0:
        return gate
    nodule_p = gate.probability(torch.from_numpy(np.asarray(nodule_features, np.float32))).double().numpy()
    kept_at = float(np.quantile(nodule_p, 1.0 - nodule_frames_kept, method="lower"))
    return PresenceGate(gate.weight, gate.bias, min(gate.threshold, max(kept_at, MIN_THRESHOLD)))


def gate_from_metadata(metadata: dict) -> PresenceGate | None:
    """The gate a checkpoint's (schema-checked) metadata carries, if any."""
    return PresenceGate.from_dict(metadata[METADATA_KEY]) if METADATA_KEY in metadata else None
