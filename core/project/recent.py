"""The list of recently opened projects, newest first, kept as JSON in the config dir."""
from __future__ import annotations

import json
import os
from pathlib import Path

from core.errors import InputError
from core.io.atomic_write import write_bytes_atomic
from core.project.app_dirs import config_dir

MAX_RECENT = 10


class RecentProjects:
    """The recent-projects file (by default in the app's config dir)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or config_dir() / "recent.json"

    def load(self) -> list[Path]:
        """Recent project folders that still exist."""
        try:
            entries = json.loads(self.path.read_text("utf-8"))
        except (OSError, ValueError):
            return []
        if not isinstance(entries, list):
            return []
        return [Path(e) for e in entries if isinstance(e, str) and Path(e).is_dir()]

    def add(self, project_dir: Path) -> list[Path]:
        """Put `project_dir` first (once) and return the list as written; a list that cannot be written is
        still returned."""
        entry = Path(os.path.abspath(project_dir))
        entries = [entry, *(p for p in self.load() if p != entry)][:MAX_RECENT]
        try:
            write_bytes_atomic(self.path, json.dumps([str(p) for p in entries], indent=1).encode("utf-8"))
        except InputError:
            pass  # a read-only home must not stop annotation
        return entries
