"""TRFE-Net (thyroid region prior): one U-Net encoder, a gland decoder and a nodule decoder whose features at
three scales (x1/2, x1/4, x1/8) are enhanced by the gland probability, c <- c + c * m (Gong et al., ISBI 2021,
reimplemented from the description in the project's algorithm notes)."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from models.unet import UNetSpec, decode_level, decoder_blocks, encode, encoder_blocks, spec_from_preset

NETWORK = "trfe"
DEFAULT_HEADS = ("nodule", "thyroid gland")  # (the guided head, the head that guides it)
PRIOR_SCALES = (2, 4, 8)  # the decoder levels (input size / level size) that the gland map enhances


@dataclass(frozen=True)
class TRFESpec(UNetSpec):
    """The U-Net's spec plus the heads' names: heads[0] is the nodule head, heads[1] the gland head."""

    heads: tuple[str, ...] = DEFAULT_HEADS
    network: str = NETWORK

    def to_dict(self) -> dict:
        d = asdict(self)
        d["heads"] = list(self.heads)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> TRFESpec:
        base = UNetSpec.from_dict(d)
        heads = tuple(str(h) for h in d.get("heads", DEFAULT_HEADS))
        if len(heads) != 2:
            raise ValueError(f"a TRFE network has two heads (nodule, gland), not {len(heads)}")
        return cls(**{**asdict(base), "heads": heads})


def trfe_spec_from_preset(preset: str, heads: tuple[str, ...] = DEFAULT_HEADS,
                          input_channels: tuple[str, ...] = ("image",)) -> TRFESpec:
    base = spec_from_preset(preset, input_channels)
    return TRFESpec.from_dict({**asdict(base), "heads": list(heads)})


class TRFENet(nn.Module):
    """forward(x) -> logits (B, 2, H, W), channel k = heads[k]: channel 0 is the nodule, so code written for
    a single-map network reads the nodule map unchanged. H and W must be multiples of the stride."""

    def __init__(self, spec: TRFESpec) -> None:
        super().__init__()
        self.spec = spec
        self.encoders = encoder_blocks(spec)
        self.nodule_decoders, nodule_channels = decoder_blocks(spec)
        self.nodule_head = nn.Conv2d(nodule_channels, 1, 1)
        self.gland_decoders, gland_channels = decoder_blocks(spec)
        self.gland_head = nn.Conv2d(gland_channels, 1, 1)

    @property
    def heads(self) -> tuple[str, ...]:
        return self.spec.heads

    @property
    def stride(self) -> int:
        return 2 ** (len(self.spec.widths) - 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_partial(x, None)

    def forward_partial(self, x: torch.Tensor, nodule_rows: torch.Tensor | None) -> torch.Tensor:
        """forward(x), the nodule channel decoded only for the samples in `nodule_rows` (B,) bool (None: all) and
        0 elsewhere, where no nodule loss reads it (training with partial labels: the gland-only frames, half a
        region-prior batch or more, whose nodule decoding would be wasted work)."""
        skips = encode(self.encoders, x)
        gland = self.decode_gland(skips)
        # The prior carries no gradient back: the gland decoder learns from gland masks only, so the nodule
        # loss cannot turn the "gland" map into a second nodule detector (and partial labels stay separate).
        prior = torch.sigmoid(gland.float()).detach().to(gland.dtype)
        if nodule_rows is None:
            return torch.cat([self.decode_nodule(skips, prior), gland], dim=1)
        nodule = torch.zeros_like(gland)
        if bool(nodule_rows.any()):
            index = nodule_rows.nonzero().squeeze(1)
            decoded = self.decode_nodule([s[index] for s in skips], prior[index])
            nodule = nodule.index_copy(0, index, decoded.to(nodule.dtype))
        return torch.cat([nodule, gland], dim=1)

    def decode_gland(self, skips: list[torch.Tensor]) -> torch.Tensor:
        """Gland logits (B, 1, H, W) from the encoder's levels (full resolution first)."""
        levels = list(skips)
        x = levels.pop()
        for dec in self.gland_decoders:
            x = decode_level(dec, x, levels.pop())
        return self.gland_head(x)

    def decode_nodule(self, skips: list[torch.Tensor], gland_probability: torch.Tensor) -> torch.Tensor:
        """Nodule logits (B, 1, H, W); `gland_probability` (B, 1, H, W) in [0, 1] enhances the decoder's
        features at the PRIOR_SCALES: c <- c + c * m, m the map resized (nearest) to the level."""
        full = skips[0].shape[-2:]
        levels = list(skips)
        x = levels.pop()
        for dec in self.nodule_decoders:
            x = decode_level(dec, x, levels.pop())
            if full[0] // x.shape[-2] in PRIOR_SCALES:
                m = F.interpolate(gland_probability, size=x.shape[-2:], mode="nearest")
                x = x + x * m
        return self.nodule_head(x)
