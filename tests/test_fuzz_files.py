"""Issue 15: mutated images, DICOM, videos, point JSON and checkpoints (fixed seed, the bench's first cases) give
either a plausible result or a SonoClickError, never a raw exception or an impossible result. Property tests
(hypothesis) for the JSON bounds and the point-file reader."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import AnnotationFormatError
from core.io.limits import json_nesting_depth
from core.io.point_json import read_point_json
from tests import fuzz_cases

CASES = {"images": 120, "dicom": 60, "video": 20, "point_json": 120, "checkpoints": 30}
RUNNERS = {"images": fuzz_cases.run_image, "dicom": fuzz_cases.run_dicom, "video": fuzz_cases.run_video,
           "point_json": fuzz_cases.run_point_json, "checkpoints": fuzz_cases.run_checkpoint}


@pytest.mark.parametrize("category", sorted(CASES))
def test_mutated_files_give_a_result_or_a_clear_error(category: str, tmp_path: Path) -> None:
    outcomes = [RUNNERS[category](i, tmp_path) for i in range(CASES[category])]
    bad = [(i, o.kind, o.detail) for i, o in enumerate(outcomes) if o.kind not in ("ok", "clear")]
    assert bad == []
    kinds = Counter(o.kind for o in outcomes)
    assert kinds["ok"] and kinds["clear"]  # the cases reach both sides: valid seeds and refused mutations


JSON_LEAF = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5)
JSON_TREE = st.recursive(JSON_LEAF, lambda inner: st.lists(inner, max_size=4)
                         | st.dictionaries(st.text(max_size=4), inner, max_size=4), max_leaves=30)


def _depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


@given(JSON_TREE)
def test_nesting_depth_is_that_of_the_parsed_value(value: object) -> None:
    assert json_nesting_depth(json.dumps(value)) == _depth(value)


POINT = st.fixed_dictionaries({"points": st.lists(st.lists(st.floats(-200, 200) | st.integers(-5, 500)
                                                           | JSON_LEAF, max_size=3), max_size=2)},
                              optional={"shape_type": st.sampled_from(["point", "polygon", 3, None]),
                                        "label": JSON_LEAF})
DOC = st.fixed_dictionaries({"shapes": st.lists(POINT | JSON_LEAF, max_size=12)},
                            optional={"imageHeight": st.integers(-2, 300) | JSON_LEAF,
                                      "imageWidth": st.integers(-2, 300) | JSON_LEAF})


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture], derandomize=True,
          database=None)
@given(DOC, st.sampled_from([None, (64, 80), (80, 64)]))
def test_point_files_are_read_inside_the_frame_or_refused(tmp_path: Path, doc: dict, size) -> None:
    path = tmp_path / "labels.json"
    path.write_text(json.dumps(doc))
    try:
        nodules = read_point_json(path, size)
    except AnnotationFormatError:
        return
    declared = (doc.get("imageHeight"), doc.get("imageWidth"))
    bound = size or (declared if None not in declared else None)
    assert fuzz_cases.check_calipers(nodules, bound).kind == "ok"
