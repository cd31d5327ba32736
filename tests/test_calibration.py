"""Calibration: spacing from two points and a distance, its scopes and their precedence, undo/redo as history
steps of the frame it was drawn on, and millimetres in the exported measurements."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.annotation.points import Calipers, Point, PointKind
from core.errors import AnnotationFormatError
from core.exchange.export import export_project
from core.io.measurements_csv import CSV_COLUMNS
from core.io.point_json import read_point_json
from core.project import history
from core.project.calibration import Calibration, CalibrationScope
from core.project.damage import StoreMisuse
from core.project.frame_measurements import frame_measurements
from core.project.records import MaskProvenance
from core.project.store import ProjectStore
from tests.conftest import write_dicom

NODULE = Calipers((10.0, 20.0), (40.0, 60.0), (25.0, 40.0), (33.0, 34.0))  # 50 px long, 10 px short


@pytest.fixture
def store(tmp_path: Path):
    """Frames 1, 2: left/a.png, left/b.png; 3: right/c.png; 4: right/scan.dcm with spacing 0.2 x 0.1 mm."""
    for folder in ("left", "right"):
        (tmp_path / folder).mkdir()
    for name in ("left/a.png", "left/b.png", "right/c.png"):
        cv2.imwrite(str(tmp_path / name), np.full((64, 80), 90, np.uint8))
    write_dicom(tmp_path / "right" / "scan.dcm", np.zeros((64, 80), np.uint8), PixelSpacing=[0.2, 0.1])
    s = ProjectStore.create(tmp_path / "project")
    s.add_frames([tmp_path / n for n in ("left/a.png", "left/b.png", "right/c.png", "right/scan.dcm")])
    yield s
    s.close()


def test_calibration_from_two_points_and_a_distance() -> None:
    c = Calibration((10.0, 10.0), (10.0, 50.0), 20.0, CalibrationScope.FRAME, 1)
    assert c.length_px == 40 and c.mm_per_px == 0.5 and c.spacing_mm == (0.5, 0.5)
    slanted = Calibration((0.0, 0.0), (30.0, 40.0), 10.0, CalibrationScope.PROJECT, 1)
    assert slanted.mm_per_px == pytest.approx(0.2)
    for distance in (0.0, -3.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="positive"):
            Calibration((0.0, 0.0), (1.0, 0.0), distance, CalibrationScope.FRAME, 1)
    with pytest.raises(ValueError, match="differ"):
        Calibration((5.0, 5.0), (5.0, 5.0), 10.0, CalibrationScope.FRAME, 1)


def test_a_frame_calibration_applies_to_that_frame_only(store: ProjectStore) -> None:
    assert store.effective_spacing(1).spacing_mm is None and store.effective_spacing(1).source == "none"
    made = store.set_calibration(1, (10, 10), (10, 50), 20.0, "frame")
    assert store.calibration(1, "frame") == made
    spacing = store.effective_spacing(1)
    assert (spacing.spacing_mm, spacing.source, spacing.calibration) == ((0.5, 0.5), "frame", made)
    assert store.effective_spacing(2).source == "none"  # same folder, but a frame calibration


def test_scope_precedence(store: ProjectStore) -> None:
    store.set_calibration(3, (0, 0), (0, 50), 10.0, CalibrationScope.PROJECT)  # 0.2 mm/px
    assert {f: store.effective_spacing(f).source for f in (1, 2, 3)} == {1: "project", 2: "project", 3: "project"}
    store.set_calibration(1, (0, 0), (0, 50), 25.0, CalibrationScope.FOLDER)  # left/: 0.5 mm/px
    assert [store.effective_spacing(f).spacing_mm for f in (1, 2, 3)] == [(0.5, 0.5), (0.5, 0.5), (0.2, 0.2)]
    store.set_calibration(2, (0, 0), (0, 50), 50.0, CalibrationScope.FRAME)  # b.png: 1 mm/px
    assert [store.effective_spacing(f).source for f in (1, 2, 3)] == ["folder", "frame", "project"]
    assert store.effective_spacing(2).spacing_mm == (1.0, 1.0)
    # a folder calibration drawn on another frame of the folder replaces the first one
    store.set_calibration(2, (0, 0), (0, 10), 10.0, CalibrationScope.FOLDER)
    assert store.effective_spacing(1).spacing_mm == (1.0, 1.0)
    assert store.clear_calibration(1, "folder") and store.effective_spacing(1).source == "project"
    assert not store.clear_calibration(1, "folder")  # nothing left to clear: no step
    # the file's own spacing wins, and the calibration it overrides is reported with how far off it is
    dicom = store.effective_spacing(4)
    assert (dicom.spacing_mm, dicom.source) == ((0.2, 0.1), "file")
    assert dicom.calibration is not None and dicom.calibration.mm_per_px == pytest.approx(0.2)
    assert dicom.disagreement == pytest.approx(1.0)  # 0.2 mm/px against 0.1 mm columns: 100 % off


def test_undo_and_redo_of_a_calibration_follow_the_frames_history(store: ProjectStore) -> None:
    store.add_point(1, Point(5, 5, PointKind.FOREGROUND))
    store.set_calibration(1, (10, 10), (10, 50), 20.0, "folder")
    store.add_point(1, Point(6, 6, PointKind.BACKGROUND))
    assert store.undo(1) == 1 and len(store.points(1)) == 1  # the click after it goes first
    assert store.effective_spacing(2).spacing_mm == (0.5, 0.5)
    assert store.undo(1) == 1 and store.effective_spacing(2).spacing_mm is None  # then the calibration
    assert len(store.points(1)) == 1  # and nothing else
    assert store.redo(1) == 1 and store.effective_spacing(2).spacing_mm == (0.5, 0.5)
    store.clear_calibration(2, "folder")  # cleared from another frame of the folder: a step of that frame
    assert store.effective_spacing(1).source == "none"
    assert store.undo(2) == 2 and store.effective_spacing(1).source == "folder"
    assert store.can_redo(2)


def test_a_new_edit_drops_an_undone_calibration_for_good(tmp_path: Path, store: ProjectStore) -> None:
    store.set_calibration(1, (10, 10), (10, 50), 20.0, "frame")
    store.set_calibration(1, (10, 10), (10, 50), 40.0, "frame")
    store.undo(1)
    assert store.effective_spacing(1).spacing_mm == (0.5, 0.5)  # the one before it is back
    store.add_point(1, Point(5, 5, PointKind.FOREGROUND))  # drops the redo tail
    assert not store.can_redo(1) and store.effective_spacing(1).spacing_mm == (0.5, 0.5)
    store.undo(1)  # the click
    store.undo(1)  # the first calibration
    assert store.effective_spacing(1).spacing_mm is None
    store.redo(1)
    assert store.effective_spacing(1).spacing_mm == (0.5, 0.5)
    store.close()
    reopened = ProjectStore.open(tmp_path / "project")
    try:
        assert reopened.effective_spacing(1).spacing_mm == (0.5, 0.5)
        assert [e["mm"] for e in reopened.get_setting("calibrations")] == [20.0]  # the dropped one is forgotten
    finally:
        reopened.close()


def test_a_calibration_outlives_its_trimmed_history_step(monkeypatch: pytest.MonkeyPatch, store: ProjectStore) -> None:
    monkeypatch.setattr(history, "HISTORY_PER_FRAME", 3)
    store.set_calibration(1, (10, 10), (10, 50), 20.0, "project")
    for k in range(5):
        store.add_point(1, Point(k, k, PointKind.FOREGROUND))
    while store.undo(1) is not None:
        pass
    assert len(store.points(1)) == 2  # three steps were kept, the calibration's is not among them
    assert store.effective_spacing(3).spacing_mm == (0.5, 0.5)


def test_calibration_checks_its_points_and_refuses_to_join_an_action(store: ProjectStore) -> None:
    with pytest.raises(AnnotationFormatError, match="outside"):
        store.set_calibration(1, (10, 10), (10, 500), 20.0, "frame")
    with pytest.raises(StoreMisuse), store.action("Accept", 1):
        store.set_calibration(1, (10, 10), (10, 50), 20.0, "frame")
    with pytest.raises(ValueError):
        store.set_calibration(1, (10, 10), (10, 50), 20.0, "ward")
    assert store.effective_spacing(1).source == "none" and not store.can_undo(1)


def test_measurements_and_export_use_the_calibration(tmp_path: Path, store: ProjectStore) -> None:
    mask = np.zeros((64, 80), bool)
    mask[20:40, 10:50] = True  # 40 x 20 px
    store.set_mask(1, 0, mask, MaskProvenance.PAINTED)
    store.set_calipers(1, 0, NODULE)
    store.set_mask(2, 0, mask, MaskProvenance.REFINED, accepted=False)  # a draft: panel only, not exported
    store.set_calibration(1, (0, 0), (0, 40), 20.0, "folder")  # 0.5 mm/px

    panel = frame_measurements(store, store.frame(2), include_drafts=True)
    assert [r.method for r in panel.rows] == ["derived"] and panel.spacing.source == "folder"
    assert panel.rows[0].long_axis_mm == pytest.approx(0.5 * np.hypot(40, 20), abs=0.5)

    export_project(store, tmp_path / "export", ["png", "points", "csv"])
    with (tmp_path / "export" / "measurements.csv").open() as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames or ()) == (*CSV_COLUMNS, "class") and CSV_COLUMNS[-1] == "method"
        rows = list(reader)
    assert [(r["name"], r["object_id"], r["method"]) for r in rows] == [("a", "0", "calipers"), ("a", "0", "derived")]
    assert rows[0]["long_axis_mm"] == "25.000" and rows[0]["short_axis_mm"] == "5.000"
    assert float(rows[1]["long_axis_mm"]) == pytest.approx(0.5 * np.hypot(40, 20), abs=0.5)
    assert float(rows[1]["short_axis_mm"]) > 0
    shapes = json.loads((tmp_path / "export" / "labels" / "a.json").read_text())["shapes"]
    assert [s["label"] for s in shapes] == [
        "long1", "long2", "short1", "short2", "derived_long1", "derived_long2", "derived_short1", "derived_short2"
    ]
    assert [s["group_id"] for s in shapes] == [1, 1, 1, 1, 2, 2, 2, 2]
    assert read_point_json(tmp_path / "export" / "labels" / "a.json", (64, 80)) == [NODULE]  # derived: not read
