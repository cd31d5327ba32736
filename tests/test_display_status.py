"""A frame's status as the app shows it: the store's statuses plus "mask draft", from a real store. Headless."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from core.annotation.points import Calipers
from core.project.display_status import (
    DisplayStatus,
    display_status,
    draft_frame_ids,
    draft_objects,
    list_frames,
    new_frame_status,
)
from core.project.records import MaskProvenance
from core.project.store import ProjectStore

SHAPE = (40, 50)
CALIPERS = Calipers((10.0, 20.0), (40.0, 20.0), (25.0, 12.0), (25.0, 28.0))


@pytest.fixture
def store(tmp_path: Path):
    for i in range(5):
        cv2.imwrite(str(tmp_path / f"f{i}.png"), np.full(SHAPE, 40 * i, np.uint8))
    (tmp_path / "broken.png").write_bytes(b"not a png")
    s = ProjectStore.create(tmp_path / "project")
    s.add_frames(sorted(tmp_path.glob("*.png")))
    yield s
    s.close()


def _mask() -> np.ndarray:
    mask = np.zeros(SHAPE, bool)
    mask[15:25, 15:35] = True
    return mask


def test_precedence_puts_drafts_between_calipers_and_predictions() -> None:
    assert display_status(True, True, True, True, True) == DisplayStatus.UNREADABLE
    assert display_status(False, True, True, True, True) == DisplayStatus.ACCEPTED
    assert display_status(False, False, True, True, True) == DisplayStatus.CALIPERS
    assert display_status(False, False, False, True, True) == DisplayStatus.DRAFT
    assert display_status(False, False, False, False, True) == DisplayStatus.PREDICTED
    assert display_status(False, False, False, False, False) == DisplayStatus.UNLABELLED
    assert {s for s in DisplayStatus if s.needs_work} == {DisplayStatus.UNLABELLED, DisplayStatus.PREDICTED}


def test_listed_frames_show_drafts_the_store_counts_as_calipers(store: ProjectStore) -> None:
    frames = {r.source.name: r for r in store.frames()}
    draft_only, draft_and_calipers, accepted, predicted = (frames[f"f{i}.png"].id for i in range(4))
    store.set_mask(draft_only, 0, _mask(), MaskProvenance.REFINED, accepted=False)
    store.set_calipers(draft_and_calipers, 0, CALIPERS)
    store.set_mask(draft_and_calipers, 0, _mask(), MaskProvenance.GENERATED, accepted=False)
    store.set_mask(accepted, 0, _mask(), MaskProvenance.PAINTED)
    store.set_mask(accepted, 1, _mask(), MaskProvenance.PAINTED, accepted=False)
    store.set_prediction(predicted, np.full(SHAPE, 0.7, np.float32), "m:epoch 1")

    records, shown = list_frames(store)
    assert [r.id for r in records] == [r.id for r in store.frames()]
    assert shown[draft_only] == DisplayStatus.DRAFT
    assert shown[draft_and_calipers] == DisplayStatus.CALIPERS
    assert shown[accepted] == DisplayStatus.ACCEPTED
    assert shown[predicted] == DisplayStatus.PREDICTED
    assert shown[frames["f4.png"].id] == DisplayStatus.UNLABELLED
    assert shown[frames["broken.png"].id] == DisplayStatus.UNREADABLE
    assert draft_frame_ids(store) == {draft_only, draft_and_calipers, accepted}
    assert draft_objects(store.masks(accepted)) == frozenset({1})

    store.accept_mask(draft_only, 0)
    assert list_frames(store)[1][draft_only] == DisplayStatus.ACCEPTED
    assert draft_only not in draft_frame_ids(store)


def test_a_new_frame_is_unlabelled_unless_unreadable(store: ProjectStore) -> None:
    statuses = {r.source.name: new_frame_status(r) for r in store.frames()}
    assert statuses["broken.png"] == DisplayStatus.UNREADABLE and statuses["f0.png"] == DisplayStatus.UNLABELLED
