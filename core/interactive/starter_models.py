"""The starter models shipped in resources/models/: trained on CC0 breast ultrasound (BUSI) only, used by the
app and the CLI whenever a project has no model of its own, and always named as such to the user."""
from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from core.errors import SonoClickError

STARTER_CLICK_FILE = "click_starter.safetensors"
STARTER_KEYWORD = "starter"
STARTER_CLICK_LABEL = "starter click model, trained on breast ultrasound"
STARTER_FALLBACK_ENV = "SONOCLICK_STARTER_MODELS"  # "off": never fall back on them (the test suite's setting)
STARTER_SOURCE = {
    "data": "BUSI breast ultrasound, splits/train.txt (selection on splits/val.txt)",
    "licence": "CC0 1.0",
    "citation": "Al-Dhabyani, Gomaa, Khaled, Fahmy, Dataset of breast ultrasound images, "
                "Data in Brief 28:104863 (2020)",
}


def models_folder() -> Path:
    """resources/models/ of a checkout, an installed package or the built app."""
    return Path(str(resources.files("resources"))) / "models"


def starter_click_path() -> Path | None:
    """The shipped starter click network, or None where this build has none."""
    path = models_folder() / STARTER_CLICK_FILE
    return path if path.is_file() else None


def member_path(head: Path, k: int) -> Path:
    """The file of an ensemble's k-th member beside its first network's file."""
    return head.with_name(f"{head.stem}.member{k}{head.suffix}")


def starter_fallback_enabled() -> bool:
    """Whether a project without a model of its own falls back on the starter models."""
    return os.environ.get(STARTER_FALLBACK_ENV, "on").lower() != "off"


def resolve_model_argument(value: str | Path | None, network: str) -> Path | None:
    """A --model / --click-model value: a checkpoint path, or the keyword "starter" for the shipped one."""
    if value is None or str(value) != STARTER_KEYWORD:
        return None if value is None else Path(value)
    path = starter_click_path() if network == "click" else None
    if path is None:
        what = "click network" if network == "click" else "frame model"
        raise SonoClickError(f"this build ships no starter {what} (see resources/models/README.md)")
    return path
