"""Issue 15, finding 5: a frame whose file changed after it was annotated is noticed when it is opened and before
export; its annotations are kept, and the user can re-attach them (same size) instead."""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.annotation.points import Calipers
from core.errors import AnnotationFormatError, FrameChanged, FrameReadError
from core.exchange.export import export_project
from core.io.mask_files import write_mask_for_frame
from core.project.records import MaskProvenance
from core.project.store import ProjectStore
from core.training.synthetic import make_frame

NODULE = Calipers((10.0, 20.0), (40.0, 50.0), (25.0, 30.0), (27.0, 42.0))


@pytest.fixture
def annotated(tmp_path: Path):
    image = tmp_path / "scan.png"
    cv2.imwrite(str(image), make_frame(1, (64, 80)).image)
    store = ProjectStore.create(tmp_path / "project")
    (record,) = store.add_frames([image])
    store.load_frame(record.id)  # the app opens a frame before annotating it: its hash is recorded then
    store.set_calipers(record.id, 0, NODULE)
    mask = np.zeros((64, 80), bool)
    mask[20:40, 10:50] = True
    store.set_mask(record.id, 0, mask, MaskProvenance.GENERATED)
    yield store, record.id, image
    store.close()


def replace_file(path: Path, pixels: np.ndarray) -> None:
    stat = path.stat()
    cv2.imwrite(str(path), pixels)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))


def test_an_unchanged_frame_loads_and_verifies(annotated) -> None:
    store, frame_id, _ = annotated
    assert store.load_frame(frame_id).pixels.shape == (64, 80)
    assert not store.verify_frame(frame_id).changed and store.frame(frame_id).content_hash


def test_a_frame_replaced_by_a_smaller_image_is_reported_and_keeps_its_annotations(annotated) -> None:
    store, frame_id, image = annotated
    replace_file(image, make_frame(2, (40, 50)).image)
    with pytest.raises(FrameChanged, match="was 80x64, it is now 50x40") as caught:
        store.load_frame(frame_id)
    assert isinstance(caught.value, FrameReadError)  # the app's unreadable-frame path shows it
    check = store.verify_frame(frame_id)
    assert check.changed and "80x64" in check.reason
    assert store.calipers(frame_id) == {0: NODULE} and store.mask(frame_id).shape == (64, 80)
    with pytest.raises(FrameChanged, match="cannot be re-attached"):
        store.reattach_frame(frame_id)


def test_same_size_content_change_is_caught_by_the_hash_and_can_be_reattached(annotated) -> None:
    store, frame_id, image = annotated
    replace_file(image, make_frame(7, (64, 80)).image)
    with pytest.raises(FrameChanged, match="content hash differs"):
        store.load_frame(frame_id)
    store.reattach_frame(frame_id)
    assert store.load_frame(frame_id).pixels.shape == (64, 80)
    assert store.calipers(frame_id) == {0: NODULE}


def test_export_never_writes_a_mask_for_a_changed_frame(annotated, tmp_path: Path) -> None:
    store, frame_id, image = annotated
    replace_file(image, make_frame(2, (40, 50)).image)
    with pytest.raises(FrameChanged):
        export_project(store, tmp_path / "export", ["png"])
    assert not (tmp_path / "export").exists()


def test_a_missing_file_is_not_checked_and_export_still_works(annotated, tmp_path: Path) -> None:
    store, frame_id, image = annotated
    image.unlink()
    check = store.verify_frame(frame_id)
    assert not check.changed and check.reason.startswith("not checked")
    report = export_project(store, tmp_path / "export", ["coco"])
    assert report.objects == 1


def test_mask_guard_refuses_a_mask_of_another_size(tmp_path: Path) -> None:
    with pytest.raises(AnnotationFormatError, match="mask is 50x40 but its frame is 80x64"):
        write_mask_for_frame(tmp_path / "m.png", np.ones((40, 50), bool), (64, 80))
    assert not (tmp_path / "m.png").exists()
    write_mask_for_frame(tmp_path / "m.png", np.ones((64, 80), bool), (64, 80))
    assert (tmp_path / "m.png").exists()
