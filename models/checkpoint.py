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
from safetensors.torch import load_file, save_file

from core.errors import CheckpointError
from models.unet import UNet, UNetSpec

FORMAT = "sonoclick-segmenter"
FORMAT_VERSION = 1
METADATA_KEY = "sonoclick"


def save_checkpoint(path: str | Path, model: UNet, metadata: dict) -> Path:
    """Write weights + metadata (the architecture spec is added from the model) to `path` atomically:
    a temporary file in the same folder, then os.replace, so a reader never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = dict(metadata)
    meta.update(format=FORMAT, format_version=FORMAT_VERSION, architecture=model.spec.to_dict(),
                versions={"torch": torch.__version__, "python": platform.python_version()})
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata={METADATA_KEY: json.dumps(meta)})
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def read_metadata(path: str | Path) -> dict:
    """The metadata dict of one of our checkpoints, without loading the tensors."""
    path = Path(path)
    header = _read_header(path)
    raw = header.get("__metadata__", {}).get(METADATA_KEY)
    if raw is None:
        raise CheckpointError(path, "a safetensors file, but not a SonoClick checkpoint (no 'sonoclick' metadata)")
    try:
        meta = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise CheckpointError(path, f"SonoClick metadata is not valid JSON ({exc})") from exc
    if meta.get("format") != FORMAT:
        raise CheckpointError(path, f"format {meta.get('format')!r} is not {FORMAT!r}")
    if int(meta.get("format_version", -1)) > FORMAT_VERSION:
        raise CheckpointError(path, f"format version {meta.get('format_version')} is newer than this SonoClick "
                                    f"({FORMAT_VERSION}); update the software")
    return meta


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu",
                    expect_channels: tuple[str, ...] | None = None) -> tuple[UNet, dict]:
    """Rebuild the network from the metadata and load its weights; CheckpointError on any mismatch."""
    path = Path(path)
    meta = read_metadata(path)
    try:
        spec = UNetSpec.from_dict(meta["architecture"])
        model = UNet(spec)
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(path, f"architecture in the metadata cannot be built ({exc})") from exc
    if expect_channels is not None and tuple(expect_channels) != spec.input_channels:
        raise CheckpointError(path, f"model takes input channels {list(spec.input_channels)}, "
                                    f"not {list(expect_channels)}")
    try:
        tensors = load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
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
    model.load_state_dict(tensors)
    return model.to(device).eval(), meta


def _read_header(path: Path) -> dict:
    """Parse the safetensors header ourselves so non-safetensors files (pickles, zips, junk) fail clearly."""
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise CheckpointError(path, "file is too short to be a checkpoint")
            n = int.from_bytes(head, "little")
            if n <= 0 or n > min(size - 8, 100_000_000):
                raise CheckpointError(path, "not a SonoClick checkpoint (no safetensors header; pickled "
                                            "torch files are refused because loading them can run code)")
            header = json.loads(f.read(n))
    except OSError as exc:
        raise CheckpointError(path, f"cannot read ({exc})") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(path, "not a SonoClick checkpoint (header is not safetensors JSON)") from exc
    if not isinstance(header, dict):
        raise CheckpointError(path, "not a SonoClick checkpoint (header is not a JSON object)")
    ends = [v["data_offsets"][1] for k, v in header.items() if k != "__metadata__" and isinstance(v, dict)]
    if ends and 8 + n + max(ends) > size:
        raise CheckpointError(path, f"file is truncated ({size} bytes, header promises {8 + n + max(ends)})")
    return header
