"""Model versions of a project: every finished training run becomes a version (weights + metadata + metrics)
in <project>/models/vNNNN/; the live model switches to a new version only when it beats the current one on
the same validation frames, unless the user pinned a version."""
from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from core.errors import CheckpointError
from core.io.atomic_write import write_bytes_atomic
from core.project.store import ProjectStore
from models.checkpoint_header import read_metadata

REGISTRY = "versions.json"
CURRENT_KEY = "model.current"
PINNED_KEY = "model.pinned"


@dataclass(frozen=True)
class ModelVersion:
    name: str
    file: str  # relative to the models folder
    created_at: str
    val_dice: float | None  # this version on its run's validation frames
    baseline_val_dice: float | None  # the version that was current, on the same frames (None: there was none)
    validated_on: str  # "accepted masks" or "held-out caliper labels"
    n_val: int
    metrics: dict = field(default_factory=dict)

    def beats_baseline(self) -> bool:
        if self.val_dice is None:
            return False
        return self.baseline_val_dice is None or self.val_dice > self.baseline_val_dice


class ModelRegistry:
    def __init__(self, store: ProjectStore, project_folder: str | Path) -> None:
        self.store = store
        self.folder = Path(project_folder) / "models"

    def versions(self) -> list[ModelVersion]:
        path = self.folder / REGISTRY
        if not path.exists():
            return []
        try:
            return [ModelVersion(**entry) for entry in json.loads(path.read_text())]
        except (json.JSONDecodeError, TypeError) as exc:
            raise CheckpointError(path, f"model registry is damaged ({exc})") from exc

    def path_of(self, version: ModelVersion) -> Path:
        return self.folder / version.file

    def version(self, name: str) -> ModelVersion:
        for v in self.versions():
            if v.name == name:
                return v
        raise KeyError(f"no model version {name!r}")

    def current(self) -> ModelVersion | None:
        name = self.store.get_setting(CURRENT_KEY)
        return self.version(name) if name else None

    @property
    def pinned(self) -> bool:
        return bool(self.store.get_setting(PINNED_KEY, False))

    def add(self, checkpoint: str | Path, val_dice: float | None, baseline_val_dice: float | None,
            validated_on: str, n_val: int, metrics: dict | None = None) -> ModelVersion:
        """Copy a finished run's checkpoint in as the next version (the registry is rewritten atomically)."""
        read_metadata(checkpoint)  # refuse anything that is not one of our checkpoints before copying
        existing = self.versions()
        name = f"v{len(existing) + 1:04d}"
        target = self.folder / name / Path(checkpoint).name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(checkpoint, target)
        created = datetime.now(UTC).isoformat(timespec="seconds")
        version = ModelVersion(name, str(target.relative_to(self.folder)), created, val_dice, baseline_val_dice,
                               validated_on, n_val, metrics or {})
        entries = [asdict(v) for v in [*existing, version]]
        write_bytes_atomic(self.folder / REGISTRY, json.dumps(entries, indent=1).encode())
        return version

    def offer(self, version: ModelVersion) -> bool:
        """Make `version` current if nothing is pinned and it beats the current one. Returns True if switched."""
        if self.pinned or not version.beats_baseline():
            return False
        self.store.set_setting(CURRENT_KEY, version.name)
        return True

    def pin(self, name: str) -> None:
        """Use this version from now on, whatever later runs score (also the way to roll back)."""
        self.version(name)
        self.store.set_setting(CURRENT_KEY, name)
        self.store.set_setting(PINNED_KEY, True)

    def unpin(self) -> None:
        self.store.set_setting(PINNED_KEY, False)
