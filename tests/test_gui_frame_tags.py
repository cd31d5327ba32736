"""Frame tags in the real window: one key tags a range of frames selected in the list as one undo step (undo from
the shown frame brings every tag back), the list shows tags and filters by them, U skips frames tagged no nodule,
*no nodule* on a frame with a nodule asks first (no: nothing changes; yes: the nodule goes in the same undo step;
pressed while a click is computing, it waits for the click and asks),
an accepted mask shows as *nodule present*, the tags CSV goes out and comes back through the export dialog, and no
tag write runs on the GUI thread."""
from __future__ import annotations

import os
import threading

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from PyQt5 import QtCore, QtWidgets  # noqa: E402

from core.annotation.tags import FrameTag  # noqa: E402
from gui import engine_bridge  # noqa: E402
from gui.frame_list import ANY_TAG  # noqa: E402
from tests.conftest import click_image, place_calipers, press_key, truth, wait_idle, write_frames  # noqa: E402


def _open(qtbot, tmp_path: Path, make_window, frames: int):
    write_frames(tmp_path / "frames", frames, corrupt=False)
    window = make_window()
    assert window.open_path(tmp_path / "frames")
    wait_idle(qtbot, window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    return window


def _shown_tags(window, frame_ids: list[int]) -> list[FrameTag | None]:
    return [window.frame_list.tag(f) for f in frame_ids]


def test_one_key_tags_a_range_as_one_undo_step_and_the_list_filters_by_tag(qtbot, tmp_path: Path, make_window,
                                                                           work_threads) -> None:
    window = _open(qtbot, tmp_path, make_window, 32)
    frame_list, store = window.frame_list, window.session.store
    ids = frame_list.frame_ids()
    assert len(ids) == 32
    frame_list.select_frames(ids[:30])
    wait_idle(qtbot, window)
    assert frame_list.selected_ids() == ids[:30] and window.controller.current_frame_id == ids[0]
    work_threads.clear()

    press_key(qtbot, window, QtCore.Qt.Key_0)
    qtbot.waitUntil(lambda: _shown_tags(window, ids) == [FrameTag.NO_NODULE] * 30 + [None, None], timeout=10000)
    wait_idle(qtbot, window)
    assert store.tags() == dict.fromkeys(ids[:30], FrameTag.NO_NODULE)
    assert store.undo_label() == "tag no nodule (30 frames)"
    assert "30 no nodule" in frame_list.summary.text()

    frame_list.set_tag_filter(FrameTag.NO_NODULE)
    assert frame_list.visible_ids() == ids[:30]
    frame_list.set_tag_filter(None)
    assert frame_list.visible_ids() == ids[30:]
    frame_list.set_tag_filter(ANY_TAG)
    assert frame_list.visible_ids() == ids
    assert "2 to do" in frame_list.summary.text()  # a frame judged "no nodule" is work done
    frame_list.filter_box.setCurrentIndex(1)
    assert frame_list.filter_box.currentText() == "Needs work" and frame_list.visible_ids() == ids[30:]
    frame_list.filter_box.setCurrentIndex(0)

    press_key(qtbot, window, QtCore.Qt.Key_Z, QtCore.Qt.ControlModifier)
    qtbot.waitUntil(lambda: _shown_tags(window, ids) == [None] * 32, timeout=10000)
    wait_idle(qtbot, window)
    assert store.tags() == {}
    press_key(qtbot, window, QtCore.Qt.Key_Z, QtCore.Qt.ControlModifier | QtCore.Qt.ShiftModifier)
    qtbot.waitUntil(lambda: _shown_tags(window, ids[:30]) == [FrameTag.NO_NODULE] * 30, timeout=10000)
    wait_idle(qtbot, window)

    press_key(qtbot, window, QtCore.Qt.Key_N)  # stepping on ends the range: the next key tags one frame
    wait_idle(qtbot, window)
    assert frame_list.selected_ids() == [ids[1]]
    frame_list.select_frames([ids[31]])
    wait_idle(qtbot, window)
    press_key(qtbot, window, QtCore.Qt.Key_Y)  # one frame: the shown one
    qtbot.waitUntil(lambda: frame_list.tag(ids[31]) is FrameTag.NODULE, timeout=10000)
    wait_idle(qtbot, window)
    assert store.tag(ids[31]) is FrameTag.NODULE and store.tag(ids[30]) is None
    press_key(qtbot, window, QtCore.Qt.Key_U)  # next unlabelled: the frames tagged no nodule are done
    wait_idle(qtbot, window)
    assert window.controller.current_frame_id == ids[30]
    assert work_threads.seen["store write"] and work_threads.on_gui_thread() == {}


def test_no_nodule_on_a_frame_with_a_nodule_asks_first(qtbot, tmp_path: Path, make_window,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    window = _open(qtbot, tmp_path, make_window, 2)
    store, frame_id = window.session.store, window.controller.current_frame_id
    press_key(qtbot, window, QtCore.Qt.Key_K)  # the click tool
    click_image(qtbot, window, 150, 110)
    wait_idle(qtbot, window)
    assert len(store.points(frame_id)) == 1
    asked: list[str] = []

    def answer(reply: QtWidgets.QMessageBox.StandardButton):
        def question(parent, title: str, text: str, *args: object) -> QtWidgets.QMessageBox.StandardButton:
            asked.append(text)
            return reply
        return question

    monkeypatch.setattr(QtWidgets.QMessageBox, "question", answer(QtWidgets.QMessageBox.No))
    press_key(qtbot, window, QtCore.Qt.Key_0)
    qtbot.waitUntil(lambda: len(asked) == 1, timeout=10000)
    wait_idle(qtbot, window)
    assert asked[0].startswith("This frame has nodules drawn")
    assert store.tag(frame_id) is None and len(store.points(frame_id)) == 1 and store.next_undo().name == "Add point"

    monkeypatch.setattr(QtWidgets.QMessageBox, "question", answer(QtWidgets.QMessageBox.Yes))
    press_key(qtbot, window, QtCore.Qt.Key_0)
    qtbot.waitUntil(lambda: window.frame_list.tag(frame_id) is FrameTag.NO_NODULE, timeout=10000)
    wait_idle(qtbot, window)
    assert len(asked) == 2 and store.points(frame_id) == {} and store.tag(frame_id) is FrameTag.NO_NODULE
    assert window.controller.current.object_ids() == [] and window.controller.display() == []

    press_key(qtbot, window, QtCore.Qt.Key_Z, QtCore.Qt.ControlModifier)  # one step: the nodule and no tag
    qtbot.waitUntil(lambda: window.frame_list.tag(frame_id) is None, timeout=10000)
    wait_idle(qtbot, window)
    assert len(store.points(frame_id)) == 1 and window.controller.current.object_ids() == [0]


def test_an_accepted_mask_shows_as_nodule_present(qtbot, tmp_path: Path, make_window) -> None:
    window = _open(qtbot, tmp_path, make_window, 2)
    frame_id = window.controller.current_frame_id
    place_calipers(qtbot, window, truth(0)[1])
    press_key(qtbot, window, QtCore.Qt.Key_Return)
    qtbot.waitUntil(lambda: window.frame_list.tag(frame_id) is FrameTag.NODULE, timeout=10000)
    wait_idle(qtbot, window)
    assert window.session.store.tags() == {}  # nothing tagged by hand: the mask says it


def test_tags_go_out_and_come_back_through_the_export_dialog(qtbot, tmp_path: Path, make_window) -> None:
    window = _open(qtbot, tmp_path, make_window, 3)
    store, ids = window.session.store, window.frame_list.frame_ids()
    window.frame_tags.tag(FrameTag.NODULE, frame_ids=ids[:2])
    qtbot.waitUntil(lambda: _shown_tags(window, ids) == [FrameTag.NODULE, FrameTag.NODULE, None], timeout=10000)
    wait_idle(qtbot, window)
    dialog = window.show_export_dialog()
    dialog.set_formats(["tags"])
    with qtbot.waitSignal(dialog.finished_work, timeout=20000):
        dialog.export_to(tmp_path / "out")
    exported = (tmp_path / "out" / "tags.csv").read_text().splitlines()
    assert exported == ["frame,tag", "frame_01,nodule", "frame_02,nodule"]

    (tmp_path / "out" / "tags.csv").write_text("frame,tag\nframe_03,no_nodule\n")
    with qtbot.waitSignal(dialog.finished_work, timeout=20000) as said:
        dialog.check_import("tags", tmp_path / "out" / "tags.csv")
    assert said.args[0] == "Ready to import 1 frames — press Apply import"
    assert "tag none -> no_nodule" in dialog.log.toPlainText()
    with qtbot.waitSignal(dialog.finished_work, timeout=20000):
        dialog.apply_plan()
    qtbot.waitUntil(lambda: window.frame_list.tag(ids[2]) is FrameTag.NO_NODULE, timeout=10000)
    wait_idle(qtbot, window)
    assert store.tags() == {ids[0]: FrameTag.NODULE, ids[1]: FrameTag.NODULE, ids[2]: FrameTag.NO_NODULE}
    dialog.close()


def test_no_nodule_pressed_while_a_click_is_computing_waits_for_it_and_asks(qtbot, tmp_path: Path, make_window,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The click lands and is saved first; the tag then sees its nodule and asks, instead of being written first
    and the click bringing a nodule back onto a frame tagged no nodule."""
    window = _open(qtbot, tmp_path, make_window, 2)
    store, frame_id = window.session.store, window.controller.current_frame_id
    gate, started = threading.Event(), threading.Event()
    compute = engine_bridge.bring_up_to_date

    def held(session, state):
        started.set()
        assert gate.wait(30)
        return compute(session, state)

    monkeypatch.setattr(engine_bridge, "bring_up_to_date", held)
    asked: list[str] = []
    monkeypatch.setattr(QtWidgets.QMessageBox, "question",
                        lambda parent, title, text, *a: asked.append(text) or QtWidgets.QMessageBox.No)
    press_key(qtbot, window, QtCore.Qt.Key_K)
    click_image(qtbot, window, 150, 110)
    assert started.wait(10)
    press_key(qtbot, window, QtCore.Qt.Key_0)  # while the click's mask is still being computed
    gate.set()
    qtbot.waitUntil(lambda: len(asked) == 1, timeout=10000)
    wait_idle(qtbot, window)
    assert asked[0].startswith("This frame has nodules drawn")
    assert store.tag(frame_id) is None and len(store.points(frame_id)) == 1
    assert window.frame_list.tag(frame_id) is None


def test_frames_between_takes_either_direction_inclusive() -> None:
    from gui.tag_range import frames_between

    assert frames_between([5, 6, 7, 8, 9], 6, 8) == [6, 7, 8]
    assert frames_between([5, 6, 7, 8, 9], 9, 7) == [7, 8, 9]
    assert frames_between([5, 6, 7], 6, 6) == [6]
    assert frames_between([5, 6, 7], 4, 6) == []


def test_a_range_marked_while_stepping_through_a_clip_is_tagged_as_one_undo_step(qtbot, tmp_path: Path,
                                                                                   make_window) -> None:
    import numpy as np

    from tests.conftest import write_dicom

    folder = tmp_path / "exam"
    folder.mkdir()
    rng = np.random.default_rng(0)
    write_dicom(folder / "sweep.dcm", rng.integers(0, 255, (12, 64, 80), dtype=np.uint8))
    window = make_window()
    assert window.open_path(folder)
    wait_idle(qtbot, window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    clip, store = window.frame_list.source_frames(window.controller.current_frame_id), window.session.store
    assert len(clip) == 12

    def show(frame_id: int) -> None:
        window.show_frame(frame_id)
        qtbot.waitUntil(lambda: window.controller.current_frame_id == frame_id
                        and window.controller.current is not None)
        wait_idle(qtbot, window)

    show(clip[8])
    press_key(qtbot, window, QtCore.Qt.Key_T)  # the range's first frame; stepping backwards to its last
    assert window.frame_tags.range.start == clip[8]
    for _ in range(5):
        press_key(qtbot, window, QtCore.Qt.Key_P)
        wait_idle(qtbot, window)
    assert window.controller.current_frame_id == clip[3]
    assert "tag range: 6 frames from" in window.frame_label.text()
    press_key(qtbot, window, QtCore.Qt.Key_0)
    qtbot.waitUntil(lambda: _shown_tags(window, clip) == [None] * 3 + [FrameTag.NO_NODULE] * 6 + [None] * 3,
                    timeout=10000)
    wait_idle(qtbot, window)
    assert store.undo_label() == "tag no nodule (6 frames)" and window.frame_tags.range.start is None
    assert "tag range" not in window.frame_label.text()

    press_key(qtbot, window, QtCore.Qt.Key_T)
    press_key(qtbot, window, QtCore.Qt.Key_T)  # the mark dropped: Y tags the shown frame alone
    assert window.frame_tags.range.start is None
    show(clip[10])
    press_key(qtbot, window, QtCore.Qt.Key_Y)
    qtbot.waitUntil(lambda: window.frame_list.tag(clip[10]) is FrameTag.NODULE, timeout=10000)
    wait_idle(qtbot, window)
    assert store.tags() == {**dict.fromkeys(clip[3:9], FrameTag.NO_NODULE), clip[10]: FrameTag.NODULE}

    press_key(qtbot, window, QtCore.Qt.Key_Z, QtCore.Qt.ControlModifier)  # the shown frame's tag
    qtbot.waitUntil(lambda: window.frame_list.tag(clip[10]) is None, timeout=10000)
    wait_idle(qtbot, window)
    show(clip[5])
    press_key(qtbot, window, QtCore.Qt.Key_Z, QtCore.Qt.ControlModifier)  # from any of its frames: the whole range
    qtbot.waitUntil(lambda: _shown_tags(window, clip) == [None] * 12, timeout=10000)
    wait_idle(qtbot, window)
    assert store.tags() == {}
