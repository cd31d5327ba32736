"""Model versions of a project, one registry per network (the frame model in <project>/models/, the click network
in <project>/models/click/): every finished training run becomes a version (weights + metadata + per-frame
held-out scores). The model in use switches to a new version only when the version is clearly better than the
model in use on the same held-out frames (core.learning.better), whoever set that model; a model the user chose
(the "model_path" / "click_model_path" setting naming a file that is no version) is never replaced silently,
and a pinned version stays until unpinned."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from core.errors import CheckpointError
from core.interactive.starter_models import STARTER_CLICK_LABEL, starter_click_path, starter_fallback_enabled
from core.io.atomic_write import copy_file_atomic, write_bytes_atomic
from core.learning.better import MIN_DECIDING_FRAMES, Judgement, judge
from core.project.store import ProjectStore
from models.checkpoint_header import read_metadata

REGISTRY = "versions.json"
FRAME, CLICK = "frame", "click"
CURRENT_KEY = "model.current"
PINNED_KEY = "model.pinned"
MODEL_PATH_KEY = "model_path"  # the frame model the app uses (a version's file, or one the user chose)
CLICK_CURRENT_KEY = "click_model.current"
CLICK_PINNED_KEY = "click_model.pinned"
CLICK_MODEL_PATH_KEY = "click_model_path"
USE_STARTER_KEY = "click_model.use_starter"  # False: never fall back on the shipped starter click network
_KEYS = {FRAME: (CURRENT_KEY, PINNED_KEY, MODEL_PATH_KEY, ""), CLICK: (CLICK_CURRENT_KEY, CLICK_PINNED_KEY,
                                                                       CLICK_MODEL_PATH_KEY, "click")}


@dataclass(frozen=True)
class ModelVersion:
    name: str
    file: str  # relative to the registry's folder
    created_at: str
    val_dice: float | None  # this version's mean held-out score (frame model: Dice; click network: NoC@85)
    baseline_val_dice: float | None  # the model in use then, on the same frames (None: there was none)
    validated_on: str  # what judged it: core.learning.mixed_supervision.VALIDATED_ON_*
    n_val: int
    metrics: dict = field(default_factory=dict)
    network: str = FRAME
    frame_scores: list[float] | None = None  # per held-out frame, in the same order as baseline_frame_scores
    baseline_frame_scores: list[float] | None = None
    lower_is_better: bool = False  # True for clicks (NoC), False for Dice
    baseline: str = ""  # which model was in use ("v0002", "your model x.safetensors", the starter, no model)

    @property
    def score_name(self) -> str:
        return "NoC@85" if self.network == CLICK else "Dice"

    def judgement(self) -> Judgement:
        """Whether this version is clearly better than the model in use on the same held-out frames (never on
        fewer than MIN_DECIDING_FRAMES), and why. A model scored against no model at all counts that one as
        scoring nothing."""
        if self.frame_scores is None:  # a version from before per-frame scores: its means decide
            if self.val_dice is None or self.n_val < MIN_DECIDING_FRAMES:
                return Judgement(False, f"judged on {self.n_val} held-out frames; at least {MIN_DECIDING_FRAMES} "
                                        "decide")
            better = self.baseline_val_dice is None or self.val_dice > self.baseline_val_dice
            return Judgement(better, "mean held-out score")
        old = self.baseline_frame_scores
        if old is None:
            if self.lower_is_better:
                return Judgement(False, "no score of the model in use to compare with")
            old = [0.0] * len(self.frame_scores)
        return judge(self.frame_scores, old, self.lower_is_better)

    def beats_baseline(self) -> bool:
        return self.judgement().better


@dataclass(frozen=True)
class ModelInUse:
    """The model that answers now, and who set it."""

    path: Path | None
    source: str  # "user", "version", "starter" or "none"
    label: str  # for the UI: "version v0003", "your model x.safetensors", the starter's label, "no model"
    version: str | None = None


class ModelRegistry:
    def __init__(self, store: ProjectStore, project_folder: str | Path, network: str = FRAME) -> None:
        if network not in _KEYS:
            raise ValueError(f"unknown network {network!r}")
        self.store = store
        self.network = network
        self.current_key, self.pinned_key, self.path_key, sub = _KEYS[network]
        self.folder = Path(project_folder) / "models" / sub if sub else Path(project_folder) / "models"

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
        name = self.store.get_setting(self.current_key)
        return self.version(name) if name else None

    @property
    def pinned(self) -> bool:
        return bool(self.store.get_setting(self.pinned_key, False))

    def in_use(self) -> ModelInUse:
        """What answers now: the file the path setting names (a version's, or the user's own), else the current
        version, else (click network) the shipped starter, else nothing."""
        chosen = self.store.path_setting(self.path_key)
        if chosen is not None:
            for v in self.versions():
                if self.path_of(v).resolve() == chosen.resolve():
                    return ModelInUse(chosen, "version", f"version {v.name}", v.name)
            return ModelInUse(chosen, "user", f"your model {chosen.name}")
        current = self.current()
        if current is not None:
            return ModelInUse(self.path_of(current), "version", f"version {current.name}", current.name)
        use_starter = (self.network == CLICK and starter_fallback_enabled()
                       and self.store.get_setting(USE_STARTER_KEY, True))
        starter = starter_click_path() if use_starter else None
        if starter is not None:
            return ModelInUse(starter, "starter", STARTER_CLICK_LABEL)
        return ModelInUse(None, "none", "no model")

    def add(self, checkpoint: str | Path, val_dice: float | None, baseline_val_dice: float | None,
            validated_on: str, n_val: int, metrics: dict | None = None, **scores: object) -> ModelVersion:
        """Copy a finished run's checkpoint in as the next version (the registry is rewritten atomically);
        `scores`: frame_scores, baseline_frame_scores, lower_is_better, baseline (see ModelVersion)."""
        read_metadata(checkpoint)  # refuse anything that is not one of our checkpoints before copying
        existing = self.versions()
        name = f"v{len(existing) + 1:04d}"
        target = self.folder / name / Path(checkpoint).name
        target.parent.mkdir(parents=True, exist_ok=True)
        copy_file_atomic(checkpoint, target)  # the registry may name it only once every byte is on disk
        created = datetime.now(UTC).isoformat(timespec="seconds")
        version = ModelVersion(name, str(target.relative_to(self.folder)), created, val_dice, baseline_val_dice,
                               validated_on, n_val, metrics or {}, self.network, **scores)  # type: ignore[arg-type]
        entries = [asdict(v) for v in [*existing, version]]
        write_bytes_atomic(self.folder / REGISTRY, json.dumps(entries, indent=1).encode())
        return version

    def offer(self, version: ModelVersion) -> bool:
        """Make `version` the model in use if nothing is pinned, the user has not chosen a model of their own,
        and it is clearly better than the model in use. Returns True if switched."""
        if self.pinned or self.in_use().source == "user" or not version.beats_baseline():
            return False
        self._use(version)
        return True

    def pin(self, name: str) -> None:
        """Use this version from now on, whatever later runs score (also the way to roll back, and the way to
        replace a model the user chose)."""
        self._use(self.version(name))
        self.store.set_setting(self.pinned_key, True)

    def unpin(self) -> None:
        self.store.set_setting(self.pinned_key, False)

    def _use(self, version: ModelVersion) -> None:
        path = self.path_of(version)
        try:
            setting = str(path.relative_to(self.store.folder))
        except ValueError:
            setting = str(path)
        self.store.set_setting(self.current_key, version.name)
        self.store.set_setting(self.path_key, setting)
