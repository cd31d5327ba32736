"""ProCNS's per-frame soft pseudo-labels and ANPM's "when to start" (algorithms.md C), between epochs.

After each epoch every training frame's soft pseudo-label becomes w <- 0.2 p + 0.8 w (p: the network's
nodule probability on the unaugmented frame; the first p starts it). Before the update, the per-class IoU
of the network's mask against the pseudo-label's mask is recorded; ANPM enables a class once ADELE's
criterion holds on that curve (LWLR-smoothed, fitted with a (1 - exp(-x^b / c)): the fitted slope has fallen
by more than r = 0.95 of its first-epoch value). Enabled classes stay enabled."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit

EMA_NEW = 0.2  # weight of the newest prediction in the soft pseudo-label
START_THRESHOLD = 0.95  # ADELE's r
MIN_POINTS = 4  # a three-parameter curve needs more points than parameters


def lwlr(x: np.ndarray, y: np.ndarray, bandwidth: float = 1.0) -> np.ndarray:
    """Locally weighted linear regression of y on x (Gaussian weights), evaluated at each x."""
    design = np.stack([np.ones_like(x), x], axis=1)
    out = np.empty_like(y, dtype=float)
    for i, x0 in enumerate(x):
        w = np.exp(-((x - x0) ** 2) / (2 * bandwidth**2))
        gram = design.T @ (w[:, None] * design) + 1e-9 * np.eye(2)
        beta = np.linalg.solve(gram, design.T @ (w * y))
        out[i] = beta[0] + beta[1] * x0
    return out


def _saturating(t: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
    return a * (1.0 - np.exp(-(t**b) / c))


def should_start(ious: list[float], threshold: float = START_THRESHOLD) -> bool:
    """ADELE's criterion on one class's IoU curve (one value per epoch): |f'(1) - f'(t)| / |f'(1)| > threshold."""
    if len(ious) < MIN_POINTS:
        return False
    x = np.arange(1, len(ious) + 1, dtype=float)
    y = lwlr(x, np.asarray(ious, float))
    try:
        (a, b, c), _ = curve_fit(_saturating, x, y, p0=(max(y.max(), 1e-3), 1.0, 1.0),
                                 bounds=([0.0, 0.1, 1e-3], [1.5, 5.0, 1e3]), maxfev=5000)
    except (RuntimeError, ValueError, OptimizeWarning):
        return False

    def slope(t: float) -> float:
        return float(a * np.exp(-(t**b) / c) * b * t ** (b - 1) / c)

    first = abs(slope(1.0))
    if first < 1e-12:
        return bool(y[-1] >= y[0])  # flat from the start: nothing left to learn before correcting
    return abs(first - abs(slope(x[-1]))) / first > threshold


def class_ious(prediction: np.ndarray, pseudo: np.ndarray) -> tuple[float, float]:
    """(background IoU, nodule IoU) of a predicted mask against the pseudo-label's mask."""
    out = []
    for p, q in ((~prediction, ~pseudo), (prediction, pseudo)):
        union = np.logical_or(p, q).sum()
        out.append(float(np.logical_and(p, q).sum() / union) if union else 1.0)
    return out[0], out[1]


@dataclass
class PseudoLabelState:
    """The soft pseudo-labels of the training frames and ANPM's per-class curves and decisions."""

    soft: list[np.ndarray | None] = field(default_factory=list)
    iou_history: tuple[list[float], list[float]] = field(default_factory=lambda: ([], []))
    enabled: tuple[bool, bool] = (False, False)  # (background, nodule)

    def update(self, probabilities: list[np.ndarray]) -> tuple[bool, bool]:
        """Record the IoU curves, move the EMA, re-decide the enabled classes; returns them."""
        if not self.soft:
            self.soft = [None] * len(probabilities)
        scores = []
        for k, p in enumerate(probabilities):
            w = self.soft[k]
            if w is not None:
                scores.append(class_ious(p > 0.5, w >= 0.5))
            self.soft[k] = p.astype(np.float32) if w is None else EMA_NEW * p + (1.0 - EMA_NEW) * w
        if scores:
            for c in (0, 1):
                self.iou_history[c].append(float(np.mean([s[c] for s in scores])))
        self.enabled = tuple(self.enabled[c] or should_start(self.iou_history[c]) for c in (0, 1))  # type: ignore[assignment]
        return self.enabled
