"""Sparse labels and frame tags through the exchange formats: clicks, scribbles and boxes round-trip through the
point JSON and labelme (with their nodule/background labels and classes), labelme files drawn in labelme read as
sparse labels, and frame tags round-trip through the `tags` CSV, whose bad rows stop an import before it writes."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.annotation.points import Calipers, Point, PointKind
from core.annotation.strokes import Stroke, StrokeKind
from core.annotation.tags import FrameTag
from core.errors import AnnotationFormatError
from core.exchange.export import export_project
from core.exchange.formats.labelme import read_file as read_labelme
from core.exchange.importing import import_annotations, plan_import
from core.io.point_json import read_point_json
from core.project.store import ProjectStore
from core.training.synthetic import make_frame
from tests.conftest import block_mask

SIZE = (64, 80)
CALIPERS = Calipers((10.0, 20.0), (50.0, 40.0), (30.0, 20.0), (28.0, 42.0))


def _images(folder: Path, n: int = 4) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(n):
        paths.append(folder / f"scan_{k}.png")
        cv2.imwrite(str(paths[-1]), make_frame(k, SIZE).image)
    return paths


@pytest.fixture
def project(tmp_path: Path):
    store = ProjectStore.create(tmp_path / "a")
    store.add_frames(_images(tmp_path / "images"))
    gland = store.add_class("thyroid gland")
    store.set_calipers(1, 0, CALIPERS)  # object 0: calipers, a click and a background scribble
    store.add_point(1, Point(30.0, 30.0, PointKind.FOREGROUND, 0))
    store.add_stroke(1, Stroke(StrokeKind.SCRIBBLE, ((2.0, 2.0), (60.5, 3.0), (70.0, 9.0)), False, 9.0, 0))
    store.add_stroke(1, Stroke(StrokeKind.BOX, ((40.0, 41.0), (79.0, 63.0)), object_id=1))  # object 1: a box only
    store.set_object_class(1, 1, gland.id)
    store.add_point(2, Point(5.0, 6.0, PointKind.FOREGROUND, 3))  # a point label: one click, nothing else
    store.add_point(2, Point(7.0, 8.0, PointKind.BACKGROUND, 3))
    store.add_stroke(2, Stroke(StrokeKind.SCRIBBLE, ((20.0, 20.0), (30.0, 31.0)), True, 4.0, 3))
    store.set_mask(3, 0, block_mask(5), "painted")
    store.set_tag([2], FrameTag.NODULE)
    store.set_tag([4], FrameTag.NO_NODULE)
    yield store
    store.close()


def _sparse(store: ProjectStore) -> dict[str, set]:
    """Frame source name -> {(class, what, side, vertices, width)} for every click and stroke."""
    names = {c.id: c.name for c in store.classes()}
    out: dict[str, set] = {}
    for r in store.frames():
        classes = store.object_classes(r.id)
        found = {(names[classes[p.object_id]], "click", p.kind.value, ((p.x, p.y),), None)
                 for p in store.points(r.id).values() if not p.kind.is_caliper}
        found |= {(names[classes[s.object_id]], s.kind.value, s.foreground, s.points, s.width if s.kind == "scribble"
                   else None) for s in store.strokes(r.id).values()}
        if found:
            out[r.source.name] = found
    return out


def _grouping(store: ProjectStore, frame_id: int) -> list[set]:
    """The frame's objects as sets of what they hold (calipers, clicks, strokes), whatever their ids."""
    objects: dict[int, set] = {}
    for p in store.points(frame_id).values():
        objects.setdefault(p.object_id, set()).add(p.kind.value)
    for s in store.strokes(frame_id).values():
        objects.setdefault(s.object_id, set()).add(s.kind.value)
    return sorted(objects.values(), key=sorted)


@pytest.mark.parametrize("fmt", ["points", "labelme"])
def test_clicks_scribbles_and_boxes_round_trip(tmp_path: Path, project: ProjectStore, fmt: str) -> None:
    report = export_project(project, tmp_path / "out", [fmt])
    assert report.frames == 3  # frame 4 holds only a tag
    with ProjectStore.create(tmp_path / "b") as b:
        plan, changed = import_annotations(b, fmt, tmp_path / "out")
        assert len(changed) == (2 if fmt == "points" else 3)  # the point JSON carries no mask (frame 3)
        assert _sparse(b) == _sparse(project) and len(_sparse(b)["scan_0.png"]) == 3
        assert _grouping(b, 1) == _grouping(project, 1) and _grouping(b, 2) == _grouping(project, 2)
        assert list(b.calipers(1).values()) == [CALIPERS]


def test_the_point_json_keeps_hcl_hrl_readers_counting_calipers(tmp_path: Path, project: ProjectStore) -> None:
    export_project(project, tmp_path / "out", ["points"])
    doc = json.loads((tmp_path / "out" / "labels" / "scan_0.json").read_text())
    kinds = [(s["shape_type"], s["label"]) for s in doc["shapes"]]
    assert kinds[:4] == [("point", k) for k in ("long1", "long2", "short1", "short2")]
    assert ("linestrip", "background") in kinds and ("rectangle", "nodule") in kinds and ("point", "nodule") in kinds
    assert read_point_json(tmp_path / "out" / "labels" / "scan_0.json") == [CALIPERS]  # clicks are not calipers


def test_a_labelme_drawing_reads_as_sparse_labels(tmp_path: Path) -> None:
    shapes = [
        {"label": "background", "points": [[1, 1], [20, 2]], "shape_type": "linestrip", "group_id": None},
        {"label": "cyst", "points": [[10, 10], [30, 25]], "shape_type": "rectangle", "group_id": None},
        {"label": "nodule", "points": [[15, 15]], "shape_type": "point", "group_id": None},
    ]
    doc = {"shapes": shapes, "imagePath": "x.png", "imageHeight": SIZE[0], "imageWidth": SIZE[1]}
    (tmp_path / "x.json").write_text(json.dumps(doc))
    (obj,) = read_labelme(tmp_path / "x.json").objects
    assert obj.class_name == "cyst" and obj.clicks == (Point(15.0, 15.0, PointKind.FOREGROUND),)
    assert [(s.kind, s.foreground, s.width) for s in obj.strokes] == [("scribble", False, 5.0), ("box", True, 5.0)]
    shapes[1]["label"] = "background"
    (tmp_path / "x.json").write_text(json.dumps(doc))
    with pytest.raises(AnnotationFormatError, match="shape 1: a box encloses its object"):
        read_labelme(tmp_path / "x.json")


def test_tags_round_trip_through_csv(tmp_path: Path, project: ProjectStore) -> None:
    report = export_project(project, tmp_path / "out", ["tags"])
    assert report.frames == 3  # frame 3 is tagged by its accepted mask
    assert (tmp_path / "out" / "tags.csv").read_text() == "frame,tag\nscan_1,nodule\nscan_2,nodule\nscan_3,no_nodule\n"
    with ProjectStore.create(tmp_path / "b") as b:
        b.add_frames(_images(tmp_path / "images"))
        plan, changed = import_annotations(b, "tags", tmp_path / "out")
        assert changed == [2, 3, 4]
        assert "scan_3.png: tag none -> no_nodule" in plan.preview()
        assert b.tags() == {2: FrameTag.NODULE, 3: FrameTag.NODULE, 4: FrameTag.NO_NODULE}
        assert b.undo_label() == "Import 3 frame(s) (3 frames)"
        b.undo()
        assert b.tags() == {}


@pytest.mark.parametrize(("text", "problem"), [
    ("frame;tag\nscan_1;nodule\n", "the first row must be the header frame,tag"),
    ("frame,tag\nscan_1,maybe\n", "row 2: tag 'maybe' is not one of no_nodule, nodule"),
    ("frame,tag\nscan_1,nodule\nscan_2\n", "row 3: expected 2 cells"),
    ("frame,tag\nscan_1,nodule\n\nSCAN_1,no_nodule\n", "row 4: frame 'SCAN_1' is tagged on row 2 already"),
    ("frame,tag\n,nodule\n", "row 2: no frame name"),
    ("frame,tag\nscan_9,nodule\n", "no project frame is named 'scan_9'"),
    ("frame,tag\nscan_1,nodule\nscan_0,no_nodule\n", "scan_0: tagged no nodule but the frame has annotations"),
])
def test_bad_tag_rows_stop_the_import_before_it_writes(tmp_path: Path, project: ProjectStore, text: str,
                                                       problem: str) -> None:
    (tmp_path / "tags.csv").write_text(text)
    with pytest.raises(AnnotationFormatError) as raised:
        plan_import(project, "tags", tmp_path / "tags.csv")
    assert problem in str(raised.value)
    assert project.tags() == {2: FrameTag.NODULE, 4: FrameTag.NO_NODULE}


def test_objects_imported_onto_a_no_nodule_frame_drop_its_tag(tmp_path: Path, project: ProjectStore) -> None:
    """A frame with objects is not nodule-free: the import's objects win, in the same undo step."""
    export_project(project, tmp_path / "out", ["png"])
    mask = np.zeros(SIZE, np.uint8)
    mask[10:20, 10:20] = 255
    cv2.imwrite(str(tmp_path / "out" / "masks" / "scan_3.png"), mask)
    cv2.imwrite(str(tmp_path / "out" / "images" / "scan_3.png"), cv2.imread(str(tmp_path / "images" / "scan_3.png")))
    import_annotations(project, "png", tmp_path / "out")
    assert project.tag(4) is None and project.effective_tags()[4] is FrameTag.NODULE
