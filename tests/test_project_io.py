"""Export of a project to masks/labels/measurements, and imports that either fully apply or change nothing."""
from __future__ import annotations

import csv
import json
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from core.annotation.points import Calipers, Point, PointKind
from core.errors import AnnotationFormatError
from core.exchange.export import export_project as export_formats
from core.exchange.file_exchange import DEFAULT_EXPORT, import_mask, import_point_json
from core.io.mask_files import read_mask, write_mask
from core.io.point_json import read_point_json, write_point_json
from core.project.records import MaskProvenance
from core.project.store import ProjectStore
from core.training.synthetic import make_frame
from tests.conftest import write_dicom

NODULE = Calipers((10.0, 20.0), (40.0, 60.0), (25.0, 40.0), (33.0, 34.0))
OTHER = Calipers((50.0, 5.0), (70.0, 15.0), (62.0, 6.0), (58.0, 14.0))


def export_project(store: ProjectStore, out: Path, include_drafts: bool = False) -> SimpleNamespace:
    """The app's default export (PNG dataset, point JSON, measurements), listed as the old summary was."""
    report = export_formats(store, out, DEFAULT_EXPORT, include_drafts)
    return SimpleNamespace(
        masks=[p for p in report.files if p.parent.name == "masks"],
        labels=[p for p in report.files if p.parent.name == "labels"],
        draft_masks_skipped=report.draft_masks,
        measurements=out / "measurements.csv",
    )


@pytest.fixture
def store(tmp_path: Path):
    for folder in ("left", "right"):
        (tmp_path / folder).mkdir()
    cv2.imwrite(str(tmp_path / "left" / "scan.png"), make_frame(1, (64, 80)).image)
    cv2.imwrite(str(tmp_path / "right" / "scan.png"), make_frame(2, (64, 80)).image)
    write_dicom(tmp_path / "left" / "cine.dcm", np.zeros((2, 64, 80), np.uint8), PixelSpacing=[0.2, 0.1])
    s = ProjectStore.create(tmp_path / "project")
    s.add_frames([tmp_path / "left" / "scan.png", tmp_path / "right" / "scan.png", tmp_path / "left" / "cine.dcm"])
    yield s
    s.close()


def _snapshot(store: ProjectStore, frame_id: int) -> tuple:
    mask = store.mask(frame_id)
    return store.points(frame_id), None if mask is None else mask.tobytes(), store.can_undo(), store.can_redo()


def test_export_writes_masks_labels_and_measurements(tmp_path: Path, store: ProjectStore) -> None:
    mask = make_frame(1, (64, 80)).mask
    store.set_mask(1, 0, mask, MaskProvenance.GENERATED)
    store.set_calipers(1, 0, NODULE)
    store.set_calipers(1, 1, OTHER)
    store.set_calipers(4, 0, NODULE)  # cine.dcm frame 1, spacing known
    store.add_point(2, Point(3, 3, PointKind.FOREGROUND))  # a lone click: a point label, no calipers to measure

    out = tmp_path / "export"
    summary = export_project(store, out)
    assert [p.name for p in summary.masks] == ["scan.png"]
    assert sorted(p.name for p in summary.labels) == ["cine_f0001.json", "scan.json", "scan_2.json"]
    assert read_point_json(out / "labels" / "scan_2.json") == []  # its click is no caliper end
    np.testing.assert_array_equal(read_mask(out / "masks" / "scan.png", (64, 80)), mask)
    assert read_point_json(out / "labels" / "scan.json", (64, 80)) == [NODULE, OTHER]
    doc = json.loads((out / "labels" / "scan.json").read_text())
    assert doc["imagePath"] == "../../left/scan.png"

    rows = list(csv.DictReader((out / "measurements.csv").open()))
    assert [(r["name"], r["object_id"], r["method"]) for r in rows] == [
        ("scan", "0", "calipers"), ("scan", "0", "derived"), ("scan", "1", "calipers"), ("cine_f0001", "0", "calipers")
    ]
    assert [r["long_axis_px"] for r in rows if r["method"] == "calipers"] == [
        "50.000", f"{OTHER.long_axis_px:.3f}", "50.000"
    ]
    assert rows[0]["long_axis_mm"] == "" and rows[3]["long_axis_mm"] == "8.544" and rows[3]["frame_index"] == "1"


def test_export_names_are_unique(tmp_path: Path, store: ProjectStore) -> None:
    store.set_mask(1, 0, np.ones((64, 80), bool), "painted")
    store.set_mask(2, 0, np.ones((64, 80), bool), "painted")
    store.set_mask(3, 0, np.ones((64, 80), bool), "painted")
    summary = export_project(store, tmp_path / "export")
    assert sorted(p.name for p in summary.masks) == ["cine_f0000.png", "scan.png", "scan_2.png"]


def test_export_skips_draft_masks_and_counts_them(tmp_path: Path, store: ProjectStore) -> None:
    left, right = np.zeros((64, 80), bool), np.zeros((64, 80), bool)
    left[:, :40] = True
    right[:, 40:] = True
    store.set_mask(1, 0, left, "refined", accepted=False)  # only a draft: no mask file
    store.set_calipers(1, 0, NODULE)  # its calipers are still exported
    store.set_mask(2, 0, left, "painted")
    store.set_mask(2, 1, right, "refined", accepted=False)  # accepted + draft: the accepted one only
    store.set_mask(3, 0, right, "painted", accepted=False)
    store.accept_mask(3, 0)

    summary = export_project(store, tmp_path / "export")
    assert sorted(p.name for p in summary.masks) == ["cine_f0000.png", "scan_2.png"]
    # frames with an accepted mask get a point file too (its derived axes); the draft's frame only its calipers
    assert sorted(p.name for p in summary.labels) == ["cine_f0000.json", "scan.json", "scan_2.json"]
    assert summary.draft_masks_skipped == 2
    assert not [s for s in json.loads((tmp_path / "export" / "labels" / "scan.json").read_text())["shapes"]
                if s["label"].startswith("derived_")]
    np.testing.assert_array_equal(read_mask(tmp_path / "export" / "masks" / "scan_2.png", (64, 80)), left)
    np.testing.assert_array_equal(read_mask(tmp_path / "export" / "masks" / "cine_f0000.png", (64, 80)), right)

    everything = export_project(store, tmp_path / "with_drafts", include_drafts=True)
    assert sorted(p.name for p in everything.masks) == ["cine_f0000.png", "scan.png", "scan_2.png"]
    assert everything.draft_masks_skipped == 0
    assert read_mask(tmp_path / "with_drafts" / "masks" / "scan_2.png", (64, 80)).all()


def test_imported_mask_is_accepted(tmp_path: Path, store: ProjectStore) -> None:
    write_mask(tmp_path / "m.png", make_frame(9, (64, 80)).mask)
    import_mask(store, 1, tmp_path / "m.png")
    assert store.masks(1)[0].accepted and [r.id for r in store.accepted_frames()] == [1]


def test_import_point_json_replaces_calipers_in_one_undoable_edit(tmp_path: Path, store: ProjectStore) -> None:
    click = store.add_point(1, Point(3, 3, PointKind.FOREGROUND))
    store.set_calipers(1, 5, OTHER)
    path = tmp_path / "labels.json"
    write_point_json(path, [NODULE, OTHER], "scan.png", (64, 80))
    assert import_point_json(store, 1, path) == {1: NODULE, 2: OTHER}  # new objects after the click's object 0
    assert store.calipers(1) == {1: NODULE, 2: OTHER} and click in store.points(1)
    store.undo(1)
    assert store.calipers(1) == {5: OTHER}


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        json.dumps({"shapes": [{"shape_type": "point", "points": [[1, 1]]}] * 6}),
        json.dumps({"shapes": [{"shape_type": "point", "points": [[1, 1]]}] * 3
                    + [{"shape_type": "point", "points": [[500, 1]]}]}),
    ],
)
def test_failed_point_import_leaves_store_unchanged(tmp_path: Path, store: ProjectStore, content: str) -> None:
    store.set_calipers(1, 0, OTHER)
    before = _snapshot(store, 1)
    path = tmp_path / "broken_labels.json"
    path.write_text(content)
    with pytest.raises(AnnotationFormatError, match="broken_labels.json"):
        import_point_json(store, 1, path)
    assert _snapshot(store, 1) == before


def test_import_mask(tmp_path: Path, store: ProjectStore) -> None:
    mask = make_frame(9, (64, 80)).mask
    write_mask(tmp_path / "m.png", mask)
    import_mask(store, 1, tmp_path / "m.png", object_id=2)
    np.testing.assert_array_equal(store.mask(1, 2), mask)
    assert store.masks(1)[2].provenance == MaskProvenance.PAINTED


def test_failed_mask_import_leaves_store_unchanged(tmp_path: Path, store: ProjectStore) -> None:
    store.set_mask(1, 0, np.ones((64, 80), bool), "generated")
    before = _snapshot(store, 1)
    write_mask(tmp_path / "wrong_size.png", np.ones((32, 40), bool))
    (tmp_path / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x01" * 50)
    for name in ("wrong_size.png", "corrupt.png"):
        with pytest.raises(AnnotationFormatError, match=name):
            import_mask(store, 1, tmp_path / name)
    assert _snapshot(store, 1) == before


def test_export_adds_a_clip_row_at_the_largest_long_axis(tmp_path: Path, store: ProjectStore) -> None:
    store.set_calipers(3, 0, OTHER)  # cine.dcm frame 0
    bigger = np.zeros((64, 80), bool)
    bigger[10:20, 5:75] = True  # frame 1: a mask only, 70 px long
    store.set_mask(4, 0, bigger, MaskProvenance.GENERATED)
    rows = list(csv.DictReader((export_project(store, tmp_path / "export").measurements).open()))
    clip = [r for r in rows if r["scope"] == "clip"]
    assert [(r["name"], r["frame_index"], r["object_id"]) for r in clip] == [("cine", "1", "0")]
    # the mask's contour runs midway between inside and outside pixel centres: about the 70 x 10 box's diagonal
    assert float(clip[0]["long_axis_px"]) == pytest.approx(np.hypot(70, 10), abs=0.5)
    assert clip[0]["long_axis_mm"] != "" and clip[0]["method"] == "derived"
    assert all(r["scope"] == "frame" for r in rows if r not in clip)
