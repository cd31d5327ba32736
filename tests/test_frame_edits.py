"""The editor's view of a frame, Qt-free: one user action (a Commit) is one store action (one undo step, all or
nothing), read_annotations reads what the editor shows, and load_frame prepares a frame for the editor."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.annotation.points import CALIPER_ORDER, Point, PointKind
from core.annotation.strokes import Stroke, StrokeKind
from core.annotation.tags import FrameTag
from core.errors import AnnotationFormatError
from core.project.display_status import DisplayStatus
from core.project.frame_edits import Commit, next_caliper_kind, read_annotations
from core.project.records import MaskProvenance
from core.project.store import ProjectStore
from core.serving.frame_loading import FRAME_MODEL_CLASS, draft_prior, load_frame, new_session, session_for


@pytest.fixture
def store(tmp_path: Path):
    image = tmp_path / "a.png"
    cv2.imwrite(str(image), np.full((40, 50), 90, np.uint8))
    s = ProjectStore.create(tmp_path / "project")
    s.add_frames([image])
    yield s
    s.close()


def test_a_commit_is_one_undo_step(store: ProjectStore) -> None:
    mask = np.zeros((40, 50), bool)
    mask[5:20, 5:20] = True
    annotations = Commit(1, add_points=[Point(9, 9, PointKind.FOREGROUND)],
                         draft_masks={0: (mask, MaskProvenance.REFINED)}).apply(store)
    assert len(annotations.points) == 1 and annotations.drafts == {0} and annotations.can_undo
    Commit(1, accepted_masks={0: (mask, MaskProvenance.REFINED)}).apply(store)
    assert store.masks(1)[0].accepted
    store.undo(1)
    assert not store.masks(1)[0].accepted and len(store.points(1)) == 1
    store.undo(1)
    assert store.points(1) == {} and store.masks(1) == {} and not store.can_undo(1)


def test_a_commit_that_fails_half_way_writes_nothing(store: ProjectStore) -> None:
    wrong_size = np.ones((10, 10), bool)
    commit = Commit(1, add_points=[Point(9, 9, PointKind.FOREGROUND)],
                    draft_masks={0: (wrong_size, MaskProvenance.REFINED)})
    with pytest.raises(AnnotationFormatError):
        commit.apply(store)
    assert store.points(1) == {} and store.masks(1) == {} and not store.can_undo(1)


def test_commit_names_say_what_the_user_did() -> None:
    mask = np.ones((4, 4), bool)
    assert Commit(1, accepted_masks={0: (mask, "refined"), 1: (mask, "refined")}).name == "Accept 2 masks"
    assert Commit(1, add_points=[Point(1, 1, PointKind.FOREGROUND)], draft_masks={0: (mask, "refined")}).name == \
        "Add point"
    assert Commit(1, draft_masks={0: (mask, "painted")}).name == "Edit mask"


def test_read_annotations_tells_drafts_from_accepted_masks(store: ProjectStore) -> None:
    mask = np.zeros((40, 50), bool)
    mask[5:20, 5:20] = True
    Commit(1, draft_masks={0: (mask, MaskProvenance.PAINTED), 1: (mask, MaskProvenance.PAINTED)}).apply(store)
    Commit(1, accepted_masks={1: (mask, MaskProvenance.PAINTED)}).apply(store)
    annotations = read_annotations(store, 1)
    assert annotations.drafts == {0} and annotations.object_ids() == [0, 1]
    assert np.array_equal(annotations.masks[1], mask) and annotations.provenance[0] == MaskProvenance.PAINTED
    assert annotations.can_undo and not annotations.can_redo and annotations.prediction is None
    assert annotations.status(store.frame(1)) == DisplayStatus.ACCEPTED  # one accepted mask is enough


def test_read_annotations_counts_an_object_drawn_only_as_strokes_and_reads_the_tag(store: ProjectStore) -> None:
    box = Stroke(StrokeKind.BOX, ((2.0, 3.0), (20.0, 30.0)), object_id=2)
    sid = store.add_stroke(1, box)
    store.set_tag([1], FrameTag.NODULE)
    annotations = read_annotations(store, 1)
    assert annotations.strokes == {sid: box} and annotations.object_ids() == [2]  # a new nodule takes id 3
    assert annotations.tag is FrameTag.NODULE


def test_an_empty_draft_removes_the_mask_rather_than_storing_an_empty_one(store: ProjectStore) -> None:
    mask = np.zeros((40, 50), bool)
    mask[5:9, 5:9] = True
    Commit(1, draft_masks={0: (mask, MaskProvenance.PAINTED)}).apply(store)
    after = Commit(1, draft_masks={0: (np.zeros_like(mask), MaskProvenance.PAINTED)}).apply(store)
    assert after.masks == {} and store.masks(1) == {}


def test_calipers_are_placed_long_axis_first() -> None:
    placed: dict[PointKind, object] = {}
    order = []
    while (kind := next_caliper_kind(placed)) is not None:
        order.append(kind)
        placed[kind] = object()
    assert order == list(CALIPER_ORDER)


def test_load_frame_gives_pixels_levels_and_a_session_per_object_plus_a_new_one(store: ProjectStore) -> None:
    mask = np.zeros((40, 50), bool)
    mask[5:20, 5:20] = True
    Commit(1, add_points=[Point(9, 9, PointKind.FOREGROUND, 2)], draft_masks={2: (mask, MaskProvenance.REFINED)}
           ).apply(store)
    loaded = load_frame(store, 1)
    assert loaded.readable and loaded.gray is not None and loaded.gray.shape == (40, 50)
    assert sorted(loaded.sessions) == [2, 3] and loaded.predict_with is None and loaded.click_model is None
    assert draft_prior(loaded.annotations, 2) is None  # a click stands behind this draft: no prior


def test_a_draft_with_nothing_behind_it_is_the_prior_of_its_session(store: ProjectStore) -> None:
    mask = np.zeros((40, 50), bool)
    mask[5:20, 5:20] = True
    Commit(1, draft_masks={0: (mask, MaskProvenance.GENERATED)}).apply(store)
    prior = draft_prior(read_annotations(store, 1), 0)
    assert prior is not None and np.array_equal(prior, mask)


def test_load_frame_of_a_file_that_went_bad_says_why(store: ProjectStore, tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"no longer a PNG")
    loaded = load_frame(store, 1)
    assert not loaded.readable and loaded.error and loaded.sessions == {}


def test_a_new_object_gets_its_class_in_the_same_undo_step_and_a_class_change_is_one_step(
        store: ProjectStore) -> None:
    gland = store.add_class("thyroid gland").id
    mask = np.zeros((40, 50), bool)
    mask[5:30, 5:40] = True
    Commit(1, add_points=[Point(9, 9, PointKind.FOREGROUND, 0)]).apply(store)  # a nodule (no class given)
    started = Commit(1, add_points=[Point(20, 20, PointKind.FOREGROUND, 1)],
                     draft_masks={1: (mask, MaskProvenance.REFINED)}, object_classes={1: gland}).apply(store)
    assert started.classes == {0: 1, 1: gland} and started.class_of(1) == gland
    assert started.class_of(7) == 1  # an object the store does not hold reads as the default class

    changed = Commit(1, object_classes={0: gland})
    assert changed.name == "Set class"
    assert changed.apply(store).classes == {0: gland, 1: gland}
    store.undo(1)
    assert store.object_classes(1) == {0: 1, 1: gland}
    store.undo(1)  # the point, the mask and the class of object 1 together
    assert store.object_classes(1) == {0: 1} and store.masks(1) == {}


def test_the_nodule_model_seeds_only_sessions_of_nodule_objects(store: ProjectStore) -> None:
    gland = store.add_class("thyroid gland").id
    loaded = load_frame(store, 1)
    probability = np.zeros((40, 50), np.float32)
    probability[10:25, 10:30] = 0.9
    loaded.annotations = replace(loaded.annotations, prediction=probability)
    nodule_session = new_session(loaded, 0, class_id=FRAME_MODEL_CLASS)
    gland_session = new_session(loaded, 0, class_id=gland)
    assert np.array_equal(nodule_session.mask, probability > 0.5)  # starts from the model's nodule
    assert not gland_session.mask.any() and gland_session.model_logit is None

    loaded.sessions[0] = nodule_session
    assert session_for(loaded, 0, FRAME_MODEL_CLASS) is nodule_session
    replaced = session_for(loaded, 0, gland)  # the object became a gland: the nodule evidence goes
    assert replaced is not nodule_session and replaced.model_logit is None and loaded.sessions[0] is replaced
    assert session_for(loaded, 0, gland) is replaced and session_for(loaded, 0, FRAME_MODEL_CLASS) is replaced
