"""The shape a checkpoint's header and metadata must have before anything is built from them.

A checkpoint is data from anywhere: every field is checked for type and range here, so that a wrong type, a
missing key, an absurd width or resolution or an unknown block type is a CheckpointError naming the field, and
no network (or tensor) is allocated from numbers nobody vetted. The bounds are generous: the largest preset
("paper", ~13 M parameters) is far inside them.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from models.errors import CheckpointError

MAX_HEADER_BYTES = 16_000_000  # our headers are ~20 KB (a few hundred tensor entries plus the metadata)
MAX_LEVELS = 8  # encoder levels (stride 2 ** 7 = 128)
MAX_WIDTH = 2048  # channels of one level
MAX_PARAMETERS = 150_000_000  # 600 MB of float32 weights: any larger is not a frame segmenter of ours
MIN_RESOLUTION, MAX_RESOLUTION = 16, 4096  # working resolution of the network (pixels per side)
MAX_INPUT_CHANNELS = 16
BLOCK_TYPES = ("residual", "double")
NETWORKS = {"unet": 1, "trfe": 2}  # network type -> its number of decoders (each one output map)
MAX_HEAD_NAME = 64
FIRST_FORMAT_VERSION = 1


def validate_header(path: Path, header: Any) -> None:
    """A safetensors header: {name: {dtype, shape, data_offsets}, "__metadata__": {str: str}}."""
    if not isinstance(header, dict):
        raise CheckpointError(path, "not a SonoClick checkpoint (header is not a JSON object)")
    meta = header.get("__metadata__", {})
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise CheckpointError(path, "damaged checkpoint ('__metadata__' must map names to strings)")
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(entry, dict):
            raise CheckpointError(path, f"damaged checkpoint (tensor entry {name!r} is not an object)")
        shape, offsets = entry.get("shape"), entry.get("data_offsets")
        if not isinstance(entry.get("dtype"), str) or not _int_list(shape) or not _int_list(offsets):
            raise CheckpointError(path, f"damaged checkpoint (tensor {name!r} lacks dtype, shape or data_offsets)")
        if len(offsets) != 2 or not 0 <= offsets[0] <= offsets[1] or any(d < 0 for d in shape):
            raise CheckpointError(path, f"damaged checkpoint (tensor {name!r} has impossible offsets or shape)")


def validate_metadata(path: Path, meta: Any) -> None:
    """Our metadata: the architecture always; resolution and normalisation when present (predictors need them)."""
    if not isinstance(meta, dict):
        raise CheckpointError(path, "SonoClick metadata is not a JSON object")
    version = meta.get("format_version", FIRST_FORMAT_VERSION)
    if not _is_int(version):
        raise CheckpointError(path, f"metadata 'format_version' must be an integer, got {version!r}")
    if "architecture" not in meta:
        raise CheckpointError(path, "metadata lacks 'architecture'")
    validate_architecture(path, meta["architecture"])
    if "resolution" in meta:
        res = meta["resolution"]
        if not _is_int(res) or not MIN_RESOLUTION <= res <= MAX_RESOLUTION:
            raise CheckpointError(path, f"metadata 'resolution' must be an integer from {MIN_RESOLUTION} to "
                                        f"{MAX_RESOLUTION}, got {res!r}")
    if "normalisation" in meta:
        norm = meta["normalisation"]
        if not isinstance(norm, dict) or not all(_finite(norm.get(k)) for k in ("mean", "std")) or norm["std"] <= 0:
            raise CheckpointError(path, f"metadata 'normalisation' needs finite 'mean' and positive 'std', "
                                        f"got {_short(norm)}")
    if "heads" in meta:
        _check_heads(path, "metadata 'heads'", meta["heads"])
    if "presence_gate" in meta:
        _check_gate(path, meta["presence_gate"], 2 * meta["architecture"]["widths"][-1])
    if "task" in meta and not isinstance(meta["task"], str):
        raise CheckpointError(path, f"metadata 'task' must be a string, got {_short(meta['task'])}")


def validate_architecture(path: Path, arch: Any) -> None:
    if not isinstance(arch, dict):
        raise CheckpointError(path, f"metadata 'architecture' must be an object, got {_short(arch)}")
    widths = arch.get("widths")
    if not _int_list(widths) or not 1 <= len(widths) <= MAX_LEVELS or not all(1 <= w <= MAX_WIDTH for w in widths):
        raise CheckpointError(path, f"architecture 'widths' must be 1 to {MAX_LEVELS} integers from 1 to "
                                    f"{MAX_WIDTH}, got {_short(widths)}")
    block = arch.get("block", "residual")
    if block not in BLOCK_TYPES:
        raise CheckpointError(path, f"unknown block type {_short(block)} (known: {', '.join(BLOCK_TYPES)})")
    if not isinstance(arch.get("depthwise", False), bool):
        raise CheckpointError(path, f"architecture 'depthwise' must be true or false, got {_short(arch['depthwise'])}")
    channels = arch.get("input_channels", ["image"])
    if (not isinstance(channels, list) or not 1 <= len(channels) <= MAX_INPUT_CHANNELS
            or not all(isinstance(c, str) and 0 < len(c) <= 64 for c in channels)):
        raise CheckpointError(path, f"architecture 'input_channels' must be 1 to {MAX_INPUT_CHANNELS} names, "
                                    f"got {_short(channels)}")
    if not isinstance(arch.get("preset", "custom"), str):
        raise CheckpointError(path, f"architecture 'preset' must be a string, got {_short(arch['preset'])}")
    network = arch.get("network", "unet")
    if network not in NETWORKS:
        raise CheckpointError(path, f"unknown network {_short(network)} (known: {', '.join(NETWORKS)})")
    if network == "trfe":
        _check_heads(path, "architecture 'heads'", arch.get("heads"), exactly=2)
    n = parameter_estimate(widths, len(channels), decoders=NETWORKS[network])
    if n > MAX_PARAMETERS:
        raise CheckpointError(path, f"architecture of ~{n / 1e6:.0f} M parameters is larger than SonoClick loads "
                                    f"({MAX_PARAMETERS / 1e6:.0f} M)")


def _check_gate(path: Path, gate: Any, n_features: int) -> None:
    """models.presence_gate's numbers: one finite weight per pooled feature, a finite bias, a threshold in (0, 1)."""
    weight = gate.get("weight") if isinstance(gate, dict) else None
    if not (isinstance(weight, list) and len(weight) == n_features and all(_finite(w) for w in weight)):
        raise CheckpointError(path, f"metadata 'presence_gate' needs {n_features} finite weights, got {_short(weight)}")
    threshold = gate.get("threshold", 0.5)
    if not _finite(gate.get("bias")) or not _finite(threshold) or not 0 < threshold < 1:
        raise CheckpointError(path, f"metadata 'presence_gate' needs a finite bias and a threshold in (0, 1), got "
                                    f"{_short({k: v for k, v in gate.items() if k != 'weight'})}")


def _check_heads(path: Path, field: str, heads: Any, exactly: int | None = None) -> None:
    """Output names: distinct non-empty strings, `exactly` of them when given (else 1 to MAX_LEVELS)."""
    counts = (exactly,) if exactly else range(1, MAX_LEVELS + 1)
    names_ok = isinstance(heads, list) and all(isinstance(h, str) and 0 < len(h) <= MAX_HEAD_NAME for h in heads)
    if not names_ok or len(heads) not in counts or len(set(heads)) != len(heads):
        wanted = f"{exactly}" if exactly else f"1 to {MAX_LEVELS}"
        raise CheckpointError(path, f"{field} must be {wanted} distinct names, got {_short(heads)}")


def parameter_estimate(widths: list[int], in_channels: int, decoders: int = 1) -> int:
    """An upper estimate of the network's weights (two 3x3 convolutions per block, plus 1x1 skips; `decoders`
    decoders on one encoder), computed from the numbers alone so the bound is applied before torch allocates
    anything."""
    total, cin = 0, in_channels
    for w in widths:
        total += 9 * cin * w + 9 * w * w + cin * w
        cin = w
    deeper, decoder = widths[-1], 0
    for w in reversed(widths[:-1]):
        decoder += 9 * (deeper + w) * w + 9 * w * w + (deeper + w) * w
        deeper = w
    return total + decoders * decoder


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int_list(value: Any) -> bool:
    return isinstance(value, list) and all(_is_int(v) for v in value)


def _finite(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
