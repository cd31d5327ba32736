"""ProCNS losses for sparse labels (algorithms.md C), for a one-logit (nodule vs background) network.

- PRSA: class prototypes (masked means of L2-normalised features) from an encoder level, pooled over the
  batch, and a decoder level, per sample; affinity A_c = ReLU(cos(f, proto_c)) normalised over the classes;
  prototype-refined probabilities; a Gated-CRF-style pairwise energy of the refined probabilities between
  unlabelled pixels in a (2r+1)^2 window, normalised by their count.
- ANPM's masking: pixels where the network confidently disagrees with the soft pseudo-label of an enabled
  class; they leave the cross-entropies and the prototypes and are supervised instead by a Dice against the
  sharpened refined probabilities.
Maps are (B, 1, H, W); label maps are float {0, 1}; the pseudo-label is a soft nodule probability."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from models.losses import LossWeights, partial_cross_entropy, projection_dice_loss, pseudo_rows, soft_dice_loss

EPS = 1e-6
KERNEL_RADIUS = 5  # 11 x 11 window
SIGMA_XY = 6.0  # px
SIGMA_INTENSITY = 0.1  # on intensities in [0, 1]


def _pool_to(label: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """A label map's share of each feature cell (area pooling), so prototypes use the labels at every level."""
    return label if label.shape[-2:] == size else F.adaptive_avg_pool2d(label, size)


def class_prototypes(features: torch.Tensor, foreground: torch.Tensor, background: torch.Tensor,
                     per_sample: bool) -> torch.Tensor:
    """(B, 2, C) [background, nodule] masked means of the L2-normalised features, detached (they are the
    targets the affinity compares with). per_sample False pools over the whole batch (the batch prototype).
    A class without a labelled pixel gets a zero prototype (its affinity is then 0)."""
    f = F.normalize(features.detach().float(), dim=1)
    size = tuple(f.shape[-2:])
    weights = torch.cat([_pool_to(background, size), _pool_to(foreground, size)], dim=1)  # (B, 2, h, w)
    sums = torch.einsum("bkhw,bchw->bkc", weights, f)
    counts = weights.sum((2, 3))[..., None]
    if not per_sample:
        sums, counts = sums.sum(0, keepdim=True), counts.sum(0, keepdim=True)
    protos = sums / counts.clamp_min(EPS)
    return protos.expand(f.shape[0], -1, -1)


def prototype_affinity(levels: list[torch.Tensor], prototypes: list[torch.Tensor],
                       size: tuple[int, int]) -> torch.Tensor:
    """(B, 2, H, W) affinity to [background, nodule], normalised over the classes (0.5 each where both are 0).

    The prototypes of the levels are concatenated, and so are the features; with each level L2-normalised,
    the cosine of the concatenations is the mean of the per-level cosines, which are computed at each level's
    own resolution and then upsampled (the same figure without upsampling wide feature maps)."""
    cosines = []
    for f, p in zip(levels, prototypes):
        f = F.normalize(f.float(), dim=1)
        p_norm = p.norm(dim=-1).clamp_min(EPS)[..., None, None]  # a zero prototype stays zero
        cos = torch.einsum("bchw,bkc->bkhw", f, p) / p_norm
        cosines.append(F.interpolate(cos, size=size, mode="bilinear", align_corners=False))
    affinity = torch.stack(cosines).mean(0).clamp_min(0.0)
    total = affinity.sum(1, keepdim=True)
    return torch.where(total > EPS, affinity / total.clamp_min(EPS), torch.full_like(affinity, 0.5))


def refined_probability(logits: torch.Tensor, affinity: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) nodule probability of the prototype-refined prediction, p'_c proportional to A_c p_c.

    ProCNS multiplies a softmax network's two logits by A; a one-logit network has no such pair (any offset
    of them is arbitrary), so the calibration is applied where it is offset-free: log p' = log p + log A."""
    log_fg = F.logsigmoid(logits.float()) + torch.log(affinity[:, 1:2] + EPS)
    log_bg = F.logsigmoid(-logits.float()) + torch.log(affinity[:, 0:1] + EPS)
    return torch.sigmoid(log_fg - log_bg)


def _half_window(radius: int) -> list[tuple[int, int]]:
    """One offset of each symmetric pair in the (2r+1)^2 window, the centre left out."""
    return [(dy, dx) for dy in range(0, radius + 1) for dx in range(-radius, radius + 1) if dy > 0 or dx > 0]


def _pair_slices(dy: int, dx: int, h: int, w: int) -> tuple[tuple[slice, slice], tuple[slice, slice]]:
    """(slices of pixel i, slices of its neighbour j = i + (dy, dx)) over every pair inside an h x w map."""
    rows_i, rows_j = slice(0, h - dy), slice(dy, h)
    cols_i = slice(max(0, -dx), w - max(0, dx))
    cols_j = slice(max(0, dx), w + min(0, dx) if dx < 0 else w)
    return (rows_i, cols_i), (rows_j, cols_j)


@dataclass
class PairwiseWeights:
    """Gated-CRF kernel weights of each pair offset (half the window: the kernel is symmetric) and the number
    of unlabelled pixels (the energy's normaliser)."""

    offsets: list[tuple[int, int]]
    weights: list[torch.Tensor]  # per offset (B, 1, h - dy, w - |dx|)
    unlabelled_pixels: torch.Tensor


def pairwise_weights(intensity: torch.Tensor, unlabelled: torch.Tensor, radius: int = KERNEL_RADIUS,
                     sigma_xy: float = SIGMA_XY, sigma_intensity: float = SIGMA_INTENSITY) -> PairwiseWeights:
    """Kernel exp(-|dxy|^2 / 2 sxy^2 - |dI|^2 / 2 sI^2) between pixels of the (2r+1)^2 window, gated to pairs
    of unlabelled pixels (Gated CRF's m_i m_j). No gradient."""
    with torch.no_grad():
        img, gate = intensity.float(), unlabelled.float()
        h, w = img.shape[-2:]
        offsets, weights = _half_window(radius), []
        for dy, dx in offsets:
            (ri, ci), (rj, cj) = _pair_slices(dy, dx, h, w)
            spatial = float(np.exp(-(dy * dy + dx * dx) / (2 * sigma_xy**2)))
            k = spatial * torch.exp(-((img[..., ri, ci] - img[..., rj, cj]) ** 2) / (2 * sigma_intensity**2))
            k = k * gate[..., ri, ci] * gate[..., rj, cj]
            weights.append(k)
        return PairwiseWeights(offsets, weights, gate.sum())


def pairwise_energy(probability: torch.Tensor, pairs: PairwiseWeights) -> torch.Tensor:
    """sum over ordered pairs (i, j) of W_ij P(labels of i and j differ) / number of unlabelled pixels, with
    P(differ) = p_i (1 - p_j) + (1 - p_i) p_j; each unordered pair is visited once and counted twice."""
    p = probability.float()
    h, w = p.shape[-2:]
    total = p.new_zeros(())
    for (dy, dx), k in zip(pairs.offsets, pairs.weights):
        (ri, ci), (rj, cj) = _pair_slices(dy, dx, h, w)
        a, b = p[..., ri, ci], p[..., rj, cj]
        total = total + (k * (a + b - 2.0 * a * b)).sum()
    return 2.0 * total / pairs.unlabelled_pixels.clamp_min(1.0)


def prsa_loss(logits: torch.Tensor, encoder_features: torch.Tensor, decoder_features: torch.Tensor,
              foreground: torch.Tensor, background: torch.Tensor, intensity: torch.Tensor,
              unlabelled: torch.Tensor | None = None, radius: int = KERNEL_RADIUS) -> tuple[torch.Tensor, torch.Tensor]:
    """(PRSA energy, refined nodule probability). foreground / background: the pixels the prototypes come
    from; unlabelled: where the energy is evaluated (default: neither foreground nor background)."""
    if unlabelled is None:
        unlabelled = (foreground + background) < 0.5
    protos = [class_prototypes(encoder_features, foreground, background, per_sample=False),
              class_prototypes(decoder_features, foreground, background, per_sample=True)]
    affinity = prototype_affinity([encoder_features, decoder_features], protos, tuple(logits.shape[-2:]))
    refined = refined_probability(logits, affinity)
    return pairwise_energy(refined, pairwise_weights(intensity, unlabelled, radius)), refined


def confidently_disagreeing(probability: torch.Tensor, pseudo: torch.Tensor, enabled: tuple[bool, bool],
                            confidence: float = 0.5) -> torch.Tensor:
    """ANPM's noise mask: pixels whose pseudo-label class c (argmax of the soft pseudo-label) is enabled
    (enabled = (background, nodule)) and where the network gives the other class probability > confidence."""
    p = probability.detach()
    pseudo_fg = pseudo >= 0.5
    noisy_fg = pseudo_fg & (1.0 - p > confidence) if enabled[1] else torch.zeros_like(pseudo_fg)
    noisy_bg = ~pseudo_fg & (p > confidence) if enabled[0] else torch.zeros_like(pseudo_fg)
    return noisy_fg | noisy_bg


def sharpen(probability: torch.Tensor, temperature: float = 0.5) -> torch.Tensor:
    """p^(1/T) / (p^(1/T) + (1-p)^(1/T)), computed in log space."""
    logit = torch.logit(probability.clamp(EPS, 1 - EPS))
    return torch.sigmoid(logit / temperature)


def masked_dice_loss(probability: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Soft Dice restricted to `mask`, both classes averaged (so a background-only region still counts)."""
    m = mask.float()
    if m.sum() == 0:
        return probability.sum() * 0.0
    losses = []
    for p, t in ((probability, target), (1 - probability, 1 - target)):
        inter = (p * t * m).sum()
        losses.append(1.0 - (2.0 * inter + 1.0) / ((p * m).sum() + (t * m).sum() + 1.0))
    return 0.5 * (losses[0] + losses[1])


def masked_cross_entropy(logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Binary CE against a hard target on `mask` pixels, the two classes weighted equally."""
    ce = F.binary_cross_entropy_with_logits(logits.float(), target, reduction="none")
    fg, bg = target * mask, (1.0 - target) * mask
    return 0.5 * ((ce * fg).sum() / fg.sum().clamp_min(1.0) + (ce * bg).sum() / bg.sum().clamp_min(1.0))


def prsa_term(logits: torch.Tensor, encoder_features: torch.Tensor, decoder_features: torch.Tensor,
              batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """PRSA alone for any labels with confident pixels (batch keys fg, bg, intensity), e.g. the calipers'
    high-confidence labels; float32 with autocast off."""
    with torch.autocast(logits.device.type, enabled=False):
        energy, _ = prsa_loss(logits.float(), encoder_features, decoder_features, batch["fg"], batch["bg"],
                              batch["intensity"])
        return energy


def sparse_loss(logits: torch.Tensor, encoder_features: torch.Tensor, decoder_features: torch.Tensor,
                batch: dict[str, torch.Tensor], weights: LossWeights,
                anpm_enabled: tuple[bool, bool] = (False, False)) -> dict[str, torch.Tensor]:
    """Every term for sparse labels (batch keys fg, bg, location, pseudo = soft pseudo-label, intensity in
    [0, 1], optionally pseudo_known); the weighted terms and their sum under 'total'. Phase 2 (pseudo-label CE
    and noise masking) runs once ANPM has enabled a class and weights.pseudo_ce or weights.noisy_dice is on;
    pseudo_dice / pseudo_bce train towards a fixed pseudo-label (the engine's mask from the labels)."""
    with torch.autocast(logits.device.type, enabled=False):
        logits = logits.float()
        prob = torch.sigmoid(logits)
        fg, bg = batch["fg"], batch["bg"]
        unlabelled = (fg + bg) < 0.5
        phase2 = any(anpm_enabled) and (weights.pseudo_ce > 0 or weights.noisy_dice > 0)
        keep = torch.ones_like(fg)
        if phase2:
            noisy = confidently_disagreeing(prob, batch["pseudo"], anpm_enabled)
            keep = (~noisy).float()
        terms: dict[str, torch.Tensor] = {}
        if weights.partial_ce:
            terms["partial_ce"] = weights.partial_ce * partial_cross_entropy(logits, fg * keep, bg * keep)
        if weights.projection:
            terms["projection"] = weights.projection * projection_dice_loss(prob, batch["location"])
        rows = pseudo_rows(batch) if weights.pseudo_dice or weights.pseudo_bce else None
        if rows is not None and weights.pseudo_dice:  # a fixed pseudo-label (the engine's mask), not ProCNS's
            terms["pseudo_dice"] = weights.pseudo_dice * soft_dice_loss(prob[rows], batch["pseudo"][rows])
        if rows is not None and weights.pseudo_bce:
            terms["pseudo_bce"] = weights.pseudo_bce * F.binary_cross_entropy_with_logits(logits[rows],
                                                                                          batch["pseudo"][rows])
        refined = None
        if weights.prsa:
            proto_fg, proto_bg = fg, bg
            if phase2:
                pseudo_fg = (batch["pseudo"] >= 0.5).float()
                proto_fg = torch.maximum(fg, pseudo_fg * (1 - bg)) * keep
                proto_bg = torch.maximum(bg, (1 - pseudo_fg) * (1 - fg)) * keep
            energy, refined = prsa_loss(logits, encoder_features, decoder_features, proto_fg, proto_bg,
                                        batch["intensity"], unlabelled)
            terms["prsa"] = weights.prsa * energy
        if phase2 and weights.pseudo_ce:
            target = (batch["pseudo"] >= 0.5).float()
            terms["pseudo_ce"] = weights.pseudo_ce * masked_cross_entropy(logits, target, keep)
        if phase2 and weights.noisy_dice and refined is not None:
            target = sharpen(refined.detach())
            terms["noisy_dice"] = weights.noisy_dice * masked_dice_loss(prob, target, 1.0 - keep)
        terms["total"] = sum(terms.values(), logits.new_zeros(()))
        return terms
