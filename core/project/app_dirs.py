"""Where the app keeps its own files: recent-projects list, log file, and projects it cannot put beside the data.

Each location can be moved with an environment variable (tests point them at a temporary folder):
SONOCLICK_CONFIG_DIR (default $XDG_CONFIG_HOME/sonoclick) and SONOCLICK_DATA_DIR ($XDG_DATA_HOME/sonoclick)."""
from __future__ import annotations

import os
from pathlib import Path


def _xdg(variable: str, fallback: str) -> Path:
    value = os.environ.get(variable)
    return Path(value) if value else Path.home() / fallback


def config_dir() -> Path:
    """Small settings files (recent projects)."""
    override = os.environ.get("SONOCLICK_CONFIG_DIR")
    return Path(override) if override else _xdg("XDG_CONFIG_HOME", ".config") / "sonoclick"


def data_dir() -> Path:
    """The log file, and projects whose data folder is read-only."""
    override = os.environ.get("SONOCLICK_DATA_DIR")
    return Path(override) if override else _xdg("XDG_DATA_HOME", ".local/share") / "sonoclick"


def log_file() -> Path:
    """The app's log."""
    return data_dir() / "sonoclick.log"
