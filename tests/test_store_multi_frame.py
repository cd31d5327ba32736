"""Actions over several frames: one transaction and one undo step on all of them; per-frame order respected when
actions interleave; redo never applies part of an action; projects of schema 3 gain the column that ties an
action's frames together. (Killed half-way: tests/test_store_actions.py.)"""
from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from core.annotation.points import Point, PointKind
from core.project.records import HistoryStep
from core.project.schema import SCHEMA_VERSION
from core.project.store import DB_NAME, ProjectStore
from tests.conftest import block_mask, synthetic_project

FRAMES = (1, 2, 3, 4)


@pytest.fixture
def store(tmp_path: Path):
    s = synthetic_project(tmp_path, FRAMES)
    yield s
    s.close()


def _state(store: ProjectStore, frame_id: int) -> tuple:
    masks = {oid: store.mask(frame_id, oid).tobytes() for oid in store.masks(frame_id)}
    return store.points(frame_id), store.masks(frame_id), masks


def _states(store: ProjectStore) -> dict[int, tuple]:
    return {f: _state(store, f) for f in FRAMES}


def _click(store: ProjectStore, frame_id: int, x: float = 3) -> int:
    return store.add_point(frame_id, Point(x, 4, PointKind.FOREGROUND))


def _accept_all(store: ProjectStore, frames: tuple[int, ...], name: str = "Accept range") -> None:
    with store.action(name):
        for f in frames:
            store.accept_mask(f, 0)


@pytest.fixture
def drafts(store: ProjectStore) -> dict[int, tuple]:
    for f in FRAMES:
        store.set_mask(f, 0, block_mask(5 + f), "generated", accepted=False)
    return _states(store)


def test_an_action_on_several_frames_is_undone_and_redone_whole_from_any_of_them(
    store: ProjectStore, drafts: dict[int, tuple]
) -> None:
    _accept_all(store, (1, 2, 3))
    accepted = _states(store)
    assert [store.masks(f)[0].accepted for f in FRAMES] == [True, True, True, False]
    assert store.next_undo(2) == HistoryStep("Accept range", (1, 2, 3))
    assert store.undo_label(2) == "Accept range (3 frames)" and store.undo_label(4) == "set mask"

    assert store.undo(2) == 2  # from a frame in the middle: all three frames go back
    assert _states(store) == drafts
    assert store.undo_label(1) == "set mask" and store.redo_label(3) == "Accept range (3 frames)"
    assert store.redo(3) == 3
    assert _states(store) == accepted
    assert store.undo_step() == HistoryStep("Accept range", (1, 2, 3))  # project-wide: the latest action
    assert store.undo_step() == HistoryStep("set mask", (4,))
    assert store.redo_step() == HistoryStep("set mask", (4,))
    assert store.redo_step() == HistoryStep("Accept range", (1, 2, 3))
    assert _states(store) == accepted and store.redo() is None


def test_an_action_that_changed_one_frame_is_a_plain_step(store: ProjectStore, drafts: dict[int, tuple]) -> None:
    with store.action("Accept range"):
        store.accept_mask(3, 0)
        store.accept_mask(3, 0)  # accepted already: no change
    assert store.next_undo(3) == HistoryStep("Accept range", (3,))
    assert store.undo_label(1) == "set mask"
    with store.action("Nothing"):
        pass
    assert store.next_undo() == HistoryStep("Accept range", (3,))


def test_a_later_edit_on_one_frame_is_undone_before_the_action_under_it(
    store: ProjectStore, drafts: dict[int, tuple]
) -> None:
    _accept_all(store, (1, 2, 3))
    accepted = _states(store)
    _click(store, 2)  # after the action, on one of its frames
    clicked = _states(store)

    assert store.undo_label(1) == "add point (frame 2)"  # the click blocks the range on frame 2
    assert store.undo_step(1) == HistoryStep("add point", (2,))
    assert _states(store) == accepted
    assert store.undo_label(1) == "Accept range (3 frames)"
    assert store.undo_step(1) == HistoryStep("Accept range", (1, 2, 3))
    assert _states(store) == drafts
    # redo: the range first (undone last), then the click, which needs it
    assert store.redo_label(2) == "Accept range (3 frames)"
    assert store.redo_step(2) == HistoryStep("Accept range", (1, 2, 3))
    assert store.redo_step(2) == HistoryStep("add point", (2,))
    assert _states(store) == clicked


def test_redo_of_an_action_waits_for_an_earlier_edit_undone_after_it(
    store: ProjectStore, drafts: dict[int, tuple]
) -> None:
    _click(store, 3)  # before the action, on one of its frames
    _accept_all(store, (1, 3))
    assert store.undo_step(1) == HistoryStep("Accept range", (1, 3))
    assert store.undo_step(3) == HistoryStep("add point", (3,))
    assert _states(store) == drafts

    assert store.redo_label(1) == "add point (frame 3)"  # the range was made on top of the click
    assert store.redo(1) == 3 and len(store.points(3)) == 1
    assert store.redo_step(1) == HistoryStep("Accept range", (1, 3))
    assert store.masks(1)[0].accepted and store.masks(3)[0].accepted


def test_a_chain_of_interleaved_actions_is_undone_in_per_frame_order(
    store: ProjectStore, drafts: dict[int, tuple]
) -> None:
    _accept_all(store, (1, 2), "A")
    with store.action("B"):
        _click(store, 2)
        _click(store, 3)
    _click(store, 3, x=9)  # C, the latest
    assert store.undo_label(1) == "add point (frame 3)"  # A is under B on frame 2, B under C on frame 3
    assert [store.undo_step(1).name for _ in range(3)] == ["add point", "B", "A"]
    assert _states(store) == drafts and store.undo_label(1) == store.undo_label(2) == "set mask"


def test_a_new_edit_drops_the_whole_undone_action_and_what_needs_it(
    store: ProjectStore, drafts: dict[int, tuple]
) -> None:
    _accept_all(store, (1, 2), "A")
    with store.action("B"):  # after A on frame 2
        _click(store, 2)
        _click(store, 3)
    _click(store, 4)  # unrelated
    store.undo(4)
    assert store.undo_step(3).name == "B"
    assert store.undo_step(1).name == "A"
    assert store.can_redo(3) and store.can_redo(4)

    _click(store, 1)  # a new edit on frame 1 drops A there, so A everywhere, so B (made on top of A on frame 2)
    assert not store.can_redo(1) and not store.can_redo(2) and not store.can_redo(3)
    assert store.redo(2) is None and store.redo(3) is None
    assert store.redo_label(4) == "add point" and store.redo(4) == 4  # other frames keep theirs


def test_an_action_limited_to_frames_refuses_others(store: ProjectStore, drafts: dict[int, tuple]) -> None:
    with pytest.raises(ValueError, match="frame 3"):
        with store.action("Accept range", frame_ids=[1, 2]):
            store.accept_mask(1, 0)
            store.accept_mask(3, 0)
    with pytest.raises(KeyError):
        with store.action("Accept range", frame_ids=[1, 99]):
            pass
    with pytest.raises(ValueError, match="frame 4"):
        with store.action("Outer", frame_ids=[1, 2]):
            with store.action("Inner", frame_ids=[4]):
                pass
    with pytest.raises(ValueError, match="frame 2"):
        with store.action("Outer"):
            with store.action("Inner", 1):
                store.accept_mask(2, 0)  # the inner action narrows the outer one
    with pytest.raises(ValueError, match="undo"):
        with store.action("Outer"):
            store.undo()
    assert _states(store) == drafts and store.next_undo().name == "set mask"


def test_an_action_on_several_frames_that_raises_keeps_nothing(store: ProjectStore, drafts: dict[int, tuple]) -> None:
    _click(store, 2)
    store.undo(2)
    before = _states(store)
    with pytest.raises(KeyError):
        with store.action("Accept range"):
            store.accept_mask(1, 0)
            _click(store, 2)
            store.accept_mask(3, 7)  # no such mask
    assert _states(store) == before and store.can_redo(2) and store.next_undo(1).name == "set mask"


def test_an_action_on_several_frames_survives_reopening(tmp_path: Path, store: ProjectStore,
                                                        drafts: dict[int, tuple]) -> None:
    _accept_all(store, (2, 4))
    accepted = _states(store)
    store.close()
    with ProjectStore.open(tmp_path / "project") as s:
        assert s.undo(4) == 4 and _states(s) == drafts
    with ProjectStore.open(tmp_path / "project") as s:
        assert s.redo(2) == 2 and _states(s) == accepted


def test_a_schema_3_project_gains_action_ids_and_keeps_its_history(tmp_path: Path, store: ProjectStore,
                                                                   drafts: dict[int, tuple]) -> None:
    store.accept_mask(1, 0)
    store.close()
    folder = tmp_path / "project"
    with closing(sqlite3.connect(folder / DB_NAME)) as conn, conn:
        conn.execute("DROP INDEX history_by_action")
        conn.execute("ALTER TABLE history DROP COLUMN action_id")
        conn.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    with ProjectStore.open(folder) as s:
        assert s.undo(1) == 1 and _states(s) == drafts
        _accept_all(s, (2, 3))
        assert s.undo_step(3) == HistoryStep("Accept range", (2, 3)) and _states(s) == drafts
    with closing(sqlite3.connect(folder / DB_NAME)) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (str(SCHEMA_VERSION),)
        assert "action_id" in [row[1] for row in conn.execute("PRAGMA table_info(history)")]
