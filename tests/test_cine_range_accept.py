"""Propagated drafts in a project and accepting the range: all frames in one transaction, or none, and one undo
step on all of them."""
from pathlib import Path

import numpy as np
import pytest

from core.cine.range_accept import ACTION_TITLE, accept_range, save_draft
from core.project.records import HistoryStep
from core.project.store import ProjectStore
from tests.conftest import write_dicom


@pytest.fixture
def store(tmp_path: Path):
    clip = write_dicom(tmp_path / "clip.dcm", np.zeros((5, 32, 40), np.uint8))
    s = ProjectStore.create(tmp_path / "project")
    s.add_frames([clip])
    yield s
    s.close()


def _mask(k: int) -> np.ndarray:
    m = np.zeros((32, 40), bool)
    m[8 : 16 + k, 10:20] = True
    return m


def test_drafts_are_written_unaccepted_and_the_range_is_accepted_together(store: ProjectStore) -> None:
    ids = [r.id for r in store.frames()]
    for k, frame_id in enumerate(ids[:4]):
        save_draft(store, frame_id, 0, _mask(k))
    assert store.accepted_frames() == [] and len(store.draft_frames()) == 4
    assert accept_range(store, ids, 0) == ids[:4]  # the frame without a mask is skipped
    assert [r.id for r in store.accepted_frames()] == ids[:4]
    assert np.array_equal(store.mask(ids[2], 0), _mask(2))


def test_a_failure_part_way_accepts_nothing(store: ProjectStore, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = [r.id for r in store.frames()]
    for k, frame_id in enumerate(ids):
        save_draft(store, frame_id, 0, _mask(k))
    real = store.accept_mask

    def failing(frame_id: int, object_id: int) -> None:
        if frame_id == ids[3]:
            raise OSError("disk full")
        real(frame_id, object_id)

    monkeypatch.setattr(store, "accept_mask", failing)
    with pytest.raises(OSError):
        accept_range(store, ids, 0)
    assert store.accepted_frames() == [] and len(store.draft_frames()) == 5


def test_the_accepted_range_is_one_undo_step_on_every_frame(store: ProjectStore) -> None:
    ids = [r.id for r in store.frames()]
    for k, frame_id in enumerate(ids[1:4]):
        save_draft(store, frame_id, 0, _mask(k))
    store.set_mask(ids[4], 0, _mask(4), "painted")  # accepted already: not part of the action
    accept_range(store, ids, 0)
    assert store.undo_label(ids[2]) == f"{ACTION_TITLE} (3 frames)"

    assert store.undo_step(ids[3]) == HistoryStep(ACTION_TITLE, tuple(ids[1:4]))
    assert [r.id for r in store.accepted_frames()] == [ids[4]] and len(store.draft_frames()) == 3
    assert store.redo(ids[1]) == ids[1]
    assert [r.id for r in store.accepted_frames()] == ids[1:]


def test_a_propagated_draft_keeps_the_class_of_its_object_in_one_undo_step(store: ProjectStore) -> None:
    gland = store.add_class("thyroid gland").id
    first, second = [r.id for r in store.frames()][:2]
    save_draft(store, first, 0, _mask(0), gland)
    save_draft(store, second, 0, _mask(1))  # a nodule, as before classes
    assert store.object_classes(first) == {0: gland} and store.object_classes(second) == {0: 1}
    assert store.undo_label(first) == "set mask"
    store.undo(first)
    assert store.masks(first) == {} and store.object_classes(first) == {}
