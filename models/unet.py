"""U-Net family with width presets, optional extra input channels, and training-only projection heads."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class UNetSpec:
    """Everything needed to rebuild the network; stored with the weights."""

    widths: tuple[int, ...]
    block: str = "residual"  # "residual" (BN, two 3x3 + skip) or "double" (the paper's conv-BN-ReLU x2)
    depthwise: bool = False  # depthwise-separable 3x3 convolutions in residual blocks
    input_channels: tuple[str, ...] = ("image",)
    preset: str = "custom"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> UNetSpec:
        return cls(
            widths=tuple(int(w) for w in d["widths"]),
            block=str(d.get("block", "residual")),
            depthwise=bool(d.get("depthwise", False)),
            input_channels=tuple(str(c) for c in d.get("input_channels", ("image",))),
            preset=str(d.get("preset", "custom")),
        )


PRESETS: dict[str, dict] = {
    "tiny": dict(widths=(8, 16, 32, 64), block="residual"),  # unit tests, seconds on CPU
    "fast": dict(widths=(16, 32, 64, 96, 128), block="residual"),  # CPU default
    "small": dict(widths=(24, 48, 96, 160, 256), block="residual"),
    "medium": dict(widths=(32, 64, 128, 256, 384), block="residual"),
    "paper": dict(widths=(64, 128, 256, 512, 512), block="double"),  # HCL-HRL's 64-channel bilinear U-Net
}


def spec_from_preset(preset: str, input_channels: tuple[str, ...] = ("image",)) -> UNetSpec:
    if preset not in PRESETS:
        raise ValueError(f"unknown width preset {preset!r}; choose one of {sorted(PRESETS)}")
    return UNetSpec(input_channels=tuple(input_channels), preset=preset, **PRESETS[preset])


def _conv3x3(cin: int, cout: int, depthwise: bool) -> nn.Module:
    if depthwise and cin == cout:
        return nn.Sequential(nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False),
                             nn.Conv2d(cin, cout, 1, bias=False))
    return nn.Conv2d(cin, cout, 3, padding=1, bias=False)


class DoubleConv(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class ResidualBlock(nn.Module):
    def __init__(self, cin: int, cout: int, depthwise: bool = False) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = _conv3x3(cout, cout, depthwise)
        self.bn2 = nn.BatchNorm2d(cout)
        self.skip: nn.Module = nn.Identity()
        if cin != cout:
            self.skip = nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)), inplace=True)
        y = self.bn2(self.conv2(y))
        return F.relu(y + self.skip(x), inplace=True)


def _block(spec: UNetSpec, cin: int, cout: int) -> nn.Module:
    return DoubleConv(cin, cout) if spec.block == "double" else ResidualBlock(cin, cout, spec.depthwise)


def encoder_blocks(spec: UNetSpec) -> nn.ModuleList:
    """The encoder's levels, full resolution first (max-pool between them in `encode`)."""
    w = spec.widths
    encoders = nn.ModuleList([_block(spec, len(spec.input_channels), w[0])])
    encoders.extend(_block(spec, w[i - 1], w[i]) for i in range(1, len(w)))
    return encoders


def decoder_blocks(spec: UNetSpec) -> tuple[nn.ModuleList, int]:
    """(the decoder's levels from the deepest up, the channels of the full-resolution output). Level i merges
    the upsampled deeper output with the skip of width w[i]."""
    w = spec.widths
    decoders = nn.ModuleList()
    deeper = w[-1]
    for i in range(len(w) - 2, -1, -1):
        # the paper's decoder halves channels on the way up (1024->256, 512->128, ...)
        out = w[i - 1] if spec.block == "double" and i > 0 else w[i]
        decoders.append(_block(spec, deeper + w[i], out))
        deeper = out
    return decoders, deeper


def encode(encoders: nn.ModuleList, x: torch.Tensor) -> list[torch.Tensor]:
    """Every encoder level's output, full resolution first."""
    skips = []
    for k, enc in enumerate(encoders):
        x = enc(x if k == 0 else F.max_pool2d(x, 2))
        skips.append(x)
    return skips


def decode_level(decoder: nn.Module, deeper: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
    """One decoder level: upsample the deeper output to the skip's size, concatenate, convolve."""
    deeper = F.interpolate(deeper, size=skip.shape[-2:], mode="bilinear", align_corners=False)
    return decoder(torch.cat([skip, deeper], dim=1))


class UNet(nn.Module):
    """Encoder of len(widths) levels (max-pool between), bilinear-upsampling decoder with skip concatenation.

    forward(x) returns logits (B, 1, H, W); forward_features(x) also returns the full-resolution decoder
    feature map (B, widths[0], H, W) that the region- and edge-level losses work on.
    H and W must be multiples of 2 ** (len(widths) - 1)."""

    def __init__(self, spec: UNetSpec) -> None:
        super().__init__()
        self.spec = spec
        self.encoders = encoder_blocks(spec)
        self.decoders, deeper = decoder_blocks(spec)
        self.head = nn.Conv2d(deeper, 1, 1)
        self.feature_channels = deeper

    @property
    def stride(self) -> int:
        return 2 ** (len(self.spec.widths) - 1)

    def forward_features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits, _, decoded = self.forward_levels(x)
        return logits, decoded[-1]

    def forward_levels(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
        """(logits, every encoder level's output from full resolution down, every decoder level's output from
        the deepest up to full resolution): the levels ProCNS takes its prototypes from."""
        skips = encode(self.encoders, x)
        encoded = list(skips)
        x = skips.pop()
        decoded = []
        for dec in self.decoders:
            x = decode_level(dec, x, skips.pop())
            decoded.append(x)
        return self.head(x), encoded, decoded

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_features(x)[0]


def _mlp(cin: int, hidden: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(cin, hidden), nn.BatchNorm1d(hidden, affine=False), nn.ReLU(inplace=True),
        nn.Linear(hidden, hidden), nn.BatchNorm1d(hidden, affine=False), nn.ReLU(inplace=True),
        nn.Linear(hidden, cout),
    )


class ProjectionHeads(nn.Module):
    """Training-only MLPs: per-pixel features and flattened 3x3 patches -> embedding (HCL-HRL projector_1/3).
    The paper uses hidden=2048; CPU training uses a narrower hidden layer. Never saved with the weights."""

    def __init__(self, feature_channels: int, hidden: int = 256, out: int = 128) -> None:
        super().__init__()
        self.pixel = _mlp(feature_channels, hidden, out)
        self.patch = _mlp(9 * feature_channels, hidden, out)


def build_unet(preset: str = "fast", input_channels: tuple[str, ...] = ("image",)) -> UNet:
    return UNet(spec_from_preset(preset, input_channels))


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
