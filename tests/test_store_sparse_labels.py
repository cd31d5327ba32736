"""Strokes (scribbles, boxes) and frame tags in the project store (schema 6): stored, undone and redone like points,
tags on many frames as one undo step, *no nodule* refused on frames with nodules unless they go (other classes stay),
projects of schema 5 migrated, and a process killed inside a tagging action leaving the project as it was."""
from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from core.annotation.points import Point, PointKind
from core.annotation.strokes import Stroke, StrokeKind
from core.annotation.tags import FrameTag
from core.errors import AnnotationFormatError, ProjectError
from core.project.frame_state import FrameState
from core.project.schema import SCHEMA_VERSION
from core.project.store import DB_NAME, ProjectStore
from tests.conftest import assert_killed_action_changes_nothing, block_mask, synthetic_project

REPO = Path(__file__).resolve().parents[1]
SCRIBBLE = Stroke(StrokeKind.SCRIBBLE, ((4.0, 5.0), (20.5, 30.0), (40.0, 31.0)), False, 7.0, 1)
BOX = Stroke(StrokeKind.BOX, ((10.0, 12.0), (50.0, 40.0)))
SPARSE_TABLES = ("strokes", "frame_tags", "history_strokes", "history_tags")


@pytest.fixture
def store(tmp_path: Path):
    s = synthetic_project(tmp_path, range(4))
    yield s
    s.close()


def test_strokes_round_trip_undo_redo_and_reopening_keep_their_ids(tmp_path: Path, store: ProjectStore) -> None:
    scribble = store.add_stroke(1, SCRIBBLE)
    box = store.add_stroke(1, BOX)
    assert store.strokes(1) == {scribble: SCRIBBLE, box: BOX} and list(store.strokes(1)) == [scribble, box]
    assert store.strokes(2) == {} and store.next_undo(1).name == "add box"
    store.delete_stroke(scribble)
    assert store.strokes(1) == {box: BOX}
    store.undo(1)
    assert store.strokes(1) == {scribble: SCRIBBLE, box: BOX}
    store.close()
    with ProjectStore.open(tmp_path / "project") as s:
        assert s.strokes(1) == {scribble: SCRIBBLE, box: BOX}
        s.undo(1)
        s.undo(1)
        assert s.strokes(1) == {} and not s.can_undo(1)
        s.redo(1)
        s.redo(1)
        assert s.strokes(1) == {scribble: SCRIBBLE, box: BOX}
        assert s.object_classes(1) == {0: 1, 1: 1}  # a stroke's object is an object like any other


def test_bad_strokes_and_unknown_ids_write_nothing(store: ProjectStore) -> None:
    with pytest.raises(AnnotationFormatError, match="outside"):
        store.add_stroke(1, Stroke(StrokeKind.BOX, ((10.0, 12.0), (81.0, 40.0))))
    with pytest.raises(KeyError):
        store.delete_stroke(99)
    with pytest.raises(KeyError):
        store.add_stroke(99, BOX)
    assert store.strokes(1) == {} and not store.can_undo()


def test_clearing_an_object_removes_its_strokes_and_undo_brings_them_back(store: ProjectStore) -> None:
    kept = store.add_stroke(1, BOX)
    gone = store.add_stroke(1, SCRIBBLE)
    store.add_point(1, Point(3, 3, PointKind.BACKGROUND, 1))
    store.clear_object(1, 1)
    assert store.strokes(1) == {kept: BOX} and store.points(1) == {}
    store.undo(1)
    assert store.strokes(1) == {kept: BOX, gone: SCRIBBLE} and len(store.points(1)) == 1


def test_tagging_a_range_is_one_undo_step(store: ProjectStore) -> None:
    store.set_tag([1, 2, 3], FrameTag.NODULE)
    assert store.tags() == dict.fromkeys((1, 2, 3), FrameTag.NODULE) and store.tag(4) is None
    store.set_tag([2, 3, 4], FrameTag.NO_NODULE)
    assert store.tags() == {1: FrameTag.NODULE, 2: FrameTag.NO_NODULE, 3: FrameTag.NO_NODULE, 4: FrameTag.NO_NODULE}
    assert store.undo_label() == "tag no nodule (3 frames)"
    store.undo()
    assert store.tags() == dict.fromkeys((1, 2, 3), FrameTag.NODULE)
    store.undo(2)  # from any of its frames: the whole first action
    assert store.tags() == {} and not store.can_undo()
    store.redo(3)
    store.redo()
    assert store.tag(4) is FrameTag.NO_NODULE and store.tag(1) is FrameTag.NODULE
    store.set_tag([1, 4], None)
    assert set(store.tags()) == {2, 3} and store.next_undo().frame_ids == (1, 4)


def test_no_nodule_on_frames_with_objects_is_refused_unless_they_go(store: ProjectStore) -> None:
    store.add_stroke(2, BOX)
    store.add_point(3, Point(3, 3, PointKind.FOREGROUND))
    store.set_mask(3, 2, block_mask(30), "painted")
    with pytest.raises(ProjectError, match=r"frame\(s\) 2, 3 have"):
        store.set_tag([1, 2, 3], FrameTag.NO_NODULE)
    assert store.tags() == {} and store.next_undo().name == "set mask"
    store.set_tag([1, 2, 3], FrameTag.NO_NODULE, remove_objects=True)
    assert store.strokes(2) == {} and store.points(3) == {} and store.masks(3) == {}
    assert store.tags() == dict.fromkeys((1, 2, 3), FrameTag.NO_NODULE)
    store.undo()
    assert store.tags() == {} and len(store.strokes(2)) == 1 and len(store.points(3)) == 1 and 2 in store.masks(3)


def test_a_frame_that_gains_an_object_is_no_longer_no_nodule(store: ProjectStore) -> None:
    store.set_tag([1], FrameTag.NO_NODULE)
    store.add_point(1, Point(3, 3, PointKind.FOREGROUND))
    assert store.tag(1) is None
    store.undo(1)
    assert store.tag(1) is FrameTag.NO_NODULE and store.points(1) == {}


def test_an_accepted_mask_counts_as_nodule_present(store: ProjectStore) -> None:
    store.set_mask(1, 0, block_mask(5), "painted")
    store.set_mask(2, 0, block_mask(5), "refined", accepted=False)  # a draft says nothing yet
    store.set_tag([3], FrameTag.NO_NODULE)
    store.set_tag([4], FrameTag.NODULE)
    assert store.effective_tags() == {1: FrameTag.NODULE, 3: FrameTag.NO_NODULE, 4: FrameTag.NODULE}
    assert store.tags() == {3: FrameTag.NO_NODULE, 4: FrameTag.NODULE}


def test_snapshots_written_before_strokes_and_tags_still_read() -> None:
    old = b'{"points":[[3,0,"fg",1.0,2.0]],"masks":[]}'
    assert FrameState.from_bytes(old) == FrameState(((3, Point(1.0, 2.0, PointKind.FOREGROUND, 0)),))
    state = FrameState(strokes=((7, SCRIBBLE), (8, BOX)), tag=FrameTag.NO_NODULE)
    assert FrameState.from_bytes(state.to_bytes()) == state


def test_a_schema_5_project_is_migrated_and_keeps_its_history(tmp_path: Path, store: ProjectStore) -> None:
    store.add_point(1, Point(5, 6, PointKind.FOREGROUND))
    store.set_mask(1, 0, block_mask(5), "painted")
    folder = store.folder
    store.close()
    with closing(sqlite3.connect(folder / DB_NAME)) as conn, conn:  # what schema 5 had: no stroke or tag tables
        for table in SPARSE_TABLES:
            conn.execute(f"DROP TABLE {table}")
        conn.execute("UPDATE meta SET value = '5' WHERE key = 'schema_version'")
    with ProjectStore.open(folder) as s:
        assert s.strokes(1) == {} and s.tags() == {} and s.effective_tags() == {1: FrameTag.NODULE}
        s.undo(1)  # history written before the migration still undoes
        assert s.masks(1) == {} and len(s.points(1)) == 1
        sid = s.add_stroke(1, BOX)
        s.set_tag([2], FrameTag.NO_NODULE)
        s.undo(2)
        assert s.strokes(1) == {sid: BOX} and s.tags() == {}
    with closing(sqlite3.connect(folder / DB_NAME)) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
        assert SCHEMA_VERSION == 6


KILL_MID_TAGGING = """
import sys
sys.path.insert(0, {repo!r})
from core.annotation.strokes import Stroke, StrokeKind
from core.annotation.tags import FrameTag
from core.project.store import ProjectStore

store = ProjectStore.open({folder!r})
with store.action("Tag and draw"):
    store.set_tag([1, 2], FrameTag.NO_NODULE, remove_objects=True)
    store.add_stroke(3, Stroke(StrokeKind.BOX, ((1.0, 1.0), (9.0, 9.0))))
    print("half-way", flush=True)
    sys.stdin.readline()  # the parent kills us here, inside the action
    store.set_tag([4], FrameTag.NODULE)
print("action finished: the kill did not happen", flush=True)
"""


def test_process_killed_inside_a_tagging_action_leaves_the_project_as_before(tmp_path: Path,
                                                                                store: ProjectStore) -> None:
    store.add_stroke(1, SCRIBBLE)
    store.set_tag([2], FrameTag.NODULE)
    store.close()
    folder = tmp_path / "project"
    assert_killed_action_changes_nothing(folder, KILL_MID_TAGGING.format(repo=str(REPO), folder=str(folder)))
    with ProjectStore.open(folder) as s:
        assert s.tags() == {2: FrameTag.NODULE} and len(s.strokes(1)) == 1
        s.undo()
        assert s.tags() == {}


def test_no_nodule_concerns_the_nodule_class_only(store: ProjectStore) -> None:
    """A thyroid gland outlined on the frame is not a nodule: *no nodule* keeps it, editing it keeps the tag, and an
    accepted gland mask does not make the frame *nodule present*."""
    gland = store.add_class("thyroid gland")
    store.set_mask(1, 0, block_mask(30), "painted")
    store.set_object_class(1, 0, gland.id)
    store.set_mask(2, 0, block_mask(30), "painted")
    store.set_object_class(2, 0, gland.id)
    store.set_mask(1, 1, block_mask(5), "painted")  # a nodule inside the gland
    assert store.effective_tags() == {1: FrameTag.NODULE} and store.frames_with_nodules([1, 2, 3]) == [1]
    with pytest.raises(ProjectError, match=r"frame\(s\) 1 have"):
        store.set_tag([1, 2], FrameTag.NO_NODULE)
    store.set_tag([1, 2], FrameTag.NO_NODULE, remove_objects=True)
    assert set(store.masks(1)) == {0} and store.object_classes(1) == {0: gland.id} and set(store.masks(2)) == {0}
    assert store.effective_tags() == dict.fromkeys((1, 2), FrameTag.NO_NODULE)
    store.set_mask(2, 0, block_mask(28), "painted")  # the gland edited: still no nodule
    assert store.tag(2) is FrameTag.NO_NODULE
    store.add_point(2, Point(3, 3, PointKind.FOREGROUND, 1))  # a nodule drawn: the tag goes
    assert store.tag(2) is None
