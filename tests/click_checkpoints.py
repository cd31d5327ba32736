"""Helpers for tests of click networks and of the build scripts that make the starter ones."""
import importlib.util
from pathlib import Path
from types import ModuleType

import torch

from core.interactive.click_inputs import CLICK_CHANNELS
from models.checkpoint import save_checkpoint
from models.unet import UNet, spec_from_preset

REPO = Path(__file__).resolve().parents[1]


def click_checkpoint(path: Path, seed: int, **extra) -> Path:
    """A tiny untrained click network (weights drawn with `seed`) saved at `path`, `extra` added to its metadata."""
    torch.manual_seed(seed)
    return save_checkpoint(path, UNet(spec_from_preset("tiny", CLICK_CHANNELS)),
                           {"task": "interactive", "resolution": 32, "normalisation": {"mean": 0.2, "std": 0.2},
                            **extra})


def build_script(name: str) -> ModuleType:
    """build_scripts/<name>.py loaded as a module (build_scripts is not a package)."""
    spec = importlib.util.spec_from_file_location(name, REPO / "build_scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
