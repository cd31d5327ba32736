"""The GUI process never imports torch: the app started as users start it (`python -m gui --demo --screenshot`)
runs to its first shown mask, and Python's own import log (`-X importtime`) of that process names no torch
module. The model process is a separate process and may import torch; it is not this one."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def imported_modules(importtime_log: str) -> set[str]:
    """Module names from `python -X importtime` lines: 'import time:  self [us] | cumulative | module'."""
    names = set()
    for line in importtime_log.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    return names


def is_torch(module: str) -> bool:
    return module == "torch" or module.startswith("torch.")


def test_imported_modules_reads_the_importtime_log() -> None:
    log = ("import time: self [us] | cumulative | imported package\n"
           "import time:       120 |        120 |   torch._C\n"
           "import time:        80 |        900 | gui.app\n"
           "some other line\n")
    assert {m for m in imported_modules(log) if is_torch(m)} == {"torch._C"}
    assert "gui.app" in imported_modules(log) and not is_torch("torchvision_like") and not is_torch("mytorch")


def test_the_gui_process_never_imports_torch(tmp_path: Path) -> None:
    shot = tmp_path / "demo.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", SONOCLICK_CONFIG_DIR=str(tmp_path / "config"),
               SONOCLICK_DATA_DIR=str(tmp_path / "data"))
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "gui", "--demo", "--screenshot", str(shot)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert shot.stat().st_size > 0  # it got as far as showing the first frame's mask
    modules = imported_modules(done.stderr)
    assert "gui.app" in modules and "PyQt5.QtWidgets" in modules  # the log is of the app itself
    torch_modules = sorted(m for m in modules if is_torch(m))
    assert not torch_modules, f"the GUI process imported torch: {torch_modules[:10]}"
