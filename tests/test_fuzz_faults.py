"""Issue 15: faults against the project store and the app's headless path (the bench's first cases, fixed seed):
damaged databases, SIGKILL of a writer at random points, a full disk, two writing processes, imports/exports of
fuzzed files, a folder of bad files. Each gives a result or a SonoClickError, and no acknowledged edit is lost."""
from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from tests import fault_runs

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the fault runs fork writer processes")

CASES = {"project_db": 30, "kill9": 6, "disk_full": 2, "two_writers": 2, "import_export": 28, "app": 12}
RUNNERS = {"project_db": fault_runs.run_project_db, "kill9": fault_runs.run_kill9,
           "disk_full": fault_runs.run_disk_full, "two_writers": fault_runs.run_two_writers,
           "import_export": fault_runs.run_import_export, "app": fault_runs.run_app_folder}


@pytest.mark.parametrize("category", sorted(CASES))
def test_faults_give_a_result_or_a_clear_error_and_lose_no_acknowledged_edit(category: str, tmp_path: Path) -> None:
    outcomes = [RUNNERS[category](i, tmp_path) for i in range(CASES[category])]
    bad = [(i, o.kind, o.detail) for i, o in enumerate(outcomes) if o.kind not in ("ok", "clear")]
    assert bad == []
    assert sum(o.lost_edits for o in outcomes) == 0


def test_a_full_disk_is_reported_as_such(tmp_path: Path) -> None:
    outcomes = [fault_runs.run_disk_full(i, tmp_path) for i in range(2)]
    assert [o.kind for o in outcomes] == ["clear", "clear"]
    assert all("ProjectDiskFull" in o.detail for o in outcomes)


def test_damaged_databases_are_mostly_refused_clearly(tmp_path: Path) -> None:
    kinds = Counter(fault_runs.run_project_db(i, tmp_path).kind for i in range(12))
    assert kinds["clear"] >= 3 and kinds["crash"] == 0


def test_a_point_file_without_point_shapes_changes_nothing(tmp_path: Path) -> None:
    outcomes = [fault_runs.run_import_export(i, tmp_path) for i in (1, 42)]
    assert [o.detail for o in outcomes if o.kind == "wrong"] == []
