"""The GUI process never imports torch: the app started as users start it (`python -m gui --demo --screenshot`)
runs to its first shown mask, and the GUI process's own modules, listed as it exits, name no torch module. The
model process, which the app starts at once and which imports torch meanwhile, is a separate process: its
`-X importtime` lines share the same stderr, so the GUI process is asked for its `sys.modules` instead."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def is_torch(module: str) -> bool:
    return module == "torch" or module.startswith("torch.")


def test_is_torch_names_torch_and_its_submodules_only() -> None:
    assert is_torch("torch") and is_torch("torch._C")
    assert not is_torch("torchvision_like") and not is_torch("mytorch")


def test_the_gui_process_never_imports_torch(tmp_path: Path) -> None:
    shot = tmp_path / "demo.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", SONOCLICK_CONFIG_DIR=str(tmp_path / "config"),
               SONOCLICK_DATA_DIR=str(tmp_path / "data"))
    # `python -m gui`, with the modules of this process (and of no other) written out as it exits
    code = ("import atexit, json, runpy, sys; "
            "atexit.register(lambda: print('GUI-MODULES', json.dumps(sorted(sys.modules)))); "
            f"sys.argv = ['gui', '--demo', '--screenshot', {str(shot)!r}]; "
            "runpy.run_module('gui', run_name='__main__', alter_sys=True)")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert shot.stat().st_size > 0  # it got as far as showing the first frame's mask
    listed = [line for line in done.stdout.splitlines() if line.startswith("GUI-MODULES ")]
    assert len(listed) == 1, done.stdout[-3000:]
    modules = set(json.loads(listed[0].split(" ", 1)[1]))
    assert "gui.app" in modules and "PyQt5.QtWidgets" in modules  # the list is of the app itself
    torch_modules = sorted(m for m in modules if is_torch(m))
    assert not torch_modules, f"the GUI process imported torch: {torch_modules[:10]}"
