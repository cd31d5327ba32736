"""Which network a checkpoint's architecture describes: the single-map U-Net (every checkpoint before the
region prior, and any without a 'network' field) or TRFE-Net with its two heads."""
from __future__ import annotations

from models.trfe import NETWORK as TRFE_NETWORK
from models.trfe import TRFENet, TRFESpec
from models.unet import UNet, UNetSpec

Network = UNet | TRFENet
SINGLE_HEAD = ("nodule",)  # what a single-map segmenter's one output is


def network_from_architecture(architecture: dict) -> Network:
    """Build the (untrained) network an architecture dict describes; KeyError/TypeError/ValueError if it can't."""
    if architecture.get("network", "unet") == TRFE_NETWORK:
        return TRFENet(TRFESpec.from_dict(architecture))
    return UNet(UNetSpec.from_dict(architecture))


def heads_of(model: Network) -> tuple[str, ...]:
    """The names of the model's output maps, in channel order."""
    return model.heads if isinstance(model, TRFENet) else SINGLE_HEAD


def metadata_heads(metadata: dict) -> tuple[str, ...]:
    """The heads a checkpoint's metadata lists (a checkpoint that lists none has the one nodule map)."""
    return tuple(metadata.get("heads", SINGLE_HEAD))
