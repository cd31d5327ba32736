"""The model registry as the app uses it: core.model_versions.ModelRegistry, except that registering a finished
run never imports torch into the app's process.

ModelRegistry.add validates the checkpoint with models.checkpoint.read_metadata, and that module imports torch:
in the GUI process, that import holds the interpreter lock for ~0.4 s and freezes the window when the first run
finishes. The run's child process has already written, loaded and scored the checkpoint, so here a torch-free
check of its safetensors header (our format tag in the metadata) stands in for read_metadata while add() runs.
NOTE for core: a torch-free read_metadata (e.g. in models/checkpoint_header.py) would make this module needless."""
from __future__ import annotations

import json
import sys
import threading
import types
from pathlib import Path

from core.errors import CheckpointError
from core.model_versions import ModelRegistry, ModelVersion

FORMAT = "sonoclick-segmenter"  # as models/checkpoint.py writes it
METADATA_KEY = "sonoclick"
_swap = threading.Lock()


def read_metadata(path: str | Path) -> dict:
    """The SonoClick metadata of a safetensors checkpoint, read from its header only (no torch)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(8)
            n = int.from_bytes(head, "little") if len(head) == 8 else 0
            if n <= 0 or n > min(size - 8, 100_000_000):
                raise CheckpointError(path, "not a SonoClick checkpoint (no safetensors header)")
            header = json.loads(f.read(n))
        meta = json.loads(header["__metadata__"][METADATA_KEY])
    except OSError as exc:
        raise CheckpointError(path, f"cannot read ({exc})") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(path, f"not a SonoClick checkpoint ({exc})") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(path, "not a SonoClick checkpoint (wrong format tag)")
    return meta


class TorchFreeRegistry(ModelRegistry):
    def add(self, checkpoint: str | Path, val_dice: float | None, baseline_val_dice: float | None,
            validated_on: str, n_val: int, metrics: dict | None = None) -> ModelVersion:
        if "models.checkpoint" in sys.modules:  # already imported (torch is here anyway): nothing to avoid
            return super().add(checkpoint, val_dice, baseline_val_dice, validated_on, n_val, metrics)
        read_metadata(checkpoint)
        shim = types.ModuleType("models.checkpoint")
        shim.read_metadata = read_metadata  # type: ignore[attr-defined]
        with _swap:
            sys.modules["models.checkpoint"] = shim
            try:
                return super().add(checkpoint, val_dice, baseline_val_dice, validated_on, n_val, metrics)
            finally:
                if sys.modules.get("models.checkpoint") is shim:
                    del sys.modules["models.checkpoint"]
