"""Mixed supervision in one loss (WIML's mixed learning): every training frame carries one kind of label and
each kind is weighted by how much it tells about the nodule's pixels.

Kinds and their default weights (KindWeights):
- MASK (1.0): an accepted mask names every pixel; Dice + BCE against it.
- NO_NODULE (1.0): a "no nodule" tag names every pixel too (all background), just as surely: BCE towards 0 on
  every pixel (and, off by default, the presence term towards 0 on the frame's most nodule-like pixels:
  `negative_presence`; at 1 it halved the nodule frames' Dice on BUSI, README "Frame-level labels").
- POINTS (0.5): foreground points name a few pixels surely and the rest not at all: partial CE on their discs
  plus presence; half weight because most of the nodule's extent is left to the network.
- PSEUDO (0.5): a "nodule present" frame whose mask the network made itself part-way through training
  (self-training, core.training.tag_task): Dice + BCE against it as against a mask, at half weight: it is only
  as good as the network that made it.
- NODULE (0.25): "nodule present" is one bit per frame: presence, CLTN's erasure, an area prior and the CAM's
  confident parts as seeds (all four
  are priors on where, not evidence); a quarter, so that tags guide where masks exist but never outvote them.
Every kind also trains the frame classifier (the presence bit is equally sure for all), unweighted.
The batch's total is the weighted per-frame sum divided by the batch size (not by the weights' sum), so a
batch of tags alone moves the network less than a batch of masks."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

from models.tag_net import TagNet, TagOutputs, upsampled_cam

MASK, NO_NODULE, NODULE, POINTS, PSEUDO = 0, 1, 2, 3, 4
KIND_NAMES = {MASK: "mask", NO_NODULE: "no_nodule", NODULE: "nodule", POINTS: "points", PSEUDO: "pseudo"}
PRESENCE_SHARE = 0.02  # the presence term pools this share of a frame's most nodule-like pixels
CAM_SEED_RANGE = (0.2, 0.6)  # normalised CAM below: confident background; above: confident nodule


@dataclass(frozen=True)
class KindWeights:
    mask: float = 1.0
    no_nodule: float = 1.0
    points: float = 0.5
    nodule: float = 0.25
    pseudo: float = 0.5

    def of(self, kind: int) -> float:
        return float(getattr(self, KIND_NAMES[kind]))

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class TagTermWeights:
    """The terms inside a NODULE (and POINTS) frame's loss, and the frame classifier's."""

    frame_class: float = 1.0
    erase: float = 1.0  # the frozen classifier must call the erased frame "no nodule"
    area: float = 0.1  # mean of the attention mask: erase no more than needed
    presence: float = 1.0  # the top PRESENCE_SHARE of pixels must look like nodule
    negative_presence: float = 0.0  # the top PRESENCE_SHARE of a "no nodule" frame's pixels must look empty
    cam_seed: float = 2.0  # BCE towards the (detached) CAM's confident parts: where the mask starts from

    def to_dict(self) -> dict:
        return asdict(self)


def _per_frame_dice_bce(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    prob = torch.sigmoid(logits)
    inter = (prob * mask).flatten(1).sum(1)
    total = (prob + mask).flatten(1).sum(1)
    dice = 1.0 - (2.0 * inter + 1.0) / (total + 1.0)
    return dice + F.binary_cross_entropy_with_logits(logits, mask, reduction="none").flatten(1).mean(1)


def presence_logit(logits: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) -> (B,): mean of the top PRESENCE_SHARE logits (multiple-instance pooling)."""
    flat = logits.flatten(1)
    k = max(1, int(round(PRESENCE_SHARE * flat.shape[1])))
    return flat.topk(k, dim=1).values.mean(1)


def _partial_ce(logits: torch.Tensor, foreground: torch.Tensor) -> torch.Tensor:
    ce = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits), reduction="none")
    return (ce * foreground).flatten(1).sum(1) / foreground.flatten(1).sum(1).clamp_min(1.0)


def cam_seed_loss(logits: torch.Tensor, cam: torch.Tensor) -> torch.Tensor:
    """(B,): partial BCE of the segmentation towards the normalised CAM's confident parts (CAM <= 0.2:
    background, >= 0.6: nodule, the band between unlabelled), the two classes weighted equally. Without it the
    attention mask starts empty everywhere (negatives and the area prior push it down) and the erasure term has
    nothing to grow from."""
    cam = upsampled_cam(cam.detach().float(), logits.shape[-2:])[:, None]
    low, high = CAM_SEED_RANGE
    foreground, background = (cam >= high).float(), (cam <= low).float()
    ce_fg = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits), reduction="none")
    ce_bg = F.binary_cross_entropy_with_logits(logits, torch.zeros_like(logits), reduction="none")

    def share(ce: torch.Tensor, where: torch.Tensor) -> torch.Tensor:
        return (ce * where).flatten(1).sum(1) / where.flatten(1).sum(1).clamp_min(1.0)

    return 0.5 * (share(ce_fg, foreground) + share(ce_bg, background))


def mixed_loss(net: TagNet, x: torch.Tensor, out: TagOutputs, kinds: torch.Tensor, masks: torch.Tensor,
               kind_weights: KindWeights = KindWeights(), terms: TagTermWeights = TagTermWeights()
               ) -> dict[str, torch.Tensor]:
    """x (B, C, H, W) network input, kinds (B,) long, masks (B, 1, H, W): the mask (MASK), the network's own
    (PSEUDO), the points' discs (POINTS), zeros otherwise. Returns the weighted terms summed over the batch / B,
    and "total"."""
    seg = out.segmentation.float()
    zero = seg.new_zeros(len(kinds))
    has_nodule = (kinds != NO_NODULE).float()
    frame_class = F.binary_cross_entropy_with_logits(out.frame_logit.float(), has_nodule, reduction="none")
    presence = F.binary_cross_entropy_with_logits(presence_logit(seg), has_nodule, reduction="none")
    is_mask, is_negative = kinds == MASK, kinds == NO_NODULE
    is_tag, is_points = kinds == NODULE, kinds == POINTS
    against_mask = _per_frame_dice_bce(seg, masks)  # a mask and the network's own mask train alike
    per_frame = {
        "mask": torch.where(is_mask, against_mask, zero),
        "pseudo": torch.where(kinds == PSEUDO, against_mask, zero),
        "no_nodule": torch.where(is_negative, F.binary_cross_entropy_with_logits(
            seg, torch.zeros_like(seg), reduction="none").flatten(1).mean(1) + terms.negative_presence * presence,
            zero),
        "points": torch.where(is_points, _partial_ce(seg, masks) + terms.presence * presence, zero),
        "presence": torch.where(is_tag, terms.presence * presence, zero),
    }
    attention = torch.sigmoid(seg)
    per_frame["area"] = torch.where(is_tag, terms.area * attention.flatten(1).mean(1), zero)
    if terms.cam_seed and bool(is_tag.any()):
        per_frame["cam_seed"] = torch.where(is_tag, terms.cam_seed * cam_seed_loss(seg, out.cam), zero)
    if terms.erase and bool(is_tag.any()) and net.eraser is not None:
        erased = net.erased_logit(x[:, :1].float(), attention)
        per_frame["erase"] = torch.where(is_tag, terms.erase * F.softplus(erased), zero)
    weight = torch.tensor([kind_weights.of(int(k)) for k in kinds], device=seg.device)
    batch = float(len(kinds))
    result = {name: (weight * value).sum() / batch for name, value in per_frame.items()}
    result["frame_class"] = terms.frame_class * frame_class.mean()
    result["total"] = sum(result.values(), seg.new_zeros(()))
    return result
