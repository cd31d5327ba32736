"""The longest event-loop stall the user can feel while annotating fast (20 DDTI-sized frames: load, four
calipers, a background click, accept, next frame, a click every 15 ms) and while a model trains in the
background. Runs the GUI tests that drive those scenarios (tests/test_gui_responsiveness.py,
tests/test_gui_training.py) offscreen and prints the stall they measured; the tests assert only that the work
stays off the GUI thread, since the stall itself depends on the machine.

    QT_QPA_PLATFORM=offscreen python bench/gui_stall.py
Last stdout line: JSON with max_event_loop_stall_ms (annotating), max_event_loop_stall_ms_during_training.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = [
    "tests/test_gui_responsiveness.py",
    "tests/test_gui_training.py::test_train_button_shows_progress_and_the_new_version_goes_live",
]


class _Properties:
    """A pytest plugin keeping every test's recorded properties."""

    def __init__(self) -> None:
        self.figures: dict[str, float] = {}
        self.failed: list[str] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call":
            self.figures.update({k: v for k, v in report.user_properties})
            if report.failed:
                self.failed.append(report.nodeid)


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    plugin = _Properties()
    code = pytest.main(["-q", "-p", "no:cacheprovider", "-o", "addopts=", *SCENARIOS], plugins=[plugin])
    for name, value in plugin.figures.items():
        print(f"{name}: {value}")
    if plugin.failed:
        print(f"scenario failed: {plugin.failed}", file=sys.stderr)
    print(json.dumps(plugin.figures))
    return int(code)


if __name__ == "__main__":
    raise SystemExit(main())
