"""The training snapshot of a project: accepted masks train as full supervision, drafts never do."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.annotation.points import Calipers, Point, PointKind
from core.learning.snapshot import SNAPSHOT_FILE, read_snapshot, snapshot_gland_mask, snapshot_mask, write_snapshot
from core.project.store import ProjectStore
from tests.conftest import synthetic_project

NODULE = Calipers((10.0, 20.0), (40.0, 60.0), (25.0, 40.0), (33.0, 34.0))


@pytest.fixture
def store(tmp_path: Path):
    s = synthetic_project(tmp_path, range(1, 6))
    yield s
    s.close()


def _halves() -> tuple[np.ndarray, np.ndarray]:
    left, right = np.zeros((64, 80), bool), np.zeros((64, 80), bool)
    left[:, :40] = True
    right[:, 40:] = True
    return left, right


def test_snapshot_uses_accepted_masks_only(tmp_path: Path, store: ProjectStore) -> None:
    left, right = _halves()
    store.set_mask(1, 0, left, "painted")  # accepted
    store.set_mask(2, 0, left, "painted")
    store.set_mask(2, 1, right, "refined", accepted=False)  # accepted + draft: the accepted one only
    store.add_point(3, Point(5, 5, PointKind.FOREGROUND))
    store.add_point(3, Point(60, 5, PointKind.BACKGROUND))
    store.set_mask(3, 0, left, "refined", accepted=False)  # clicks and a draft: the clicks only
    store.set_calipers(4, 0, NODULE)
    store.set_mask(4, 0, right, "generated", accepted=False)  # calipers and a draft: the calipers only
    store.set_mask(5, 0, right, "painted", accepted=False)  # a lone draft: not a training frame

    path = write_snapshot(store, tmp_path / "snap")
    assert path == tmp_path / "snap" / SNAPSHOT_FILE
    frames = {f.frame_id: f for f in read_snapshot(path)}
    assert sorted(frames) == [1, 2, 3, 4]
    assert [fid for fid, f in frames.items() if f.has_mask] == [1, 2]
    np.testing.assert_array_equal(snapshot_mask(path, frames[1]), left)
    np.testing.assert_array_equal(snapshot_mask(path, frames[2]), left)
    assert frames[3].mask_file is None and frames[3].positives == [[5.0, 5.0]] and frames[3].negatives == [[60.0, 5.0]]
    assert frames[4].mask_file is None and frames[4].calipers == [NODULE.as_array().tolist()]
    assert sorted(p.name for p in (tmp_path / "snap" / "masks").iterdir()) == ["1.png", "2.png"]
    # the file format is unchanged: the same fields as before
    doc = json.loads(path.read_text())
    assert set(doc) == {"frames"}
    assert set(doc["frames"][0]) == {"frame_id", "source", "index", "calipers", "positives", "negatives", "mask_file"}


def test_accepting_a_draft_puts_it_in_the_next_snapshot(tmp_path: Path, store: ProjectStore) -> None:
    left, _ = _halves()
    store.set_mask(1, 0, left, "refined", accepted=False)
    assert read_snapshot(write_snapshot(store, tmp_path / "a")) == []
    store.accept_mask(1, 0)
    frames = read_snapshot(write_snapshot(store, tmp_path / "b"))
    assert [f.frame_id for f in frames] == [1] and frames[0].has_mask
    store.undo(1)
    assert read_snapshot(write_snapshot(store, tmp_path / "c")) == []


def test_only_nodule_class_objects_train_the_nodule_model(tmp_path: Path, store: ProjectStore) -> None:
    left, right = _halves()
    gland = store.add_class("thyroid gland").id
    store.set_mask(1, 0, left, "painted")  # a nodule ...
    store.set_mask(1, 1, left | right, "refined")  # ... inside a gland: only the nodule is a nodule
    store.set_object_class(1, 1, gland)
    store.add_point(1, Point(70, 5, PointKind.FOREGROUND, 1))  # the gland's click
    store.set_calipers(2, 3, NODULE)
    store.set_object_class(2, 3, gland)  # a measured gland, nothing else: not a nodule-training frame
    store.set_mask(3, 0, right, "painted")
    store.set_object_class(3, 0, gland)  # a frame with only a gland mask

    path = write_snapshot(store, tmp_path / "snap")
    frames = {f.frame_id: f for f in read_snapshot(path)}
    assert sorted(frames) == [1, 3]  # frame 3 for its gland mask only: it trains no nodule map
    np.testing.assert_array_equal(snapshot_mask(path, frames[1]), left)
    assert frames[1].positives == [] and frames[1].calipers == []
    np.testing.assert_array_equal(snapshot_gland_mask(path, frames[1]), left | right)
    assert frames[1].has_nodule_labels and not frames[3].has_nodule_labels
    assert snapshot_mask(path, frames[3]) is None
    np.testing.assert_array_equal(snapshot_gland_mask(path, frames[3]), right)


@pytest.mark.parametrize("name, is_gland", [("thyroid gland", True), ("Thyroid  Gland", True), ("gland", True),
                                            ("THYROID", True), ("gland cyst", False), ("lesion", False)])
def test_gland_masks_come_from_classes_named_like_the_thyroid_gland(tmp_path: Path, store: ProjectStore,
                                                                     name: str, is_gland: bool) -> None:
    left, right = _halves()
    store.set_mask(1, 0, left, "painted")
    store.set_mask(1, 1, right, "painted")
    store.set_object_class(1, 1, store.add_class(name).id)
    store.set_mask(2, 1, right, "painted", accepted=False)  # a draft gland trains nothing
    store.set_object_class(2, 1, store.classes()[-1].id)

    path = write_snapshot(store, tmp_path / "snap")
    frames = read_snapshot(path)
    assert [f.frame_id for f in frames] == [1]
    assert (frames[0].gland_mask_file is not None) == is_gland
    np.testing.assert_array_equal(snapshot_mask(path, frames[0]), left)
