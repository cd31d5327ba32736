"""Export and import are all or nothing: a failed export leaves the target as it was, a re-export replaces the
earlier one whole; an import is checked and previewed before it writes, a failure part-way writes nothing, and a
file with nothing to import changes nothing."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

import core.exchange.formats.coco as coco_format
from core.errors import AnnotationFormatError, InputError
from core.exchange.export import export_project
from core.exchange.file_exchange import import_point_json
from core.exchange.importing import apply_import, plan_import
from core.project.records import MaskProvenance
from core.project.store import ProjectStore
from core.training.synthetic import make_frame
from tests.exchange_project import calipers_of

SIZE = (64, 80)


@pytest.fixture
def store(tmp_path: Path):
    images = tmp_path / "images"
    images.mkdir()
    s = ProjectStore.create(tmp_path / "project")
    for k in range(3):
        cv2.imwrite(str(images / f"f{k}.png"), make_frame(k, SIZE).image)
    s.add_frames(sorted(images.glob("*.png")))
    for r in s.frames()[:2]:
        mask = make_frame(r.id, SIZE).mask
        s.set_mask(r.id, 0, mask, MaskProvenance.PAINTED)
        s.set_calipers(r.id, 0, calipers_of(mask))
    yield s
    s.close()


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _state(store: ProjectStore) -> tuple:
    return (
        [(r.path, r.index) for r in store.frames()], store.classes(),
        [(store.mask_blobs(r.id), store.calipers(r.id), store.object_classes(r.id)) for r in store.frames()],
        [store.can_undo(r.id) for r in store.frames()],
    )


def test_a_failed_export_leaves_the_earlier_export_untouched(tmp_path: Path, store: ProjectStore, monkeypatch) -> None:
    out = tmp_path / "export"
    export_project(store, out, ["png", "points"])
    (out / "masks" / "stale.png").write_bytes(b"from an earlier export")
    before = _tree(out)

    def half_then_fail(folder: Path, data: object) -> tuple[int, int, list[str]]:
        (folder / "coco.json").write_text("{}")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(coco_format, "FORMAT", dataclasses.replace(coco_format.FORMAT, writer=half_then_fail))
    with pytest.raises(InputError, match="nothing was changed"):
        export_project(store, out, ["png", "coco"])
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export", "images", "project"]  # no temporary folders

    monkeypatch.undo()
    report = export_project(store, out, ["coco"])
    assert sorted(_tree(out)) == [".sonoclick-export", "coco.json"]  # replaced whole: no stale masks
    assert report.frames == 2 and report.objects == 2


def test_export_refuses_a_folder_it_did_not_write(tmp_path: Path, store: ProjectStore) -> None:
    out = tmp_path / "documents"
    out.mkdir()
    (out / "thesis.docx").write_bytes(b"precious")
    with pytest.raises(InputError, match="not empty"):
        export_project(store, out, ["coco"])
    assert _tree(out) == {"thesis.docx": b"precious"}


def test_import_previews_then_applies_everything(tmp_path: Path, store: ProjectStore) -> None:
    export_project(store, tmp_path / "out", ["coco"])
    doc = json.loads((tmp_path / "out" / "coco.json").read_text())
    doc["categories"][0]["name"] = "cyst"  # another class name: a new class on import
    (tmp_path / "out" / "coco.json").write_text(json.dumps(doc))
    before = _state(store)
    plan = plan_import(store, "coco", tmp_path / "out" / "coco.json")
    assert _state(store) == before  # planning writes nothing
    assert [c.name for c in plan.new_classes] == ["cyst"]
    assert [(c.masks, c.calipers, c.classes) for c in plan.changes] == [((1, 1), (1, 1), ("cyst",))] * 2
    assert plan.preview()[0] == "2 frames, 2 objects from coco.json (coco)"
    changed = apply_import(store, plan)
    assert changed == [1, 2] and [c.name for c in store.classes()] == ["nodule", "cyst"]
    assert store.object_classes(1) == {0: 2}
    store.undo(1)
    assert store.object_classes(1) == {0: 1}


def test_a_failure_while_applying_writes_nothing(tmp_path: Path, store: ProjectStore, monkeypatch) -> None:
    export_project(store, tmp_path / "out", ["labelme"])
    extra = tmp_path / "more"
    extra.mkdir()
    cv2.imwrite(str(extra / "new.png"), make_frame(7, SIZE).image)
    doc = json.loads((tmp_path / "out" / "labelme" / "f0.json").read_text())
    doc["imagePath"] = "../../more/new.png"  # an image the project does not have yet: added on apply
    doc["shapes"][0]["label"] = "lesion"
    (tmp_path / "out" / "labelme" / "zz_new.json").write_text(json.dumps(doc))
    plan = plan_import(store, "labelme", tmp_path / "out")
    assert [c.frame_id for c in plan.changes] == [1, 2, None] and [c.name for c in plan.new_classes] == ["lesion"]
    before = _state(store)
    real = store.put_objects
    calls = []

    def fail_on_third(frame_id: int, *args: object) -> None:
        calls.append(frame_id)
        if len(calls) == 3:
            raise OSError("disk went away")
        real(frame_id, *args)

    monkeypatch.setattr(store, "put_objects", fail_on_third)
    with pytest.raises(OSError):
        apply_import(store, plan)
    assert len(calls) == 3 and _state(store) == before  # no frame added, no class, no mask changed


def test_an_invalid_file_anywhere_stops_the_import_before_it_writes(tmp_path: Path, store: ProjectStore) -> None:
    export_project(store, tmp_path / "out", ["coco"])
    doc = json.loads((tmp_path / "out" / "coco.json").read_text())
    doc["annotations"][-1]["keypoints"][0] = 500.0  # the last caliper end is off its frame
    (tmp_path / "out" / "coco.json").write_text(json.dumps(doc))
    before = _state(store)
    with pytest.raises(AnnotationFormatError, match="outside"):
        plan_import(store, "coco", tmp_path / "out" / "coco.json")
    assert _state(store) == before


def test_a_file_with_nothing_to_import_changes_nothing(tmp_path: Path, store: ProjectStore) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"shapes": [{"shape_type": "polygon", "label": "x", "points": [[1, 1]] * 3}],
                                 "imagePath": "images/f0.png", "imageHeight": 64, "imageWidth": 80}))
    before = _state(store)
    assert import_point_json(store, 1, empty) == store.calipers(1) != {}
    assert _state(store) == before
    plan = plan_import(store, "points", empty)
    assert plan.changes == [] and plan.skipped == ["empty.json: nothing to import (no point shapes)"]
    assert apply_import(store, plan) == [] and _state(store) == before
    mask_only = np.zeros(SIZE, bool)
    (tmp_path / "ds" / "images").mkdir(parents=True)
    cv2.imwrite(str(tmp_path / "ds" / "images" / "f0.png"), mask_only.astype(np.uint8))
    (tmp_path / "ds" / "masks").mkdir()
    cv2.imwrite(str(tmp_path / "ds" / "masks" / "f0.png"), mask_only.astype(np.uint8))  # an empty mask
    plan = plan_import(store, "png", tmp_path / "ds")
    assert plan.changes == [] and apply_import(store, plan) == [] and _state(store) == before


def test_an_export_from_before_images_were_written_imports_by_name(tmp_path: Path, store: ProjectStore) -> None:
    old = tmp_path / "old-export" / "masks"
    old.mkdir(parents=True)
    mask = np.zeros(SIZE, np.uint8)
    mask[5:20, 5:30] = 255
    cv2.imwrite(str(old / "f2.png"), mask)  # masks/<name>.png only, as exports were before
    plan = plan_import(store, "png", tmp_path / "old-export")
    assert [(c.frame_id, c.masks) for c in plan.changes] == [(3, (0, 1))]
    apply_import(store, plan)
    np.testing.assert_array_equal(store.mask(3, accepted_only=True), mask > 0)


def test_cli_dry_run_changes_nothing_and_a_failed_import_leaves_no_project(tmp_path: Path, store: ProjectStore,
                                                                          capsys) -> None:
    from core.cli import main

    assert main(["export", "--project", str(store.folder), "--format", "coco", "--out", str(tmp_path / "out")]) == 0
    before = _state(store)
    assert main(["import", "--project", str(store.folder), "--format", "coco", "--input",
                 str(tmp_path / "out"), "--dry-run"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["frames"] == 2 and summary["applied"] is False and _state(store) == before
    (tmp_path / "broken.json").write_text("{not json")
    assert main(["import", "--project", str(tmp_path / "new"), "--format", "coco", "--input",
                 str(tmp_path / "broken.json")]) == 2
    assert "malformed JSON" in capsys.readouterr().err and not (tmp_path / "new").exists()
