"""A U-Net that also answers "is there a nodule in this frame?" (WIML's full parameter sharing): a 1x1
class-activation head on the deepest encoder level whose spatial mean is the frame's nodule logit, so its map is
the class activation map (CAM); and a light eraser for CLTN's class-attention idea (algorithms.md B.4, C) in a
form that trains on a CPU: the segmentation head's sigmoid is an attention mask M, the eraser fills the frame
inside M from its surroundings, x' = fill(x, M) * M + x * (1 - M), and the (frozen) classifier must call x'
"no nodule". The mask that must change for the nodule to vanish is the proposal.

Instead of CLTN's CycleGAN (two generators, two discriminators, thousands of batch-1 steps at 256 px) the fill
is the masked neighbourhood mean (normalised convolution on a 4x coarser grid) plus a small learned texture
residual; the classifier of the same network plays the critic, frozen for that term."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from models.unet import UNet

FILL_GRID = 4  # the fill is estimated on a grid this many times coarser than the frame
FILL_WINDOW = 7  # coarse cells per side of the neighbourhood the fill averages over
TEXTURE_RANGE = 0.3  # the learned residual's bound, in normalised intensity units


@dataclass
class TagOutputs:
    segmentation: torch.Tensor  # (B, 1, H, W) logits: the nodule map, and the attention mask M as sigmoid
    cam: torch.Tensor  # (B, 1, h, w) class-activation logits on the deepest encoder grid
    frame_logit: torch.Tensor  # (B,) "nodule present" logit (spatial mean of cam)


class Eraser(nn.Module):
    """fill(x, M): what the frame would look like inside M if nothing were there (mean of the unmasked
    neighbourhood) plus a bounded speckle-like residual from a three-layer convolution."""

    def __init__(self, channels: int = 12) -> None:
        super().__init__()
        self.texture = nn.Sequential(
            nn.Conv2d(2, channels, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(channels, 1, 3, padding=1))

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        keep = 1.0 - mask
        size = image.shape[-2:]
        coarse_sum = F.avg_pool2d(image * keep, FILL_GRID)
        coarse_weight = F.avg_pool2d(keep, FILL_GRID)
        pad = FILL_WINDOW // 2
        coarse_sum = F.avg_pool2d(F.pad(coarse_sum, (pad,) * 4, mode="replicate"), FILL_WINDOW, stride=1)
        coarse_weight = F.avg_pool2d(F.pad(coarse_weight, (pad,) * 4, mode="replicate"), FILL_WINDOW, stride=1)
        fill = F.interpolate(coarse_sum / coarse_weight.clamp_min(1e-3), size=size, mode="bilinear",
                             align_corners=False)
        fill = fill + TEXTURE_RANGE * torch.tanh(self.texture(torch.cat([fill, mask], dim=1)))
        return fill * mask + image * keep


class _Classifier(nn.Module):
    """The encoder and the class head alone, for the erased frames' frozen pass."""

    def __init__(self, unet: UNet, cam: nn.Conv2d) -> None:
        super().__init__()
        self.encoders, self.cam = unet.encoders, cam

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for k, encoder in enumerate(self.encoders):
            x = encoder(x if k == 0 else F.max_pool2d(x, 2))
        return self.cam(x).mean(dim=(1, 2, 3))


class TagNet(nn.Module):
    def __init__(self, unet: UNet, with_eraser: bool = True) -> None:
        super().__init__()
        self.unet = unet
        self.cam = nn.Conv2d(unet.spec.widths[-1], 1, 1)
        self.eraser = Eraser() if with_eraser else None
        self.classifier = _Classifier(unet, self.cam)

    def forward(self, x: torch.Tensor) -> TagOutputs:
        logits, encoded, _ = self.unet.forward_levels(x)
        cam = self.cam(encoded[-1])
        return TagOutputs(logits, cam, cam.mean(dim=(1, 2, 3)))

    def erased_logit(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The frozen classifier's "nodule present" logit of x with M erased: gradients reach the mask and the
        eraser, never the classifier (else it would learn to call any erased frame empty)."""
        if self.eraser is None:
            raise ValueError("this TagNet was built without an eraser")
        erased = self.eraser(x, mask)
        frozen = {name: p.detach() for name, p in self.classifier.named_parameters()}
        # copies, so that the frozen pass leaves the batch-norm running statistics alone
        frozen.update({name: b.clone() for name, b in self.classifier.named_buffers()})
        return functional_call(self.classifier, frozen, (erased,))


def upsampled_cam(cam: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(B, 1, h, w) class-activation logits -> (B, H, W) maps in [0, 1], each divided by its own maximum
    (the usual CAM normalisation: only positive evidence counts)."""
    positive = F.interpolate(cam, size=size, mode="bilinear", align_corners=False).clamp_min(0)[:, 0]
    peak = positive.flatten(1).amax(1).clamp_min(1e-6)
    return positive / peak[:, None, None]
