"""Every format through the CLI: export a 50-frame, two-class project, import it into a new project, get the same
masks (per frame and class) and calipers wherever the format carries them; COCO read back by pycocotools and
DICOM-SEG by highdicom give our masks."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest
from pycocotools.coco import COCO

from core.cli import main
from core.exchange.names import export_names
from core.exchange.registry import formats
from core.project.store import ProjectStore
from tests.exchange_project import GLAND, make_project

# formats that carry objects (tags name project frames only: tests/test_exchange_sparse_tags.py round-trips them)
ROUND_TRIP = [name for name, f in formats().items()
              if f.reader is not None and f.writer is not None and (f.carries_masks or f.carries_calipers)]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("exchange")
    make_project(root / "a", root / "sources").close()
    return root / "a", root / "sources"


def _cli(capsys: pytest.CaptureFixture, *argv: str) -> dict:
    assert main([str(a) for a in argv]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def annotations(store: ProjectStore, masks: bool = True, calipers: bool = True) -> dict:
    """(source, index) -> class name -> (union of accepted masks, sorted calipers, objects with a mask)."""
    names = {c.id: c.name for c in store.classes()}
    out: dict = {}
    for r in store.frames():
        blobs = store.mask_blobs(r.id)
        of_class = store.object_classes(r.id)
        per_class: dict = {}
        for oid, cid in of_class.items():
            entry = per_class.setdefault(names[cid], [np.zeros((r.height, r.width), bool), [], 0])
            if masks and oid in blobs and blobs[oid][1]:
                entry[0] |= store.mask(r.id, oid)
                entry[2] += 1
            if calipers and oid in store.calipers(r.id):
                entry[1].append(tuple(map(tuple, store.calipers(r.id)[oid].as_array().tolist())))
        kept = {k: (m.tobytes(), sorted(c), n) for k, (m, c, n) in per_class.items() if m.any() or c}
        if kept:
            out[(r.source, r.index)] = kept
    return out


@pytest.mark.parametrize("fmt", ROUND_TRIP)
def test_export_then_import_gives_the_same_annotations(tmp_path: Path, capsys, project, fmt: str) -> None:
    folder, sources = project
    spec = formats()[fmt]
    exported = _cli(capsys, "export", "--project", folder, "--format", fmt, "--out", tmp_path / "out")
    assert exported["draft_masks"] == 1  # frame 2's draft stays out
    extra = ["--sources", sources] if fmt == "dicom-seg" else []
    imported = _cli(capsys, "import", "--project", tmp_path / "b", "--format", fmt, "--input", tmp_path / "out",
                    *extra)
    assert imported["project_created"] and imported["frames"] == exported["frames"]

    with ProjectStore.open(folder) as a, ProjectStore.open(tmp_path / "b") as b:
        expected = annotations(a, spec.carries_masks, spec.carries_calipers)
        if fmt == "dicom-seg":  # SEG: masks of frames from DICOM files; the PNG frames are skipped with the reason
            expected = {k: v for k, v in expected.items() if k[0].suffix == ".dcm"}
            assert sum("not from a DICOM file" in s for s in exported["skipped"]) == 15
        got = annotations(b)
        if fmt == "png":  # images/ holds copies: match them by export name
            by_name = {n: (r.source, r.index) for r in a.frames() for i, n in export_names(a.frames()).items()
                       if i == r.id}
            got = {by_name[source.stem]: v for (source, _), v in got.items()}
        if not spec.instances:  # one mask per class and frame: compare the unions only
            expected = {k: {c: (m, cal, 1) for c, (m, cal, _) in v.items()} for k, v in expected.items()}
            got = {k: {c: (m, cal, 1) for c, (m, cal, _) in v.items()} for k, v in got.items()}
        assert len(expected) == exported["frames"] and got.keys() == expected.keys()
        assert got == expected
        assert {c.name for c in b.classes()} >= ({"nodule", GLAND} if spec.carries_masks else {"nodule"})


def test_coco_reads_back_in_pycocotools(tmp_path: Path, capsys, project) -> None:
    folder, _ = project
    _cli(capsys, "export", "--project", folder, "--format", "coco", "--out", tmp_path / "out")
    coco = COCO(str(tmp_path / "out" / "coco.json"))
    with ProjectStore.open(folder) as store:
        by_source = {(r.source, r.index): r for r in store.frames()}
        classes = {c.id: c.name for c in store.classes()}
        checked = 0
        for image in coco.dataset["images"]:
            source = (tmp_path / "out" / image["file_name"]).resolve()
            record = by_source[(source, image.get("frame_index", 0))]
            blobs = {oid: store.mask(record.id, oid) for oid, (_, ok) in store.mask_blobs(record.id).items() if ok}
            masks = {(classes[store.object_class(record.id, oid)], m.tobytes()) for oid, m in blobs.items()}
            anns = coco.loadAnns(coco.getAnnIds(imgIds=[image["id"]]))
            got = {(coco.cats[a["category_id"]]["name"], coco.annToMask(a).astype(bool).tobytes())
                   for a in anns if a["segmentation"]}
            assert got == masks
            calipers = {tuple(c.as_array().ravel()) for c in store.calipers(record.id).values()}
            assert {tuple(np.delete(a["keypoints"], [2, 5, 8, 11])) for a in anns if a["num_keypoints"]} == calipers
            checked += len(anns)
    assert checked == len(coco.anns) > 100


def test_dicom_seg_reads_back_in_highdicom_and_validates(tmp_path: Path, capsys, project) -> None:
    folder, _ = project
    _cli(capsys, "export", "--project", folder, "--format", "dicom-seg", "--out", tmp_path / "out")
    files = sorted((tmp_path / "out" / "dicom-seg").glob("*.dcm"))
    assert len(files) == 35
    with ProjectStore.open(folder) as store:
        names = export_names(store.frames())
        by_name = {names[r.id]: r for r in store.frames()}
        classes = {c.id: c.name for c in store.classes()}
        for file in files:
            record = by_name[file.stem]
            source = pydicom.dcmread(record.source, stop_before_pixels=True)
            seg = hd.seg.segread(file)
            assert seg.StudyInstanceUID == source.StudyInstanceUID
            numbers = seg.get_segment_numbers()
            if "NumberOfFrames" in source:
                pixels = seg.get_pixels_by_source_frame(source.SOPInstanceUID, [record.index + 1],
                                                        segment_numbers=numbers)
            else:
                pixels = seg.get_pixels_by_source_instance([source.SOPInstanceUID], segment_numbers=numbers)
            for k, number in enumerate(numbers):
                label = seg.get_segment_description(number).segment_label
                union = np.zeros((record.height, record.width), bool)
                for oid, (_, accepted) in store.mask_blobs(record.id).items():
                    if accepted and classes[store.object_class(record.id, oid)] == label:
                        union |= store.mask(record.id, oid)
                np.testing.assert_array_equal(pixels[0, ..., k].astype(bool), union)
            _assert_valid(file)


def _assert_valid(file: Path) -> None:
    """pydicom in strict mode: every element's value must fit its VR, and the file meta must be complete."""
    config = pydicom.config.settings
    before = config.reading_validation_mode
    config.reading_validation_mode = pydicom.config.RAISE
    try:
        ds = pydicom.dcmread(file, force=False)
        for element in ds.iterall():
            _ = element.value
        pydicom.dataset.validate_file_meta(ds.file_meta, enforce_standard=True)
    finally:
        config.reading_validation_mode = before
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.66.4" and ds.SegmentationType == "BINARY"
    if shutil.which("dciodvfy"):  # dicom3tools' IOD checker, where installed (apt-get install dicom3tools)
        report = subprocess.run(["dciodvfy", str(file)], capture_output=True, text=True, timeout=60)
        problems = [line for line in (report.stdout + report.stderr).splitlines()
                    if line.startswith(("Error", "Warning"))]
        assert problems == [], problems
