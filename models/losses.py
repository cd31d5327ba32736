"""Losses: HCL-HRL's location / region / edge levels (algorithms.md A.6), partial cross-entropy on confident
pixels, and Dice + BCE for full supervision. Maps are (B, 1, H, W); label maps are float {0, 1}."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from models.unet import ProjectionHeads

EPS = 1e-6


@dataclass(frozen=True)
class LossWeights:
    """Defaults: HCL-HRL as published (1, 1, lambda = 1, gamma = 0.01) plus partial CE and pseudo-label Dice;
    pseudo_bce (dense BCE against the fused pseudo-label, uncertain band included) is off by default."""

    projection: float = 1.0
    topology: float = 1.0
    contrastive: float = 1.0
    correlation: float = 0.01
    partial_ce: float = 1.0
    pseudo_dice: float = 1.0
    pseudo_bce: float = 0.0
    prsa: float = 0.0  # ProCNS (models.procns, sparse labels): prototype-refined pairwise energy
    pseudo_ce: float = 0.0  # ProCNS phase 2: CE against the EMA pseudo-label, noisy pixels left out
    noisy_dice: float = 0.0  # ProCNS phase 2: Dice of noisy pixels against the sharpened refined prediction

    def to_dict(self) -> dict:
        return asdict(self)


# Named recipes. "pseudo-label" trains on the fused caliper label as if it were a mask (Dice + BCE); on DDTI it
# beat the published HCL-HRL mix at equal epochs (README, "Model benchmarks"). It needs a pseudo-label, so
# click supervision (sparse discs, no fused mask) keeps "hcl-hrl".
LOSS_PRESETS: dict[str, LossWeights] = {
    "hcl-hrl": LossWeights(),
    "pseudo-label": LossWeights(projection=0.0, topology=0.0, contrastive=0.0, correlation=0.0, partial_ce=0.0,
                                pseudo_dice=1.0, pseudo_bce=1.0),
    # sparse labels (scribbles, boxes, points): partial CE alone, and with ProCNS's PRSA and ANPM phase 2
    # at the published weights (0.1 PRSA, 0.5 pseudo-label CE, 0.01 Dice on noisy pixels)
    "partial-ce": LossWeights(projection=0.0, topology=0.0, contrastive=0.0, correlation=0.0, partial_ce=1.0,
                              pseudo_dice=0.0),
    "procns": LossWeights(projection=0.0, topology=0.0, contrastive=0.0, correlation=0.0, partial_ce=1.0,
                          pseudo_dice=0.0, prsa=0.1, pseudo_ce=0.5, noisy_dice=0.01),
    # PRSA without ANPM's phase 2: at the same budget it beat the whole of ProCNS on both datasets (README)
    "prsa": LossWeights(projection=0.0, topology=0.0, contrastive=0.0, correlation=0.0, partial_ce=1.0,
                        pseudo_dice=0.0, prsa=0.1),
    # sparse labels with a mask made from them as a pseudo-label (`--sparse-pseudo engine|network`): partial CE on
    # the drawn pixels, Dice + BCE against that mask, as calipers train on their fused mask
    "sparse-pseudo": LossWeights(projection=0.0, topology=0.0, contrastive=0.0, correlation=0.0, partial_ce=1.0,
                                 pseudo_dice=1.0, pseudo_bce=1.0),
}


def soft_dice_loss(prob: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """1 - 2|P.T| / (|P| + |T|) per sample, averaged; an empty target with an empty prediction costs 0."""
    dims = tuple(range(1, prob.dim()))
    inter = (prob * target).sum(dims)
    total = prob.sum(dims) + target.sum(dims)
    return (1.0 - (2.0 * inter + 1.0) / (total + 1.0)).mean()


def projection_dice_loss(prob: torch.Tensor, location: torch.Tensor) -> torch.Tensor:
    """Location level: Dice of the max-projections onto the x and y axes (BoxInst-style), HCL-HRL's form
    1 - 2 sum(ab) / (sum(a^2) + 0.001 + sum(b^2) + 0.001), per sample then averaged, summed over both axes."""

    def dice(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return 1.0 - 2.0 * (a * b).sum(-1) / ((a * a).sum(-1) + 0.001 + (b * b).sum(-1) + 0.001)

    loss = prob.new_zeros(())
    for dim in (-1, -2):
        a = prob.amax(dim=dim).flatten(1)
        b = location.amax(dim=dim).flatten(1)
        loss = loss + dice(a, b).mean()
    return loss


def topology_bce_loss(prob: torch.Tensor, foreground: torch.Tensor) -> torch.Tensor:
    """BCE(s * F, F) over all pixels: only confident-foreground pixels contribute, pushing s to 1 there."""
    p = (prob * foreground).clamp(EPS, 1 - EPS)
    return F.binary_cross_entropy(p, foreground)


def partial_cross_entropy(logits: torch.Tensor, foreground: torch.Tensor, background: torch.Tensor) -> torch.Tensor:
    """Binary CE on confident pixels only, the two classes weighted equally (nodules are small)."""
    ce = F.binary_cross_entropy_with_logits(logits, foreground, reduction="none")
    fg_term = (ce * foreground).sum() / foreground.sum().clamp_min(1.0)
    bg_term = (ce * background).sum() / background.sum().clamp_min(1.0)
    return 0.5 * (fg_term + bg_term)


def supervised_loss(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Full supervision: soft Dice + BCE against the mask."""
    return soft_dice_loss(torch.sigmoid(logits), mask) + F.binary_cross_entropy_with_logits(logits, mask)


def head_masked_loss(logits: torch.Tensor, targets: torch.Tensor, supervised: torch.Tensor) -> list[torch.Tensor]:
    """Partial labels for a network with K output maps: logits and targets (B, K, H, W), supervised (B, K) bool,
    True where sample b has a mask for head k. Per head, soft Dice + BCE over its supervised samples only (the
    others add nothing, not even a gradient); a head with none in the batch costs 0."""
    terms = []
    for k in range(logits.shape[1]):
        rows = supervised[:, k]
        if bool(rows.any()):
            terms.append(supervised_loss(logits[rows, k:k + 1].float(), targets[rows, k:k + 1]))
        else:
            terms.append(logits.new_zeros((), dtype=torch.float32))
    return terms


def containment_loss(outer_logits: torch.Tensor, inner_mask: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """An object known to lie inside another (a nodule inside the thyroid gland) labels the outer map positive on
    the inner object's pixels and says nothing elsewhere: BCE towards 1 on those pixels of the samples in `rows`
    (B,) bool, their mean; 0 without any. outer_logits and inner_mask (B, 1, H, W)."""
    inside = inner_mask[rows] > 0.5
    if not bool(inside.any()):
        return outer_logits.new_zeros((), dtype=torch.float32)
    return F.softplus(-outer_logits[rows][inside].float()).mean()


def supcon_loss(positives: torch.Tensor, negatives: torch.Tensor, tau: float = 0.07) -> torch.Tensor:
    """Anchors = positives. log p_ij = l_ij - log(exp l_ij + sum_n exp l_in), l = cos / tau; -mean over i != j.
    Unlike the published code the logits keep their gradient (only the stabilising row max is detached)."""
    if len(positives) < 2 or len(negatives) < 1:
        return positives.new_zeros(())
    p = F.normalize(positives, dim=1)
    n = F.normalize(negatives, dim=1)
    l_pp = p @ p.t() / tau
    l_pn = p @ n.t() / tau
    shift = torch.maximum(l_pp.amax(1, keepdim=True), l_pn.amax(1, keepdim=True)).detach()
    l_pp, l_pn = l_pp - shift, l_pn - shift
    neg_sum = l_pn.exp().sum(1, keepdim=True)
    log_p = l_pp - torch.log(l_pp.exp() + neg_sum)
    off_diagonal = ~torch.eye(len(p), dtype=torch.bool, device=p.device)
    return -(log_p[off_diagonal]).mean()


def _sample(candidates: torch.Tensor, k: int, generator: torch.Generator | None) -> torch.Tensor:
    """Up to k flat indices where `candidates` (flattened bool) is true, drawn without replacement."""
    idx = candidates.reshape(-1).nonzero(as_tuple=False).squeeze(1)
    if len(idx) > k:
        pick = torch.randperm(len(idx), generator=generator, device="cpu")[:k].to(idx.device)
        idx = idx[pick]
    return idx


def _gather(features: torch.Tensor, flat: torch.Tensor, patch: bool) -> torch.Tensor:
    """Feature vectors (N, C) — or flattened 3x3 patches (N, 9C) — at flat (b, y, x) indices."""
    b, c, h, w = features.shape
    bi, rest = flat // (h * w), flat % (h * w)
    yi, xi = rest // w, rest % w
    if not patch:
        return features[bi, :, yi, xi]
    padded = F.pad(features, (1, 1, 1, 1))
    return torch.cat([padded[bi, :, yi + 1 + dy, xi + 1 + dx] for dy in (-1, 0, 1) for dx in (-1, 0, 1)], dim=1)


def contrastive_loss(features: torch.Tensor, foreground: torch.Tensor, background: torch.Tensor,
                     heads: ProjectionHeads, samples_per_image: tuple[int, int, int, int] = (128, 256, 32, 64),
                     tau: float = 0.07, generator: torch.Generator | None = None) -> torch.Tensor:
    """Region level: 0.5 * pixel SupCon + 0.5 * 3x3-patch SupCon between confident foreground (positives)
    and confident background (negatives), pooled over the batch. samples_per_image = (pixel positives,
    pixel negatives, patch positives, patch negatives); the paper uses (1024, 2048, 256, 512)."""
    n_pp, n_pn, n_qp, n_qn = (features.shape[0] * k for k in samples_per_image)
    fg, bg = foreground > 0.5, background > 0.5
    pix = _projected_supcon(heads.pixel, features, _sample(fg, n_pp, generator), _sample(bg, n_pn, generator),
                            False, tau)
    ones = torch.ones(1, 1, 3, 3, device=features.device, dtype=foreground.dtype)
    fg_full = F.conv2d(foreground, ones, padding=1) > 8.5  # the whole 3x3 window is confident
    bg_full = F.conv2d(background, ones, padding=1) > 8.5
    patch = _projected_supcon(heads.patch, features, _sample(fg_full, n_qp, generator),
                              _sample(bg_full, n_qn, generator), True, tau)
    return 0.5 * pix + 0.5 * patch


def _projected_supcon(head: nn.Module, features: torch.Tensor, positives: torch.Tensor, negatives: torch.Tensor,
                      patch: bool, tau: float) -> torch.Tensor:
    """SupCon of the projected positives against the projected negatives. Both go through the head in one batch:
    its BatchNorm would otherwise centre each group on its own mean (erasing what tells them apart) and fail on
    a group of one (a thin scribble can leave a single confident pixel)."""
    if len(positives) < 2 or len(negatives) < 1:
        return features.new_zeros(())
    projected = head(_gather(features, torch.cat([positives, negatives]), patch))
    return supcon_loss(projected[:len(positives)], projected[len(positives):], tau)


def consensus_map(features: torch.Tensor, foreground: torch.Tensor, background: torch.Tensor) -> torch.Tensor:
    """Edge level target: m = 0.5 sigmoid(c_f) + 0.5 (1 - sigmoid(c_b)), c = relu(cos(feature, prototype)),
    prototypes = per-image means of the L2-normalised features over F and over G."""
    f = F.normalize(features, dim=1)
    dims = (2, 3)
    proto_f = (f * foreground).sum(dims) / foreground.sum(dims).clamp_min(1.0)
    proto_b = (f * background).sum(dims) / background.sum(dims).clamp_min(1.0)
    c_f = torch.einsum("bchw,bc->bhw", f, proto_f).clamp_min(0).unsqueeze(1)
    c_b = torch.einsum("bchw,bc->bhw", f, proto_b).clamp_min(0).unsqueeze(1)
    return 0.5 * torch.sigmoid(c_f) + 0.5 * (1.0 - torch.sigmoid(c_b))


def correlation_loss(prob: torch.Tensor, features: torch.Tensor, foreground: torch.Tensor,
                     background: torch.Tensor) -> torch.Tensor:
    """BCE(s, stopgrad(m)): the prediction follows the prototype consensus (the published code put s in the
    target slot; we choose the direction explicitly, as algorithms.md A.6 recommends)."""
    target = consensus_map(features, foreground, background).detach()
    return F.binary_cross_entropy(prob.clamp(EPS, 1 - EPS), target)


def pseudo_rows(batch: dict[str, torch.Tensor]) -> torch.Tensor | slice | None:
    """The samples whose pseudo-label channel means something: all of them unless the batch says which
    ("pseudo_known", (B,) bool). A frame with only clicks or single points has an empty channel that is no
    label at all; a Dice or BCE term against it would teach "no nodule" on a frame that has one."""
    if "pseudo" not in batch:
        return None
    known = batch.get("pseudo_known")
    if known is None:
        return slice(None)
    return known if bool(known.any()) else None


def weak_loss(logits: torch.Tensor, features: torch.Tensor, batch: dict[str, torch.Tensor],
              weights: LossWeights, heads: ProjectionHeads | None,
              generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
    """All weak-supervision terms for a batch with keys fg, bg, location, pseudo (any may be all-zero) and
    optionally pseudo_known (which samples have a pseudo-label); returns the weighted terms and their sum under
    'total'. Terms with weight 0 are skipped. Always computed in float32 with autocast off: CUDA autocast refuses
    F.binary_cross_entropy, which the HCL-HRL terms need."""
    with torch.autocast(logits.device.type, enabled=False):
        return _weak_terms(logits, features, batch, weights, heads, generator)


def _weak_terms(logits: torch.Tensor, features: torch.Tensor, batch: dict[str, torch.Tensor],
                weights: LossWeights, heads: ProjectionHeads | None,
                generator: torch.Generator | None) -> dict[str, torch.Tensor]:
    prob = torch.sigmoid(logits.float())
    features = features.float()
    fg, bg = batch["fg"], batch["bg"]
    terms: dict[str, torch.Tensor] = {}
    if weights.partial_ce:
        terms["partial_ce"] = weights.partial_ce * partial_cross_entropy(logits.float(), fg, bg)
    rows = pseudo_rows(batch)
    if weights.pseudo_dice and rows is not None:
        terms["pseudo_dice"] = weights.pseudo_dice * soft_dice_loss(prob[rows], batch["pseudo"][rows])
    if weights.pseudo_bce and rows is not None:
        terms["pseudo_bce"] = weights.pseudo_bce * F.binary_cross_entropy_with_logits(logits.float()[rows],
                                                                                      batch["pseudo"][rows])
    if weights.projection and "location" in batch:
        terms["projection"] = weights.projection * projection_dice_loss(prob, batch["location"])
    if weights.topology:
        terms["topology"] = weights.topology * topology_bce_loss(prob, fg)
    if weights.contrastive and heads is not None:
        terms["contrastive"] = weights.contrastive * contrastive_loss(features, fg, bg, heads, generator=generator)
    if weights.correlation:
        terms["correlation"] = weights.correlation * correlation_loss(prob, features, fg, bg)
    terms["total"] = sum(terms.values(), logits.new_zeros(()).float())
    return terms
