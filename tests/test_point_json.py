"""HCL-HRL labelme point JSON: reading, writing and every malformed case."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.annotation.points import Calipers
from core.errors import AnnotationFormatError
from core.io.point_json import read_point_json, write_point_json

NODULE_1 = Calipers((10.0, 20.0), (50.0, 40.0), (30.0, 20.0), (28.5, 42.0))
NODULE_2 = Calipers((60.0, 5.0), (70.0, 15.0), (68.0, 6.0), (61.0, 14.0))


def _point(x: object, y: object, label: str = "p") -> dict:
    return {"label": label, "points": [[x, y]], "group_id": None, "shape_type": "point", "flags": {}}


def _write(path: Path, doc: object) -> Path:
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    return path


def test_round_trip_keeps_order_and_writes_labelme_fields(tmp_path: Path) -> None:
    path = tmp_path / "labels" / "img.json"
    write_point_json(path, [NODULE_1, NODULE_2], "../images/img.png", (64, 80))
    assert read_point_json(path, (64, 80)) == [NODULE_1, NODULE_2]
    doc = json.loads(path.read_text())
    assert (doc["imagePath"], doc["imageHeight"], doc["imageWidth"]) == ("../images/img.png", 64, 80)
    assert "version" in doc and doc["imageData"] is None
    assert [s["label"] for s in doc["shapes"][:4]] == ["long1", "long2", "short1", "short2"]
    assert {s["shape_type"] for s in doc["shapes"]} == {"point"}
    assert doc["shapes"][0]["points"] == [[10.0, 20.0]] and doc["shapes"][4]["group_id"] == 2


def test_four_consecutive_points_are_one_nodule_and_other_fields_are_ignored(tmp_path: Path) -> None:
    doc = {
        "shapes": [
            _point(1, 2, "whatever"),
            {"label": "outline", "shape_type": "polygon", "points": [[0, 0], [5, 5], [0, 5]]},
            _point(3, 4),
            {"points": [[5, 6]]},  # no shape_type: treated as a point, as the HCL-HRL code does
            _point(7, 8),
        ],
        "somethingElse": [1, 2, 3],
    }
    calipers = read_point_json(_write(tmp_path / "p.json", doc))
    assert calipers == [Calipers((1, 2), (3, 4), (5, 6), (7, 8))]


def test_empty_shapes_is_no_nodule(tmp_path: Path) -> None:
    assert read_point_json(_write(tmp_path / "e.json", {"shapes": []})) == []


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        ('{"shapes": [', "malformed JSON"),
        ("[1, 2]", "no 'shapes' list"),
        ({"shapes": [_point(1, 1)] * 5}, "5 points is not a multiple of 4"),
        ({"shapes": [_point(1, 1)] * 3}, "3 points"),
        ({"shapes": [_point("a", 1)] + [_point(1, 1)] * 3}, "not a pair of finite numbers"),
        ({"shapes": [_point(True, 1)] + [_point(1, 1)] * 3}, "not a pair of finite numbers"),
        ({"shapes": [{"shape_type": "point", "points": [1, 2]}] * 4}, "must be"),
        ({"shapes": [_point(1, 1)] * 3 + [_point(81, 1)]}, "outside"),
        ({"shapes": [_point(1, 1)] * 3 + [_point(1, -0.5)]}, "outside"),
        ({"shapes": [_point(1, 1)] * 4, "imageHeight": 10, "imageWidth": 10}, "labels are for a 10x10 image"),
        ({"shapes": ["point"]}, "shape 0 is not an object"),
    ],
)
def test_malformed_files_raise_naming_the_file(tmp_path: Path, doc: object, reason: str) -> None:
    path = _write(tmp_path / "bad_labels.json", doc)
    with pytest.raises(AnnotationFormatError, match=reason) as err:
        read_point_json(path, (64, 80))
    assert "bad_labels.json" in str(err.value) and err.value.path == path


def test_declared_image_size_is_used_when_the_caller_gives_none(tmp_path: Path) -> None:
    doc = {"shapes": [_point(1, 1)] * 3 + [_point(30, 1)], "imageHeight": 20, "imageWidth": 20}
    with pytest.raises(AnnotationFormatError, match="outside the 20x20 frame"):
        read_point_json(_write(tmp_path / "d.json", doc))


def test_missing_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(AnnotationFormatError, match="cannot read"):
        read_point_json(tmp_path / "nope.json")
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(AnnotationFormatError, match="bin.json"):
        read_point_json(tmp_path / "bin.json")
