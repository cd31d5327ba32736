"""Checkpoints: a safetensors file (weights + our JSON metadata in its header), written atomically and read
without executing code. Anything else — a pickle, a truncated file, someone else's tensors — is refused."""
from __future__ import annotations

import json
import os
import platform
import tempfile
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from models.checkpoint_header import FORMAT, FORMAT_VERSION, METADATA_KEY, read_metadata
from models.errors import CheckpointError
from models.networks import Network, heads_of, network_from_architecture

__all__ = ["FORMAT", "FORMAT_VERSION", "METADATA_KEY", "load_checkpoint", "read_metadata", "save_checkpoint"]


def save_checkpoint(path: str | Path, model: Network, metadata: dict) -> Path:
    """Write weights + metadata (the architecture spec, and for several heads their names, are added from the
    model) to `path` atomically:
    a temporary file in the same folder, then os.replace, so a reader never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = dict(metadata)
    meta.update(format=FORMAT, format_version=FORMAT_VERSION, architecture=model.spec.to_dict(),
                versions={"torch": torch.__version__, "python": platform.python_version()})
    if len(heads_of(model)) > 1:
        meta["heads"] = list(heads_of(model))
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    data = save(tensors, metadata={METADATA_KEY: json.dumps(meta)})
    # Written through the descriptor mkstemp opened (O_EXCL, unpredictable name): never reopened by name, so
    # nothing swapped in between can redirect the write.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu",
                    expect_channels: tuple[str, ...] | None = None) -> tuple[Network, dict]:
    """Rebuild the network from the metadata and load its weights; CheckpointError on any mismatch. The metadata
    is schema-checked (models.checkpoint_schema) by read_metadata before the network is built."""
    path = Path(path)
    meta = read_metadata(path)
    try:
        model = network_from_architecture(meta["architecture"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(path, f"architecture in the metadata cannot be built ({exc})") from exc
    if expect_channels is not None and tuple(expect_channels) != model.spec.input_channels:
        raise CheckpointError(path, f"model takes input channels {list(model.spec.input_channels)}, "
                                    f"not {list(expect_channels)}")
    try:
        tensors = load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(path, f"weights cannot be read ({exc})") from exc
    expected = model.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing or unexpected:
        raise CheckpointError(path, f"weights do not match the architecture (missing {missing[:3]}, "
                                    f"unexpected {unexpected[:3]})")
    wrong = [k for k, v in tensors.items() if v.shape != expected[k].shape]
    if wrong:
        raise CheckpointError(path, f"tensor {wrong[0]} has shape {tuple(tensors[wrong[0]].shape)}, "
                                    f"architecture needs {tuple(expected[wrong[0]].shape)}")
    bad = next((k for k, v in tensors.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())), None)
    if bad is not None:
        raise CheckpointError(path, f"tensor {bad} holds NaN or infinite weights (a diverged or damaged model)")
    model.load_state_dict(tensors)
    return model.to(device).eval(), meta
