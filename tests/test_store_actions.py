"""User actions in the store: several edits as one transaction and one undo step, all or nothing, even when the
process is killed half-way (an action on one frame or on several)."""
from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from core.annotation.points import Calipers, Point, PointKind
from core.project.store import ProjectStore
from core.training.synthetic import make_frame
from tests.conftest import assert_killed_action_changes_nothing, block_mask

REPO = Path(__file__).resolve().parents[1]
CALIPERS = Calipers((10.0, 20.0), (50.0, 40.0), (30.0, 20.0), (28.0, 42.0))


@pytest.fixture
def store(tmp_path: Path):
    image = tmp_path / "a.png"
    cv2.imwrite(str(image), make_frame(1, (64, 80)).image)
    cv2.imwrite(str(tmp_path / "b.png"), make_frame(2, (64, 80)).image)
    s = ProjectStore.create(tmp_path / "project")
    s.add_frames([image, tmp_path / "b.png"])
    yield s
    s.close()


def _state(store: ProjectStore, frame_id: int = 1) -> tuple:
    masks = {oid: store.mask(frame_id, oid).tobytes() for oid in store.masks(frame_id)}
    return store.points(frame_id), store.masks(frame_id), masks


def test_an_action_is_one_undo_step_and_redo_reapplies_all_of_it(store: ProjectStore) -> None:
    store.set_mask(1, 0, block_mask(5), "refined", accepted=False)
    store.set_mask(1, 1, block_mask(40), "refined", accepted=False)
    drafts = _state(store)
    with store.action("Accept 2 masks", 1):
        store.accept_mask(1, 0)
        store.accept_mask(1, 1)
        store.add_point(1, Point(3, 4, PointKind.FOREGROUND, 1))
    accepted = _state(store)
    assert all(m.accepted for m in accepted[1].values()) and len(accepted[0]) == 1

    assert store.undo(1) == 1
    assert _state(store) == drafts
    assert store.redo(1) == 1
    assert _state(store) == accepted
    store.undo(1)
    store.undo(1)
    store.undo(1)
    assert _state(store) == ({}, {}, {}) and not store.can_undo(1)


def test_an_action_that_raises_keeps_none_of_its_edits(store: ProjectStore) -> None:
    store.add_point(1, Point(1, 1, PointKind.FOREGROUND))
    store.undo(1)
    before, redo = _state(store), store.can_redo(1)
    with pytest.raises(RuntimeError, match="half-way"):
        with store.action("Click", 1):
            store.add_point(1, Point(5, 5, PointKind.FOREGROUND))
            store.set_mask(1, 0, block_mask(5), "refined", accepted=False)
            raise RuntimeError("engine failed half-way")
    assert _state(store) == before and store.can_redo(1) == redo and not store.can_undo(1)
    store.add_point(1, Point(2, 2, PointKind.FOREGROUND))  # the store is usable afterwards
    assert len(store.points(1)) == 1


def test_a_nested_action_joins_the_outer_one(store: ProjectStore) -> None:
    with store.action("Import", 1):
        store.set_calipers(1, 0, CALIPERS)
        with store.action("Set mask", 1):
            store.set_mask(1, 0, block_mask(5), "painted")
        store.add_point(1, Point(3, 3, PointKind.BACKGROUND))
    assert store.calipers(1) == {0: CALIPERS} and len(store.points(1)) == 5
    store.undo(1)
    assert _state(store) == ({}, {}, {}) and not store.can_undo(1)


def test_a_failed_inner_action_rolls_back_with_the_outer_one(store: ProjectStore) -> None:
    with pytest.raises(KeyError):
        with store.action("Accept", 1):
            store.add_point(1, Point(3, 3, PointKind.FOREGROUND))
            with store.action("Accept", 1):
                store.accept_mask(1, 7)  # no such mask
    assert _state(store) == ({}, {}, {}) and not store.can_undo(1)


def test_an_action_caught_inside_keeps_the_edits_before_it(store: ProjectStore) -> None:
    """An inner edit that fails is undone alone (a savepoint), so the outer action can carry on."""
    with store.action("Accept all", 1):
        store.add_point(1, Point(3, 3, PointKind.FOREGROUND))
        with pytest.raises(KeyError):
            store.accept_mask(1, 7)
    assert len(store.points(1)) == 1
    store.undo(1)
    assert store.points(1) == {}


def test_an_empty_action_records_nothing_and_keeps_redo(store: ProjectStore) -> None:
    store.add_point(1, Point(3, 3, PointKind.FOREGROUND))
    store.undo(1)
    with store.action("Nothing", 1):
        pass
    assert store.can_redo(1) and not store.can_undo(1)


def test_an_action_is_on_one_frame_and_cannot_undo_inside(store: ProjectStore) -> None:
    with pytest.raises(ValueError, match="frame 2"):
        with store.action("Click", 1):
            store.add_point(1, Point(3, 3, PointKind.FOREGROUND))
            store.add_point(2, Point(3, 3, PointKind.FOREGROUND))
    with pytest.raises(ValueError, match="undo"):
        with store.action("Click", 1):
            store.undo(1)
    with pytest.raises(KeyError):
        with store.action("Click", 99):
            pass
    assert store.points(1) == {} and store.points(2) == {} and not store.can_undo()


def test_actions_survive_reopening(tmp_path: Path, store: ProjectStore) -> None:
    with store.action("Click", 1):
        store.add_point(1, Point(3, 3, PointKind.FOREGROUND))
        store.set_mask(1, 0, block_mask(5), "refined", accepted=False)
    clicked = _state(store)
    store.close()
    with ProjectStore.open(tmp_path / "project") as s:
        assert _state(s) == clicked
        s.undo(1)
        assert _state(s) == ({}, {}, {}) and not s.can_undo(1)
        s.redo(1)
        assert _state(s) == clicked


KILL_MID_ACTION = """
import sys
sys.path.insert(0, {repo!r})
import numpy as np
from core.annotation.points import Point, PointKind
from core.project.store import ProjectStore

store = ProjectStore.open({folder!r})
mask = np.zeros((64, 80), bool)
mask[5:20, 5:20] = True
with store.action("Click and accept", 1):
    store.add_point(1, Point(7, 8, PointKind.FOREGROUND))
    store.set_mask(1, 0, mask, "refined")
    print("half-way", flush=True)
    sys.stdin.readline()  # the parent kills us here, inside the action
    store.accept_mask(1, 0)
print("action finished: the kill did not happen", flush=True)
"""



def test_process_killed_in_the_middle_of_an_action_leaves_the_project_as_before(
    tmp_path: Path, store: ProjectStore
) -> None:
    store.add_point(1, Point(5, 6, PointKind.FOREGROUND))
    store.set_mask(1, 1, block_mask(40), "painted")
    store.close()
    folder = tmp_path / "project"
    assert_killed_action_changes_nothing(folder, KILL_MID_ACTION.format(repo=str(REPO), folder=str(folder)))
    with ProjectStore.open(folder) as s:
        assert list(s.points(1).values()) == [Point(5, 6, PointKind.FOREGROUND)]
        s.undo(1)  # the last step is still the mask set before the action
        assert s.masks(1) == {} and len(s.points(1)) == 1


KILL_MID_MULTI_FRAME_ACTION = """
import sys
sys.path.insert(0, {repo!r})
import numpy as np
from core.annotation.points import Point, PointKind
from core.project.store import ProjectStore

store = ProjectStore.open({folder!r})
with store.action("Accept range"):
    store.accept_mask(1, 0)
    store.add_point(2, Point(7, 8, PointKind.FOREGROUND))
    print("half-way", flush=True)
    sys.stdin.readline()  # the parent kills us here, inside the action
    store.accept_mask(2, 0)
print("action finished: the kill did not happen", flush=True)
"""


def test_process_killed_in_the_middle_of_an_action_on_several_frames_leaves_the_project_as_before(
    tmp_path: Path, store: ProjectStore
) -> None:
    for frame_id in (1, 2):
        store.set_mask(frame_id, 0, block_mask(5 * frame_id), "generated", accepted=False)
    store.close()
    folder = tmp_path / "project"
    assert_killed_action_changes_nothing(folder, KILL_MID_MULTI_FRAME_ACTION.format(repo=str(REPO), folder=str(folder)))
    with ProjectStore.open(folder) as s:
        assert not s.masks(1)[0].accepted and not s.masks(2)[0].accepted and s.points(2) == {}
        assert s.next_undo().name == "set mask" and s.undo_label(1) == "set mask"
