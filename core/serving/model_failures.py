"""What a model provider remembers of the models that failed: a model that failed is not asked again until the
user chooses it anew, and `last_error` says why the latest one failed (shared by the frame-model and click-model
providers)."""
from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger("sonoclick")


class ModelFailures:
    model_label = "Model"  # how the failure message names the model

    def __init__(self) -> None:
        self._failed: set[Path] = set()
        self.last_error: str | None = None

    def forget_failure(self, path: Path) -> None:
        """Try `path` again (the user chose it anew)."""
        self._failed.discard(path)

    def _usable(self, path: Path | None) -> Path | None:
        """`path`, unless there is none, it failed before, or its file is missing (then it fails now)."""
        if path is None or path in self._failed:
            return None
        if not path.is_file():
            self._give_up(path, "file not found")
            return None
        return path

    def _give_up(self, path: Path, reason: str) -> None:
        self._failed.add(path)
        self.last_error = f"{self.model_label} {path.name} not used: {reason}"
        log.warning(self.last_error)
